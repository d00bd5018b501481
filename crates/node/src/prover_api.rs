//! Prover endpoints: hello, heartbeat, lease (long-poll), result, failure.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use zkpool_backend::ProofArtifact;
use zkpool_store::{LeaseEnding, ProverRecord};
use zkpool_types::api::{
    ErrorBody, FailureReport, Heartbeat, HeartbeatAck, Hello, LeaseGrant, LeaseRequest, ReportKind,
    ResultAccepted, ResultMeta, Role, Welcome,
};
use zkpool_types::{FaultKind, FencingToken, LeaseId, ProverId};

use crate::extract::{ApiJson, ApiPath, ApiQuery};
use crate::{scheduler, ApiError, Caller, Node};

/// The prover `id`, if it belongs to the caller's key.
async fn own_prover(node: &Node, caller: &Caller, id: &str) -> Result<ProverRecord, ApiError> {
    caller.require(&[Role::Prover])?;
    let id: ProverId = id
        .parse()
        .map_err(|_| ApiError::bad_request("bad_id", format!("{id:?} is not a prover id")))?;
    let p = node
        .store
        .prover(id)
        .await?
        .ok_or_else(|| ApiError::not_found("prover", id))?;
    if p.key_id != caller.0.id {
        return Err(ApiError::forbidden(format!(
            "prover {id} was registered with another key"
        )));
    }
    Ok(p)
}

/// `POST /v1/provers/hello`.
#[utoipa::path(
    post,
    path = "/v1/provers/hello",
    tag = "prover",
    security(("key" = [])),
    request_body = Hello,
    responses(
        (status = 200, description = "registered; the heartbeat and lease times to keep", body = Welcome),
        (status = 400, description = "`bad_hardware`: the machine name is empty or longer than 64 bytes; `bad_address`: the payout is not a non-zero address; `payout_required`: the pool pays on chain", body = ErrorBody),
    )
)]
pub async fn hello(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<Hello>,
) -> Result<Json<Welcome>, ApiError> {
    caller.require(&[Role::Prover])?;
    let hw = &req.hardware;
    if hw.name.is_empty() || hw.name.len() > 64 {
        return Err(ApiError::bad_request(
            "bad_hardware",
            "machine name must be 1 to 64 bytes",
        ));
    }
    let payout = match (&req.payout, node.config.chain.is_some()) {
        (Some(a), _) => Some(
            a.parse::<zkpool_ledger::Address>()
                .ok()
                .filter(|a| *a != zkpool_ledger::Address::default())
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "bad_address",
                        format!("payout {a:?} is not a non-zero 0x + 20-byte address"),
                    )
                })?,
        ),
        (None, true) => {
            return Err(ApiError::bad_request(
                "payout_required",
                "this pool pays provers on its Ethereum contract: give the account to credit                  (zkpool prover --payout 0x…)",
            ))
        }
        (None, false) => None,
    };
    let p = node
        .store
        .register_prover(caller.0.id, hw, node.now_ms())
        .await?;
    let payout = payout.map(|a| a.to_string());
    node.store.set_payout(p.id, payout.as_deref()).await?;
    tracing::info!(prover = %p.id, name = %hw.name, cores = hw.cpu_cores,
        memory_gib = hw.memory_bytes as f64 / (1u64 << 30) as f64, gpus = ?hw.gpus,
        systems = ?hw.systems, payout = ?payout, "prover connected");
    node.work_ready.wake_all();
    Ok(Json(Welcome {
        prover_id: p.id,
        heartbeat_ms: node.config.heartbeat.as_millis() as u64,
        lease_ttl_ms: node.config.lease_ttl.as_millis() as u64,
    }))
}

/// `POST /v1/provers/{id}/heartbeat`.
#[utoipa::path(
    post,
    path = "/v1/provers/{id}/heartbeat",
    tag = "prover",
    security(("key" = [])),
    params(("id" = String, Path, description = "prover id: `3` or `p-3`", pattern = "^(p-)?[0-9]{1,18}$")),
    request_body = Heartbeat,
    responses(
        (status = 200, description = "leases extended; those no longer the prover's are listed", body = HeartbeatAck),
        (status = 400, description = "`bad_id`: not a prover id; `too_many_leases`: more than 1024 leases named", body = ErrorBody),
        (status = 404, description = "`not_found`: no such prover", body = ErrorBody),
    )
)]
pub async fn heartbeat(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<Heartbeat>,
) -> Result<Json<HeartbeatAck>, ApiError> {
    let p = own_prover(&node, &caller, &id).await?;
    if req.leases.len() > 1024 {
        return Err(ApiError::bad_request(
            "too_many_leases",
            "a heartbeat names at most 1024 leases",
        ));
    }
    let ttl = node.config.lease_ttl.as_millis() as i64;
    let max = node.config.max_lease.as_millis() as i64;
    let revoked = node
        .store
        .heartbeat(p.id, &req.leases, node.now_ms(), ttl, max)
        .await?;
    Ok(Json(HeartbeatAck { revoked }))
}

