//! Requester endpoints: upload artifacts, submit, watch, fetch the proof.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use zkpool_backend::{BackendError, Blob};
use zkpool_store::{NewTask, StoreError, Uploader};
use zkpool_types::api::{
    BlobStored, ErrorBody, Role, SubmitRequest, Submitted, TaskView, TaskWait,
};
use zkpool_types::{BlobHash, KeyId, ProofSystem, TaskId, TaskSpec, TaskState};

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::wake::WorkSignal;
use crate::{ApiError, Caller, Node};

/// `PUT /v1/blobs`: streams the body to disk, hashing as it goes. An upload larger than the
/// limit is refused from its `Content-Length` before any byte is read, or as soon as it
/// passes the limit when it has none; nothing of it is kept.
#[utoipa::path(
    put,
    path = "/v1/blobs",
    tag = "requester",
    security(("key" = [])),
    request_body(content = String, content_type = "application/octet-stream", description = "the artifact's bytes, streamed"),
    responses(
        (status = 200, description = "stored (or already stored); the requester key may now read it", body = BlobStored),
        (status = 400, description = "`empty_upload`: no bytes; `upload_interrupted`: the body broke off", body = ErrorBody),
        (status = 413, description = "`upload_too_large`: larger than the node flag --max-upload-bytes; `quota_exceeded`: past the key's quota (--requester-quota)", body = ErrorBody),
    )
)]
pub async fn upload_blob(
    State(node): State<Arc<Node>>,
    caller: Caller,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<BlobStored>, ApiError> {
    caller.require(&[Role::Requester, Role::Admin])?;
    let limit = node.config.max_upload_bytes;
    let too_big = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "upload_too_large",
            format!("upload is larger than this pool's limit of {limit} bytes (node flag --max-upload-bytes)"),
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(too_big());
    }
    // A requester's uploads count against its quota; refused from the declared length when
    // it cannot fit, and checked again, exactly, when the upload is committed. (Re-sending
    // bytes the key already has is then refused too near the quota; clients ask with HEAD
    // first and do not send them.)
    let uploader = (caller.0.role == Role::Requester).then_some(Uploader {
        key: caller.0.id,
        quota: node.config.requester_quota_bytes,
    });
    if let (Some(u), Some(n)) = (uploader, declared) {
        let used = node.store.stored_bytes(u.key).await?;
        if used.saturating_add(n) > u.quota {
            return Err(StoreError::QuotaExceeded {
                used,
                size: n,
                quota: u.quota,
            }
            .into());
        }
    }
    let mut writer = node.store.blob_writer().await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request("upload_interrupted", format!("upload interrupted: {e}"))
        })?;
        if writer.size() + chunk.len() as u64 > limit {
            return Err(too_big());
        }
        writer.write(&chunk).await?;
    }
    if writer.size() == 0 {
        return Err(ApiError::bad_request("empty_upload", "the upload is empty"));
    }
    // A requester key becomes one that may read these bytes; the admin's uploads need no
    // owner (the admin reads everything) and no quota.
    Ok(Json(
        node.store
            .commit_blob(writer, uploader, node.now_ms())
            .await?,
    ))
}

fn parse_hash(s: &str) -> Result<BlobHash, ApiError> {
    s.parse()
        .map_err(|e: zkpool_types::ParseHashError| ApiError::bad_request("bad_hash", e.to_string()))
}

/// Whether the caller may read blob `hash`; anyone else is told it does not exist (404, not
/// 403: the pool does not confirm that someone stored these bytes).
async fn readable(node: &Node, caller: &Caller, hash: &BlobHash) -> Result<(), ApiError> {
    let ok = node
        .store
        .may_read_blob(hash, caller.0.id, caller.0.role, node.now_ms())
        .await?;
    if ok {
        Ok(())
    } else {
        Err(ApiError::not_found("blob", hash))
    }
}

/// `HEAD /v1/blobs/{hash}`: 200 when stored and readable by the caller (the requester keys
/// that uploaded it, the admin, a prover leasing a task that uses it), 404 otherwise (lets
/// clients skip re-uploads of their own artifacts).
#[utoipa::path(
    head,
    path = "/v1/blobs/{hash}",
    tag = "requester",
    security(("key" = [])),
    params(("hash" = String, Path, description = "the blob's sha256, 64 lower-case hex characters", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "stored and readable by the caller"),
        (status = 400, description = "`bad_hash`: not 64 hex characters; `bad_path`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`not_found`: not stored, or not the caller's to read", body = ErrorBody),
    )
)]
pub async fn head_blob(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(hash): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let hash = parse_hash(&hash)?;
    readable(&node, &caller, &hash).await?;
    Ok(StatusCode::OK)
}

