//! What each operation moves: the postings [`Ledger::plan`] puts in an entry. Pure reads of
//! the current state, called after the operation's preconditions were checked.

use std::collections::BTreeMap;

use zkpool_types::{KeyId, TaskId};

use super::Ledger;
use crate::amount::{mul_div_floor, Amount};
use crate::error::LedgerError;
use crate::journal::{Account, Op, Posting};
use crate::state::PenaltyMode;

impl Ledger {
    /// The postings `op` makes on the current state. Called after `check_transition`.
    pub(super) fn postings_for(&self, op: &Op) -> Result<Vec<Posting>, LedgerError> {
        let mut out = Postings::default();
        match op {
            Op::Deposit { to, amount } => out.push(Account::External, *to, *amount),
            Op::Withdraw { from, amount } => out.push(*from, Account::External, *amount),
            Op::Escrow {
                task,
                requester,
                amount,
                ..
            } => out.push(
                Account::Requester(*requester),
                Account::Escrow(*task),
                *amount,
            ),
            Op::StakeBond { task, amount } => {
                out.push(Account::PoolStake, Account::Bond(*task), *amount)
            }
            Op::Release { task, work, .. } => self.release_postings(*task, work, &mut out)?,
            Op::RequesterFault {
                task,
                work,
                pay_bps,
                ..
            } => self.requester_fault_postings(*task, work, *pay_bps, &mut out)?,
            Op::Claim { task, .. } | Op::Concede { task, .. } => {
                let rec = self.open_task(*task)?;
                let to = Account::Requester(rec.requester);
                out.push(
                    Account::Escrow(*task),
                    to,
                    self.balance(&Account::Escrow(*task)),
                );
                out.push(
                    Account::Bond(*task),
                    to,
                    self.balance(&Account::Bond(*task)),
                );
            }
            Op::Penalty { prover, amount } => self.penalty_postings(*prover, *amount, &mut out)?,
            Op::ProverStake { prover, amount } => out.push(
                Account::Prover(*prover),
                Account::ProverStake(*prover),
                *amount,
            ),
            Op::ProverUnstake { prover, amount } => out.push(
                Account::ProverStake(*prover),
                Account::Prover(*prover),
                *amount,
            ),
            Op::LockCollateral { prover, amount, .. } => out.push(
                Account::ProverStake(*prover),
                Account::Collateral(*prover),
                *amount,
            ),
            Op::ReleaseCollateral { prover, amount, .. } => out.push(
                Account::Collateral(*prover),
                Account::ProverStake(*prover),
                *amount,
            ),
            Op::SlashCollateral { prover, amount, .. } => {
                out.push(Account::Collateral(*prover), Account::PoolStake, *amount)
            }
            Op::PoolStake { amount } => out.push(Account::Treasury, Account::PoolStake, *amount),
            Op::PoolUnstake { amount } => out.push(Account::PoolStake, Account::Treasury, *amount),
            Op::FundEpoch { epoch, amount } => {
                out.push(Account::Treasury, Account::EpochPool(*epoch), *amount)
            }
            Op::PayEpoch { epoch, shares } => {
                let pool_acct = Account::EpochPool(*epoch);
                let pool = self.balance(&pool_acct);
                let mut paid = Amount::ZERO;
                for (prover, amount) in shares {
                    paid = paid.checked_add(*amount)?;
                    out.push(pool_acct, Account::Prover(*prover), *amount);
                }
                let rest = pool
                    .checked_sub(paid)
                    .ok_or(LedgerError::InsufficientFunds {
                        account: pool_acct,
                        needed: paid,
                        available: pool,
                    })?;
                out.push(pool_acct, Account::Treasury, rest);
            }
        }
        Ok(out.0)
    }

