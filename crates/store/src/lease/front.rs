//! The front of the queue, read once for a batch of leases, and the lease rules decided on it
//! in Rust.
//!
//! ```text
//!   front:  the oldest queued tasks of the asking provers' systems, as many as the batch
//!           has asks (PostgreSQL: locked, skipping rows other leasers hold)
//!   facts:  what the asking keys and machines hold or did: memory leased per machine, leases
//!           of each key on these tasks (failed, or barred by a cheat), split siblings held
//!           per machine, multi-prover legs held per key          (a handful of statements)
//!   choose: per ask, in order: the first task of the best class that passes every rule;
//!           none in the best class and the front is not the whole queue ─► ask the database
//!           (the one-task lease query), which sees past the front
//! ```
//!
//! The rules are the lease query's, and a task's class is the same order: not a task this key
//! tried and failed, not a sibling of a segment its machine holds, then the oldest.

use std::collections::{BTreeSet, HashMap, HashSet};

use crate::lease::LeaseAsk;
use crate::{StoreError, Tx};

/// A queued task as a lease needs it: id, spec, work, token, statement, collateral, queued
/// since (ms), memory, system, group, leg, split task.
pub(crate) type TaskRow = (
    i64,
    String,
    i64,
    i64,
    Vec<u8>,
    i64,
    i64,
    i64,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
);

/// The columns of a [`TaskRow`], as the lease queries select them from `tasks t`.
pub(crate) const TASK_COLUMNS: &str = "t.id, t.spec, t.work, t.token, t.statement, t.collateral,
     COALESCE((SELECT MAX(l.ended_ms) FROM leases l
               WHERE l.task_id = t.id AND l.ended_ms > t.created_ms), t.created_ms),
     t.memory_bytes, t.system, t.group_id, t.leg_id, t.parent_id";

/// The oldest queued tasks, in id order.
#[derive(Debug, Default)]
pub(crate) struct Front {
    /// The tasks.
    pub(crate) tasks: Vec<TaskRow>,
    /// Whether they are every queued task of these systems that nobody else is leasing (the
    /// read returned fewer than it asked for); not so for a front that was not read.
    pub(crate) whole: bool,
}

/// What the batch's askers hold and did, as far as the rules need it.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    /// Memory of the tasks each machine holds (bytes).
    pub(crate) held_memory: HashMap<i64, i64>,
    /// (task, key): a lease of the key on the task ended without a proof.
    pub(crate) tried: HashSet<(i64, i64)>,
    /// (task, key): the key uploaded an invalid proof for the task or reported it: never again.
    pub(crate) barred: HashSet<(i64, i64)>,
    /// (split task, machine): the machine holds a segment of it.
    pub(crate) siblings: HashSet<(i64, i64)>,
    /// (group, key) → the legs of the group the key holds or proved.
    pub(crate) legs: HashMap<(i64, i64), HashSet<i64>>,
    /// Collateral each key's leases earlier in this batch lock, out of the stake its asks
    /// were given (base units).
    pub(crate) locked: HashMap<i64, u64>,
}

/// What [`Facts::choose`] decided for one ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Choice {
    /// The front's task at this index.
    Take(usize),
    /// No task for this ask.
    Nothing,
    /// Only the front was read and it holds nothing of the best class: the lease query
    /// decides, over the whole queue.
    AskTheDatabase,
}

impl Facts {
    /// The task `ask` should take from `front`, skipping the tasks in `taken`.
    pub(crate) fn choose(&self, ask: &LeaseAsk, front: &Front, taken: &HashSet<i64>) -> Choice {
        let prover = &ask.prover;
        let (machine, key) = (prover.id.0, prover.key_id.0);
        let free = i64::try_from(prover.hardware.memory_bytes)
            .unwrap_or(i64::MAX)
            .saturating_sub(self.held_memory.get(&machine).copied().unwrap_or(0));
        let stake = i64::try_from(self.stake_left(ask)).unwrap_or(i64::MAX);
        let mut best: Option<((bool, bool), usize)> = None;
        for (i, t) in front.tasks.iter().enumerate() {
            let (id, _, _, _, _, collateral, _, memory, ref system, group, leg, parent) = *t;
            let runs = prover.hardware.systems.iter().any(|s| s.as_str() == system);
            if !runs || taken.contains(&id) || memory > free || collateral > stake {
                continue;
            }
            if self.barred.contains(&(id, key)) {
                continue;
            }
            if let (Some(group), Some(leg)) = (group, leg) {
                let other_leg = self
                    .legs
                    .get(&(group, key))
                    .is_some_and(|held| held.iter().any(|l| *l != leg));
                if other_leg {
                    continue;
                }
            }
            let class = (
                self.tried.contains(&(id, key)),
                parent.is_some_and(|p| self.siblings.contains(&(p, machine))),
            );
            if class == (false, false) {
                return Choice::Take(i);
            }
            if best.is_none_or(|(c, _)| class < c) {
                best = Some((class, i));
            }
        }
        match best {
            _ if !front.whole => Choice::AskTheDatabase,
            Some((_, i)) => Choice::Take(i),
            None => Choice::Nothing,
        }
    }

