//! Tasks proved more than once: a multi-prover task (one claim, k of n legs in different proof
//! systems) or a race (m provers on copies of one task, the first valid proof wins). Both are
//! a parent that waits in `proving` while its legs run, done when `need` legs are.
//!
//! ```text
//!   insert (one tx):   parent 'proving' (composition, need) + legs 'queued' (a split leg:
//!                      'proving' + its segments 'queued'); every leg row and segment row
//!                      carries group_id (the parent) and leg_id (its leg)
//!   lease:             a key never takes a leg while it holds, or has proved, another leg of
//!                      the same group: each leg's proof comes from another operator
//!   leg proved:        refused (stale) once the group has `need` legs done: a race's loser
//!                      is never done, never paid
//!   need legs done ─►  node builds the bundle ─► finish_group_with (one tx): parent 'done',
//!                      the other legs stopped (leases withdrawn, collateral back, cause
//!                      'stopped'), release to the done legs' keys
//!   a leg fails for good ─► (same tx) if fewer than `need` legs can still be done, the
//!                      parent fails with that cause and its other legs stop
//! ```

use std::collections::HashMap;

use zkpool_ledger::Entry;
use zkpool_types::{
    BlobHash, Composition, KeyId, ProofSystem, TaskCause, TaskId, TaskSpec, TaskState,
};

use crate::faults::{self, CollateralMove};
use crate::ledger::append_tx;
use crate::tasks::NewSegment;
use crate::{Store, StoreError, Tx};

/// The legs of a multi-prover or racing task, inserted with it.
#[derive(Clone, Debug)]
pub struct NewGroup {
    /// How the legs make the task done.
    pub composition: Composition,
    /// The legs in order.
    pub legs: Vec<NewLeg>,
}

/// One leg: a task of its own system (split into segments when that system splits).
#[derive(Clone, Debug)]
pub struct NewLeg {
    /// What it proves.
    pub spec: TaskSpec,
    /// Work units its backend measured.
    pub work: u64,
    /// Peak proving memory estimated for it (a split leg: its largest segment).
    pub memory_bytes: u64,
    /// The statement its proof (or its joined segments) must match.
    pub statement: Vec<u8>,
    /// Its segments in chain order; empty for a leg proved whole.
    pub segments: Vec<NewSegment>,
}

/// A verified leg, for the bundle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupLeg {
    /// Its index among the legs.
    pub index: u32,
    /// Its task.
    pub task: TaskId,
    /// What it proved.
    pub spec: TaskSpec,
    /// Its statement.
    pub statement: Vec<u8>,
    /// Its verified proof (a split leg: the joined result).
    pub proof: BlobHash,
}

/// A group with enough verified legs to be finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupParts {
    /// The parent task.
    pub task: TaskId,
    /// Its spec (with the strategy: the claim and each leg's signals).
    pub spec: TaskSpec,
    /// How it is composed.
    pub composition: Composition,
    /// The verified legs, `need` of them, by index.
    pub legs: Vec<GroupLeg>,
}

/// What finishing a group decided, for its settlement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupFinish {
    /// The parent task.
    pub task: TaskId,
    /// Who proved the verified legs: key, system, work (constraints or rows), per lease.
    pub shares: Vec<(KeyId, ProofSystem, u64)>,
    /// Collateral given back by the legs that were stopped.
    pub collateral: Vec<CollateralMove>,
}

/// One leg row: id, state, segment index (its leg index), spec, statement, proof hash.
type LegRow = (i64, String, Option<i64>, String, Vec<u8>, Option<String>);

impl Store {
    /// The group a leg (or a segment of a leg) belongs to; `None` for any other task.
    pub async fn group_of(&self, task: TaskId) -> Result<Option<TaskId>, StoreError> {
        let row: Option<(Option<i64>,)> =
            sqlx::query_as("SELECT group_id FROM tasks WHERE id = $1")
                .bind(task.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.and_then(|(g,)| g).map(TaskId))
    }

