//! Task and lease state changes. Each public method is one transaction under the writer lock.

use zkpool_ledger::Entry;
use zkpool_types::{
    BlobHash, FaultKind, FencingToken, KeyId, LeaseId, ProverId, TaskCause, TaskId, TaskSpec,
    TaskState,
};

use crate::faults::{self, Verdict};
use crate::ledger::append_tx;
use crate::{Store, StoreError, Tx};

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
    /// For a multi-prover or racing task, its legs; the task waits in `proving` while they
    /// are proved (`segments` is then empty).
    pub group: Option<crate::NewGroup>,
}

impl NewTask {
    /// A Groth16 task of one work unit with no artifacts and an empty statement, three
    /// attempts: what the queue's own tests and benchmarks lease and complete.
    pub fn unit(requester: KeyId) -> Self {
        Self {
            requester,
            spec: TaskSpec {
                system: zkpool_types::ProofSystem::Groth16,
                label: None,
                artifacts: Default::default(),
                segments: None,
                strategy: None,
            },
            work: 1,
            memory_bytes: 1,
            statement: Vec::new(),
            max_attempts: 3,
            segments: Vec::new(),
            group: None,
        }
    }
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
    /// The node's verdict on the lease.
    pub fault: FaultKind,
    /// Recorded against the task and shown to its requester.
    pub reason: String,
}

/// requester, spec, statement, state, proof hash.
type TaskRecordRow = (i64, String, Vec<u8>, String, Option<String>);

