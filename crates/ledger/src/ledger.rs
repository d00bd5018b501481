//! The settlement state machine: balances, task settlement records and epochs.
//!
//! ```text
//!   Op ──plan(&self)──▶ Entry ──(node persists it)──▶ apply(&mut self)
//!                                                       ▲
//!   journal rows on restart ──────── replay ────────────┘
//! ```
//!
//! Preconditions and the state each operation leaves are here; what each operation moves is
//! in [`postings`], and one method per operation (`ledger.release(…)` for
//! `ledger.execute(Op::Release { … })`) in [`calls`].

mod calls;
mod postings;
#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use zkpool_types::{KeyId, TaskId};

use crate::amount::{Amount, BPS_DENOMINATOR};
use crate::error::LedgerError;
use crate::journal::{Account, Entry, EpochId, Op};
use crate::state::{EpochStatus, LedgerConfig, TaskRecord, TaskStatus};

/// The pool's settlement ledger: a double-entry journal state machine.
///
/// # Invariants
///
/// * **Conservation**: the sum of all balances equals `deposited − withdrawn`
///   ([`Ledger::total_held`]). Every posting moves tokens between two accounts; only postings
///   from or to [`Account::External`] change the total, and those are counted.
/// * **No negative balance**: balances are unsigned and every debit is checked.
/// * **Atomicity**: an operation either applies all its postings and state changes or returns
///   an error and leaves the ledger exactly as it was.
/// * **Exactly once**: a task settles at most once — released, claimed, conceded or ended by
///   the requester's fault — and settling drains its escrow and bond completely, so its bond
///   is returned or paid at most once; an epoch is paid at most once.
/// * **Bond follows fault**: a bond reaches a requester only through [`Op::Claim`] or
///   [`Op::Concede`] (the pool's fault); release and requester fault return it to
///   [`Account::PoolStake`].
/// * **Collateral**: only lock, release and slash move [`Account::Collateral`], so a key's
///   collateral is what it locked minus what was released or slashed, never negative:
///   locking needs unlocked stake, releasing and slashing at most what is locked.
/// * **Replay**: applying the journal's entries in order to a fresh ledger yields an equal
///   ledger.
/// * **Plan then apply**: `apply(plan(op)?)` on the same state never fails.
///
/// These are checked by the property tests in `tests/ledger.rs`.
///
/// Rounding, stated once for the whole crate: every split is integer division rounding down,
/// and the remainder goes to the treasury.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    config: LedgerConfig,
    /// Accounts that ever received tokens; a zero balance stays so the account stays known.
    balances: HashMap<Account, Amount>,
    tasks: HashMap<TaskId, TaskRecord>,
    epochs: BTreeMap<EpochId, EpochStatus>,
    deposited: Amount,
    withdrawn: Amount,
    next_seq: u64,
}

impl Ledger {
    /// An empty ledger.
    pub fn new(config: LedgerConfig) -> Ledger {
        Ledger {
            config,
            ..Ledger::default()
        }
    }