    /// Escrow → provers by work (floor), escrow → treasury (fee + remainder), bond → stake.
    fn release_postings(
        &self,
        task: TaskId,
        work: &[(KeyId, u64)],
        out: &mut Postings,
    ) -> Result<(), LedgerError> {
        let escrow = Account::Escrow(task);
        let reward = self.balance(&escrow);
        let (provers_share, pool_fee) = reward.split_bps(self.config.prover_share_bps);
        // `check_transition` made sure some prover has work, so the split cannot be refused.
        let remainder = split_by_work(escrow, provers_share, work, out)?
            .ok_or(LedgerError::Invalid("release needs provers with work > 0"))?;
        out.push(escrow, Account::Treasury, pool_fee.checked_add(remainder)?);
        out.push(
            Account::Bond(task),
            Account::PoolStake,
            self.balance(&Account::Bond(task)),
        );
        Ok(())
    }

    /// Escrow → provers (`pay_bps` of the reward, by work, floor), escrow → treasury (the
    /// split's remainder), escrow → requester (the rest), bond → stake. Without any work the
    /// provers' part has nobody to go to and is refunded too.
    fn requester_fault_postings(
        &self,
        task: TaskId,
        work: &[(KeyId, u64)],
        pay_bps: u32,
        out: &mut Postings,
    ) -> Result<(), LedgerError> {
        let rec = self.open_task(task)?;
        let escrow = Account::Escrow(task);
        let reward = self.balance(&escrow);
        let (pay, rest) = reward.split_bps(pay_bps);
        let refund = match split_by_work(escrow, pay, work, out)? {
            Some(remainder) => {
                out.push(escrow, Account::Treasury, remainder);
                rest
            }
            None => reward,
        };
        out.push(escrow, Account::Requester(rec.requester), refund);
        out.push(
            Account::Bond(task),
            Account::PoolStake,
            self.balance(&Account::Bond(task)),
        );
        Ok(())
    }

    /// Unlocked stake first (that is what it is for), then the withdrawable balance.
    fn penalty_postings(
        &self,
        prover: KeyId,
        amount: Amount,
        out: &mut Postings,
    ) -> Result<(), LedgerError> {
        let (stake_acct, bal_acct) = (Account::ProverStake(prover), Account::Prover(prover));
        if !self.balances.contains_key(&stake_acct) && !self.balances.contains_key(&bal_acct) {
            return Err(LedgerError::UnknownAccount(bal_acct));
        }
        let (stake, bal) = (self.balance(&stake_acct), self.balance(&bal_acct));
        let available = stake.checked_add(bal)?;
        if self.config.penalty_mode == PenaltyMode::Strict && amount > available {
            return Err(LedgerError::InsufficientFunds {
                account: bal_acct,
                needed: amount,
                available,
            });
        }
        let from_stake = amount.min(stake);
        let from_bal = amount.checked_sub(from_stake).unwrap_or_default().min(bal);
        out.push(stake_acct, Account::Treasury, from_stake);
        out.push(bal_acct, Account::Treasury, from_bal);
        Ok(())
    }
}

/// Pays `amount` from `from` to the provers in proportion to their summed work, each share
/// rounded down, and returns what rounding left over (for the caller to name a destination).
/// `None`, with nothing posted, when nobody has any work.
fn split_by_work(
    from: Account,
    amount: Amount,
    work: &[(KeyId, u64)],
    out: &mut Postings,
) -> Result<Option<Amount>, LedgerError> {
    // BTreeMap: one posting per prover, in a deterministic order.
    let mut by_prover: BTreeMap<KeyId, u128> = BTreeMap::new();
    for (prover, w) in work {
        *by_prover.entry(*prover).or_default() += *w as u128;
    }
    let total: u128 = by_prover.values().sum();
    if total == 0 {
        return Ok(None);
    }
    let mut paid = Amount::ZERO;
    for (prover, w) in &by_prover {
        let share = mul_div_floor(amount.base_units(), *w, total).ok_or(LedgerError::Overflow)?;
        let share = Amount::from_base_units(share);
        paid = paid.checked_add(share)?;
        out.push(from, Account::Prover(*prover), share);
    }
    amount
        .checked_sub(paid)
        .map(Some)
        .ok_or(LedgerError::Overflow)
}

/// Collects postings, dropping zero amounts (they move nothing and would only bloat storage).
#[derive(Default)]
struct Postings(Vec<Posting>);

impl Postings {
    fn push(&mut self, from: Account, to: Account, amount: Amount) {
        if !amount.is_zero() {
            self.0.push(Posting { from, to, amount });
        }
    }
}
