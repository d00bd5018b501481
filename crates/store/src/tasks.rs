//! Task and lease state changes. Each public method is one transaction under the writer lock.

use sqlx::{Sqlite, Transaction};
use zkpool_types::{
    ArtifactMap, BlobHash, FencingToken, KeyId, LeaseId, ProofSystem, ProverId, TaskId, TaskSpec,
    TaskState,
};

use crate::provers::ProverRecord;
use crate::{Store, StoreError};

/// A validated task ready to queue.
#[derive(Clone, Debug)]
pub struct NewTask {
    /// The requester's key.
    pub requester: KeyId,
    /// What to prove.
    pub spec: TaskSpec,
    /// Work units the backend measured.
    pub work: u64,
    /// Peak proving memory the backend estimated.
    pub memory_bytes: u64,
    /// The public statement a proof must match.
    pub statement: Vec<u8>,
    /// Leases allowed before the task fails (for a split task: per segment).
    pub max_attempts: u32,
    /// For a split task, its segments in chain order; empty for a task proved whole. A split
    /// task waits in `proving` while its segments are queued, leased and proved as tasks of
    /// their own.
    pub segments: Vec<NewSegment>,
}

/// One segment of a split task, inserted with it.
#[derive(Clone, Debug)]
pub struct NewSegment {
    /// What to prove: the task's system with the segment's own artifacts.
    pub spec: TaskSpec,
    /// Work units (trace rows).
    pub work: u64,
    /// Peak proving memory estimated for it.
    pub memory_bytes: u64,
    /// The statement its proof must match.
    pub statement: Vec<u8>,
}

/// A task as stored, for the node's own use.
#[derive(Clone, Debug)]
pub struct TaskRecord {
    /// The task.
    pub id: TaskId,
    /// Who submitted it.
    pub requester: KeyId,
    /// What to prove.
    pub spec: TaskSpec,
    /// The statement a proof must match.
    pub statement: Vec<u8>,
    /// Where it is.
    pub state: TaskState,
    /// The accepted proof, once done.
    pub proof: Option<BlobHash>,
}

/// A lease handed to a prover.
#[derive(Clone, Debug)]
pub struct Grant {
    /// The lease.
    pub lease: LeaseId,
    /// Its fencing token.
    pub token: FencingToken,
    /// The task.
    pub task: TaskId,
    /// Its system.
    pub system: ProofSystem,
    /// Its label.
    pub label: Option<String>,
    /// Its artifacts.
    pub artifacts: ArtifactMap,
    /// Its work units.
    pub work: u64,
}

/// The current lease of a task, for checks before expensive work (verifying a proof).
#[derive(Clone, Debug)]
pub struct ActiveLease {
    /// The task.
    pub task: TaskId,
    /// The prover holding it.
    pub prover: ProverId,
    /// Its fencing token.
    pub token: FencingToken,
}

/// A verified proof for a lease, ready to complete its task.
#[derive(Clone, Debug)]
pub struct Completion {
    /// The lease the proof was uploaded on.
    pub lease: LeaseId,
    /// The lease's fencing token, as the prover presented it.
    pub token: FencingToken,
    /// The prover that uploaded it.
    pub prover: ProverId,
    /// The stored proof.
    pub proof: BlobHash,
    /// How long the prover says proving took (its own report; shown, never used for pay).
    pub prove_ms: u64,
    /// How long the node took to verify it.
    pub verify_ms: u64,
}

/// A lease ended without an accepted proof, as the node decided it.
#[derive(Clone, Debug)]
pub struct LeaseEnding {
    /// The lease.
    pub lease: LeaseId,
    /// Its fencing token, as the prover presented it.
    pub token: FencingToken,
    /// The prover holding it.
    pub prover: ProverId,
    /// Why it ended.
    pub how: LeaseEnd,
    /// Recorded against the task and shown to its requester.
    pub reason: String,
    /// Whether the task may be leased again (when it has attempts left).
    pub retryable: bool,
}

/// How a lease ended without a proof being accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeaseEnd {
    /// The prover reported it could not prove the task.
    Failed,
    /// The prover uploaded a proof that does not verify.
    Invalid,
}

impl LeaseEnd {
    fn as_str(&self) -> &'static str {
        match self {
            LeaseEnd::Failed => "failed",
            LeaseEnd::Invalid => "invalid",
        }
    }
}

/// requester, spec, statement, state, proof hash.
type TaskRecordRow = (i64, String, Vec<u8>, String, Option<String>);