    /// The task the ledger knows `task` by: its group, else its split task, else itself.
    pub async fn root_of(&self, task: TaskId) -> Result<TaskId, StoreError> {
        let row: Option<(Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT group_id, parent_id FROM tasks WHERE id = $1")
                .bind(task.0)
                .fetch_optional(&self.pool)
                .await?;
        Ok(match row {
            Some((Some(g), _)) | Some((None, Some(g))) => TaskId(g),
            _ => task,
        })
    }

    /// The parts of group `task` when it is still `proving` and `need` of its legs are done.
    pub async fn group_ready(&self, task: TaskId) -> Result<Option<GroupParts>, StoreError> {
        let head: Option<(String, Option<String>, Option<i64>)> = sqlx::query_as(
            "SELECT spec, composition, need FROM tasks WHERE id = $1 AND state = 'proving'",
        )
        .bind(task.0)
        .fetch_optional(&self.pool)
        .await?;
        let Some((spec, Some(composition), Some(need))) = head else {
            return Ok(None);
        };
        let composition = Composition::parse(&composition)
            .ok_or_else(|| StoreError::Corrupt(format!("composition {composition:?}")))?;
        let rows: Vec<LegRow> = sqlx::query_as(
            "SELECT id, state, segment_index, spec, statement, proof_hash FROM tasks
             WHERE parent_id = $1 AND state = 'done' ORDER BY finished_ms, id",
        )
        .bind(task.0)
        .fetch_all(&self.pool)
        .await?;
        if (rows.len() as i64) < need {
            return Ok(None);
        }
        let mut legs = Vec::with_capacity(need as usize);
        for (id, _, index, spec, statement, proof) in rows.into_iter().take(need as usize) {
            let proof = proof
                .ok_or_else(|| StoreError::Corrupt(format!("leg t-{id} done without a proof")))?;
            legs.push(GroupLeg {
                index: index.unwrap_or(0) as u32,
                task: TaskId(id),
                spec: serde_json::from_str(&spec)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                statement,
                proof: proof.parse().map_err(|e: zkpool_types::ParseHashError| {
                    StoreError::Corrupt(e.to_string())
                })?,
            });
        }
        legs.sort_by_key(|l| l.index);
        Ok(Some(GroupParts {
            task,
            spec: serde_json::from_str(&spec).map_err(|e| StoreError::Corrupt(e.to_string()))?,
            composition,
            legs,
        }))
    }

    /// Groups still `proving` with enough legs done: finishes that a crash left undone.
    pub async fn groups_ready(&self) -> Result<Vec<TaskId>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT t.id FROM tasks t WHERE t.state = 'proving' AND t.need IS NOT NULL
               AND (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = t.id AND s.state = 'done') >= t.need
             ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(id,)| TaskId(id)).collect())
    }

    /// Marks group `task` done with its bundle: the legs not needed are stopped (their leases
    /// withdrawn, collateral back, cause `stopped`), and the entries `plan` returns (the
    /// release to the verified legs' keys, the collateral) are appended, all in one
    /// transaction. Returns `false`, writing nothing, when the group is no longer `proving`
    /// or has fewer than `need` legs done: a group is finished once. A refused plan writes
    /// nothing either: no leg is stopped without its collateral moving.
    pub async fn finish_group_with<E>(
        &self,
        task: TaskId,
        bundle: &BlobHash,
        now_ms: i64,
        plan: impl FnOnce(&GroupFinish) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<bool, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let n = sqlx::query(
                "UPDATE tasks SET state = 'done', cause = 'proved', proof_hash = $2, finished_ms = $3,
                    prove_ms = (SELECT MAX(prove_ms) FROM tasks WHERE parent_id = $1 AND state = 'done')
                 WHERE id = $1 AND state = 'proving' AND need IS NOT NULL
                   AND (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = $1 AND s.state = 'done') >= need",
            )
            .bind(task.0)
            .bind(bundle.to_hex())
            .bind(now_ms)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(Ok(false));
            }
            // Pay goes to the keys whose leases proved the done legs (a split leg: its
            // segments' leases), each with the work of what it proved.
            let rows: Vec<(i64, String, i64)> = sqlx::query_as(
                "SELECT l.key_id, t.system, t.work FROM tasks t
                 JOIN tasks leg ON leg.id = t.leg_id
                 JOIN leases l ON l.id = t.lease_id
                 WHERE t.group_id = $1 AND leg.state = 'done' AND t.state = 'done'
                   AND l.outcome = 'done' AND l.key_id IS NOT NULL
                 ORDER BY t.id",
            )
            .bind(task.0)
            .fetch_all(&mut *tx)
            .await?;
            let mut shares = Vec::with_capacity(rows.len());
            for (key, system, work) in rows {
                let system: ProofSystem = system
                    .parse()
                    .map_err(|e: zkpool_types::ParseProofSystemError| StoreError::Corrupt(e.to_string()))?;
                shares.push((KeyId(key), system, work.max(1) as u64));
            }
            let mut collateral = Vec::new();
            stop_legs(&mut tx, task, TaskCause::Stopped, now_ms, &mut collateral).await?;
            let finish = GroupFinish {
                task,
                shares,
                collateral,
            };
            match plan(&finish) {
                Ok(entries) => {
                    append_tx(&mut tx, &entries, now_ms).await?;
                    Ok(Ok(true))
                }
                Err(e) => Ok(Err(e)),
            }
        }
        .await;
        crate::finish_planned(tx, r).await
    }
}

