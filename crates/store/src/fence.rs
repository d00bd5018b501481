//! The fencing check every proof and every lease ending goes through: is this lease its
//! task's current, unexpired lease, held by the prover that presents it with its token?
//!
//! ```text
//!   leases l JOIN tasks t  ─► one row per lease asked (one statement for a whole batch)
//!     l.token = t.token, t.state = 'leased', t.lease_expires_ms ≥ now   ─► current
//!     l.prover_id = prover, l.token = token presented                 ─► the caller's
//! ```
//!
//! What a completion needs to know of the lease and its task is read in the same statement,
//! so that it costs no round trip of its own. In a write transaction on PostgreSQL the task
//! rows stay locked until the transaction ends (taken in task order, so two batches never
//! wait on each other in a circle): a concurrent completion of the same lease waits, then
//! finds the task no longer leased.

use std::collections::HashMap;

use sqlx::any::AnyRow;
use sqlx::Row;
use zkpool_types::{FencingToken, LeaseId, ProverId, TaskId};

use crate::tasks::ActiveLease;
use crate::{StoreError, Tx};

/// A lease found current, with what a completion needs to know of it and of its task.
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
    /// The task's work units.
    pub(crate) work: i64,
    /// The task's proof system.
    pub(crate) system: String,
    /// Whether the task is quoted (or a segment of a quoted task).
    pub(crate) paid: bool,
    /// A segment's split task.
    pub(crate) parent: Option<i64>,
}

/// Each of `leases` (at most a few hundred) as current or why not, keyed by lease id; `lock`
/// (`FOR UPDATE OF t` or nothing) is appended to the query.
pub(crate) async fn fences(
    conn: &mut sqlx::AnyConnection,
    leases: &[LeaseId],
    now_ms: i64,
    lock: &str,
) -> Result<HashMap<i64, Result<Fenced, StoreError>>, StoreError> {
    let mut out = HashMap::with_capacity(leases.len());
    if leases.is_empty() {
        return Ok(out);
    }
    let slots = crate::slots(1, leases.len());
    let sql = format!(
        "SELECT l.id, l.task_id, l.prover_id, l.token, t.token, t.state, t.lease_expires_ms,
                l.key_id, l.granted_ms, l.collateral, t.group_id, t.leg_id,
                (SELECT COUNT(*) FROM leases r WHERE r.task_id = t.id AND r.fault = 'artifact_report'),
                t.work, t.system, t.paid, t.parent_id
         FROM leases l JOIN tasks t ON t.id = l.task_id WHERE l.id IN ({slots})
         ORDER BY t.id {lock}"
    );
    let mut q = sqlx::query(&sql);
    for l in leases {
        q = q.bind(l.0);
    }
    for row in q.fetch_all(&mut *conn).await? {
        let id: i64 = row.try_get(0)?;
        out.insert(id, current(&row, now_ms)?);
    }
    for l in leases {
        out.entry(l.0).or_insert(Err(StoreError::NotFound {
            what: "lease",
            id: l.0,
        }));
    }
    Ok(out)
}

/// The row as a current lease, or why it is not (the outer error: a row that cannot be read).
fn current(row: &AnyRow, now_ms: i64) -> Result<Result<Fenced, StoreError>, StoreError> {
    let lease: i64 = row.try_get(0)?;
    let lease_token: i64 = row.try_get(3)?;
    let task_token: i64 = row.try_get(4)?;
    let state: String = row.try_get(5)?;
    let expires: Option<i64> = row.try_get(6)?;
    let stale = |reason| Ok(Err(StoreError::StaleLease { lease, reason }));
    if lease_token != task_token {
        return stale("the task has been leased again since");
    }
    if state != "leased" {
        return stale("the task is no longer leased");
    }
    if expires.is_none_or(|e| e < now_ms) {
        return stale("the lease has expired");
    }
    let reports: i64 = row.try_get(12)?;
    let paid: i64 = row.try_get(15)?;
    Ok(Ok(Fenced {
        active: ActiveLease {
            task: TaskId(row.try_get(1)?),
            prover: ProverId(row.try_get(2)?),
            token: FencingToken(lease_token),
        },
        key: row.try_get(7)?,
        granted_ms: row.try_get(8)?,
        collateral: row.try_get(9)?,
        group: row.try_get(10)?,
        leg: row.try_get(11)?,
        reported: reports > 0,
        work: row.try_get(13)?,
        system: row.try_get(14)?,
        paid: paid != 0,
        parent: row.try_get(16)?,
    }))
}

/// The lease if it is its task's current, unexpired lease (no lock).
pub(crate) async fn current_lease(
    conn: &mut sqlx::AnyConnection,
    lease: LeaseId,
    now_ms: i64,
) -> Result<Fenced, StoreError> {
    answer(&fences(conn, &[lease], now_ms, "").await?, lease)
}

/// `lease`'s answer in what [`fences`] found, left there, so that a lease named twice gets
/// the same answer twice.
pub(crate) fn answer(
    found: &HashMap<i64, Result<Fenced, StoreError>>,
    lease: LeaseId,
) -> Result<Fenced, StoreError> {
    match found.get(&lease.0) {
        Some(Ok(f)) => Ok(f.clone()),
        Some(Err(StoreError::StaleLease { lease, reason })) => Err(StoreError::StaleLease {
            lease: *lease,
            reason,
        }),
        _ => Err(StoreError::NotFound {
            what: "lease",
            id: lease.0,
        }),
    }
}

/// What the query appends in a write transaction to lock the task rows it reads.
pub(crate) fn task_lock(tx: &Tx) -> &'static str {
    if crate::for_update(tx).is_empty() {
        ""
    } else {
        "FOR UPDATE OF t"
    }
}

/// The lease, locked, if it is current and `prover`'s, presented with its `token`.
pub(crate) async fn check_fence(
    tx: &mut Tx,
    lease: LeaseId,
    token: FencingToken,
    prover: ProverId,
    now_ms: i64,
) -> Result<Fenced, StoreError> {
    let lock = task_lock(tx);
    let found = fences(tx, &[lease], now_ms, lock).await?;
    presented(answer(&found, lease)?, lease, token, prover)
}

/// A current lease as presented by `prover` with `token`: refused when either is not its own.
pub(crate) fn presented(
    fenced: Fenced,
    lease: LeaseId,
    token: FencingToken,
    prover: ProverId,
) -> Result<Fenced, StoreError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lease_named_twice_gets_the_same_refusal_twice() {
        let stale = || StoreError::StaleLease {
            lease: 7,
            reason: "wrong fencing token",
        };
        let found = HashMap::from([(7, Err(stale()))]);
        for _ in 0..2 {
            assert!(matches!(
                answer(&found, LeaseId(7)),
                Err(StoreError::StaleLease {
                    lease: 7,
                    reason: "wrong fencing token"
                })
            ));
        }
        assert!(matches!(
            answer(&found, LeaseId(9)),
            Err(StoreError::NotFound { id: 9, .. })
        ));
    }
}
