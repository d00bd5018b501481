//! Split tasks: a task proved as segments, each a task of its own (`parent_id`,
//! `segment_index`), joined when all are done.
//!
//! ```text
//!   insert (one tx):  split task 'proving' + segments 'queued'
//!   segments:         queued ─► leased ─► done      (each leased, fenced, verified, re-queued
//!                                                     on its own: a failed segment is re-proved
//!                                                     alone, the others keep their proofs)
//!   all segments done ─► node joins ─► finish_split_with (one tx): split task 'done' + release
//!   a segment failed for good ─► (same tx) split task 'failed', the other segments stopped
//! ```

use std::collections::BTreeMap;

use zkpool_ledger::Entry;
use zkpool_types::{
    BlobHash, FaultKind, KeyId, ProofSystem, ProverId, TaskCause, TaskId, TaskState,
};

use crate::faults::{CollateralMove, Settle, Verdict};
use crate::ledger::append_tx;
use crate::{Store, StoreError, Tx};

/// A proved segment, for the join.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitSegment {
    /// The segment's task.
    pub task: TaskId,
    /// Who proved it.
    pub prover: ProverId,
    /// Its statement.
    pub statement: Vec<u8>,
    /// Its verified proof.
    pub proof: BlobHash,
    /// Its work (trace rows).
    pub work: u64,
}

/// A split task whose segments are all proved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitParts {
    /// The split task.
    pub task: TaskId,
    /// Its proof system.
    pub system: ProofSystem,
    /// The whole task's statement.
    pub statement: Vec<u8>,
    /// The segments in chain order.
    pub segments: Vec<SplitSegment>,
}

type SegmentRow = (i64, String, Option<i64>, Vec<u8>, Option<String>, i64);