/// `GET /v1/blobs/{hash}`: the bytes, streamed from disk (never read whole into memory), for
/// the same callers as `HEAD`.
#[utoipa::path(
    get,
    path = "/v1/blobs/{hash}",
    tag = "requester",
    security(("key" = [])),
    params(("hash" = String, Path, description = "the blob's sha256, 64 lower-case hex characters", pattern = "^[0-9a-f]{64}$")),
    responses(
        (status = 200, description = "the bytes", content_type = "application/octet-stream", body = String),
        (status = 400, description = "`bad_hash`: not 64 hex characters; `bad_path`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`not_found`: not stored, or not the caller's to read", body = ErrorBody),
    )
)]
pub async fn get_blob(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(hash): ApiPath<String>,
) -> Result<Response, ApiError> {
    let hash = parse_hash(&hash)?;
    readable(&node, &caller, &hash).await?;
    let (bytes, size) = node
        .store
        .open_blob(&hash)
        .await?
        .ok_or_else(|| ApiError::not_found("blob", hash))?;
    let body = Body::from_stream(bytes);
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, size.to_string()),
        ],
        body,
    )
        .into_response())
}

/// `POST /v1/tasks`: validates the task with its backend (artifacts parse and match, the
/// witness satisfies the circuit) and queues it. A task that cannot be proved is refused here,
/// not discovered by a prover later.
#[utoipa::path(
    post,
    path = "/v1/tasks",
    tag = "requester",
    security(("key" = [])),
    request_body = SubmitRequest,
    responses(
        (status = 201, description = "checked and queued", body = Submitted),
        (status = 400, description = crate::openapi::INSPECT_400, body = ErrorBody),
        (status = 402, description = "`quote_required`: this pool takes quoted tasks only (POST /v1/quotes)", body = ErrorBody),
        (status = 422, description = crate::openapi::INSPECT_422, body = ErrorBody),
        (status = 503, description = crate::openapi::INSPECT_503, body = ErrorBody),
    )
)]
pub async fn submit(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<SubmitRequest>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    caller.require(&[Role::Requester])?;
    if node.config.settlement.require_quote {
        return Err(ApiError::new(
            StatusCode::PAYMENT_REQUIRED,
            "quote_required",
            "this pool takes quoted tasks only: get a quote (POST /v1/quotes, `zkpool quote`) and submit with it",
        ));
    }
    let task = prepare_task(&node, caller.0.id, req.spec).await?;
    let id = node.store.insert_task(&task, node.now_ms()).await?;
    tracing::info!(task = %id, system = %task.spec.system, label = ?task.spec.label, work = task.work,
        "task queued");
    node.work_ready.wake_all();
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            task_id: id,
            work: task.work,
        }),
    ))
}

/// Checks a task with its backend (artifacts parse and match, the witness satisfies the
/// circuit) and measures it; used by plain and quoted submissions and by quotes.
pub(crate) async fn prepare_task(
    node: &Node,
    requester: KeyId,
    spec: TaskSpec,
) -> Result<NewTask, ApiError> {
    if spec.strategy.is_some() {
        return Box::pin(crate::compose::prepare(node, requester, spec)).await;
    }
    let backend = node.backends.get(spec.system).cloned().ok_or_else(|| {
        ApiError::bad_request(
            "unsupported_system",
            format!("this pool does not run {}", spec.system),
        )
    })?;
    spec.check_artifacts()
        .map_err(|m| ApiError::bad_request("bad_spec", m))?;
    if spec.label.as_ref().is_some_and(|l| l.len() > 128) {
        return Err(ApiError::bad_request(
            "bad_spec",
            "label is longer than 128 bytes",
        ));
    }
    // A requester proves only what it uploaded itself: naming another requester's witness
    // would get its public outputs proved, and a different answer for "stored, not yours"
    // would confirm that someone stored those bytes.
    let now = node.now_ms();
    for (role, hash) in &spec.artifacts {
        if !node
            .store
            .may_read_blob(hash, requester, Role::Requester, now)
            .await?
        {
            return Err(crate::artifacts::unknown_blob(*role, hash));
        }
    }
    let whole = backend.splitter().is_none();
    if whole && spec.segments.is_some() {
        return Err(ApiError::bad_request(
            "bad_spec",
            format!(
                "{} tasks are proved whole; `segments` applies to split proving",
                spec.system
            ),
        ));
    }
    let cached = whole
        .then(|| node.shapes.get(spec.system, &spec.artifacts))
        .flatten();
    let shape = match cached {
        Some(shape) => shape,
        None => {
            // Inspections are the node's heaviest work on a requester's behalf: a few at a
            // time, and 503 past that rather than a queue that grows without bound.
            let _permit = node.guard.inspection(requester)?;
            let artifacts = node.artifacts.load(&spec.artifacts).await?;
            if !whole {
                return crate::split::prepare_split(node, requester, spec, artifacts, backend)
                    .await;
            }
            let started = Instant::now();
            let verifier = backend.verifier_id(&spec.artifacts);
            let (shape, key) = tokio::task::spawn_blocking(move || {
                let shape = backend.inspect(&artifacts)?;
                // The verifying key its proofs will be checked against, while the artifacts
                // are at hand (cheap: inspection parsed them): the first proof is then
                // checked without reading them again.
                let key = match verifier {
                    Some(id) => Some((id, Blob::new(backend.verifying_key(&artifacts)?))),
                    None => None,
                };
                Ok::<_, BackendError>((shape, key))
            })
            .await
            .map_err(ApiError::internal)??;
            if let Some((id, key)) = key {
                node.artifacts.keep_verifying_key(spec.system, id, key);
            }
            tracing::debug!(
                inspect_ms = started.elapsed().as_millis() as u64,
                "task inspected"
            );
            node.shapes.insert(spec.system, &spec.artifacts, &shape);
            shape
        }
    };
    Ok(NewTask {
        requester,
        spec,
        work: shape.work,
        memory_bytes: shape.prove_memory_bytes,
        statement: shape.statement,
        max_attempts: node.config.max_attempts,
        segments: Vec::new(),
        group: None,
    })
}