    /// The stake `ask`'s key has left for collateral once the batch's earlier leases of the
    /// key are counted.
    pub(crate) fn stake_left(&self, ask: &LeaseAsk) -> u64 {
        let locked = self.locked.get(&ask.prover.key_id.0).copied().unwrap_or(0);
        ask.limits.stake_available.saturating_sub(locked)
    }

    /// Counts `task`, just leased to `ask`'s machine, in what the machine and its key hold.
    pub(crate) fn record(&mut self, ask: &LeaseAsk, task: &TaskRow) {
        let (machine, key) = (ask.prover.id.0, ask.prover.key_id.0);
        *self.locked.entry(key).or_default() += task.5.max(0) as u64;
        *self.held_memory.entry(machine).or_default() += task.7;
        if let Some(parent) = task.11 {
            self.siblings.insert((parent, machine));
        }
        if let (Some(group), Some(leg)) = (task.9, task.10) {
            self.legs.entry((group, key)).or_default().insert(leg);
        }
    }
}

/// Reads the front: at most `limit` of the oldest queued tasks of the asking machines'
/// systems, with `lock` (PostgreSQL: `FOR UPDATE OF t SKIP LOCKED`).
pub(crate) async fn read_front(
    tx: &mut Tx,
    asks: &[LeaseAsk],
    limit: usize,
    lock: &str,
) -> Result<Front, StoreError> {
    let systems: BTreeSet<&'static str> = asks
        .iter()
        .flat_map(|a| a.prover.hardware.systems.iter().map(|s| s.as_str()))
        .collect();
    if systems.is_empty() {
        return Ok(Front {
            tasks: Vec::new(),
            whole: true,
        });
    }
    // Our own enum's fixed names, so formatting them in is safe.
    let systems: Vec<String> = systems.iter().map(|s| format!("'{s}'")).collect();
    let sql = format!(
        "SELECT {TASK_COLUMNS} FROM tasks t WHERE t.state = 'queued' AND t.system IN ({})
         ORDER BY t.id LIMIT $1 {lock}",
        systems.join(", ")
    );
    let tasks: Vec<TaskRow> = sqlx::query_as(&sql)
        .bind(limit as i64)
        .fetch_all(&mut **tx)
        .await?;
    Ok(Front {
        whole: tasks.len() < limit,
        tasks,
    })
}