impl Store {
    /// The split task a segment belongs to; `None` for any other task.
    pub async fn parent_of(&self, task: TaskId) -> Result<Option<TaskId>, StoreError> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT parent_id FROM tasks WHERE id = $1")
                .bind(task.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(p,)| p).map(TaskId))
    }

    /// The parts of split task `task` if it is still `proving` and every segment is done.
    pub async fn split_ready(&self, task: TaskId) -> Result<Option<SplitParts>, StoreError> {
        let head: Option<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT system, statement FROM tasks WHERE id = $1 AND state = 'proving' AND need IS NULL",
        )
        .bind(task.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some((system, statement)) = head else {
            return Ok(None);
        };
        let rows: Vec<SegmentRow> = sqlx::query_as(
            "SELECT id, state, prover_id, statement, proof_hash, work FROM tasks
             WHERE parent_id = $1 ORDER BY segment_index",
        )
        .bind(task.0)
        .fetch_all(&self.pool)
        .await?;
        let mut segments = Vec::with_capacity(rows.len());
        for (id, state, prover, statement, proof, work) in rows {
            let (Some(prover), Some(proof), "done") = (prover, proof, state.as_str()) else {
                return Ok(None);
            };
            segments.push(SplitSegment {
                task: TaskId(id),
                prover: ProverId(prover),
                statement,
                proof: proof.parse().map_err(|e: zkpool_types::ParseHashError| {
                    StoreError::Corrupt(e.to_string())
                })?,
                work: work.max(0) as u64,
            });
        }
        if segments.is_empty() {
            return Err(StoreError::Corrupt(format!(
                "split task {task} has no segments"
            )));
        }
        Ok(Some(SplitParts {
            task,
            system: system
                .parse()
                .map_err(|e: zkpool_types::ParseProofSystemError| {
                    StoreError::Corrupt(e.to_string())
                })?,
            statement,
            segments,
        }))
    }

    /// Split tasks still `proving` whose segments are all done: joins that a crash or a
    /// refused join left undone.
    pub async fn splits_ready(&self) -> Result<Vec<TaskId>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT t.id FROM tasks t WHERE t.state = 'proving' AND t.need IS NULL
               AND NOT EXISTS (SELECT 1 FROM tasks s WHERE s.parent_id = t.id AND s.state != 'done')
             ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| TaskId(id)).collect())
    }

    /// Marks split task `task` done with its joined proof and, in the same transaction, the
    /// ledger entries `plan` returns (its release), given each prover key's share of the work.
    /// Returns `false`, writing nothing, when the task is no longer `proving` or a segment is
    /// not done: the join happens exactly once however many callers race to it.
    pub async fn finish_split_with(
        &self,
        task: TaskId,
        proof: &BlobHash,
        join_ms: u64,
        now_ms: i64,
        plan: impl FnOnce(TaskId, &[(KeyId, u64)]) -> Vec<Entry>,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            // A split leg of a group that already has the legs it needs is not joined.
            if !crate::group::leg_may_finish(&mut tx, task).await? {
                return Ok(false);
            }
            let n = sqlx::query(
                "UPDATE tasks SET state = 'done', cause = 'proved', proof_hash = $2, verify_ms = $3,
                    finished_ms = $4,
                    prove_ms = (SELECT CAST(SUM(prove_ms) AS BIGINT) FROM tasks WHERE parent_id = $1)
                 WHERE id = $1 AND state = 'proving'
                   AND NOT EXISTS (SELECT 1 FROM tasks s WHERE s.parent_id = $1 AND s.state != 'done')",
            )
            .bind(task.0)
            .bind(proof.to_hex())
            .bind(join_ms as i64)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            // Pay goes to the keys that proved the segments (a key is the prover's identity).
            let rows: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT l.key_id, t.work FROM tasks t JOIN leases l ON l.id = t.lease_id
                 WHERE t.parent_id = $1 AND l.key_id IS NOT NULL ORDER BY t.segment_index",
            )
            .bind(task.0)
            .fetch_all(&mut *tx)
            .await?;
            let mut shares: BTreeMap<KeyId, u64> = BTreeMap::new();
            for (key, work) in rows {
                let w = shares.entry(KeyId(key)).or_default();
                *w = w.saturating_add(work.max(1) as u64);
            }
            let shares: Vec<(KeyId, u64)> = shares.into_iter().collect();
            append_tx(&mut tx, &plan(task, &shares), now_ms).await?;
            Ok(true)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Fails split task `task` because its join was refused: every segment verified, so the
    /// pool failed to deliver (`pool_fault`). Its escrow is settled by the entries `plan`
    /// returns for that verdict, in the same transaction.
    pub async fn fail_split_with<E>(
        &self,
        task: TaskId,
        reason: &str,
        now_ms: i64,
        plan: impl FnOnce(&Verdict) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<(), E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let (paid,): (i64,) = sqlx::query_as("SELECT paid FROM tasks WHERE id = $1")
                .bind(task.0)
                .fetch_one(&mut *tx)
                .await?;
            let mut moves = Vec::new();
            fail_split_tx(&mut tx, task, TaskCause::PoolFault, task, now_ms, &mut moves).await?;
            sqlx::query(
                "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, NULL, $2, $3)",
            )
            .bind(task.0)
            .bind(now_ms)
            .bind(reason)
            .execute(&mut *tx)
            .await?;
            let verdict = Verdict {
                task,
                prover: ProverId(0),
                fault: FaultKind::Withdrawn,
                state: TaskState::Failed,
                settle: (paid != 0).then(|| Settle {
                    task,
                    cause: TaskCause::PoolFault,
                    workers: Vec::new(),
                }),
                collateral: moves,
            };
            match plan(&verdict) {
                Ok(entries) => {
                    append_tx(&mut tx, &entries, now_ms).await?;
                    Ok(Ok(()))
                }
                Err(e) => Ok(Err(e)),
            }
        }
        .await;
        crate::finish_planned(tx, r).await
    }
}

