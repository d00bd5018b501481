//! Leasing tasks to provers, one request or a batch of them in one transaction.
//!
//! ```text
//!   BEGIN (shared writer lock; PostgreSQL: every asking key's row locked, in id order)
//!   the front of the queue, as many tasks as asks (PostgreSQL: FOR UPDATE OF t SKIP
//!     LOCKED, so other replicas pass over them), and what the askers hold   (front.rs)
//!   for each ask, in order:
//!     the rules, in Rust, on what was read: the best task it may take, not taken earlier
//!     in the batch; none of the best class in the front ─► the one-task lease query
//!     the caller's plan for it (collateral to lock) ─► refused: this ask gets nothing
//!   INSERT INTO leases VALUES (…), (…) RETURNING id     one statement for the batch
//!   UPDATE tasks … FROM (VALUES …)                      leased, token, lease, expiry
//!   the planned ledger entries                           two statements
//!   COMMIT
//! ```
//!
//! What the rules check against the asking key's other leases (memory left on the machine, a
//! split sibling held, another leg of the same multi-prover task, a task it failed before)
//! counts the batch's own leases as they are made; before the lease query runs for a key
//! already served in the batch, the batch's leases so far are written, so that it sees them.
//! Leases that arrive together thus cost one transaction of about eight statements, however
//! many they are.

use std::collections::HashSet;

use zkpool_ledger::Entry;
use zkpool_types::{ArtifactMap, FencingToken, KeyId, LeaseId, ProofSystem, TaskId, TaskSpec};

use crate::ledger::append_tx;
use crate::provers::ProverRecord;
use crate::{Store, StoreError, Tx};
use front::{Choice, TaskRow, TASK_COLUMNS};

mod front;

/// One prover's request for a task, as the node decided its limits.
#[derive(Clone, Debug)]
pub struct LeaseAsk {
    /// The prover asking.
    pub prover: ProverRecord,
    /// What it may take on now.
    pub limits: LeaseLimits,
}

/// The task a lease request picked, before its lease is written: what the caller's plan
/// decides on (the collateral the lease must lock from the key's stake).
#[derive(Clone, Copy, Debug)]
pub struct Pick {
    /// The task.
    pub task: TaskId,
    /// The key the lease goes to.
    pub key: KeyId,
    /// Collateral the lease locks (base units; 0: free tier).
    pub collateral: u64,
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

/// A picked task and its lease, written with the batch's other leases.
struct Picked {
    /// The ask it answers.
    ask: usize,
    /// The lease as the prover gets it (`lease` set once written).
    grant: Grant,
    prover: i64,
    granted_ms: i64,
    max_ms: i64,
    expires_ms: i64,
}

impl Store {
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
        plan: impl FnMut(&Pick) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<Option<Grant>, E>, StoreError> {
        let ask = LeaseAsk {
            prover: prover.clone(),
            limits,
        };
        let mut answers = self.lease_batch(&[ask], now_ms, plan).await?;
        Ok(answers.pop().unwrap_or(Ok(None)))
    }

