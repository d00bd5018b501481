//! Matching queued tasks to provers, and sweeping expired leases; the same sweep claims
//! liability for tasks past their window and closes epochs that have run their length.
//!
//! Provers pull: a lease request takes the oldest queued task the prover can run (its proof
//! system, within its memory), preferring tasks it has not already failed. When there is none
//! the request waits on `work_ready` until a task is queued or re-queued, or the wait ends.

use std::sync::Arc;
use std::time::Duration;

use zkpool_store::{Grant, ProverRecord};

use crate::wake::WorkSignal;
use crate::{settlement, split, ApiError, Node};

/// Leases a task to `prover`, waiting up to `wait` for one.
pub async fn lease_wait(
    node: &Arc<Node>,
    prover: &ProverRecord,
    wait: Duration,
) -> Result<Option<Grant>, ApiError> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        // Register interest before looking, so a task queued between the look and the wait
        // still wakes us.
        let ready = node.work_ready.arm();
        tokio::pin!(ready);
        if let Some(g) = node.lease_now(prover).await? {
            return Ok(Some(g));
        }
        tokio::select! {
            _ = &mut ready => {}
            _ = tokio::time::sleep_until(deadline) => return Ok(None),
            _ = node.shutdown.cancelled() => return Ok(None),
        }
    }
}

/// Runs [`sweep`] every `reap_interval`, until shutdown.
pub async fn reap_forever(node: Arc<Node>) {
    let mut tick = tokio::time::interval(node.config.reap_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = node.shutdown.cancelled() => return,
        }
        sweep(&node).await;
    }
}

/// One pass: re-queues tasks whose leases expired, finishes split joins, claims liability
/// for windows that closed, closes an epoch that ran its length. Each step logs its own
/// failure and the next still runs.
pub async fn sweep(node: &Node) {
    match crate::liability::sweep(node, crate::liability::Sweep::Revoked).await {
        Ok(taken) if !taken.is_empty() => node.work_ready.wake_all(),
        Ok(_) => {}
        Err(e) => tracing::error!(error = ?e, "withdrawing revoked keys' leases failed"),
    }
    match crate::liability::sweep(node, crate::liability::Sweep::Expired).await {
        Ok(expired) if !expired.is_empty() => node.work_ready.wake_all(),
        Ok(_) => {}
        Err(e) => tracing::error!(error = ?e, "lease sweep failed"),
    }
    if let Err(e) = split::join_ready(node).await {
        tracing::error!(error = ?e, "joining split tasks failed");
    }
    if let Err(e) = crate::compose::finish_ready(node).await {
        tracing::error!(error = ?e, "finishing multi-prover tasks failed");
    }
    if let Err(e) = settlement::auto_claim(node).await {
        tracing::error!(error = ?e, "automatic liability claims failed");
    }
    // Leases expired into failures, joins, groups and claims may have ended tasks.
    node.task_ended.wake_all();
    if let Err(e) = settlement::epoch_tick(node).await {
        tracing::error!(error = ?e, "epoch settlement failed");
    }
    if let Err(e) = node.sample_queue().await {
        tracing::error!(error = ?e, "sampling the queue depth failed");
    }
    if node.gc_due() {
        if let Err(e) = node.collect_blobs().await {
            tracing::error!(error = ?e, "collecting unused blobs failed");
        }
    }
}
