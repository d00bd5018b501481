//! Liability: what a lease grant, a lease's end or a verified proof decides about money,
//! paid for in the same transaction as the state change.
//!
//! ```text
//!  lease granted on a paid task ─► lock collateral (stake → collateral)      ┐
//!  proof verified ─► collateral back; contradicted reports slashed;           │ each one
//!                    whole paid task: release (80/20, bond back)              │ store
//!  lease ended (verdict) ─► collateral back / slashed / kept for a verdict;   │ transaction
//!                    task ended: requester_fault → pay workers, refund, bond  │ with its
//!                    back to the pool; pool_fault → refund + bond (concede)   │ entries
//!  window closed ─► the task ends pool_fault; refund + bond (claim)           ┘
//! ```
//!
//! The store decides (see `zkpool_store::Verdict`); this module turns decisions into ledger
//! operations, planned on a copy of the ledger that replaces the node's only after the
//! transaction committed. Lock order as everywhere: ledger mutex, then the store's writer.

use zkpool_ledger::{Amount, Entry, Ledger, LedgerError, Op};
use zkpool_store::{
    CollateralMove, Grant, LeaseAsk, LeaseEnding, LeaseLimits, ProverRecord, Verdict,
};
use zkpool_types::{ProverId, TaskCause, TaskId};

use crate::settlement::Books;
use crate::{ApiError, Node};

/// The ledger operation that moves one lease's collateral.
pub(crate) fn collateral_op(m: &CollateralMove) -> Op {
    let amount = Amount::from_base_units(u128::from(m.amount));
    if m.slash {
        Op::SlashCollateral {
            prover: m.key,
            task: m.task,
            amount,
        }
    } else {
        Op::ReleaseCollateral {
            prover: m.key,
            task: m.task,
            amount,
        }
    }
}

/// How a task that ends for good is settled when the pool is at fault: the requester's own
/// claim after the window, or the pool conceding before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PoolFaultBy {
    /// The requester (or the reaper for it) claims after the window closed.
    Claim,
    /// The pool gives up (a paid task out of attempts, a join refused).
    Concede,
}

/// The entries a verdict needs, planned (and applied) on `scratch`.
pub(crate) fn plan_verdict(
    node: &Node,
    books: &Books,
    scratch: &mut Ledger,
    v: &Verdict,
    now: i64,
    by: PoolFaultBy,
) -> Result<Vec<Entry>, LedgerError> {
    let mut out = Vec::new();
    for m in &v.collateral {
        out.push(scratch.execute(collateral_op(m))?);
    }
    let Some(s) = &v.settle else {
        return Ok(out);
    };
    if !books.is_open(s.task) {
        return Ok(out);
    }
    let now_ms = now.max(0) as u64;
    let op = match (s.cause, by) {
        (TaskCause::RequesterFault, _) => Op::RequesterFault {
            task: s.task,
            work: s.workers.clone(),
            pay_bps: node.config.settlement.fault_pay_bps,
            now_ms,
        },
        (TaskCause::PoolFault, PoolFaultBy::Claim) => Op::Claim {
            task: s.task,
            now_ms,
        },
        (TaskCause::PoolFault, PoolFaultBy::Concede) => Op::Concede {
            task: s.task,
            now_ms,
        },
        // A paid task never ends as the provers' fault: out of attempts, the pool concedes.
        // Only a task quoted for the contract lapses, and nothing of it is in this ledger.
        (
            TaskCause::ProverFault | TaskCause::Proved | TaskCause::Lapsed | TaskCause::Stopped,
            _,
        ) => return Ok(out),
    };
    out.push(scratch.execute(op)?);
    Ok(out)
}

/// Leases a task to each of `provers` that may take one now, in one transaction (the lease
/// requests that arrived together, see `gather.rs`): a paid task only when its key's free
/// stake covers the lease's collateral, which is locked in the same transaction. The
/// answers are in the provers' order.
pub(crate) async fn lease_many(
    node: &Node,
    provers: &[ProverRecord],
) -> Vec<Result<Option<Grant>, ApiError>> {
    crate::gather::each_or_all(provers.len(), lease_batch(node, provers).await)
}