/// Inserts the legs of group `group` (already inserted, `proving`) and marks it composed.
pub(crate) async fn insert_legs(
    tx: &mut Tx,
    t: &crate::NewTask,
    group: TaskId,
    g: &NewGroup,
    now_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tasks SET composition = $1, need = $2 WHERE id = $3")
        .bind(g.composition.code())
        .bind(i64::from(g.composition.need()))
        .bind(group.0)
        .execute(&mut **tx)
        .await?;
    for (i, leg) in g.legs.iter().enumerate() {
        let state = if leg.segments.is_empty() {
            TaskState::Queued
        } else {
            TaskState::Proving
        };
        let row = crate::tasks::Row {
            spec: &leg.spec,
            work: leg.work,
            memory_bytes: leg.memory_bytes,
            statement: &leg.statement,
            state,
            parent: Some((group, i)),
        };
        let id = crate::tasks::insert_row(tx, t, &row, now_ms).await?;
        for (j, seg) in leg.segments.iter().enumerate() {
            let row = crate::tasks::Row {
                spec: &seg.spec,
                work: seg.work,
                memory_bytes: seg.memory_bytes,
                statement: &seg.statement,
                state: TaskState::Queued,
                parent: Some((id, j)),
            };
            crate::tasks::insert_row(tx, t, &row, now_ms).await?;
        }
        sqlx::query("UPDATE tasks SET group_id = $1, leg_id = $2 WHERE id = $2 OR parent_id = $2")
            .bind(group.0)
            .bind(id.0)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Whether leg `task` may still become done: `true` for a task that is no leg; for a leg,
/// while its group is `proving` with fewer than `need` legs done. A race's loser and a leg
/// that is no longer needed are refused here, in the transaction that would complete them.
pub(crate) async fn leg_may_finish(tx: &mut Tx, task: TaskId) -> Result<bool, StoreError> {
    let (group, leg): (Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT group_id, leg_id FROM tasks WHERE id = $1")
            .bind(task.0)
            .fetch_one(&mut **tx)
            .await?;
    may_finish_in(tx, task, group, leg).await
}

/// [`leg_may_finish`] for a task whose `group_id` and `leg_id` the caller has read already
/// (a completion reads them with its fencing check).
pub(crate) async fn may_finish_in(
    tx: &mut Tx,
    task: TaskId,
    group: Option<i64>,
    leg: Option<i64>,
) -> Result<bool, StoreError> {
    let (Some(group), Some(leg)) = (group, leg) else {
        return Ok(true);
    };
    if leg != task.0 {
        // A segment of a split leg: its leg's join is the step that is guarded.
        return Ok(true);
    }
    Ok(legs_wanted(tx, &[group])
        .await?
        .get(&group)
        .is_some_and(|n| *n > 0))
}

/// How many more legs each of `groups` may finish: `need` less the legs done while the group
/// is `proving`, none once it is not. The groups' rows are locked first (PostgreSQL), in id
/// order and in a statement of their own, so that the count (a new statement, a new snapshot)
/// sees a leg that finished while this transaction waited.
pub(crate) async fn legs_wanted(
    tx: &mut Tx,
    groups: &[i64],
) -> Result<HashMap<i64, i64>, StoreError> {
    if groups.is_empty() {
        return Ok(HashMap::new());
    }
    let slots = crate::slots(1, groups.len());
    let lock = crate::for_update(tx);
    if !lock.is_empty() {
        let sql = format!("SELECT id FROM tasks WHERE id IN ({slots}) ORDER BY id {lock}");
        let mut q = sqlx::query(&sql);
        for g in groups {
            q = q.bind(*g);
        }
        q.fetch_all(&mut **tx).await?;
    }
    let sql = format!(
        "SELECT g.id, g.state, g.need,
                (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = g.id AND s.state = 'done')
         FROM tasks g WHERE g.id IN ({slots})"
    );
    let mut q = sqlx::query_as::<_, (i64, String, Option<i64>, i64)>(&sql);
    for g in groups {
        q = q.bind(*g);
    }
    Ok(q.fetch_all(&mut **tx)
        .await?
        .into_iter()
        .map(|(id, state, need, done)| {
            let wanted = match (state == "proving", need) {
                (true, Some(need)) => (need - done).max(0),
                _ => 0,
            };
            (id, wanted)
        })
        .collect())
}

/// Leg `leg` of group `group` ended for good with `cause`: if fewer than `need` legs can
/// still be done, the group fails with that cause and its other legs stop. Returns whether
/// the group ended.
pub(crate) async fn leg_failed(
    tx: &mut Tx,
    group: TaskId,
    leg: TaskId,
    cause: TaskCause,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<bool, StoreError> {
    let (state, need, alive): (String, Option<i64>, i64) = sqlx::query_as(
        "SELECT state, need, (SELECT COUNT(*) FROM tasks s WHERE s.parent_id = $1 AND s.state != 'failed')
         FROM tasks WHERE id = $1",
    )
    .bind(group.0)
    .fetch_one(&mut **tx)
    .await?;
    if state != "proving" || need.is_none_or(|n| alive >= n) {
        return Ok(false);
    }
    crate::split::fail_split_tx(tx, group, cause, leg, now_ms, moves).await?;
    Ok(true)
}

/// Stops every leg of `group` that has not ended (a split leg with its segments): leases
/// withdrawn without penalty, collateral back, cause `cause`.
async fn stop_legs(
    tx: &mut Tx,
    group: TaskId,
    cause: TaskCause,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<(), StoreError> {
    let legs: Vec<(i64, String, Option<i64>)> = sqlx::query_as(
        "SELECT id, state, lease_id FROM tasks WHERE parent_id = $1
           AND state IN ('queued', 'leased', 'proving') ORDER BY id",
    )
    .bind(group.0)
    .fetch_all(&mut **tx)
    .await?;
    for (leg, state, lease) in legs {
        let leg = TaskId(leg);
        match (state.as_str(), lease) {
            ("proving", _) => {
                crate::split::fail_split_tx(tx, leg, cause, leg, now_ms, moves).await?;
                continue;
            }
            ("leased", Some(lease)) => {
                faults::withdraw_lease(tx, leg, zkpool_types::LeaseId(lease), now_ms, moves).await?
            }
            _ => {}
        }
        sqlx::query(
            "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, NULL, $2, $3)",
        )
        .bind(leg.0)
        .bind(now_ms)
        .bind(format!("{cause}: its group {group} has the proofs it needs"))
        .execute(&mut **tx)
        .await?;
        // The group is no longer `proving`, so ending the leg decides nothing more for it.
        faults::end_task(tx, leg, cause, now_ms, moves).await?;
    }
    Ok(())
}