pub(crate) async fn owned_task(node: &Node, caller: &Caller, id: &str) -> Result<TaskId, ApiError> {
    caller.require(&[Role::Requester, Role::Admin])?;
    let id: TaskId = id
        .parse()
        .map_err(|_| ApiError::bad_request("bad_id", format!("{id:?} is not a task id")))?;
    let task = node
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::not_found("task", id))?;
    if caller.0.role != Role::Admin && task.requester != caller.0.id {
        // Another requester's task is reported as missing, not as forbidden: ids are sequential
        // and must not reveal other requesters' activity.
        return Err(ApiError::not_found("task", id));
    }
    Ok(id)
}

/// `GET /v1/tasks/{id}[?wait_ms=N]`: the task; with `wait_ms`, once it has ended or the wait
/// (capped by `--max-long-poll`) is over. The wait is woken when a task of this replica ends,
/// and looks again every [`TASK_RECHECK`] for tasks another replica ended.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}",
    tag = "requester",
    security(("key" = [])),
    params(("id" = String, Path, description = "task id: `42` or `t-42`", pattern = "^(t-)?[0-9]{1,18}$"), TaskWait),
    responses(
        (status = 200, description = "the task, its progress and, once it ended, its cause", body = TaskView),
        (status = 400, description = crate::openapi::TASK_WAIT_400, body = ErrorBody),
        (status = 404, description = crate::openapi::TASK_404, body = ErrorBody),
    )
)]
pub async fn task(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<TaskWait>,
) -> Result<Json<TaskView>, ApiError> {
    let id = owned_task(&node, &caller, &id).await?;
    let wait = Duration::from_millis(query.wait_ms).min(node.config.max_long_poll);
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Armed before looking, so a task that ends between the look and the wait wakes us.
        let ended = node.task_ended.arm();
        tokio::pin!(ended);
        let view = node
            .store
            .task_view(id)
            .await?
            .ok_or_else(|| ApiError::not_found("task", id))?;
        let now = tokio::time::Instant::now();
        if view.state.is_final() || now >= deadline {
            return Ok(Json(view));
        }
        tokio::select! {
            _ = &mut ended => {}
            _ = tokio::time::sleep_until(deadline.min(now + TASK_RECHECK)) => {}
            _ = node.shutdown.cancelled() => return Ok(Json(view)),
        }
    }
}

/// How often a task long-poll looks again without being woken: the bound on hearing of a task
/// that another replica ended.
pub const TASK_RECHECK: Duration = Duration::from_millis(250);

/// `GET /v1/tasks/{id}/proof`: the verified proof's bytes (for Groth16, snarkjs JSON
/// `{"proof": …, "public": […]}`, for Miden the proof's bytes); 409 `not_done` before then.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}/proof",
    tag = "requester",
    security(("key" = [])),
    params(("id" = String, Path, description = "task id: `42` or `t-42`", pattern = "^(t-)?[0-9]{1,18}$")),
    responses(
        (status = 200, description = "the verified proof: for Groth16 snarkjs JSON `{proof, public}`, for Miden the proof's bytes", content(
            (Object = "application/json"),
            (String = "application/octet-stream"),
        )),
        (status = 400, description = crate::openapi::TASK_400, body = ErrorBody),
        (status = 404, description = crate::openapi::TASK_404, body = ErrorBody),
        (status = 409, description = "`not_done`: the task is not done", body = ErrorBody),
        (status = 410, description = "`proof_expired`: removed after the retention period (--blob-retention)", body = ErrorBody),
    )
)]
pub async fn proof(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Response, ApiError> {
    let id = owned_task(&node, &caller, &id).await?;
    let task = node
        .store
        .task(id)
        .await?
        .ok_or_else(|| ApiError::not_found("task", id))?;
    let (TaskState::Done, Some(hash)) = (task.state, task.proof) else {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_done",
            format!(
                "task {id} is {}; the proof is available once it is done",
                task.state
            ),
        ));
    };
    let bytes = node.store.read_blob(&hash).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::GONE,
            "proof_expired",
            format!(
                "task {id}'s proof was removed after the retention period (node flag --blob-retention)"
            ),
        )
    })?;
    let media = match (&task.spec.strategy, task.spec.system) {
        (Some(zkpool_types::Strategy::MultiProver { .. }), _) => "application/json",
        (_, ProofSystem::Groth16) => "application/json",
        (_, ProofSystem::MidenVm) => "application/octet-stream",
    };
    Ok(([(header::CONTENT_TYPE, media)], bytes).into_response())
}
