//! What happens to an uploaded proof, in one place.
//!
//! ```text
//!  upload ─► fence check (cheap: current lease, its token, the caller's key)
//!         ─► backend.verify against the statement fixed at submit (outside any transaction;
//!            proofs of one verifier arriving together are checked in one batch: batcher.rs)
//!         ─► valid:   one tx: fence check again, task done (cause proved), collateral back,
//!                     contradicted artifact reports slashed, a paid whole task released
//!                     ─► a segment: the split task is joined when it was the last one
//!         ─► invalid: one tx: lease ends invalid_proof (the prover's fault): collateral
//!                     slashed, the key never gets this task again, the task re-queued (or,
//!                     out of attempts, ended as the pool's fault and conceded)
//! ```

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use zkpool_backend::{BackendError, ProofArtifact};
use zkpool_store::{Completion, LeaseEnding, ProverRecord};
use zkpool_types::api::ResultAccepted;
use zkpool_types::{FaultKind, FencingToken, LeaseId};

use crate::batcher::Check;
use crate::wake::WorkSignal;
use crate::{liability, ApiError, Node};

/// Verifies the proof uploaded on `lease` by `prover` and acts on the verdict.
pub(crate) async fn uploaded(
    node: &Arc<Node>,
    prover: &ProverRecord,
    lease: LeaseId,
    token: FencingToken,
    prove_ms: u64,
    proof: ProofArtifact,
) -> Result<ResultAccepted, ApiError> {
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
    // A backend with a verifier id (Groth16) checks against the verifying key the node keeps
    // per verifier; the others against what their verification reads of the artifacts.
    let check = match backend.verifier_id(&task.spec.artifacts) {
        Some(id) => Check::Key {
            id,
            key: node
                .artifacts
                .verifying_key(&backend, id, &task.spec.artifacts)
                .await?,
        },
        None => Check::Artifacts(
            node.artifacts
                .load_only(&task.spec.artifacts, backend.verify_roles())
                .await?,
        ),
    };
    let statement = task.statement.clone();
    let started = Instant::now();
    let checked = node
        .verifier
        .verify(backend, check, statement, proof.clone())
        .await?;
    let verify_ms = started.elapsed().as_millis() as u64;
    let valid = match &checked {
        Ok(()) => Some(true),
        Err(BackendError::InvalidProof(_) | BackendError::MalformedProof(_)) => Some(false),
        Err(_) => None,
    };
    if let Some(valid) = valid {
        node.metrics
            .proof_checked(task.spec.system, valid, prove_ms, verify_ms);
    }
    match checked {
        Ok(()) => {
            let stored = node.store.put_blob(&proof.0, node.now_ms()).await?;
            let completion = Completion {
                lease,
                token,
                prover: prover.id,
                proof: stored.hash,
                prove_ms,
                verify_ms,
            };
            let task_id = node.complete(completion).await?;
            tracing::info!(task = %task_id, prover = %prover.id, name = %prover.hardware.name,
                prove_ms, verify_ms, "proof verified; task done");
            if let Some(parent) = node.store.parent_of(task_id).await? {
                if node.store.group_of(task_id).await? == Some(parent) {
                    // A leg. Cheap (a bundle and a signature), so done before the upload is
                    // answered: the leg that completes a group sees it done. A failure here
                    // leaves the group to the reaper; the leg's proof stands.
                    if let Err(e) = crate::compose::try_finish(node, parent).await {
                        tracing::error!(group = %parent, error = ?e, "finishing a multi-prover task failed");
                    }
                } else {
                    // A segment, of a split task or of a split leg.
                    crate::split::spawn_join(node, parent);
                }
            }
            node.task_ended.wake_all();
            Ok(ResultAccepted { task_id, verify_ms })
        }
        Err(e @ (BackendError::InvalidProof(_) | BackendError::MalformedProof(_))) => {
            let ending = LeaseEnding {
                lease,
                token,
                prover: prover.id,
                fault: FaultKind::InvalidProof,
                reason: format!("p-{} uploaded a proof that was refused: {e}", prover.id.0),
            };
            let verdict = liability::end_lease(node, &ending).await?;
            tracing::warn!(task = %task.id, prover = %prover.id, state = %verdict.state,
                error = %e, "proof refused");
            node.work_ready.wake_all();
            node.task_ended.wake_all();
            Err(e.into())
        }
        Err(other) => Err(other.into()),
    }
}
