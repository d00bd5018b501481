//! One method per common operation: builds the [`Op`] and [`execute`](Ledger::execute)s it.

use zkpool_types::{KeyId, TaskId};

use super::Ledger;
use crate::amount::Amount;
use crate::error::LedgerError;
use crate::journal::{Account, Entry, EpochId, Op};

/// Convenience wrappers that build the [`Op`] and [`execute`](Ledger::execute) it.
impl Ledger {
    /// [`Op::Deposit`].
    pub fn deposit(&mut self, to: Account, amount: Amount) -> Result<Entry, LedgerError> {
        self.execute(Op::Deposit { to, amount })
    }

    /// [`Op::Withdraw`].
    pub fn withdraw(&mut self, from: Account, amount: Amount) -> Result<Entry, LedgerError> {
        self.execute(Op::Withdraw { from, amount })
    }

    /// [`Op::Escrow`].
    pub fn escrow(
        &mut self,
        task: TaskId,
        requester: KeyId,
        amount: Amount,
        deadline_ms: u64,
        now_ms: u64,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::Escrow {
            task,
            requester,
            amount,
            deadline_ms,
            now_ms,
        })
    }

    /// [`Op::StakeBond`].
    pub fn stake_bond(&mut self, task: TaskId, amount: Amount) -> Result<Entry, LedgerError> {
        self.execute(Op::StakeBond { task, amount })
    }

    /// [`Op::Release`].
    pub fn release(
        &mut self,
        task: TaskId,
        work: Vec<(KeyId, u64)>,
        now_ms: u64,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::Release { task, work, now_ms })
    }

    /// [`Op::Claim`].
    pub fn claim(&mut self, task: TaskId, now_ms: u64) -> Result<Entry, LedgerError> {
        self.execute(Op::Claim { task, now_ms })
    }

    /// [`Op::RequesterFault`].
    pub fn requester_fault(
        &mut self,
        task: TaskId,
        work: Vec<(KeyId, u64)>,
        pay_bps: u32,
        now_ms: u64,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::RequesterFault {
            task,
            work,
            pay_bps,
            now_ms,
        })
    }

    /// [`Op::Concede`].
    pub fn concede(&mut self, task: TaskId, now_ms: u64) -> Result<Entry, LedgerError> {
        self.execute(Op::Concede { task, now_ms })
    }

    /// [`Op::LockCollateral`].
    pub fn lock_collateral(
        &mut self,
        prover: KeyId,
        task: TaskId,
        amount: Amount,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::LockCollateral {
            prover,
            task,
            amount,
        })
    }

    /// [`Op::ReleaseCollateral`].
    pub fn release_collateral(
        &mut self,
        prover: KeyId,
        task: TaskId,
        amount: Amount,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::ReleaseCollateral {
            prover,
            task,
            amount,
        })
    }

    /// [`Op::SlashCollateral`].
    pub fn slash_collateral(
        &mut self,
        prover: KeyId,
        task: TaskId,
        amount: Amount,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::SlashCollateral {
            prover,
            task,
            amount,
        })
    }

    /// [`Op::Penalty`].
    pub fn penalty(&mut self, prover: KeyId, amount: Amount) -> Result<Entry, LedgerError> {
        self.execute(Op::Penalty { prover, amount })
    }

    /// [`Op::FundEpoch`].
    pub fn fund_epoch(&mut self, epoch: EpochId, amount: Amount) -> Result<Entry, LedgerError> {
        self.execute(Op::FundEpoch { epoch, amount })
    }

    /// [`Op::PayEpoch`] with the shares of an allocation computed by [`crate::epoch`].
    pub fn pay_epoch(
        &mut self,
        epoch: EpochId,
        shares: Vec<(KeyId, Amount)>,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::PayEpoch { epoch, shares })
    }
}
