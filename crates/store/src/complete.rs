//! Completing tasks with verified proofs, one or a batch in one transaction.
//!
//! ```text
//!   BEGIN (shared writer lock)
//!   fences: every lease of the batch in one query, task rows locked in task order
//!   Rust:   each completion presented by its prover with its token, each task once,
//!           each multi-prover leg only while its group still needs legs
//!   groups' rows locked in id order, legs still wanted counted        (only with legs)
//!   UPDATE tasks  … FROM (VALUES …)   done, proof, times             one statement
//!   UPDATE leases …  WHERE id IN (…)  ended done (collateral back)   one or two
//!   provers' rows locked in id order, counters FROM (VALUES …)       one or two
//!   artifact reports the proofs contradicted                          (only with reports)
//!   the ledger entries the caller plans for each proof                two statements
//!   COMMIT
//! ```
//!
//! A batch costs about as many statements as one completion, so completions that arrive
//! together (the node's verifier batches them already) cost one transaction, not one each.
//! A completion that is refused (stale, not found, a group that needs no more legs) is
//! answered on its own; the others commit. Every rule is decided here in Rust, on the rows
//! the fence query read; the statements only write what was decided.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use zkpool_ledger::Entry;
use zkpool_types::{KeyId, LeaseId, TaskId};

use crate::faults::{self, CollateralMove};
use crate::fence::{self, Fenced};
use crate::ledger::{append_tx, Proved};
use crate::tasks::Completion;
use crate::{Store, StoreError, Tx};

impl Store {
    /// Completes a task with a verified proof, if `lease`/`token` still hold it for `prover`.
    /// Updates the prover's counters in the same transaction.
    pub async fn complete(&self, c: &Completion, now_ms: i64) -> Result<TaskId, StoreError> {
        self.complete_with(c, now_ms, |_| Vec::new()).await
    }

    /// [`Store::complete`] plus the ledger entries `plan` returns for what the proof decided
    /// ([`Proved`]: the release of a paid whole task, collateral back, false reports slashed),
    /// in the same transaction. The prover's speed is measured here, from the lease's grant to
    /// its verified result, never from what the prover says of itself.
    pub async fn complete_with(
        &self,
        c: &Completion,
        now_ms: i64,
        plan: impl FnMut(&Proved) -> Vec<Entry>,
    ) -> Result<TaskId, StoreError> {
        let mut done = self
            .complete_batch(std::slice::from_ref(c), now_ms, plan)
            .await?;
        done.pop().unwrap_or(Err(StoreError::NotFound {
            what: "lease",
            id: c.lease.0,
        }))
    }

    /// [`Store::complete_with`] for each of `batch` (at most a few hundred), in one
    /// transaction: each answer is its task, or why that completion was refused, in the
    /// batch's order. `plan` is called for each accepted proof in that order. The outer error
    /// is the database's, and then nothing of the batch is written.
    pub async fn complete_batch(
        &self,
        batch: &[Completion],
        now_ms: i64,
        mut plan: impl FnMut(&Proved) -> Vec<Entry>,
    ) -> Result<Vec<Result<TaskId, StoreError>>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let (_w, mut tx) = self.begin_shared(&[]).await?;
        let r: Result<_, StoreError> = async {
            let (answers, accepted) = decide(&mut tx, batch, now_ms).await?;
            write(&mut tx, &accepted, now_ms).await?;
            let mut entries = Vec::new();
            for a in &accepted {
                let mut collateral: Vec<CollateralMove> =
                    faults::collateral_back(&a.fenced, a.completion.lease)
                        .into_iter()
                        .collect();
                collateral.extend(faults::reports_falsified(&mut tx, &a.fenced).await?);
                let f = &a.fenced;
                entries.extend(plan(&Proved {
                    task: f.active.task,
                    system: f.system.clone(),
                    work: f.work.max(0) as u64,
                    key: KeyId(f.key.unwrap_or_default()),
                    paid: f.paid,
                    segment_of: f.parent.map(TaskId),
                    collateral,
                }));
            }
            append_tx(&mut tx, &entries, now_ms).await?;
            Ok(answers)
        }
        .await;
        crate::finish_tx(tx, r).await
    }
}

/// A completion that passed every check, with its lease as the fence query read it.
struct Accepted<'a> {
    completion: &'a Completion,
    fenced: Fenced,
}

