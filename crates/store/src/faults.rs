//! Fault attribution inside the store's transactions: what ending a lease decides for its
//! task, and which collateral it frees or takes.
//!
//! ```text
//!  lease ends with FaultKind k ─► lease: outcome, fault = k, collateral
//!                                   k penalises       → slashed
//!                                   k awaits verdict  → stays locked (an artifact report)
//!                                   otherwise         → released
//!                              ─► task: two artifact reports from different keys
//!                                          → failed, requester_fault (reports released)
//!                                       out of attempts
//!                                          → failed, pool_fault (paid) / prover_fault (free)
//!                                       otherwise → queued again
//!  task proved ─► the prover's collateral released; every pending report on the task was
//!                 contradicted → false_report, slashed
//! ```
//!
//! The decisions are data ([`Verdict`]): the node turns them into ledger entries that the same
//! transaction appends, so a collateral movement or a settlement never happens apart from the
//! state change it pays for.

use zkpool_types::{FaultKind, KeyId, LeaseId, ProverId, TaskCause, TaskId, TaskState};

use crate::{StoreError, Tx};

/// Collateral that a lease's end frees or takes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollateralMove {
    /// The key that locked it.
    pub key: KeyId,
    /// The task it was locked for (a segment's own id).
    pub task: TaskId,
    /// The lease.
    pub lease: LeaseId,
    /// Base units.
    pub amount: u64,
    /// Taken (the prover's fault) rather than given back.
    pub slash: bool,
}

/// How a paid task ended, for settlement: the ledger knows the task by `task` (for a segment,
/// its split task).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settle {
    /// The task the ledger escrowed.
    pub task: TaskId,
    /// Why it ended.
    pub cause: TaskCause,
    /// For `requester_fault`: the keys whose reports were right, with the work they spent.
    pub workers: Vec<(KeyId, u64)>,
}

/// What ending one lease decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The task whose lease ended.
    pub task: TaskId,
    /// The machine that held it.
    pub prover: ProverId,
    /// What the node decided about the lease.
    pub fault: FaultKind,
    /// The task's state now.
    pub state: TaskState,
    /// Set when this ended a paid task (or its split task) for good.
    pub settle: Option<Settle>,
    /// Collateral freed or taken, this lease's and others' decided with it.
    pub collateral: Vec<CollateralMove>,
}

/// The `leases.outcome` word for a fault (the older, coarser column, kept for views).
fn outcome_of(fault: FaultKind) -> &'static str {
    match fault {
        FaultKind::InvalidProof => "invalid",
        FaultKind::LeaseExpired => "expired",
        FaultKind::Withdrawn => "revoked",
        FaultKind::ArtifactReport | FaultKind::FalseReport | FaultKind::ProverError => "failed",
    }
}

/// Ends `lease` of `task` with `fault`, records `reason`, and decides the task. The lease must
/// be the task's current one (the caller checked the fence in this transaction).
pub(crate) async fn end_with_fault(
    tx: &mut Tx,
    task: TaskId,
    lease: LeaseId,
    fault: FaultKind,
    reason: &str,
    now_ms: i64,
) -> Result<Verdict, StoreError> {
    let (prover, key, collateral): (i64, Option<i64>, i64) =
        sqlx::query_as("SELECT prover_id, key_id, collateral FROM leases WHERE id = $1")
            .bind(lease.0)
            .fetch_one(&mut **tx)
            .await?;
    let collateral_end = if collateral == 0 || fault.awaits_verdict() {
        None
    } else if fault.penalises() {
        Some("slashed")
    } else {
        Some("released")
    };
    sqlx::query(
        "UPDATE leases SET outcome = $1, fault = $2, ended_ms = $3, collateral_end = $4
         WHERE id = $5 AND outcome IS NULL",
    )
    .bind(outcome_of(fault))
    .bind(fault.code())
    .bind(now_ms)
    .bind(collateral_end)
    .bind(lease.0)
    .execute(&mut **tx)
    .await?;
    let invalid = i64::from(fault == FaultKind::InvalidProof);
    let failed = i64::from(fault.penalises());
    sqlx::query(
        "UPDATE provers SET failures = failures + $1, invalid_proofs = invalid_proofs + $2 WHERE id = $3",
    )
    .bind(failed)
    .bind(invalid)
    .bind(prover)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO task_failures (task_id, prover_id, at_ms, reason) VALUES ($1, $2, $3, $4)",
    )
    .bind(task.0)
    .bind(prover)
    .bind(now_ms)
    .bind(format!("{}: {reason}", fault.code()))
    .execute(&mut **tx)
    .await?;
    let mut moves = Vec::new();
    if let (Some(key), Some(end)) = (key, collateral_end) {
        moves.push(CollateralMove {
            key: KeyId(key),
            task,
            lease,
            amount: collateral as u64,
            slash: end == "slashed",
        });
    }
    let (state, settle) = decide(tx, task, now_ms, &mut moves).await?;
    Ok(Verdict {
        task,
        prover: ProverId(prover),
        fault,
        state,
        settle,
        collateral: moves,
    })
}

