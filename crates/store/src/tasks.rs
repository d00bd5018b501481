//! Task and lease state changes. Each public method is one transaction under the writer lock.

use zkpool_ledger::Entry;
use zkpool_types::{
    ArtifactMap, BlobHash, FaultKind, FencingToken, KeyId, LeaseId, ProofSystem, ProverId,
    TaskCause, TaskId, TaskSpec, TaskState,
};

use crate::faults::{self, Verdict};
use crate::ledger::append_tx;
use crate::provers::ProverRecord;
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
    /// The statement its proof must prove (the agent checks its own proof against it).
    pub statement: Vec<u8>,
    /// Collateral this lease locks from the prover key's stake (base units; 0: free tier).
    pub collateral: u64,
    /// The key the lease was granted to.
    pub key: KeyId,
    /// When the task last became leasable: its submit, or the end of its last lease (ms).
    pub queued_ms: i64,
}

/// A leasable task as `lease_next` selects it: id, spec, work, token, statement, collateral,
/// queued since (ms).
type LeaseRow = (i64, String, i64, i64, Vec<u8>, i64, i64);

/// What a prover may take on in one lease request, decided by the node.
#[derive(Clone, Copy, Debug)]
pub struct LeaseLimits {
    /// Stake the prover's key has free to lock as collateral (base units): paid tasks that
    /// need more are not offered.
    pub stake_available: u64,
    /// How long the lease lives without a heartbeat.
    pub ttl_ms: i64,
    /// The longest any lease may live, however often it heartbeats, before the task's own
    /// estimate is taken into account.
    pub max_lease_ms: i64,
    /// The prover's measured speed, work units per second (0: unknown). A lease lives at
    /// least four times its task's work at this speed, so a long honest task is never cut off.
    pub speed_wps: u64,
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