/// `POST /v1/provers/{id}/lease`: a task, or `204 No Content` when none came within the wait.
#[utoipa::path(
    post,
    path = "/v1/provers/{id}/lease",
    tag = "prover",
    security(("key" = [])),
    params(("id" = String, Path, description = "prover id: `3` or `p-3`", pattern = "^(p-)?[0-9]{1,18}$")),
    request_body = LeaseRequest,
    responses(
        (status = 200, description = "a task to prove", body = LeaseGrant),
        (status = 204, description = "no task came within the wait"),
        (status = 400, description = "`bad_id`: not a prover id", body = ErrorBody),
        (status = 404, description = "`not_found`: no such prover", body = ErrorBody),
    )
)]
pub async fn lease(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<LeaseRequest>,
) -> Result<Response, ApiError> {
    let p = own_prover(&node, &caller, &id).await?;
    let wait = std::time::Duration::from_millis(req.wait_ms).min(node.config.max_long_poll);
    let asked = std::time::Instant::now();
    let grant = scheduler::lease_wait(&node, &p, wait).await?;
    node.metrics.lease_waited(asked.elapsed(), grant.is_some());
    match grant {
        Some(g) => {
            node.metrics.leased_after(node.now_ms() - g.queued_ms);
            tracing::info!(task = %g.task, prover = %p.id, name = %p.hardware.name, lease = %g.lease,
                token = g.token.0, "task leased");
            Ok(Json(LeaseGrant {
                lease_id: g.lease,
                token: g.token,
                task_id: g.task,
                system: g.system,
                label: g.label,
                artifacts: g.artifacts,
                work: g.work,
                ttl_ms: node.config.lease_ttl.as_millis() as u64,
                statement: g.statement,
                collateral: g.collateral,
            })
            .into_response())
        }
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

fn parse_lease(id: &str) -> Result<LeaseId, ApiError> {
    id.parse()
        .map_err(|_| ApiError::bad_request("bad_id", format!("{id:?} is not a lease id")))
}

/// The prover holding `lease`, checked against the caller's key.
async fn lease_holder(
    node: &Node,
    caller: &Caller,
    lease: LeaseId,
) -> Result<ProverRecord, ApiError> {
    caller.require(&[Role::Prover])?;
    let active = node.store.active_lease(lease, node.now_ms()).await?;
    let p = node
        .store
        .prover(active.prover)
        .await?
        .ok_or_else(|| ApiError::not_found("prover", active.prover))?;
    if p.key_id != caller.0.id {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "stale_lease",
            format!("lease {lease} is not yours"),
        ));
    }
    Ok(p)
}

/// `POST /v1/leases/{id}/result?token=&prove_ms=`: the body is the proof, verified before it
/// is accepted (`verify.rs` says what happens to it).
#[utoipa::path(
    post,
    path = "/v1/leases/{id}/result",
    tag = "prover",
    security(("key" = [])),
    params(("id" = String, Path, description = "lease id: `9` or `l-9`", pattern = "^(l-)?[0-9]{1,18}$"), ResultMeta),
    request_body(content = String, content_type = "application/octet-stream", description = "the proof's bytes"),
    responses(
        (status = 200, description = "verified and accepted: the task is done", body = ResultAccepted),
        (status = 400, description = "`bad_id`: not a lease id; `bad_query`: token or prove_ms missing", body = ErrorBody),
        (status = 404, description = "`not_found`: no such lease", body = ErrorBody),
        (status = 409, description = "`stale_lease`: the lease expired, was revoked, is not the caller's, or the token is not its current one", body = ErrorBody),
        (status = 422, description = "`invalid_proof`, `malformed_proof`: the proof does not verify; the lease ends and the task is re-leased", body = ErrorBody),
    )
)]
pub async fn result(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(meta): ApiQuery<ResultMeta>,
    body: Bytes,
) -> Result<Json<ResultAccepted>, ApiError> {
    let lease = parse_lease(&id)?;
    let prover = lease_holder(&node, &caller, lease).await?;
    let accepted = crate::verify::uploaded(
        &node,
        &prover,
        lease,
        FencingToken(meta.token),
        meta.prove_ms,
        ProofArtifact(body.to_vec()),
    )
    .await?;
    Ok(Json(accepted))
}

/// `POST /v1/leases/{id}/failure`: the prover gives the task back. Its report is evidence,
/// not a verdict: an artifact fault is a claim that a prover of another key decides, and a
/// prover error just sends the task to another machine. Neither fails a task by itself.
#[utoipa::path(
    post,
    path = "/v1/leases/{id}/failure",
    tag = "prover",
    security(("key" = [])),
    params(("id" = String, Path, description = "lease id: `9` or `l-9`", pattern = "^(l-)?[0-9]{1,18}$")),
    request_body = FailureReport,
    responses(
        (status = 204, description = "the task is given back"),
        (status = 400, description = "`bad_id`: not a lease id", body = ErrorBody),
        (status = 404, description = "`not_found`: no such lease", body = ErrorBody),
        (status = 409, description = "`stale_lease`: the lease is not the caller's current one", body = ErrorBody),
    )
)]
pub async fn failure(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<FailureReport>,
) -> Result<StatusCode, ApiError> {
    let lease = parse_lease(&id)?;
    let prover = lease_holder(&node, &caller, lease).await?;
    let reason: String = req.reason.chars().take(2000).collect();
    let fault = match req.kind {
        ReportKind::ArtifactFault => FaultKind::ArtifactReport,
        ReportKind::ProverError => FaultKind::ProverError,
    };
    let ending = LeaseEnding {
        lease,
        token: FencingToken(req.token),
        prover: prover.id,
        fault,
        reason: format!("p-{}: {reason}", prover.id.0),
    };
    let verdict = crate::liability::end_lease(&node, &ending).await?;
    tracing::warn!(%lease, prover = %prover.id, %fault, state = %verdict.state, reason = %reason,
        "prover reported a failure");
    node.work_ready.wake_all();
    Ok(StatusCode::NO_CONTENT)
}