/// After a lease of `task` ended without a proof: re-queues it, or ends it with its cause.
async fn decide(
    tx: &mut Tx,
    task: TaskId,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<(TaskState, Option<Settle>), StoreError> {
    let (attempts, max, paid, state): (i64, i64, i64, String) =
        sqlx::query_as("SELECT attempts, max_attempts, paid, state FROM tasks WHERE id = $1")
            .bind(task.0)
            .fetch_one(&mut **tx)
            .await?;
    if state != "leased" {
        // Already decided elsewhere in this transaction (its split task failed, say).
        return Ok((crate::tasks::decode_state(&state)?, None));
    }
    let (reporters,): (i64,) = sqlx::query_as(
        "SELECT COUNT(DISTINCT key_id) FROM leases WHERE task_id = $1 AND fault = 'artifact_report'",
    )
    .bind(task.0)
    .fetch_one(&mut **tx)
    .await?;
    let cause = if reporters >= 2 {
        Some(TaskCause::RequesterFault)
    } else if attempts >= max {
        Some(if paid != 0 {
            TaskCause::PoolFault
        } else {
            TaskCause::ProverFault
        })
    } else {
        None
    };
    let Some(cause) = cause else {
        sqlx::query(
            "UPDATE tasks SET state = 'queued', lease_id = NULL, lease_expires_ms = NULL,
                prover_id = NULL WHERE id = $1",
        )
        .bind(task.0)
        .execute(&mut **tx)
        .await?;
        return Ok((TaskState::Queued, None));
    };
    let settle = end_task(tx, task, cause, now_ms, moves).await?;
    Ok((TaskState::Failed, settle))
}

/// Ends `task` (a whole task or a segment) with `cause`, failing its split task too, and
/// returns what settlement must do when it is paid. Pending artifact reports are released:
/// nobody contradicted them.
pub(crate) async fn end_task(
    tx: &mut Tx,
    task: TaskId,
    cause: TaskCause,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<Option<Settle>, StoreError> {
    sqlx::query(
        "UPDATE tasks SET state = 'failed', cause = $1, finished_ms = $2, lease_id = NULL,
            lease_expires_ms = NULL WHERE id = $3",
    )
    .bind(cause.code())
    .bind(now_ms)
    .bind(task.0)
    .execute(&mut **tx)
    .await?;
    let workers = release_pending_reports(tx, task, moves).await?;
    let (paid, parent, group): (i64, Option<i64>, Option<i64>) =
        sqlx::query_as("SELECT paid, parent_id, group_id FROM tasks WHERE id = $1")
            .bind(task.0)
            .fetch_one(&mut **tx)
            .await?;
    let (root, ended) = match (parent, group) {
        (None, _) => (task, true),
        (Some(parent), None) => {
            crate::split::fail_split_tx(tx, TaskId(parent), cause, task, now_ms, moves).await?;
            (TaskId(parent), true)
        }
        // A leg, or a segment of a split leg (which fails its leg): the group ends only when
        // too few legs are left to make it.
        (Some(parent), Some(group)) => {
            let leg = if parent == group {
                task
            } else {
                crate::split::fail_split_tx(tx, TaskId(parent), cause, task, now_ms, moves).await?;
                TaskId(parent)
            };
            let ended =
                crate::group::leg_failed(tx, TaskId(group), leg, cause, now_ms, moves).await?;
            (TaskId(group), ended)
        }
    };
    Ok((paid != 0 && ended).then_some(Settle {
        task: root,
        cause,
        workers,
    }))
}

/// Releases the collateral of every undecided artifact report on `task`; returns the keys
/// that reported, with the task's work each spent.
pub(crate) async fn release_pending_reports(
    tx: &mut Tx,
    task: TaskId,
    moves: &mut Vec<CollateralMove>,
) -> Result<Vec<(KeyId, u64)>, StoreError> {
    let rows: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT l.id, l.key_id, l.collateral, t.work FROM leases l JOIN tasks t ON t.id = l.task_id
         WHERE l.task_id = $1 AND l.fault = 'artifact_report' AND l.key_id IS NOT NULL
         ORDER BY l.id",
    )
    .bind(task.0)
    .fetch_all(&mut **tx)
    .await?;
    let mut workers: Vec<(KeyId, u64)> = Vec::new();
    for (lease, key, collateral, work) in rows {
        if collateral > 0 {
            let n = sqlx::query(
                "UPDATE leases SET collateral_end = 'released' WHERE id = $1 AND collateral_end IS NULL",
            )
            .bind(lease)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if n == 1 {
                moves.push(CollateralMove {
                    key: KeyId(key),
                    task,
                    lease: LeaseId(lease),
                    amount: collateral as u64,
                    slash: false,
                });
            }
        }
        if !workers.iter().any(|(k, _)| k.0 == key) {
            workers.push((KeyId(key), work.max(1) as u64));
        }
    }
    Ok(workers)
}

/// `lease` proved its task: the collateral it locked comes back (the caller marks it
/// released).
pub(crate) fn collateral_back(
    fenced: &crate::fence::Fenced,
    lease: LeaseId,
) -> Option<CollateralMove> {
    let key = fenced.key?;
    (fenced.collateral > 0).then_some(CollateralMove {
        key: KeyId(key),
        task: fenced.active.task,
        lease,
        amount: fenced.collateral as u64,
        slash: false,
    })
}

/// The task of `fenced` was proved: every artifact report on it still pending was
/// contradicted by the valid proof, so each becomes a false report and its collateral is
/// slashed (the moves returned).
pub(crate) async fn reports_falsified(
    tx: &mut Tx,
    fenced: &crate::fence::Fenced,
) -> Result<Vec<CollateralMove>, StoreError> {
    let mut moves = Vec::new();
    let task = fenced.active.task;
    if !fenced.reported {
        return Ok(moves);
    }
    let reports: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, key_id, prover_id, CASE WHEN collateral_end IS NULL THEN collateral ELSE 0 END
         FROM leases WHERE task_id = $1 AND fault = 'artifact_report' AND key_id IS NOT NULL
         ORDER BY id",
    )
    .bind(task.0)
    .fetch_all(&mut **tx)
    .await?;
    for (id, key, prover, collateral) in reports {
        let end = (collateral > 0).then_some("slashed");
        sqlx::query(
            "UPDATE leases SET fault = 'false_report', collateral_end = COALESCE(collateral_end, $1)
             WHERE id = $2",
        )
        .bind(end)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        sqlx::query("UPDATE provers SET failures = failures + 1 WHERE id = $1")
            .bind(prover)
            .execute(&mut **tx)
            .await?;
        if collateral > 0 {
            moves.push(CollateralMove {
                key: KeyId(key),
                task,
                lease: LeaseId(id),
                amount: collateral as u64,
                slash: true,
            });
        }
    }
    Ok(moves)
}

/// Ends `lease` of `task` as withdrawn by the node: nobody's fault, its collateral back. The
/// task's own state is the caller's to decide.
pub(crate) async fn withdraw_lease(
    tx: &mut Tx,
    task: TaskId,
    lease: LeaseId,
    now_ms: i64,
    moves: &mut Vec<CollateralMove>,
) -> Result<(), StoreError> {
    let (key, collateral): (Option<i64>, i64) =
        sqlx::query_as("SELECT key_id, collateral FROM leases WHERE id = $1 AND outcome IS NULL")
            .bind(lease.0)
            .fetch_optional(&mut **tx)
            .await?
            .unwrap_or((None, 0));
    let end = (collateral > 0).then_some("released");
    sqlx::query(
        "UPDATE leases SET outcome = 'revoked', fault = 'withdrawn', ended_ms = $1, collateral_end = $2
         WHERE id = $3 AND outcome IS NULL",
    )
    .bind(now_ms)
    .bind(end)
    .bind(lease.0)
    .execute(&mut **tx)
    .await?;
    if let (Some(key), Some(_)) = (key, end) {
        moves.push(CollateralMove {
            key: KeyId(key),
            task,
            lease,
            amount: collateral as u64,
            slash: false,
        });
    }
    Ok(())
}