/// Fails split task `task` with `cause` because segment `segment` ended with it (or, when
/// `segment` is the split task itself, because its join was refused), stopping its other
/// segments: their proofs could no longer be joined into anything. Their leases are
/// withdrawn (collateral back, nobody penalised) and they end with the same cause.
pub(crate) async fn fail_split_tx(
    tx: &mut Tx,
    task: TaskId,
    cause: TaskCause,
    segment: TaskId,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<(), StoreError> {
    let n = sqlx::query(
        "UPDATE tasks SET state = 'failed', cause = $1, finished_ms = $2 WHERE id = $3 AND state = 'proving'",
    )
    .bind(cause.code())
    .bind(now_ms)
    .bind(task.0)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if n == 0 {
        return Ok(());
    }
    let reason = if segment == task {
        format!("{cause}: the join was refused")
    } else {
        let (index,): (Option<i64>,) =
            sqlx::query_as("SELECT segment_index FROM tasks WHERE id = $1")
                .bind(segment.0)
                .fetch_one(&mut **tx)
                .await?;
        format!("{cause}: segment {} ({segment}) failed", index.unwrap_or(0))
    };
    sqlx::query(
        "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, NULL, $2, $3)",
    )
    .bind(task.0)
    .bind(now_ms)
    .bind(&reason)
    .execute(&mut **tx)
    .await?;
    // A split leg of a group being stopped: its own segments stop with it.
    let split_legs: Vec<(i64,)> = sqlx::query_as(
        "SELECT id FROM tasks WHERE parent_id = $1 AND state = 'proving' ORDER BY id",
    )
    .bind(task.0)
    .fetch_all(&mut **tx)
    .await?;
    for (leg,) in split_legs {
        Box::pin(fail_split_tx(tx, TaskId(leg), cause, task, now_ms, moves)).await?;
    }
    let active: Vec<(i64, i64, Option<i64>, i64)> = sqlx::query_as(
        "SELECT l.id, l.task_id, l.key_id, l.collateral FROM leases l JOIN tasks t ON t.id = l.task_id
         WHERE t.parent_id = $1 AND t.state = 'leased' AND l.id = t.lease_id AND l.outcome IS NULL
         ORDER BY l.id",
    )
    .bind(task.0)
    .fetch_all(&mut **tx)
    .await?;
    for (lease, seg, key, collateral) in active {
        let end = (collateral > 0).then_some("released");
        sqlx::query(
            "UPDATE leases SET outcome = 'revoked', fault = 'withdrawn', ended_ms = $1,
                collateral_end = $2 WHERE id = $3",
        )
        .bind(now_ms)
        .bind(end)
        .bind(lease)
        .execute(&mut **tx)
        .await?;
        if let (Some(key), Some(_)) = (key, end) {
            moves.push(CollateralMove {
                key: KeyId(key),
                task: TaskId(seg),
                lease: zkpool_types::LeaseId(lease),
                amount: collateral as u64,
                slash: false,
            });
        }
    }
    // Reports awaiting a second opinion on any segment are moot now: their collateral back.
    let segments: Vec<(i64,)> =
        sqlx::query_as("SELECT id FROM tasks WHERE parent_id = $1 ORDER BY id")
            .bind(task.0)
            .fetch_all(&mut **tx)
            .await?;
    for (seg,) in segments {
        crate::faults::release_pending_reports(tx, TaskId(seg), moves).await?;
    }
    let stop = format!("stopped: split task {task} failed");
    sqlx::query(
        "INSERT INTO task_failures (task_id, at_ms, reason)
         SELECT id, $1, $2 FROM tasks WHERE parent_id = $3 AND state IN ('queued', 'leased')",
    )
    .bind(now_ms)
    .bind(&stop)
    .bind(task.0)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "UPDATE tasks SET state = 'failed', cause = $1, finished_ms = $2, lease_id = NULL,
            lease_expires_ms = NULL
         WHERE parent_id = $3 AND state IN ('queued', 'leased')",
    )
    .bind(cause.code())
    .bind(now_ms)
    .bind(task.0)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