async fn lease_batch(
    node: &Node,
    provers: &[ProverRecord],
) -> Result<Vec<Result<Option<Grant>, ApiError>>, ApiError> {
    let cfg = &node.config.settlement;
    let ids: Vec<ProverId> = provers.iter().map(|p| p.id).collect();
    let speeds = node.store.measured_speeds(&ids).await?;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let asks: Vec<LeaseAsk> = provers
        .iter()
        .map(|p| LeaseAsk {
            prover: p.clone(),
            limits: LeaseLimits {
                stake_available: u64::try_from(books.stake_available(p.key_id).base_units())
                    .unwrap_or(u64::MAX),
                ttl_ms: node.config.lease_ttl.as_millis() as i64,
                max_lease_ms: node.config.max_lease.as_millis() as i64,
                speed_wps: speeds.get(&p.id).copied().unwrap_or(0),
            },
        })
        .collect();
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let answers = node
        .store
        .lease_batch(&asks, now, |g| {
            if g.collateral == 0 {
                return Ok(Vec::new());
            }
            let e = scratch.execute(Op::LockCollateral {
                prover: g.key,
                task: g.task,
                amount: Amount::from_base_units(u128::from(g.collateral)),
            })?;
            planned.push(e.clone());
            Ok::<_, LedgerError>(vec![e])
        })
        .await?;
    books.commit(scratch, &planned);
    Ok(answers
        .into_iter()
        .map(|a| {
            let grant = a?;
            if let Some(g) = &grant {
                if g.collateral > 0 {
                    tracing::info!(task = %g.task, key = %g.key, collateral = %Amount::from_base_units(u128::from(g.collateral)),
                        "collateral locked for the lease");
                }
            }
            Ok(grant)
        })
        .collect())
}

/// Ends a lease with the node's verdict on it: the lease, the task's fate, collateral and any
/// settlement in one transaction.
pub(crate) async fn end_lease(node: &Node, ending: &LeaseEnding) -> Result<Verdict, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let verdict = node
        .store
        .end_lease_unfinished(ending, now, |v| {
            planned = plan_verdict(node, &books, &mut scratch, v, now, PoolFaultBy::Concede)?;
            Ok::<_, LedgerError>(planned.clone())
        })
        .await??;
    books.commit(scratch, &planned);
    log_verdict(&verdict);
    Ok(verdict)
}

/// Which open leases a sweep ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// Leases past their expiry: `lease_expired`, the prover's fault (collateral slashed).
    Expired,
    /// Leases held by revoked keys: withdrawn (collateral back, tasks re-queued). The reaper
    /// runs it too, so a key revoked offline (`zkpool keys revoke --data-dir`) loses its
    /// leases within a sweep.
    Revoked,
}

/// Ends every open lease `which` selects, each in the sweep's one transaction with its
/// collateral and any settlement its verdict decides.
pub(crate) async fn sweep(node: &Node, which: Sweep) -> Result<Vec<Verdict>, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let plan = |v: &Verdict| {
        let e = plan_verdict(node, &books, &mut scratch, v, now, PoolFaultBy::Concede)?;
        planned.extend(e.iter().cloned());
        Ok::<_, LedgerError>(e)
    };
    let verdicts = match which {
        Sweep::Expired => node.store.expire_leases(now, plan).await,
        Sweep::Revoked => node.store.withdraw_revoked(now, plan).await,
    }??;
    books.commit(scratch, &planned);
    for v in &verdicts {
        match which {
            Sweep::Expired => log_verdict(v),
            Sweep::Revoked => tracing::warn!(task = %v.task, prover = %v.prover,
                "lease withdrawn: the key was revoked; task re-queued"),
        }
    }
    Ok(verdicts)
}

/// Ends open task `task` as the pool's fault (its window closed, or the pool concedes),
/// withdrawing its leases, with the settlement `by` says, in one transaction.
pub(crate) async fn end_as_pool_fault(
    node: &Node,
    books: &mut Books,
    task: TaskId,
    by: PoolFaultBy,
) -> Result<Vec<Entry>, ApiError> {
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let verdict = node
        .store
        .end_task_with(task, TaskCause::PoolFault, now, |v| {
            planned = plan_verdict(node, books, &mut scratch, v, now, by)?;
            Ok::<_, LedgerError>(planned.clone())
        })
        .await??;
    if verdict.is_none() {
        // The task had already ended in the store (a legacy or free-tier task whose escrow
        // is still open): settle the ledger alone.
        let op = match by {
            PoolFaultBy::Claim => Op::Claim {
                task,
                now_ms: now.max(0) as u64,
            },
            PoolFaultBy::Concede => Op::Concede {
                task,
                now_ms: now.max(0) as u64,
            },
        };
        planned = vec![scratch.execute(op)?];
        node.store.append_entries(&planned, now).await?;
    }
    books.commit(scratch, &planned);
    Ok(planned)
}

fn log_verdict(v: &Verdict) {
    let slashed: u64 = v
        .collateral
        .iter()
        .filter(|m| m.slash)
        .map(|m| m.amount)
        .sum();
    match &v.settle {
        Some(s) => tracing::warn!(task = %v.task, prover = %v.prover, fault = %v.fault,
            cause = %s.cause, settled = %s.task, slashed_units = slashed, "task ended"),
        None => tracing::warn!(task = %v.task, prover = %v.prover, fault = %v.fault,
            state = %v.state, slashed_units = slashed, "lease ended without a proof"),
    }
}
