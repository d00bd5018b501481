//! Split proving in the node: cut a task into segments at submit, join their proofs when the
//! last one is verified.
//!
//! ```text
//!  submit ─► backend.trace (execute once, no proof) ─► chunk cycles
//!         ─► zkpool_planner::plan (online provers' memory, target count, row cap)
//!         ─► backend.segments ─► segment blobs ─► ONE tx: split task 'proving' + segments
//!  segment verified (prover_api) ─► try_join ─► all done? ─► backend.join (every proof and
//!         link checked again) ─► result blob ─► ONE tx: split task done + release by work
//!  reaper ─► joins that a crash interrupted
//! ```
//!
//! Segments are ordinary tasks: leased, fenced, verified and re-queued on their own, so a
//! failed, expired or invalid segment is proved again (by another prover when there is one)
//! while the other segments keep their proofs.

use std::ops::Range;
use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use zkpool_backend::{Artifacts, ProofArtifact, ProofBackend, SegmentTask, SplitBackend};
use zkpool_ledger::Op;
use zkpool_planner::{plan, PlanError, PlanRequest};
use zkpool_store::{NewSegment, NewTask};
use zkpool_types::{KeyId, ProofSystem, TaskId, TaskSpec};

use crate::wake::WorkSignal;
use crate::{ApiError, Node};

/// Most segments a requester may ask for.
pub const MAX_SEGMENTS: u32 = 256;

/// Plans tried, each with a tighter row cap, before a task is refused as unplannable.
const REPLANS: usize = 4;

/// Plans and builds the segments of a task whose backend can split it.
pub(crate) async fn prepare_split(
    node: &Node,
    requester: KeyId,
    spec: TaskSpec,
    artifacts: Artifacts,
    backend: Arc<dyn ProofBackend>,
) -> Result<NewTask, ApiError> {
    let system = spec.system;
    if spec.segments == Some(0) || spec.segments.is_some_and(|n| n > MAX_SEGMENTS) {
        return Err(ApiError::bad_request(
            "bad_spec",
            format!("segments must be between 1 and {MAX_SEGMENTS}"),
        ));
    }
    let memory = prover_memory(node, system).await?;
    let target = spec.segments.map_or(memory.len().max(1), |n| n as usize);
    let max_rows = node.config.max_segment_rows;
    let started = Instant::now();
    let (statement, segments) = tokio::task::spawn_blocking(move || {
        let splitter: &dyn SplitBackend = backend
            .splitter()
            .ok_or_else(|| ApiError::internal(format!("{system} cannot be split")))?;
        let trace = splitter.trace(&artifacts)?;
        let largest = memory.iter().copied().max().unwrap_or(0);
        let model = splitter.memory_model();
        // Chunk costs are estimates; each segment's rows are then measured exactly. When a
        // segment turns out larger than a machine or the row cap allows, cut finer.
        let mut cap = max_rows.min(model.max_cycles(largest)).max(1);
        for _ in 0..REPLANS {
            let p = plan(&PlanRequest {
                chunk_cycles: &trace.chunk_cycles,
                prover_memory: &memory,
                memory: model,
                target_segments: target,
                max_cycles_per_segment: cap,
            })
            .map_err(plan_refused)?;
            let ranges: Vec<Range<usize>> = p.segments.iter().map(|s| s.chunks.clone()).collect();
            let segments = splitter.segments(&artifacts, &trace, &ranges)?;
            if segments
                .iter()
                .all(|s| s.work <= max_rows && s.prove_memory_bytes <= largest)
            {
                return Ok::<_, ApiError>((trace.statement, segments));
            }
            cap = cap * 3 / 4;
        }
        Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unplannable",
            format!(
                "cannot cut the task into segments that fit the largest prover ({} MiB) and \
                 --max-segment-rows {max_rows}",
                largest >> 20
            ),
        ))
    })
    .await
    .map_err(ApiError::internal)??;
    let plan_ms = started.elapsed().as_millis() as u64;

    let n = segments.len();
    let mut new_segments = Vec::with_capacity(n);
    for (i, seg) in segments.into_iter().enumerate() {
        new_segments.push(segment_task(node, &spec, i, n, seg).await?);
    }
    // The whole task's work is what its segments prove, exactly.
    let work = new_segments
        .iter()
        .fold(0u64, |a, s| a.saturating_add(s.work));
    let memory_bytes = new_segments
        .iter()
        .map(|s| s.memory_bytes)
        .max()
        .unwrap_or(0);
    tracing::info!(%system, segments = n, work, plan_ms,
        "task executed and planned for split proving");
    Ok(NewTask {
        requester,
        spec,
        work,
        memory_bytes,
        statement,
        max_attempts: node.config.max_attempts,
        segments: new_segments,
        group: None,
    })
}

async fn segment_task(
    node: &Node,
    spec: &TaskSpec,
    i: usize,
    n: usize,
    seg: SegmentTask,
) -> Result<NewSegment, ApiError> {
    let mut artifacts = spec.artifacts.clone();
    for (role, bytes) in seg.artifacts {
        let stored = node.store.put_blob(&bytes, node.now_ms()).await?;
        artifacts.insert(role, stored.hash);
    }
    let label = spec.label.as_deref().unwrap_or("task");
    Ok(NewSegment {
        spec: TaskSpec {
            system: spec.system,
            label: Some(format!("{label} [{}/{n}]", i + 1)),
            artifacts,
            segments: None,
            strategy: None,
        },
        work: seg.work,
        memory_bytes: seg.prove_memory_bytes,
        statement: seg.statement,
    })
}