/// Reads what the rules need to know of `asks`' machines and keys about the tasks of `front`.
pub(crate) async fn read_facts(
    tx: &mut Tx,
    asks: &[LeaseAsk],
    front: &Front,
) -> Result<Facts, StoreError> {
    let mut facts = Facts::default();
    if front.tasks.is_empty() {
        return Ok(facts);
    }
    let machines: Vec<i64> = distinct(asks.iter().map(|a| a.prover.id.0));
    let keys: Vec<i64> = distinct(asks.iter().map(|a| a.prover.key_id.0));
    let tasks: Vec<i64> = front.tasks.iter().map(|t| t.0).collect();
    let rows: Vec<(i64, i64)> = select_in(
        tx,
        "SELECT prover_id, CAST(SUM(memory_bytes) AS BIGINT) FROM tasks
         WHERE state = 'leased' AND prover_id IN ({0}) GROUP BY prover_id",
        &[&machines],
    )
    .await?;
    facts.held_memory.extend(rows);
    let rows: Vec<(i64, i64, Option<String>, Option<String>)> = select_in(
        tx,
        "SELECT task_id, key_id, fault, outcome FROM leases
         WHERE task_id IN ({0}) AND key_id IN ({1})",
        &[&tasks, &keys],
    )
    .await?;
    for (task, key, fault, outcome) in rows {
        if matches!(
            fault.as_deref(),
            Some("invalid_proof" | "artifact_report" | "false_report")
        ) {
            facts.barred.insert((task, key));
        }
        if outcome.is_some_and(|o| o != "done") {
            facts.tried.insert((task, key));
        }
    }
    let parents: Vec<i64> = distinct(front.tasks.iter().filter_map(|t| t.11));
    if !parents.is_empty() {
        let rows: Vec<(i64, i64)> = select_in(
            tx,
            "SELECT parent_id, prover_id FROM tasks
             WHERE state = 'leased' AND parent_id IN ({0}) AND prover_id IN ({1})",
            &[&parents, &machines],
        )
        .await?;
        facts.siblings.extend(rows);
    }
    let groups: Vec<i64> = distinct(front.tasks.iter().filter_map(|t| t.9));
    if !groups.is_empty() {
        let rows: Vec<(i64, i64, i64)> = select_in(
            tx,
            "SELECT o.group_id, o.leg_id, l.key_id FROM tasks o JOIN leases l ON l.task_id = o.id
             WHERE o.group_id IN ({0}) AND l.key_id IN ({1})
               AND (l.outcome IS NULL OR l.outcome = 'done')",
            &[&groups, &keys],
        )
        .await?;
        for (group, leg, key) in rows {
            facts.legs.entry((group, key)).or_default().insert(leg);
        }
    }
    Ok(facts)
}

fn distinct(ids: impl Iterator<Item = i64>) -> Vec<i64> {
    ids.collect::<BTreeSet<_>>().into_iter().collect()
}