    /// [`Store::lease_next`] for each of `asks` (at most a few hundred), in one transaction:
    /// the answers in the asks' order. `plan` is called for each picked task in that order;
    /// a refused plan leaves its ask without a lease and the others go on. The outer error is
    /// the database's, and then no ask of the batch is granted anything.
    pub async fn lease_batch<E>(
        &self,
        asks: &[LeaseAsk],
        now_ms: i64,
        mut plan: impl FnMut(&Pick) -> Result<Vec<Entry>, E>,
    ) -> Result<Vec<Result<Option<Grant>, E>>, StoreError> {
        if asks.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys: Vec<KeyId> = asks.iter().map(|a| a.prover.key_id).collect();
        keys.sort_unstable_by_key(|k| k.0);
        keys.dedup();
        // Leases of one key take turns (PostgreSQL locks the keys' rows, in id order, as the
        // transaction begins; SQLite has one writer anyway): what the query checks against
        // the key's other leases must not change meanwhile.
        let (_w, mut tx) = self.begin_shared(&keys).await?;
        let r: Result<_, StoreError> = async {
            let mut answers: Vec<Result<Option<Grant>, E>> = Vec::with_capacity(asks.len());
            // As many tasks as there are asks: the front is locked on PostgreSQL, and a task
            // locked here that no ask takes is one that other replicas' leases skip until
            // this transaction ends. A lone ask goes straight to the lease query, one
            // statement where the front and the facts take three.
            let (front, mut facts) = if asks.len() > 1 {
                let lock = self.lease_row_lock();
                let front = front::read_front(&mut tx, asks, asks.len(), lock).await?;
                let facts = front::read_facts(&mut tx, asks, &front).await?;
                (front, facts)
            } else {
                (front::Front::default(), front::Facts::default())
            };
            let mut taken: HashSet<i64> = HashSet::new();
            let mut picks: Vec<Picked> = Vec::new();
            let mut written = 0;
            let mut entries = Vec::new();
            for (i, ask) in asks.iter().enumerate() {
                let row = match facts.choose(ask, &front, &taken) {
                    Choice::Take(t) => Some(front.tasks[t].clone()),
                    Choice::Nothing => None,
                    Choice::AskTheDatabase => {
                        // The lease query reads the database: the batch's leases so far must
                        // be in it for what it checks of this key, and are excluded.
                        let unwritten = &mut picks[written..];
                        if unwritten.iter().any(|p| p.grant.key == ask.prover.key_id) {
                            write(&mut tx, unwritten).await?;
                            written = picks.len();
                        }
                        let exclude: Vec<i64> =
                            picks[written..].iter().map(|p| p.grant.task.0).collect();
                        let mut ask = ask.clone();
                        ask.limits.stake_available = facts.stake_left(&ask);
                        self.pick(&mut tx, &ask, &exclude).await?
                    }
                };
                let Some(row) = row else {
                    answers.push(Ok(None));
                    continue;
                };
                let picked = picked(i, ask, &row, now_ms)?;
                let pick = Pick {
                    task: picked.grant.task,
                    key: picked.grant.key,
                    collateral: picked.grant.collateral,
                };
                match plan(&pick) {
                    Ok(e) => {
                        entries.extend(e);
                        taken.insert(row.0);
                        facts.record(ask, &row);
                        picks.push(picked);
                        answers.push(Ok(None));
                    }
                    Err(e) => answers.push(Err(e)),
                }
            }
            write(&mut tx, &mut picks[written..]).await?;
            append_tx(&mut tx, &entries, now_ms).await?;
            for p in picks {
                answers[p.ask] = Ok(Some(p.grant));
            }
            Ok(answers)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// The lease query: the best task `ask` may take over the whole queue, not in `exclude`
    /// (picked earlier in the batch and not yet written), locked on PostgreSQL. The batch
    /// asks it only when the front it read holds nothing of the best class.
    async fn pick(
        &self,
        tx: &mut Tx,
        ask: &LeaseAsk,
        exclude: &[i64],
    ) -> Result<Option<TaskRow>, StoreError> {
        let LeaseAsk { prover, limits } = ask;
        let systems: Vec<String> = prover
            .hardware
            .systems
            .iter()
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        if systems.is_empty() {
            return Ok(None);
        }
        let excluded = if exclude.is_empty() {
            String::new()
        } else {
            format!("AND t.id NOT IN ({})", crate::slots(5, exclude.len()))
        };
        // `systems` holds only our own enum's fixed names, so formatting them in is safe.
        // The order: tasks this key has not already tried and failed first, then tasks whose
        // split siblings it does not hold (so one split task spreads over provers), then the
        // oldest. The first query asks for the best class alone, in the order of the
        // `(state, id)` index, and stops at its first row: the common case, and cheap however
        // long the queue. Only when no task is in that class does the second sort the rest.
        // The rules are `front.rs`'s, written as SQL.
        let select = format!(
            "SELECT {TASK_COLUMNS}
             FROM tasks t
             WHERE t.state = 'queued' AND t.system IN ({}) {excluded}
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
        for sql in [&best, &sql] {
            let mut q = sqlx::query_as(sql)
                .bind(prover.hardware.memory_bytes as i64)
                .bind(prover.id.0)
                .bind(prover.key_id.0)
                .bind(i64::try_from(limits.stake_available).unwrap_or(i64::MAX));
            for id in exclude {
                q = q.bind(*id);
            }
            let row: Option<TaskRow> = q.fetch_optional(&mut **tx).await?;
            if row.is_some() {
                return Ok(row);
            }
        }
        Ok(None)
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
}

/// The lease of `row` for ask number `index`, before it is written.
fn picked(index: usize, ask: &LeaseAsk, row: &TaskRow, now_ms: i64) -> Result<Picked, StoreError> {
    let LeaseAsk { prover, limits } = ask;
    let (task, ref spec, work, token, ref statement, collateral, queued_ms, ..) = *row;
    let spec: TaskSpec =
        serde_json::from_str(spec).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    // Four times the task's work at this prover's measured speed (0 when unknown).
    let estimate_ms = (work.max(0) as u64)
        .saturating_mul(4_000)
        .checked_div(limits.speed_wps)
        .unwrap_or(0);
    let max_ms = now_ms.saturating_add(
        limits
            .max_lease_ms
            .max(i64::try_from(estimate_ms).unwrap_or(i64::MAX)),
    );
    Ok(Picked {
        ask: index,
        grant: Grant {
            lease: LeaseId(0),
            token: FencingToken(token + 1),
            task: TaskId(task),
            system: spec.system,
            label: spec.label,
            artifacts: spec.artifacts,
            work: work as u64,
            statement: statement.clone(),
            collateral: collateral.max(0) as u64,
            key: prover.key_id,
            queued_ms,
        },
        prover: prover.id.0,
        granted_ms: now_ms,
        max_ms,
        expires_ms: now_ms + limits.ttl_ms,
    })
}

/// Writes the leases of `picks` and marks their tasks leased, setting each grant's lease id.
async fn write(tx: &mut Tx, picks: &mut [Picked]) -> Result<(), StoreError> {
    if picks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO leases (task_id, prover_id, key_id, token, granted_ms, collateral, max_ms)
         VALUES {} RETURNING id, task_id",
        crate::value_rows(1, picks.len(), 7)
    );
    let mut q = sqlx::query_as::<_, (i64, i64)>(&sql);
    for p in picks.iter() {
        let g = &p.grant;
        q = q
            .bind(g.task.0)
            .bind(p.prover)
            .bind(g.key.0)
            .bind(g.token.0)
            .bind(p.granted_ms)
            .bind(g.collateral as i64)
            .bind(p.max_ms);
    }
    // The order `RETURNING` lists rows in is not promised: each is matched by its task (a
    // task is picked once in a batch).
    for (lease, task) in q.fetch_all(&mut **tx).await? {
        if let Some(p) = picks.iter_mut().find(|p| p.grant.task.0 == task) {
            p.grant.lease = LeaseId(lease);
        }
    }
    if picks.iter().any(|p| p.grant.lease.0 == 0) {
        return Err(StoreError::Corrupt(
            "a lease inserted in a batch was not returned".into(),
        ));
    }
    let sql = format!(
        "UPDATE tasks SET state = 'leased', attempts = attempts + 1, token = v.column2,
            lease_id = v.column3, prover_id = v.column4, lease_expires_ms = v.column5
         FROM (VALUES {}) AS v WHERE tasks.id = v.column1",
        crate::value_rows(1, picks.len(), 5)
    );
    let mut q = sqlx::query(&sql);
    for p in picks.iter() {
        q = q
            .bind(p.grant.task.0)
            .bind(p.grant.token.0)
            .bind(p.grant.lease.0)
            .bind(p.prover)
            .bind(p.expires_ms);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