/// Reads and locks every lease of `batch` and decides each completion: the answers in the
/// batch's order (an accepted one answers its task) and the accepted completions.
async fn decide<'a>(
    tx: &mut Tx,
    batch: &'a [Completion],
    now_ms: i64,
) -> Result<(Vec<Result<TaskId, StoreError>>, Vec<Accepted<'a>>), StoreError> {
    let leases: Vec<LeaseId> = batch
        .iter()
        .map(|c| c.lease)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let lock = fence::task_lock(tx);
    let found = fence::fences(tx, &leases, now_ms, lock).await?;
    let mut answers = Vec::with_capacity(batch.len());
    let mut candidates: Vec<(usize, &Completion, Fenced)> = Vec::new();
    let mut tasks = HashSet::new();
    for (i, c) in batch.iter().enumerate() {
        let answer = fence::answer(&found, c.lease)
            .and_then(|f| fence::presented(f, c.lease, c.token, c.prover));
        let answer = answer.and_then(|f| {
            if tasks.insert(f.active.task.0) {
                Ok(f)
            } else {
                // A second upload on the same lease in the same batch: the first took it.
                Err(StoreError::StaleLease {
                    lease: c.lease.0,
                    reason: "the task is no longer leased",
                })
            }
        });
        match answer {
            Ok(f) => {
                answers.push(Ok(f.active.task));
                candidates.push((i, c, f));
            }
            Err(e) => answers.push(Err(e)),
        }
    }
    // A multi-prover leg finishes only while its group still needs legs (the legs of one
    // group in this batch count against each other, in the batch's order).
    let groups: Vec<i64> = candidates
        .iter()
        .filter_map(|(_, _, f)| leg_of(f))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let mut wanted = crate::group::legs_wanted(tx, &groups).await?;
    let mut accepted = Vec::with_capacity(candidates.len());
    for (i, c, f) in candidates {
        if let Some(group) = leg_of(&f) {
            let left = wanted.entry(group).or_default();
            if *left <= 0 {
                answers[i] = Err(StoreError::StaleLease {
                    lease: c.lease.0,
                    reason: "the task's group already has the proofs it needs",
                });
                continue;
            }
            *left -= 1;
        }
        accepted.push(Accepted {
            completion: c,
            fenced: f,
        });
    }
    Ok((answers, accepted))
}

/// The group whose leg this task is, when completing it completes a leg (a segment of a split
/// leg completes nothing but itself: its leg's join is the step that is guarded).
fn leg_of(f: &Fenced) -> Option<i64> {
    match (f.group, f.leg) {
        (Some(group), Some(leg)) if leg == f.active.task.0 => Some(group),
        _ => None,
    }
}

/// Writes what the accepted completions decided: tasks done, leases ended, collateral marked
/// released, provers' counters.
async fn write(tx: &mut Tx, accepted: &[Accepted<'_>], now_ms: i64) -> Result<(), StoreError> {
    if accepted.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "UPDATE tasks SET state = 'done', cause = 'proved', proof_hash = v.column2,
            prove_ms = v.column3, verify_ms = v.column4, finished_ms = $1, lease_expires_ms = NULL
         FROM (VALUES {}) AS v WHERE tasks.id = v.column1",
        crate::value_rows(2, accepted.len(), 4)
    );
    let mut q = sqlx::query(&sql).bind(now_ms);
    for a in accepted {
        let c = a.completion;
        q = q
            .bind(a.fenced.active.task.0)
            .bind(c.proof.to_hex())
            .bind(c.prove_ms as i64)
            .bind(c.verify_ms as i64);
    }
    q.execute(&mut **tx).await?;
    let ended: Vec<i64> = accepted.iter().map(|a| a.completion.lease.0).collect();
    update_ids(
        tx,
        "UPDATE leases SET outcome = 'done', ended_ms = $1 WHERE outcome IS NULL AND id IN",
        Some(now_ms),
        &ended,
    )
    .await?;
    let released: Vec<i64> = accepted
        .iter()
        .filter(|a| faults::collateral_back(&a.fenced, a.completion.lease).is_some())
        .map(|a| a.completion.lease.0)
        .collect();
    update_ids(
        tx,
        "UPDATE leases SET collateral_end = 'released' WHERE id IN",
        None,
        &released,
    )
    .await?;
    // Per prover: tasks, work and busy time added; several provers' rows locked in id order
    // first (PostgreSQL) so that two batches never wait on each other in a circle. `FOR NO KEY UPDATE`, the lock
    // the update itself takes, lets a lease that references the prover go on meanwhile.
    let mut counters: BTreeMap<i64, (i64, i64, i64)> = BTreeMap::new();
    for a in accepted {
        let c = counters.entry(a.completion.prover.0).or_default();
        c.0 += 1;
        c.1 += a.fenced.work;
        c.2 += (now_ms - a.fenced.granted_ms).max(1);
    }
    let ids: Vec<i64> = counters.keys().copied().collect();
    // One prover's row needs no order: its update locks it.
    if ids.len() > 1 && !crate::for_update(tx).is_empty() {
        let sql = format!(
            "SELECT id FROM provers WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
            crate::slots(1, ids.len())
        );
        let mut q = sqlx::query(&sql);
        for id in &ids {
            q = q.bind(*id);
        }
        q.fetch_all(&mut **tx).await?;
    }
    let sql = format!(
        "UPDATE provers SET tasks_done = tasks_done + v.column2, work_done = work_done + v.column3,
            busy_ms = busy_ms + v.column4, last_seen_ms = $1
         FROM (VALUES {}) AS v WHERE provers.id = v.column1",
        crate::value_rows(2, counters.len(), 4)
    );
    let mut q = sqlx::query(&sql).bind(now_ms);
    for (id, (tasks, work, busy)) in &counters {
        q = q.bind(*id).bind(*tasks).bind(*work).bind(*busy);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

/// Runs `sql` (ending in `id IN`) for `ids`, with `first` as `$1` when given; nothing when
/// `ids` is empty.
async fn update_ids(
    tx: &mut Tx,
    sql: &str,
    first: Option<i64>,
    ids: &[i64],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let from = if first.is_some() { 2 } else { 1 };
    let sql = format!("{sql} ({})", crate::slots(from, ids.len()));
    let mut q = sqlx::query(&sql);
    if let Some(v) = first {
        q = q.bind(v);
    }
    for id in ids {
        q = q.bind(*id);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