impl Store {
    /// Queues a task.
    pub async fn insert_task(&self, t: &NewTask, now_ms: i64) -> Result<TaskId, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let id = insert_task_tx(&mut tx, t, now_ms).await?;
            Ok(id)
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
        Ok(crate::fence::current_lease(&mut conn, lease, now_ms)
            .await?
            .active)
    }

    /// For each of `leases`, if it is its task's current, unexpired lease, the task whose
    /// settlement a proof on it decides ([`Store::root_of`]: its multi-prover group, else its
    /// split task, else itself); one query for them all.
    pub async fn lease_roots(
        &self,
        leases: &[LeaseId],
        now_ms: i64,
    ) -> Result<Vec<Result<TaskId, StoreError>>, StoreError> {
        let mut conn = self.pool.acquire().await?;
        let found = crate::fence::fences(&mut conn, leases, now_ms, "").await?;
        Ok(leases
            .iter()
            .map(|l| {
                let f = crate::fence::answer(&found, *l)?;
                Ok(f.group.or(f.parent).map_or(f.active.task, TaskId))
            })
            .collect())
    }

    /// Ends a lease without a proof with the node's verdict on it, decides the task
    /// ([`crate::faults`]: re-queued, or ended with its cause) and appends the entries `plan`
    /// returns for that verdict (collateral, settlement), all in one transaction. A refused
    /// plan changes nothing.
    pub async fn end_lease_unfinished<E>(
        &self,
        e: &LeaseEnding,
        now_ms: i64,
        plan: impl FnOnce(&Verdict) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Verdict, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let active = crate::fence::check_fence(&mut tx, e.lease, e.token, e.prover, now_ms)
                .await?
                .active;
            let verdict =
                faults::end_with_fault(&mut tx, active.task, e.lease, e.fault, &e.reason, now_ms)
                    .await?;
            match plan(&verdict) {
                Ok(entries) => {
                    append_tx(&mut tx, &entries, now_ms).await?;
                    Ok(Ok(verdict))
                }
                Err(err) => Ok(Err(err)),
            }
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// Ends every lease that expired (`lease_expired`, the prover's fault), decides each
    /// task, and appends what `plan` returns for each verdict, in one transaction. Returns
    /// the verdicts; a refused plan changes nothing.
    pub async fn expire_leases<E>(
        &self,
        now_ms: i64,
        mut plan: impl FnMut(&Verdict) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Vec<Verdict>, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let expired: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT id, lease_id, prover_id FROM tasks WHERE state = 'leased' AND lease_expires_ms < $1
                 ORDER BY id",
            )
            .bind(now_ms)
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(expired.len());
            for (task, lease, prover) in expired {
                // A segment whose sibling ran out of attempts earlier in this sweep was
                // stopped with its split task: it must not come back to the queue.
                let still: Option<(i64,)> = sqlx::query_as(
                    "SELECT 1 FROM tasks WHERE id = $1 AND state = 'leased' AND lease_id = $2",
                )
                .bind(task)
                .bind(lease)
                .fetch_optional(&mut *tx)
                .await?;
                if still.is_none() {
                    continue;
                }
                let reason = format!("lease l-{lease} on p-{prover} expired without a result");
                let verdict = faults::end_with_fault(
                    &mut tx,
                    TaskId(task),
                    LeaseId(lease),
                    FaultKind::LeaseExpired,
                    &reason,
                    now_ms,
                )
                .await?;
                match plan(&verdict) {
                    Ok(entries) => append_tx(&mut tx, &entries, now_ms).await?,
                    Err(e) => return Ok(Err(e)),
                }
                out.push(verdict);
            }
            Ok(Ok(out))
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// The node was away: every open lease lives at least until `until_ms` (the node's start
    /// plus one TTL) before it counts as expired, and its longest life reaches at least as
    /// far, so that nobody is penalised for time the pool itself was down. Returns how many
    /// leases were extended.
    pub async fn grace_leases(&self, until_ms: i64) -> Result<u64, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            sqlx::query(
                "UPDATE leases SET max_ms = CASE WHEN max_ms > $1 THEN max_ms ELSE $1 END
                 WHERE outcome IS NULL AND id IN (SELECT lease_id FROM tasks WHERE state = 'leased')",
            )
            .bind(until_ms)
            .execute(&mut *tx)
            .await?;
            let n = sqlx::query(
                "UPDATE tasks SET lease_expires_ms = $1 WHERE state = 'leased'
                   AND (lease_expires_ms IS NULL OR lease_expires_ms < $2)",
            )
            .bind(until_ms)
            .bind(until_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            Ok(n)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Ends open task `task` for good with `cause` (the pool gives up: its window closed, or
    /// it concedes), withdrawing its current lease (or, for a split task, its segments'
    /// leases) without penalty, and appends what `plan` returns for the verdict. Returns
    /// `None`, writing nothing, when the task has already ended.
    pub async fn end_task_with<E>(
        &self,
        task: TaskId,
        cause: TaskCause,
        now_ms: i64,
        plan: impl FnOnce(&Verdict) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Option<Verdict>, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let row: Option<(String, Option<i64>, i64)> =
                sqlx::query_as("SELECT state, lease_id, paid FROM tasks WHERE id = $1")
                    .bind(task.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some((state, lease, paid)) = row else {
                return Ok(Ok(None));
            };
            let mut moves = Vec::new();
            match state.as_str() {
                "done" | "failed" => return Ok(Ok(None)),
                "proving" => {
                    crate::split::fail_split_tx(&mut tx, task, cause, task, now_ms, &mut moves)
                        .await?
                }
                _ => {
                    if let (Some(lease), "leased") = (lease, state.as_str()) {
                        faults::withdraw_lease(&mut tx, task, LeaseId(lease), now_ms, &mut moves)
                            .await?;
                    }
                    let reason = format!("{cause}: the pool ended the task");
                    sqlx::query(
                        "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, NULL, $2, $3)",
                    )
                    .bind(task.0)
                    .bind(now_ms)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                    faults::end_task(&mut tx, task, cause, now_ms, &mut moves).await?;
                }
            }
            let verdict = Verdict {
                task,
                prover: ProverId(0),
                fault: FaultKind::Withdrawn,
                state: TaskState::Failed,
                settle: (paid != 0).then(|| crate::Settle {
                    task,
                    cause,
                    workers: Vec::new(),
                }),
                collateral: moves,
            };
            match plan(&verdict) {
                Ok(entries) => {
                    append_tx(&mut tx, &entries, now_ms).await?;
                    Ok(Ok(Some(verdict)))
                }
                Err(e) => Ok(Err(e)),
            }
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// Takes back every open lease held by a revoked key: each lease ends `withdrawn` (its
    /// collateral back: revocation is not a proven fault) and its task goes back to the queue
    /// with the attempt returned, so nobody else pays for it. Appends what `plan` returns for
    /// each verdict, in one transaction.
    pub async fn withdraw_revoked<E>(
        &self,
        now_ms: i64,
        mut plan: impl FnMut(&Verdict) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Vec<Verdict>, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let held: Vec<(i64, i64, i64)> = sqlx::query_as(
                "SELECT t.id, t.lease_id, t.prover_id FROM tasks t
                 JOIN leases l ON l.id = t.lease_id JOIN keys k ON k.id = l.key_id
                 WHERE t.state = 'leased' AND l.outcome IS NULL AND k.revoked = 1 ORDER BY t.id",
            )
            .fetch_all(&mut *tx)
            .await?;
            let mut out = Vec::with_capacity(held.len());
            for (task, lease, prover) in held {
                let mut moves = Vec::new();
                faults::withdraw_lease(&mut tx, TaskId(task), LeaseId(lease), now_ms, &mut moves)
                    .await?;
                sqlx::query(
                    "UPDATE tasks SET state = 'queued', lease_id = NULL, lease_expires_ms = NULL,
                        prover_id = NULL, attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END
                      WHERE id = $1",
                )
                .bind(task)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, $2, $3, $4)",
                )
                .bind(task)
                .bind(prover)
                .bind(now_ms)
                .bind("withdrawn: the prover's key was revoked")
                .execute(&mut *tx)
                .await?;
                let verdict = Verdict {
                    task: TaskId(task),
                    prover: ProverId(prover),
                    fault: FaultKind::Withdrawn,
                    state: TaskState::Queued,
                    settle: None,
                    collateral: moves,
                };
                match plan(&verdict) {
                    Ok(entries) => append_tx(&mut tx, &entries, now_ms).await?,
                    Err(e) => return Ok(Err(e)),
                }
                out.push(verdict);
            }
            Ok(Ok(out))
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// A task's record.
    pub async fn task(&self, id: TaskId) -> Result<Option<TaskRecord>, StoreError> {
        let row: Option<TaskRecordRow> = sqlx::query_as(
            "SELECT requester_key, spec, statement, state, proof_hash FROM tasks WHERE id = $1",
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
    tx: &mut Tx,
    t: &NewTask,
    now_ms: i64,
) -> Result<TaskId, StoreError> {
    let state = if t.segments.is_empty() && t.group.is_none() {
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
    if let Some(g) = &t.group {
        crate::group::insert_legs(tx, t, id, g, now_ms).await?;
    }
    Ok(id)
}

/// One `tasks` row: a whole task, a split task, or one of its segments.
pub(crate) struct Row<'a> {
    pub(crate) spec: &'a TaskSpec,
    pub(crate) work: u64,
    pub(crate) memory_bytes: u64,
    pub(crate) statement: &'a [u8],
    pub(crate) state: TaskState,
    /// The split task and this segment's index, for a segment (or the group and the leg's
    /// index, for a leg).
    pub(crate) parent: Option<(TaskId, usize)>,
}

pub(crate) async fn insert_row(
    tx: &mut Tx,
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
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
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
    // Which artifacts the task uses: a prover may read them only while it holds its lease.
    // Each must still be stored (the collector may have taken a blob uploaded long ago); the
    // retention clock restarts for it.
    for hash in spec.artifacts.values() {
        let stored = sqlx::query(
            "UPDATE blobs SET used_ms = CASE WHEN used_ms > $1 THEN used_ms ELSE $1 END
             WHERE hash = $2",
        )
        .bind(now_ms)
        .bind(hash.to_hex())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if stored == 0 {
            return Err(StoreError::MissingBlob(hash.to_hex()));
        }
        sqlx::query(
            "INSERT INTO task_blobs (task_id, hash) VALUES ($1, $2)
             ON CONFLICT (task_id, hash) DO NOTHING",
        )
        .bind(id)
        .bind(hash.to_hex())
        .execute(&mut **tx)
        .await?;
    }
    Ok(TaskId(id))
}

pub(crate) fn decode_state(s: &str) -> Result<TaskState, StoreError> {
    TaskState::parse(s).ok_or_else(|| StoreError::Corrupt(format!("task state {s:?}")))
}