/// Runs `sql` with each `{N}` replaced by placeholders for the N-th list of `lists`, bound in
/// order.
async fn select_in<T>(tx: &mut Tx, sql: &str, lists: &[&[i64]]) -> Result<Vec<T>, StoreError>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin,
{
    let mut sql = sql.to_owned();
    let mut next = 1;
    for (i, list) in lists.iter().enumerate() {
        sql = sql.replace(&format!("{{{i}}}"), &crate::slots(next, list.len()));
        next += list.len();
    }
    let mut q = sqlx::query_as::<_, T>(&sql);
    for list in lists {
        for v in *list {
            q = q.bind(*v);
        }
    }
    Ok(q.fetch_all(&mut **tx).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lease::LeaseLimits;
    use crate::provers::ProverRecord;
    use zkpool_types::{HardwareReport, KeyId, ProofSystem, ProverId};

    fn ask(machine: i64, key: i64, memory: u64, stake: u64) -> LeaseAsk {
        LeaseAsk {
            prover: ProverRecord {
                id: ProverId(machine),
                key_id: KeyId(key),
                hardware: HardwareReport {
                    name: "m".into(),
                    os: "t".into(),
                    cpu_cores: 1,
                    memory_bytes: memory,
                    gpus: vec![],
                    systems: vec![ProofSystem::Groth16],
                    jobs: 1,
                    agent_version: "t".into(),
                },
            },
            limits: LeaseLimits {
                stake_available: stake,
                ttl_ms: 1,
                max_lease_ms: 1,
                speed_wps: 0,
            },
        }
    }

    fn task(id: i64, memory: i64) -> TaskRow {
        (
            id,
            String::new(),
            1,
            0,
            vec![],
            0,
            0,
            memory,
            "groth16".into(),
            None,
            None,
            None,
        )
    }

    fn front(tasks: Vec<TaskRow>, whole: bool) -> Front {
        Front { tasks, whole }
    }

    #[test]
    fn the_oldest_task_that_passes_is_taken() {
        let f = Facts::default();
        let fr = front(vec![task(1, 10), task(2, 10)], true);
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::new()),
            Choice::Take(0)
        );
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::from([1])),
            Choice::Take(1)
        );
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::from([1, 2])),
            Choice::Nothing
        );
        let partial = front(vec![task(1, 10)], false);
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &partial, &HashSet::from([1])),
            Choice::AskTheDatabase
        );
    }

    #[test]
    fn memory_collateral_system_and_bars_are_rules() {
        let mut f = Facts::default();
        f.held_memory.insert(1, 60);
        let mut paid = task(2, 10);
        paid.5 = 50;
        let mut miden = task(3, 10);
        miden.8 = "miden-vm".into();
        let fr = front(vec![task(1, 50), paid, miden, task(4, 10)], true);
        // 40 free: task 1 is too big, task 2 needs 50 of stake, task 3 is not its system.
        assert_eq!(
            f.choose(&ask(1, 1, 100, 49), &fr, &HashSet::new()),
            Choice::Take(3)
        );
        assert_eq!(
            f.choose(&ask(1, 1, 100, 50), &fr, &HashSet::new()),
            Choice::Take(1)
        );
        f.barred.insert((4, 1));
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::new()),
            Choice::Nothing
        );
        // Another key is not barred.
        assert_eq!(
            f.choose(&ask(1, 2, 100, 0), &fr, &HashSet::new()),
            Choice::Take(3)
        );
    }

    #[test]
    fn a_keys_earlier_leases_in_the_batch_count_against_its_stake() {
        let mut f = Facts::default();
        let mut paid = task(1, 10);
        paid.5 = 60;
        let mut paid2 = task(2, 10);
        paid2.5 = 60;
        let fr = front(vec![paid.clone(), paid2, task(3, 10)], true);
        let a = ask(1, 1, 100, 100);
        assert_eq!(f.choose(&a, &fr, &HashSet::new()), Choice::Take(0));
        f.record(&a, &paid);
        // The key's other machine has 40 of its 100 left: not the second paid task.
        let a2 = ask(2, 1, 100, 100);
        assert_eq!(f.stake_left(&a2), 40);
        assert_eq!(f.choose(&a2, &fr, &HashSet::from([1])), Choice::Take(2));
        // Another key's stake is its own.
        assert_eq!(
            f.choose(&ask(3, 2, 100, 100), &fr, &HashSet::from([1])),
            Choice::Take(1)
        );
    }

    #[test]
    fn a_tried_task_or_a_held_sibling_comes_last_and_the_database_decides_past_the_front() {
        let mut f = Facts::default();
        f.tried.insert((1, 1));
        let mut seg = task(2, 10);
        seg.11 = Some(9);
        f.siblings.insert((9, 1));
        let fr = front(vec![task(1, 10), seg.clone(), task(3, 10)], true);
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::new()),
            Choice::Take(2)
        );
        // Without task 3: the sibling (not tried) before the tried task.
        let fr = front(vec![task(1, 10), seg.clone()], true);
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::new()),
            Choice::Take(1)
        );
        let fr = front(vec![task(1, 10), seg], false);
        assert_eq!(
            f.choose(&ask(1, 1, 100, 0), &fr, &HashSet::new()),
            Choice::AskTheDatabase
        );
    }

    #[test]
    fn a_key_takes_one_leg_of_a_group_and_what_it_leases_counts_at_once() {
        let mut f = Facts::default();
        let mut leg_a = task(1, 40);
        (leg_a.9, leg_a.10) = (Some(7), Some(1));
        let mut leg_b = task(2, 40);
        (leg_b.9, leg_b.10) = (Some(7), Some(2));
        let fr = front(vec![leg_a.clone(), leg_b, task(3, 40)], true);
        let a = ask(1, 1, 100, 0);
        assert_eq!(f.choose(&a, &fr, &HashSet::new()), Choice::Take(0));
        f.record(&a, &leg_a);
        // The same key on another machine may not take leg 2; its own machine has 60 left.
        assert_eq!(
            f.choose(&ask(2, 1, 100, 0), &fr, &HashSet::from([1])),
            Choice::Take(2)
        );
        assert_eq!(f.choose(&a, &fr, &HashSet::from([1])), Choice::Take(2));
        f.record(&a, &task(3, 40));
        assert_eq!(f.choose(&a, &fr, &HashSet::from([1, 3])), Choice::Nothing);
        // Another key may take leg 2.
        assert_eq!(
            f.choose(&ask(3, 2, 100, 0), &fr, &HashSet::from([1])),
            Choice::Take(1)
        );
    }
}
