//! Proof-of-ZK-Work epochs: each epoch's reward pool, funded from the treasury, is split by
//! Cobb–Douglas over the α-weighted work the provers finished in it and their stake, and paid
//! in the same transaction that closes the epoch, so an epoch settles exactly once, also across
//! a restart.

use std::collections::HashMap;

use zkpool_ledger::epoch::{aggregate_work, settle_epoch};
use zkpool_ledger::{Account, Amount, EpochId, LedgerError, Op, WorkRecord};
use zkpool_types::settlement::{EpochShare, EpochView};
use zkpool_types::KeyId;

use crate::settlement::units;
use crate::{ApiError, Node};

/// The epoch's work records: each task finished in it, by the prover key that proved it.
fn work_records(done: &[zkpool_store::DoneTask]) -> Vec<WorkRecord<'_>> {
    done.iter()
        .map(|d| WorkRecord {
            prover: d.key,
            system: &d.system,
            size: d.size,
        })
        .collect()
}

/// The reward pool an epoch pays: the configured reward, or what the treasury holds if less.
fn reward_pool(cfg: &crate::SettlementConfig, ledger: &zkpool_ledger::Ledger) -> Amount {
    cfg.epoch_reward.min(ledger.balance(&Account::Treasury))
}

/// Closes the current epoch now: counts α-weighted work of the tasks finished in it, funds
/// its reward pool from the treasury and pays it by Cobb–Douglas over work and stake, in
/// one transaction with the epoch's close. A second close of the same epoch writes nothing.
pub async fn close_epoch(node: &Node) -> Result<EpochView, ApiError> {
    close_current(node, false)
        .await?
        .ok_or_else(|| ApiError::internal("the epoch was not closed"))
}

/// Closes the current epoch, or with `only_when_due` only if it has run its length; `None`
/// when it had not. Which epoch is current is read under the ledger lock, so replicas whose
/// timers fire together close each epoch once, and none closes the epoch another just opened.
async fn close_current(node: &Node, only_when_due: bool) -> Result<Option<EpochView>, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let epoch = node.store.current_epoch(now).await?;
    if only_when_due && !is_due(cfg, &epoch, now) {
        return Ok(None);
    }
    let done = node.store.done_tasks(epoch.started_ms, now).await?;
    let records = work_records(&done);
    let work = aggregate_work(&cfg.factors, records.iter().copied())?;
    // Locked collateral is still stake: a prover proving many paid tasks is not penalised.
    let stakes: HashMap<KeyId, Amount> = books
        .ledger
        .prover_stakes()
        .into_iter()
        .filter(|(_, b)| !b.is_zero())
        .collect();
    let pool = reward_pool(cfg, &books.ledger);
    let id = EpochId(epoch.id);
    let mut scratch = books.ledger.clone();
    let mut entries = Vec::new();
    let mut view = EpochView {
        epoch: epoch.id,
        started_ms: epoch.started_ms,
        closed_ms: Some(now),
        pool: units(pool),
        to_treasury: units(pool),
        shares: Vec::new(),
    };
    if !pool.is_zero() {
        let alloc = settle_epoch(&cfg.factors, records, &stakes, pool, cfg.exponents)?;
        entries.push(scratch.execute(Op::FundEpoch {
            epoch: id,
            amount: pool,
        })?);
        entries.push(scratch.execute(Op::PayEpoch {
            epoch: id,
            shares: alloc.shares.clone(),
        })?);
        view.to_treasury = units(alloc.remainder);
        view.shares = alloc
            .shares
            .iter()
            .map(|(p, r)| EpochShare {
                prover: *p,
                work: u64::try_from(work.get(p).copied().unwrap_or(0)).unwrap_or(u64::MAX),
                stake: units(stakes.get(p).copied().unwrap_or_default()),
                reward: units(*r),
            })
            .collect();
    }
    let summary = serde_json::to_string(&view).map_err(ApiError::internal)?;
    if !node
        .store
        .close_epoch(epoch.id, now, &summary, &entries)
        .await?
    {
        return Err(LedgerError::EpochSettled(id).into());
    }
    books.ledger = scratch;
    tracing::info!(epoch = epoch.id, pool = %pool, provers = view.shares.len(), "epoch settled");
    Ok(Some(view))
}

/// The epoch in progress: its work so far (counted as its close will count it) and the pool
/// it will pay.
pub async fn current(node: &Node) -> Result<zkpool_types::api::EpochNow, ApiError> {
    let cfg = &node.config.settlement;
    let books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let epoch = node.store.current_epoch(now).await?;
    let done = node.store.done_tasks(epoch.started_ms, now).await?;
    let work = aggregate_work(&cfg.factors, work_records(&done))?;
    let pool = reward_pool(cfg, &books.ledger);
    Ok(zkpool_types::api::EpochNow {
        epoch: epoch.id,
        started_ms: epoch.started_ms,
        length_ms: cfg.epoch_length.as_millis() as u64,
        work: u64::try_from(work.values().sum::<u128>()).unwrap_or(u64::MAX),
        provers: work.len() as u64,
        reward_pool: units(pool),
    })
}

/// Closes the epoch when it has run for the configured length (the reaper calls this).
pub async fn epoch_tick(node: &Node) -> Result<(), ApiError> {
    // Cheap look first, without the ledger lock; decided again under it.
    let now = node.now_ms();
    let epoch = node.store.current_epoch(now).await?;
    if is_due(&node.config.settlement, &epoch, now) {
        close_current(node, true).await?;
    }
    Ok(())
}

/// Whether `epoch` has run its configured length at `now`.
fn is_due(cfg: &crate::SettlementConfig, epoch: &zkpool_store::EpochRecord, now: i64) -> bool {
    now - epoch.started_ms >= cfg.epoch_length.as_millis() as i64
}