    /// Rebuilds a ledger from its journal, entries in `seq` order (how the node restarts).
    pub fn replay<'a>(
        config: LedgerConfig,
        entries: impl IntoIterator<Item = &'a Entry>,
    ) -> Result<Ledger, LedgerError> {
        let mut ledger = Ledger::new(config);
        for entry in entries {
            ledger.apply(entry)?;
        }
        Ok(ledger)
    }

    /// The configuration used for planning.
    pub fn config(&self) -> &LedgerConfig {
        &self.config
    }

    /// An account's balance (zero for unknown accounts and for [`Account::External`]).
    pub fn balance(&self, account: &Account) -> Amount {
        self.balances.get(account).copied().unwrap_or_default()
    }

    /// Every known account and its balance, in no particular order.
    pub fn balances(&self) -> impl Iterator<Item = (&Account, Amount)> + '_ {
        self.balances.iter().map(|(a, b)| (a, *b))
    }

    /// A task's settlement record.
    pub fn task(&self, task: TaskId) -> Option<&TaskRecord> {
        self.tasks.get(&task)
    }

    /// An epoch's status, `None` if never funded.
    pub fn epoch(&self, epoch: EpochId) -> Option<EpochStatus> {
        self.epochs.get(&epoch).copied()
    }

    /// Each prover key's stake as epoch rewards weigh it: unlocked stake plus collateral
    /// locked for open leases (locked stake is still stake). Keys with none are left out.
    pub fn prover_stakes(&self) -> HashMap<KeyId, Amount> {
        let mut out: HashMap<KeyId, Amount> = HashMap::new();
        for (account, balance) in &self.balances {
            if let Account::ProverStake(k) | Account::Collateral(k) = account {
                if !balance.is_zero() {
                    let slot = out.entry(*k).or_default();
                    // Cannot saturate: all balances together are at most `deposited`.
                    *slot = slot.checked_add(*balance).unwrap_or(Amount::MAX);
                }
            }
        }
        out
    }

    /// Everything ever deposited from outside.
    pub fn deposited(&self) -> Amount {
        self.deposited
    }

    /// Everything ever withdrawn to outside.
    pub fn withdrawn(&self) -> Amount {
        self.withdrawn
    }

    /// The `seq` the next entry will get (= number of entries applied).
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The sum of all balances; equals `deposited − withdrawn` (the conservation invariant).
    pub fn total_held(&self) -> Result<Amount, LedgerError> {
        self.balances
            .values()
            .try_fold(Amount::ZERO, |acc, b| acc.checked_add(*b))
    }

    /// Plans and applies `op`, returning the entry the node should persist.
    pub fn execute(&mut self, op: Op) -> Result<Entry, LedgerError> {
        let entry = self.plan(op)?;
        self.apply(&entry)?;
        Ok(entry)
    }

    /// Decides what `op` would do, without changing anything: the entry to persist and then
    /// [`apply`](Ledger::apply). Every refusal for bad input happens here or in `apply`.
    pub fn plan(&self, op: Op) -> Result<Entry, LedgerError> {
        self.check_transition(&op)?;
        let postings = self.postings_for(&op)?;
        let entry = Entry {
            seq: self.next_seq,
            op,
            postings,
        };
        // Dry-run the postings so that `apply` of a planned entry cannot fail.
        self.stage(&entry)?;
        Ok(entry)
    }

    /// Applies a planned or replayed entry atomically: checks its sequence number, the task or
    /// epoch transition its operation makes (including the liability window against the
    /// entry's recorded clock), and that every posting leaves its account non-negative.
    ///
    /// Amounts in a replayed entry are trusted as recorded (the configuration may have changed
    /// since), but an entry can never create tokens: conservation holds for any entry.
    pub fn apply(&mut self, entry: &Entry) -> Result<(), LedgerError> {
        if entry.seq != self.next_seq {
            return Err(LedgerError::Journal(format!(
                "entry seq {} but the ledger expects {}",
                entry.seq, self.next_seq
            )));
        }
        let Staged {
            touched,
            deposited,
            withdrawn,
        } = self.stage(entry)?;
        // Commit: nothing below can fail.
        self.balances.extend(touched);
        self.deposited = deposited;
        self.withdrawn = withdrawn;
        self.commit_transition(&entry.op);
        self.next_seq += 1;
        Ok(())
    }

    /// Every check `apply` makes except the sequence number, and the balances it would write.
    fn stage(&self, entry: &Entry) -> Result<Staged, LedgerError> {
        self.check_transition(&entry.op)?;

        // Work on copies of the touched balances so a failure half-way changes nothing.
        let mut touched: HashMap<Account, Amount> = HashMap::new();
        let (mut deposited, mut withdrawn) = (self.deposited, self.withdrawn);
        for p in &entry.postings {
            if p.from == p.to {
                return Err(LedgerError::Journal(format!(
                    "posting from {} to itself",
                    p.from
                )));
            }
            if p.from == Account::External {
                deposited = deposited.checked_add(p.amount)?;
            } else {
                let have = match touched.get(&p.from) {
                    Some(b) => *b,
                    None => *self
                        .balances
                        .get(&p.from)
                        .ok_or(LedgerError::UnknownAccount(p.from))?,
                };
                let left = have
                    .checked_sub(p.amount)
                    .ok_or(LedgerError::InsufficientFunds {
                        account: p.from,
                        needed: p.amount,
                        available: have,
                    })?;
                touched.insert(p.from, left);
            }
            if p.to == Account::External {
                withdrawn = withdrawn.checked_add(p.amount)?;
            } else {
                let have = touched
                    .get(&p.to)
                    .or_else(|| self.balances.get(&p.to))
                    .copied()
                    .unwrap_or_default();
                touched.insert(p.to, have.checked_add(p.amount)?);
            }
        }
        let after = |a: Account| {
            touched
                .get(&a)
                .or_else(|| self.balances.get(&a))
                .copied()
                .unwrap_or_default()
        };
        // A settled task or epoch must leave nothing behind in its holding accounts.
        let drained: &[Account] = match entry.op {
            Op::Release { task, .. }
            | Op::Claim { task, .. }
            | Op::RequesterFault { task, .. }
            | Op::Concede { task, .. } => &[Account::Escrow(task), Account::Bond(task)],
            Op::PayEpoch { epoch, .. } => &[Account::EpochPool(epoch)],
            _ => &[],
        };
        if let Some(a) = drained.iter().find(|a| !after(**a).is_zero()) {
            return Err(LedgerError::Journal(format!(
                "{} leaves {} in {a}",
                entry.op.name(),
                after(*a)
            )));
        }

        Ok(Staged {
            touched,
            deposited,
            withdrawn,
        })
    }

    /// Refuses operations whose task/epoch/account preconditions do not hold. Pure.
    fn check_transition(&self, op: &Op) -> Result<(), LedgerError> {
        match op {
            Op::Deposit { to, amount } => {
                nonzero(*amount)?;
                match to {
                    Account::Requester(_)
                    | Account::Prover(_)
                    | Account::Treasury
                    | Account::PoolStake => Ok(()),
                    _ => Err(wrong("deposit", *to)),
                }
            }
            Op::Withdraw { from, amount } => {
                nonzero(*amount)?;
                match from {
                    Account::Requester(_) | Account::Prover(_) | Account::Treasury => Ok(()),
                    _ => Err(wrong("withdraw", *from)),
                }
            }
            Op::Escrow {
                task,
                amount,
                deadline_ms,
                now_ms,
                ..
            } => {
                nonzero(*amount)?;
                if self.tasks.contains_key(task) {
                    return Err(LedgerError::DuplicateTask(*task));
                }
                if now_ms >= deadline_ms {
                    return Err(LedgerError::WindowClosed {
                        task: *task,
                        deadline_ms: *deadline_ms,
                        now_ms: *now_ms,
                    });
                }
                Ok(())
            }
            Op::StakeBond { task, amount } => {
                nonzero(*amount)?;
                match self.open_task(*task)?.status {
                    TaskStatus::Bonded => Err(LedgerError::AlreadyBonded(*task)),
                    _ => Ok(()),
                }
            }
            Op::Release { task, work, now_ms } => {
                let rec = self.open_task(*task)?;
                if *now_ms >= rec.deadline_ms {
                    return Err(LedgerError::WindowClosed {
                        task: *task,
                        deadline_ms: rec.deadline_ms,
                        now_ms: *now_ms,
                    });
                }
                if work.iter().all(|(_, w)| *w == 0) {
                    return Err(LedgerError::Invalid("release needs provers with work > 0"));
                }
                Ok(())
            }
            Op::Claim { task, now_ms } => {
                let rec = self.open_task(*task)?;
                if *now_ms < rec.deadline_ms {
                    return Err(LedgerError::WindowNotClosed {
                        task: *task,
                        deadline_ms: rec.deadline_ms,
                        now_ms: *now_ms,
                    });
                }
                Ok(())
            }
            Op::RequesterFault { task, pay_bps, .. } => {
                self.open_task(*task)?;
                if *pay_bps > BPS_DENOMINATOR {
                    return Err(LedgerError::Invalid("pay_bps must be at most 10_000"));
                }
                Ok(())
            }
            Op::Concede { task, .. } => self.open_task(*task).map(|_| ()),
            Op::LockCollateral { prover, amount, .. } => {
                nonzero(*amount)?;
                self.covers(Account::ProverStake(*prover), *amount)
            }
            Op::ReleaseCollateral { prover, amount, .. }
            | Op::SlashCollateral { prover, amount, .. } => {
                nonzero(*amount)?;
                self.covers(Account::Collateral(*prover), *amount)
            }
            Op::Penalty { amount, .. }
            | Op::ProverStake { amount, .. }
            | Op::ProverUnstake { amount, .. }
            | Op::PoolStake { amount }
            | Op::PoolUnstake { amount } => nonzero(*amount),
            Op::FundEpoch { epoch, amount } => {
                nonzero(*amount)?;
                self.open_epoch(*epoch)
            }
            Op::PayEpoch { epoch, .. } => {
                if !self.epochs.contains_key(epoch) {
                    return Err(LedgerError::UnknownAccount(Account::EpochPool(*epoch)));
                }
                self.open_epoch(*epoch)
            }
        }
    }

    /// Records the task/epoch side of an operation whose checks and postings succeeded.
    fn commit_transition(&mut self, op: &Op) {
        match op {
            Op::Escrow {
                task,
                requester,
                amount,
                deadline_ms,
                ..
            } => {
                self.tasks.insert(
                    *task,
                    TaskRecord {
                        requester: *requester,
                        reward: *amount,
                        bond: Amount::ZERO,
                        deadline_ms: *deadline_ms,
                        status: TaskStatus::Escrowed,
                    },
                );
            }
            Op::StakeBond { task, amount } => {
                if let Some(rec) = self.tasks.get_mut(task) {
                    rec.bond = *amount;
                    rec.status = TaskStatus::Bonded;
                }
            }
            Op::Release { task, .. } => self.settle(*task, TaskStatus::Released),
            Op::Claim { task, .. } => self.settle(*task, TaskStatus::Claimed),
            Op::RequesterFault { task, .. } => self.settle(*task, TaskStatus::RequesterFault),
            Op::Concede { task, .. } => self.settle(*task, TaskStatus::Conceded),
            Op::FundEpoch { epoch, .. } => {
                self.epochs.insert(*epoch, EpochStatus::Funded);
            }
            Op::PayEpoch { epoch, .. } => {
                self.epochs.insert(*epoch, EpochStatus::Settled);
            }
            _ => {}
        }
    }

    fn settle(&mut self, task: TaskId, status: TaskStatus) {
        if let Some(rec) = self.tasks.get_mut(&task) {
            rec.status = status;
        }
    }

    /// Refuses with `insufficient_funds` unless `account` holds at least `amount`. An account
    /// that never received anything holds zero here (not `unknown_account`): to the caller a
    /// key that never staked simply has too little stake.
    fn covers(&self, account: Account, amount: Amount) -> Result<(), LedgerError> {
        let available = self.balance(&account);
        if available < amount {
            return Err(LedgerError::InsufficientFunds {
                account,
                needed: amount,
                available,
            });
        }
        Ok(())
    }

    fn open_task(&self, task: TaskId) -> Result<&TaskRecord, LedgerError> {
        let rec = self
            .tasks
            .get(&task)
            .ok_or(LedgerError::UnknownTask(task))?;
        if rec.status.is_settled() {
            return Err(LedgerError::AlreadySettled(task));
        }
        Ok(rec)
    }

    fn open_epoch(&self, epoch: EpochId) -> Result<(), LedgerError> {
        match self.epochs.get(&epoch) {
            Some(EpochStatus::Settled) => Err(LedgerError::EpochSettled(epoch)),
            _ => Ok(()),
        }
    }
}

/// The outcome of checking an entry, ready to commit.
struct Staged {
    /// New balances of the accounts the entry touches.
    touched: HashMap<Account, Amount>,
    deposited: Amount,
    withdrawn: Amount,
}

fn nonzero(amount: Amount) -> Result<(), LedgerError> {
    if amount.is_zero() {
        Err(LedgerError::Invalid("amount must be greater than zero"))
    } else {
        Ok(())
    }
}

fn wrong(op: &'static str, account: Account) -> LedgerError {
    LedgerError::WrongAccount { op, account }
}
