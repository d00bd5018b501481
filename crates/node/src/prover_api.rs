//! Prover endpoints: hello, heartbeat, lease (long-poll), result, failure.

use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use zkpool_backend::{BackendError, ProofArtifact};
use zkpool_store::{Completion, LeaseEnd, LeaseEnding, ProverRecord};
use zkpool_types::api::{
    FailureReport, Heartbeat, HeartbeatAck, Hello, LeaseGrant, LeaseRequest, ResultAccepted,
    ResultMeta, Role, Welcome,
};
use zkpool_types::{FencingToken, LeaseId, ProverId};

use crate::extract::{ApiJson, ApiQuery};
use crate::{scheduler, settlement, ApiError, Caller, Node};

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
    let p = node
        .store
        .register_prover(caller.0.id, hw, node.now_ms())
        .await?;
    tracing::info!(prover = %p.id, name = %hw.name, cores = hw.cpu_cores,
        memory_gib = hw.memory_bytes as f64 / (1u64 << 30) as f64, gpus = ?hw.gpus,
        systems = ?hw.systems, "prover connected");
    node.work_ready.notify_waiters();
    Ok(Json(Welcome {
        prover_id: p.id,
        heartbeat_ms: node.config.heartbeat.as_millis() as u64,
        lease_ttl_ms: node.config.lease_ttl.as_millis() as u64,
    }))
}

/// `POST /v1/provers/{id}/heartbeat`.
pub async fn heartbeat(
    State(node): State<Arc<Node>>,
    caller: Caller,
    Path(id): Path<String>,
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
pub async fn lease(
    State(node): State<Arc<Node>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LeaseRequest>,
) -> Result<Response, ApiError> {
    let p = own_prover(&node, &caller, &id).await?;
    let wait = std::time::Duration::from_millis(req.wait_ms).min(node.config.max_long_poll);
    match scheduler::lease_wait(&node, &p, wait).await? {
        Some(g) => {
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

/// `POST /v1/leases/{id}/result?token=&prove_ms=`: the body is the proof. The node verifies
/// it before accepting; the fencing token is checked before verifying (cheap refusal of stale
/// results) and again in the transaction that marks the task done (a lease may expire while
/// the proof is being verified).
pub async fn result(
    State(node): State<Arc<Node>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiQuery(meta): ApiQuery<ResultMeta>,
    body: Bytes,
) -> Result<Json<ResultAccepted>, ApiError> {
    let lease = parse_lease(&id)?;
    let prover = lease_holder(&node, &caller, lease).await?;
    let token = FencingToken(meta.token);
    let active = node.store.active_lease(lease, node.now_ms()).await?;
    if active.token != token {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "stale_lease",
            "wrong fencing token",
        ));
    }
    let task = node
        .store
        .task(active.task)
        .await?
        .ok_or_else(|| ApiError::not_found("task", active.task))?;
    let backend = node
        .backends
        .get(task.spec.system)
        .cloned()
        .ok_or_else(|| {
            ApiError::internal(format!(
                "no backend for {} to verify task {}",
                task.spec.system, task.id
            ))
        })?;
    let artifacts = node.artifacts.load(&task.spec.artifacts).await?;
    let proof = ProofArtifact(body.to_vec());
    let statement = task.statement.clone();
    let started = Instant::now();
    let checked = {
        let proof = proof.clone();
        tokio::task::spawn_blocking(move || backend.verify(&artifacts, &statement, &proof))
            .await
            .map_err(ApiError::internal)?
    };
    let verify_ms = started.elapsed().as_millis() as u64;
    match checked {
        Ok(()) => {
            let stored = node.store.put_blob(&proof.0, node.now_ms()).await?;
            let completion = Completion {
                lease,
                token,
                prover: prover.id,
                proof: stored.hash,
                prove_ms: meta.prove_ms,
                verify_ms,
            };
            let task_id = settlement::complete(&node, &completion).await?;
            tracing::info!(task = %task_id, prover = %prover.id, name = %prover.hardware.name,
                prove_ms = meta.prove_ms, verify_ms, "proof verified; task done");
            if let Some(parent) = node.store.parent_of(task_id).await? {
                crate::split::spawn_join(&node, parent);
            }
            Ok(Json(ResultAccepted { task_id, verify_ms }))
        }
        Err(e @ (BackendError::InvalidProof(_) | BackendError::MalformedProof(_))) => {
            let reason = format!("p-{} uploaded a proof that was refused: {e}", prover.id.0);
            let state = node
                .store
                .end_lease_unfinished(
                    &LeaseEnding {
                        lease,
                        token,
                        prover: prover.id,
                        how: LeaseEnd::Invalid,
                        reason,
                        retryable: true,
                    },
                    node.now_ms(),
                )
                .await?;
            tracing::warn!(task = %task.id, prover = %prover.id, %state, error = %e, "proof refused");
            settlement::penalize(&node, prover.id, "invalid proof").await;
            node.work_ready.notify_waiters();
            Err(e.into())
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /v1/leases/{id}/failure`: the prover gives the task back.
pub async fn failure(
    State(node): State<Arc<Node>>,
    caller: Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<FailureReport>,
) -> Result<StatusCode, ApiError> {
    let lease = parse_lease(&id)?;
    let prover = lease_holder(&node, &caller, lease).await?;
    let reason: String = req.reason.chars().take(2000).collect();
    let state = node
        .store
        .end_lease_unfinished(
            &LeaseEnding {
                lease,
                token: FencingToken(req.token),
                prover: prover.id,
                how: LeaseEnd::Failed,
                reason: format!("p-{}: {reason}", prover.id.0),
                retryable: req.retryable,
            },
            node.now_ms(),
        )
        .await?;
    tracing::warn!(%lease, prover = %prover.id, %state, reason = %reason, "prover reported failure");
    node.work_ready.notify_waiters();
    Ok(StatusCode::NO_CONTENT)
}