    /// Leases the oldest queued task this prover can take, preferring tasks its key has not
    /// touched before, so a task that failed on one machine moves to another operator when
    /// there is one, and segments of split tasks it does not already hold a sibling of, so
    /// that the segments of one task spread over different machines. A key that uploaded an
    /// invalid proof for a task, or reported it unprovable, never gets that task again on any
    /// machine: a cheat must not burn a requester's attempts, and a second opinion must come
    /// from another operator. A task must fit in the memory the prover has left beside the
    /// tasks it already holds, and a paid task needs collateral the key's free stake covers.
    ///
    /// The lease and the entries `plan` returns for it (its collateral lock) are one
    /// transaction; a refused plan grants nothing.
    pub async fn lease_next<E>(
        &self,
        prover: &ProverRecord,
        now_ms: i64,
        limits: LeaseLimits,
        plan: impl FnOnce(&Grant) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Option<Grant>, E>, StoreError> {
        let systems: Vec<String> = prover
            .hardware
            .systems
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if systems.is_empty() {
            return Ok(Ok(None));
        }
        // `systems` holds only our own enum's fixed names, so formatting them in is safe.
        // The order: tasks this key has not already tried and failed first, then tasks whose
        // split siblings it does not hold (so one split task spreads over provers), then the
        // oldest. The first query asks for the best class alone, in the order of the
        // `(state, id)` index, and stops at its first row: the common case, and cheap however
        // long the queue. Only when no task is in that class does the second sort the rest.
        let select = format!(
            "SELECT t.id, t.spec, t.work, t.token, t.statement, t.collateral,
                    COALESCE((SELECT MAX(l.ended_ms) FROM leases l
                              WHERE l.task_id = t.id AND l.ended_ms > t.created_ms), t.created_ms)
             FROM tasks t
             WHERE t.state = 'queued' AND t.system IN ({})
               AND t.memory_bytes <= $1 - (SELECT COALESCE(SUM(h.memory_bytes), 0) FROM tasks h
                                           WHERE h.state = 'leased' AND h.prover_id = $2)
               AND t.collateral <= $4
               AND (SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.key_id = $3
                    AND l.fault IN ('invalid_proof', 'artifact_report', 'false_report')) = 0
               AND (t.group_id IS NULL
                    OR (SELECT COUNT(*) FROM tasks o JOIN leases l ON l.task_id = o.id
                        WHERE o.group_id = t.group_id AND o.leg_id != t.leg_id AND l.key_id = $3
                          AND (l.outcome IS NULL OR l.outcome = 'done')) = 0)",
            systems.join(","),
        );
        // The per-task checks are written as counts rather than `NOT EXISTS`, which
        // PostgreSQL's planner may turn into anti-joins over the whole leases table, sorting
        // every queued task before it picks one; as counts they stay lookups by index, made
        // task by task along the queue's index until the first task that passes.
        let tried = "((SELECT COUNT(*) FROM leases l WHERE l.task_id = t.id AND l.key_id = $3
                      AND l.outcome IS NOT NULL AND l.outcome != 'done') > 0)";
        let sibling_held = "(t.parent_id IS NOT NULL AND (SELECT COUNT(*) FROM tasks s
                       WHERE s.parent_id = t.parent_id AND s.state = 'leased' AND s.prover_id = $2) > 0)";
        let lock = self.lease_row_lock();
        let best =
            format!("{select} AND NOT {tried} AND NOT {sibling_held} ORDER BY t.id LIMIT 1 {lock}");
        let sql = format!("{select} ORDER BY {tried}, {sibling_held}, t.id LIMIT 1 {lock}");
        // Leases of one key take turns (PostgreSQL locks the key's row as the transaction
        // begins; SQLite has one writer anyway): what the query checks against the key's
        // other leases must not change meanwhile.
        let (_w, mut tx) = self.begin_shared(Some(prover.key_id)).await?;
        let r: Result<_, StoreError> = async {
            let mut row: Option<LeaseRow> = None;
            for sql in [&best, &sql] {
                row = sqlx::query_as(sql)
                    .bind(prover.hardware.memory_bytes as i64)
                    .bind(prover.id.0)
                    .bind(prover.key_id.0)
                    .bind(i64::try_from(limits.stake_available).unwrap_or(i64::MAX))
                    .fetch_optional(&mut *tx)
                    .await?;
                if row.is_some() {
                    break;
                }
            }
            let Some((task, spec, work, token, statement, collateral, queued_ms)) = row else {
                return Ok(Ok(None));
            };
            let spec: TaskSpec =
                serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let token = token + 1;
            // Four times the task's work at this prover's measured speed (0 when unknown).
            let estimate_ms = (work.max(0) as u64)
                .saturating_mul(4_000)
                .checked_div(limits.speed_wps)
                .unwrap_or(0);
            let max_ms = now_ms
                .saturating_add(limits.max_lease_ms.max(i64::try_from(estimate_ms).unwrap_or(i64::MAX)));
            let lease: i64 = sqlx::query_scalar(
                "INSERT INTO leases (task_id, prover_id, key_id, token, granted_ms, collateral, max_ms)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(task)
            .bind(prover.id.0)
            .bind(prover.key_id.0)
            .bind(token)
            .bind(now_ms)
            .bind(collateral)
            .bind(max_ms)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE tasks SET state = 'leased', attempts = attempts + 1, token = $1, lease_id = $2,
                    prover_id = $3, lease_expires_ms = $4 WHERE id = $5",
            )
            .bind(token)
            .bind(lease)
            .bind(prover.id.0)
            .bind(now_ms + limits.ttl_ms)
            .bind(task)
            .execute(&mut *tx)
            .await?;
            let grant = Grant {
                lease: LeaseId(lease),
                token: FencingToken(token),
                task: TaskId(task),
                system: spec.system,
                label: spec.label,
                artifacts: spec.artifacts,
                work: work as u64,
                statement,
                collateral: collateral.max(0) as u64,
                key: prover.key_id,
                queued_ms,
            };
            match plan(&grant) {
                Ok(entries) => {
                    append_tx(&mut tx, &entries, now_ms).await?;
                    Ok(Ok(Some(grant)))
                }
                Err(e) => Ok(Err(e)),
            }
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// [`Store::lease_next`] for a prover key with no stake: only free-tier tasks, no
    /// collateral, the longest life `ttl_ms × 120`.
    pub async fn lease_unpaid(
        &self,
        prover: &ProverRecord,
        now_ms: i64,
        ttl_ms: i64,
    ) -> Result<Option<Grant>, StoreError> {
        let limits = LeaseLimits {
            stake_available: 0,
            ttl_ms,
            max_lease_ms: ttl_ms.saturating_mul(120),
            speed_wps: 0,
        };
        match self
            .lease_next(prover, now_ms, limits, |_| {
                Ok::<_, std::convert::Infallible>(Vec::new())
            })
            .await?
        {
            Ok(g) => Ok(g),
            Err(never) => match never {},
        }
    }

    /// The lease if it is its task's current, unexpired lease.
    pub async fn active_lease(
        &self,
        lease: LeaseId,
        now_ms: i64,
    ) -> Result<ActiveLease, StoreError> {
        let mut conn = self.pool.acquire().await?;
        Ok(current_lease(&mut conn, lease, now_ms, "").await?.active)
    }

    /// Completes a task with a verified proof, if `lease`/`token` still hold it for `prover`.
    /// Updates the prover's counters in the same transaction.
    pub async fn complete(&self, c: &Completion, now_ms: i64) -> Result<TaskId, StoreError> {
        self.complete_with(c, now_ms, |_| Vec::new()).await
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
            let active = check_fence(&mut tx, e.lease, e.token, e.prover, now_ms)
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

/// A lease [`check_fence`] found current, with what a completion needs to know of it and of
/// its task, read in the same statement so that they cost no round trip of their own.
#[derive(Clone, Debug)]
pub(crate) struct Fenced {
    /// The lease as current.
    pub(crate) active: ActiveLease,
    /// The key it was granted to.
    pub(crate) key: Option<i64>,
    /// When it was granted (ms).
    pub(crate) granted_ms: i64,
    /// The collateral it locks (base units).
    pub(crate) collateral: i64,
    /// The task's multi-prover group and leg, if it is part of one.
    pub(crate) group: Option<i64>,
    /// See `group`.
    pub(crate) leg: Option<i64>,
    /// Whether an earlier lease reported the task's artifacts unprovable: a valid proof
    /// makes each such report false.
    pub(crate) reported: bool,
}

/// The lease as `current_lease` reads it: task, prover, lease token, task token, task state,
/// expiry, key, granted, collateral, group, leg, artifact reports on the task.
type FenceRow = (
    i64,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    i64,
    i64,
    Option<i64>,
    Option<i64>,
    i64,
);

/// The lease if it is its task's current, unexpired lease; `lock` (`FOR UPDATE OF t` or
/// nothing) is appended to the query.
async fn current_lease(
    conn: &mut sqlx::AnyConnection,
    lease: LeaseId,
    now_ms: i64,
    lock: &str,
) -> Result<Fenced, StoreError> {
    let sql = format!(
        "SELECT l.task_id, l.prover_id, l.token, t.token, t.state, t.lease_expires_ms,
                l.key_id, l.granted_ms, l.collateral, t.group_id, t.leg_id,
                (SELECT COUNT(*) FROM leases r WHERE r.task_id = t.id AND r.fault = 'artifact_report')
         FROM leases l JOIN tasks t ON t.id = l.task_id WHERE l.id = $1 {lock}"
    );
    let row: Option<FenceRow> = sqlx::query_as(&sql)
        .bind(lease.0)
        .fetch_optional(&mut *conn)
        .await?;
    let stale = |reason| StoreError::StaleLease {
        lease: lease.0,
        reason,
    };
    let Some((
        task,
        prover,
        lease_token,
        task_token,
        state,
        expires,
        key,
        granted_ms,
        collateral,
        group,
        leg,
        reports,
    )) = row
    else {
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
    Ok(Fenced {
        active: ActiveLease {
            task: TaskId(task),
            prover: ProverId(prover),
            token: FencingToken(lease_token),
        },
        key,
        granted_ms,
        collateral,
        group,
        leg,
        reported: reports > 0,
    })
}

pub(crate) async fn check_fence(
    tx: &mut Tx,
    lease: LeaseId,
    token: FencingToken,
    prover: ProverId,
    now_ms: i64,
) -> Result<Fenced, StoreError> {
    // The task's row stays locked (PostgreSQL) until the transaction ends: a concurrent
    // completion of the same lease waits, then finds the task no longer leased.
    let lock = if crate::for_update(tx).is_empty() {
        ""
    } else {
        "FOR UPDATE OF t"
    };
    let fenced = current_lease(tx, lease, now_ms, lock).await?;
    if fenced.active.prover != prover {
        return Err(StoreError::StaleLease {
            lease: lease.0,
            reason: "the lease belongs to another prover",
        });
    }
    if fenced.active.token != token {
        return Err(StoreError::StaleLease {
            lease: lease.0,
            reason: "wrong fencing token",
        });
    }
    Ok(fenced)
}

pub(crate) async fn end_lease(
    tx: &mut Tx,
    lease: LeaseId,
    outcome: &str,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE leases SET outcome = $1, ended_ms = $2 WHERE id = $3 AND outcome IS NULL")
        .bind(outcome)
        .bind(now_ms)
        .bind(lease.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