impl Store {
    /// Queues a task.
    pub async fn insert_task(&self, t: &NewTask, now_ms: i64) -> Result<TaskId, StoreError> {
        let _w = self.write.lock().await;
        let mut tx = self.pool.begin().await?;
        let r: Result<_, StoreError> = async {
            let id = insert_task_tx(&mut tx, t, now_ms).await?;
            Ok(id)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Leases the oldest queued task this prover can take, preferring tasks it has not failed
    /// before, so a task that failed on one machine moves to another when there is one, and
    /// segments of split tasks it does not already hold a sibling of, so that the segments of
    /// one task spread over different machines. A
    /// prover that uploaded an invalid proof for a task never gets that task again: a broken or
    /// cheating machine must not burn a requester's attempts one after another. A task must fit
    /// in the memory the prover has left beside the tasks it already holds (an agent with
    /// several jobs proves them at once).
    pub async fn lease_next(
        &self,
        prover: &ProverRecord,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let systems: Vec<String> = prover
            .hardware
            .systems
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if systems.is_empty() {
            return Ok(None);
        }
        // `systems` holds only our own enum's fixed names, so formatting them in is safe.
        let sql = format!(
            "SELECT t.id, t.spec, t.work, t.token FROM tasks t
             WHERE t.state = 'queued' AND t.system IN ({})
               AND t.memory_bytes <= ?1 - (SELECT COALESCE(SUM(h.memory_bytes), 0) FROM tasks h
                                           WHERE h.state = 'leased' AND h.prover_id = ?2)
               AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.prover_id = ?2
                               AND l.outcome = 'invalid')
             ORDER BY EXISTS (SELECT 1 FROM leases l WHERE l.task_id = t.id AND l.prover_id = ?2
                              AND l.outcome IS NOT NULL AND l.outcome != 'done'),
               EXISTS (SELECT 1 FROM tasks s WHERE t.parent_id IS NOT NULL
                       AND s.parent_id = t.parent_id AND s.state = 'leased' AND s.prover_id = ?2),
               t.id
             LIMIT 1",
            systems.join(",")
        );
        let _w = self.write.lock().await;
        let mut tx = self.pool.begin().await?;
        let r: Result<_, StoreError> = async {
            let row: Option<(i64, String, i64, i64)> = sqlx::query_as(&sql)
                .bind(prover.hardware.memory_bytes as i64)
                .bind(prover.id.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((task, spec, work, token)) = row else {
                return Ok(None);
            };
            let spec: TaskSpec =
                serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let token = token + 1;
            let lease: i64 = sqlx::query_scalar(
                "INSERT INTO leases (task_id, prover_id, token, granted_ms) VALUES (?, ?, ?, ?) RETURNING id",
            )
            .bind(task)
            .bind(prover.id.0)
            .bind(token)
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE tasks SET state = 'leased', attempts = attempts + 1, token = ?, lease_id = ?,
                    prover_id = ?, lease_expires_ms = ? WHERE id = ?",
            )
            .bind(token)
            .bind(lease)
            .bind(prover.id.0)
            .bind(now_ms + ttl_ms)
            .bind(task)
            .execute(&mut *tx)
            .await?;
            Ok(Some(Grant {
                lease: LeaseId(lease),
                token: FencingToken(token),
                task: TaskId(task),
                system: spec.system,
                label: spec.label,
                artifacts: spec.artifacts,
                work: work as u64,
            }))
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// The lease if it is its task's current, unexpired lease.
    pub async fn active_lease(
        &self,
        lease: LeaseId,
        now_ms: i64,
    ) -> Result<ActiveLease, StoreError> {
        let mut conn = self.pool.acquire().await?;
        current_lease(&mut conn, lease, now_ms).await
    }

    /// Completes a task with a verified proof, if `lease`/`token` still hold it for `prover`.
    /// Updates the prover's counters in the same transaction.
    pub async fn complete(&self, c: &Completion, now_ms: i64) -> Result<TaskId, StoreError> {
        self.complete_with(c, now_ms, |_, _, _| Vec::new()).await
    }

    /// Ends a lease without a proof: records the reason against the task and the prover and
    /// re-queues the task, or fails it when it is out of attempts or not retryable.
    /// Returns the task's new state.
    pub async fn end_lease_unfinished(
        &self,
        e: &LeaseEnding,
        now_ms: i64,
    ) -> Result<TaskState, StoreError> {
        let _w = self.write.lock().await;
        let mut tx = self.pool.begin().await?;
        let r: Result<_, StoreError> = async {
            let active = check_fence(&mut tx, e.lease, e.token, e.prover, now_ms).await?;
            end_lease(&mut tx, e.lease, e.how.as_str(), now_ms).await?;
            let invalid = i64::from(e.how == LeaseEnd::Invalid);
            sqlx::query("UPDATE provers SET failures = failures + 1, invalid_proofs = invalid_proofs + ? WHERE id = ?")
                .bind(invalid)
                .bind(e.prover.0)
                .execute(&mut *tx)
                .await?;
            let state = requeue_or_fail(
                &mut tx,
                active.task,
                Some(e.prover),
                &e.reason,
                e.retryable,
                now_ms,
            )
            .await?;
            Ok(state)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Returns every task whose lease has expired to the queue (or fails it when out of
    /// attempts) and counts the expiry against its prover. Returns what expired.
    pub async fn expire_leases(
        &self,
        now_ms: i64,
    ) -> Result<Vec<(TaskId, ProverId, TaskState)>, StoreError> {
        let _w = self.write.lock().await;
        let mut tx = self.pool.begin().await?;
        let r: Result<_, StoreError> = async {
            let expired: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT id, lease_id, prover_id FROM tasks WHERE state = 'leased' AND lease_expires_ms < ?",
            )
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(expired.len());
            for (task, lease, prover) in expired {
                // A segment whose sibling ran out of attempts earlier in this sweep was
                // stopped with its split task: it must not come back to the queue.
                let still: Option<(i64,)> = sqlx::query_as(
                    "SELECT 1 FROM tasks WHERE id = ? AND state = 'leased' AND lease_id = ?",
                )
                .bind(task)
                .bind(lease)
                .fetch_optional(&mut *tx)
                .await?;
                if still.is_none() {
                    continue;
                }
                end_lease(&mut tx, LeaseId(lease), "expired", now_ms).await?;
                sqlx::query("UPDATE provers SET failures = failures + 1 WHERE id = ?")
                    .bind(prover)
                    .execute(&mut *tx)
                    .await?;
                let reason = format!("lease l-{lease} on p-{prover} expired without a result");
                let state = requeue_or_fail(
                    &mut tx,
                    TaskId(task),
                    Some(ProverId(prover)),
                    &reason,
                    true,
                    now_ms,
                )
                .await?;
                out.push((TaskId(task), ProverId(prover), state));
            }
            Ok(out)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// A task's record.
    pub async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let row: Option<TaskRecordRow> = sqlx::query_as(
            "SELECT requester_key, spec, statement, state, proof_hash FROM tasks WHERE id = ?",
        )
        .bind(id.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some((requester, spec, statement, state, proof)) = row else {
            return Ok(None);
        };
        Ok(Some(TaskRecord {
            id,
            requester: KeyId(requester),
            spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            statement,
            state: decode_state(&state)?,
            proof: proof
                .map(|p| {
                    p.parse().map_err(|e: zkpool_types::ParseHashError| {
                        StoreError::Corrupt(e.to_string())
                    })
                })
                .transpose()?,
        }))
    }
}

pub(crate) async fn insert_task_tx(
    tx: &mut Transaction<'_, Sqlite>,
    t: &NewTask,
    now_ms: i64,
) -> Result<TaskId, StoreError> {
    let state = if t.segments.is_empty() {
        TaskState::Queued
    } else {
        TaskState::Proving
    };
    let whole = Row {
        spec: &t.spec,
        work: t.work,
        memory_bytes: t.memory_bytes,
        statement: &t.statement,
        state,
        parent: None,
    };
    let id = insert_row(tx, t, &whole, now_ms).await?;
    for (i, seg) in t.segments.iter().enumerate() {
        let row = Row {
            spec: &seg.spec,
            work: seg.work,
            memory_bytes: seg.memory_bytes,
            statement: &seg.statement,
            state: TaskState::Queued,
            parent: Some((id, i)),
        };
        insert_row(tx, t, &row, now_ms).await?;
    }
    Ok(id)
}

/// One `tasks` row: a whole task, a split task, or one of its segments.
struct Row<'a> {
    spec: &'a TaskSpec,
    work: u64,
    memory_bytes: u64,
    statement: &'a [u8],
    state: TaskState,
    /// The split task and this segment's index, for a segment.
    parent: Option<(TaskId, usize)>,
}

async fn insert_row(
    tx: &mut Transaction<'_, Sqlite>,
    t: &NewTask,
    row: &Row<'_>,
    now_ms: i64,
) -> Result<TaskId, StoreError> {
    let Row {
        spec,
        work,
        memory_bytes,
        statement,
        state,
        parent,
    } = *row;
    let spec_json = serde_json::to_string(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO tasks (requester_key, system, label, spec, work, memory_bytes, statement,
            state, max_attempts, created_ms, parent_id, segment_index)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(t.requester.0)
    .bind(spec.system.as_str())
    .bind(&spec.label)
    .bind(spec_json)
    .bind(work as i64)
    .bind(memory_bytes as i64)
    .bind(statement)
    .bind(state.as_str())
    .bind(t.max_attempts as i64)
    .bind(now_ms)
    .bind(parent.map(|(p, _)| p.0))
    .bind(parent.map(|(_, i)| i as i64))
    .fetch_one(&mut **tx)
    .await?;
    Ok(TaskId(id))
}

pub(crate) fn decode_state(s: &str) -> Result<TaskState, StoreError> {
    TaskState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("task state {s:?}")))
}

async fn current_lease(
    conn: &mut sqlx::SqliteConnection,
    lease: LeaseId,
    now_ms: i64,
) -> Result<ActiveLease, StoreError> {
    let row: Option<(i64, i64, i64, i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT l.task_id, l.prover_id, l.token, t.token, t.state, t.lease_expires_ms
         FROM leases l JOIN tasks t ON t.id = l.task_id WHERE l.id = ?",
    )
    .bind(lease.0)
    .fetch_optional(&mut *conn)
    .await?;
    let stale = |reason| StoreError::StaleLease {
        lease: lease.0,
        reason,
    };
    let Some((task, prover, lease_token, task_token, state, expires)) = row else {
        return Err(StoreError::NotFound {
            what: "lease",
            id: lease.0,
        });
    };
    if lease_token != task_token {
        return Err(stale("the task has been leased again since"));
    }
    if state != "leased" {
        return Err(stale("the task is no longer leased"));
    }
    if expires.is_none_or(|e| e < now_ms) {
        return Err(stale("the lease has expired"));
    }
    Ok(ActiveLease {
        task: TaskId(task),
        prover: ProverId(prover),
        token: FencingToken(lease_token),
    })
}

pub(crate) async fn check_fence(
    tx: &mut Transaction<'_, Sqlite>,
    lease: LeaseId,
    token: FencingToken,
    prover: ProverId,
    now_ms: i64,
) -> Result<ActiveLease, StoreError> {
    let active = current_lease(tx, lease, now_ms).await?;
    if active.prover != prover {
        return Err(StoreError::StaleLease {
            lease: lease.0,
            reason: "the lease belongs to another prover",
        });
    }
    if active.token != token {
        return Err(StoreError::StaleLease {
            lease: lease.0,
            reason: "wrong fencing token",
        });
    }
    Ok(active)
}

pub(crate) async fn end_lease(
    tx: &mut Transaction<'_, Sqlite>,
    lease: LeaseId,
    outcome: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE leases SET outcome = ?, ended_ms = ? WHERE id = ? AND outcome IS NULL")
        .bind(outcome)
        .bind(now_ms)
        .bind(lease.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn requeue_or_fail(
    tx: &mut Transaction<'_, Sqlite>,
    task: TaskId,
    prover: Option<ProverId>,
    reason: &str,
    retryable: bool,
    now_ms: i64,
) -> Result<TaskState, StoreError> {
    sqlx::query(
        "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES (?, ?, ?, ?)",
    )
    .bind(task.0)
    .bind(prover.map(|p| p.0))
    .bind(now_ms)
    .bind(reason)
    .execute(&mut **tx)
    .await?;
    let (attempts, max): (i64, i64) =
        sqlx::query_as("SELECT attempts, max_attempts FROM tasks WHERE id = ?")
            .bind(task.0)
            .fetch_one(&mut **tx)
            .await?;
    let state = if retryable && attempts < max {
        TaskState::Queued
    } else {
        TaskState::Failed
    };
    let finished = (state == TaskState::Failed).then_some(now_ms);
    sqlx::query(
        "UPDATE tasks SET state = ?, lease_id = NULL, lease_expires_ms = NULL, finished_ms = ?,
            prover_id = CASE WHEN ? = 'failed' THEN prover_id ELSE NULL END WHERE id = ?",
    )
    .bind(state.as_str())
    .bind(finished)
    .bind(state.as_str())
    .bind(task.0)
    .execute(&mut **tx)
    .await?;
    if state == TaskState::Failed {
        crate::split::fail_parent_of(tx, task, reason, now_ms).await?;
    }
    Ok(state)
}