/// Memory of the online provers that run `system`; a pool with none plans for one prover of
/// the configured default size, and the segments wait for a machine that fits.
async fn prover_memory(node: &Node, system: ProofSystem) -> Result<Vec<u64>, ApiError> {
    let provers = node
        .store
        .list_provers(node.now_ms(), crate::admin::online_window(node))
        .await?;
    let memory: Vec<u64> = provers
        .iter()
        .filter(|p| p.online && p.hardware.systems.contains(&system))
        .map(|p| p.hardware.memory_bytes)
        .collect();
    if memory.is_empty() {
        return Ok(vec![node.config.default_prover_memory]);
    }
    Ok(memory)
}

fn plan_refused(e: PlanError) -> ApiError {
    let code = match e {
        PlanError::ChunkTooLarge { .. } => "chunk_too_large",
        PlanError::NoChunks => "no_chunks",
        PlanError::NoProvers | PlanError::ZeroTarget => "unplannable",
    };
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        code,
        format!("cannot split the task: {e}"),
    )
}

/// Joins split task `task` if every segment is proved, in the background so that the
/// prover's upload is answered at once.
pub(crate) fn spawn_join(node: &Arc<Node>, task: TaskId) {
    let node = node.clone();
    tokio::spawn(async move {
        if let Err(e) = try_join(&node, task).await {
            tracing::error!(%task, error = ?e, "join failed");
        }
        node.task_ended.wake_all();
    });
}

/// Joins every split task whose segments are all proved (the reaper's sweep: a node that
/// stopped between the last segment and the join finishes it on restart).
pub(crate) async fn join_ready(node: &Node) -> Result<(), ApiError> {
    for task in node.store.splits_ready().await? {
        try_join(node, task).await?;
    }
    Ok(())
}

/// Joins split task `task` when it is still proving and all its segments are done: checks
/// every segment proof and link again, stores the result and, in one transaction, marks the
/// task done and releases its escrow to the segments' provers by their work. A join that is
/// refused fails the task with the reason.
pub(crate) async fn try_join(node: &Node, task: TaskId) -> Result<(), ApiError> {
    let Some(parts) = node.store.split_ready(task).await? else {
        return Ok(());
    };
    let backend = node
        .backends
        .get(parts.system)
        .cloned()
        .ok_or_else(|| ApiError::internal(format!("no backend for {}", parts.system)))?;
    let mut proofs = Vec::with_capacity(parts.segments.len());
    for s in &parts.segments {
        let bytes = node
            .store
            .read_blob(&s.proof)
            .await?
            .ok_or_else(|| ApiError::internal(format!("proof blob {} missing", s.proof)))?;
        proofs.push((s.statement.clone(), ProofArtifact(bytes)));
    }
    let statement = parts.statement.clone();
    let started = Instant::now();
    let joined = tokio::task::spawn_blocking(move || match backend.splitter() {
        Some(s) => s.join(&statement, proofs),
        None => Err(zkpool_backend::BackendError::Internal(
            "backend cannot join".into(),
        )),
    })
    .await
    .map_err(ApiError::internal)?;
    let join_ms = started.elapsed().as_millis() as u64;
    let result = match joined {
        Ok(r) => r,
        Err(e) => {
            let reason = format!("join refused: {e}");
            tracing::error!(%task, %reason, "split task failed at the join (pool_fault)");
            let cfg = &node.config.settlement;
            let mut books = node.settlement.books(&node.store, cfg).await?;
            let now = node.now_ms();
            let mut scratch = books.ledger.clone();
            let mut planned = Vec::new();
            node.store
                .fail_split_with(task, &reason, now, |v| {
                    planned = crate::liability::plan_verdict(
                        node,
                        &books,
                        &mut scratch,
                        v,
                        now,
                        crate::liability::PoolFaultBy::Concede,
                    )?;
                    Ok::<_, zkpool_ledger::LedgerError>(planned.clone())
                })
                .await??;
            books.commit(scratch, &planned);
            return Ok(());
        }
    };
    let stored = node.store.put_blob(&result.0, node.now_ms()).await?;
    let finished = finish(node, task, &stored.hash, join_ms).await?;
    if finished {
        // A split leg of a multi-prover task: its group may now have the legs it needs.
        if let Some(group) = node.store.group_of(task).await? {
            Box::pin(crate::compose::try_finish(node, group)).await?;
        }
        let provers: std::collections::BTreeSet<_> =
            parts.segments.iter().map(|s| s.prover).collect();
        tracing::info!(%task, segments = parts.segments.len(), provers = provers.len(), join_ms,
            "segments joined and verified; split task done");
    }
    Ok(())
}

/// Marks the split task done and releases its escrow (when it is a quoted task still in its
/// window) to the segments' provers in proportion to their work, in one transaction.
async fn finish(
    node: &Node,
    task: TaskId,
    proof: &zkpool_types::BlobHash,
    join_ms: u64,
) -> Result<bool, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let mut refused = None;
    let done = node
        .store
        .finish_split_with(task, proof, join_ms, now, |task, shares| {
            if books.is_open(task) {
                match scratch.execute(Op::Release {
                    task,
                    work: shares.to_vec(),
                    now_ms: now.max(0) as u64,
                }) {
                    Ok(e) => planned.push(e),
                    Err(e) => refused = Some(e),
                }
            }
            planned.clone()
        })
        .await?;
    if let Some(e) = refused {
        tracing::error!(%task, error = %e, "split task joined but its release refused");
    }
    let paid = !planned.is_empty();
    books.commit(scratch, &planned);
    if paid {
        tracing::info!(%task, "split task paid: reward released to its segments' provers by work");
    }
    Ok(done)
}
