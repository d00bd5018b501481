//! The settlement state machine: balances, task settlement records and epochs.
//!
//! ```text
//!   Op ──plan(&self)──▶ Entry ──(node persists it)──▶ apply(&mut self)
//!                                                       ▲
//!   journal rows on restart ──────── replay ────────────┘
//! ```

use std::collections::{BTreeMap, HashMap};

use zkpool_types::{KeyId, ProverId, TaskId};

use crate::amount::{mul_div_floor, Amount};
use crate::error::LedgerError;
use crate::journal::{Account, Entry, EpochId, Op, Posting};
use crate::state::{EpochStatus, LedgerConfig, PenaltyMode, TaskRecord, TaskStatus};

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
/// * **Exactly once**: a task is released or claimed at most once, which also returns or pays
///   its bond at most once; an epoch is paid at most once.
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
            Op::Release { task, .. } | Op::Claim { task, .. } => {
                &[Account::Escrow(task), Account::Bond(task)]
            }
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
            Op::Release { task, .. } | Op::Claim { task, .. } => {
                if let Some(rec) = self.tasks.get_mut(task) {
                    rec.status = match op {
                        Op::Release { .. } => TaskStatus::Released,
                        _ => TaskStatus::Claimed,
                    };
                }
            }
            Op::FundEpoch { epoch, .. } => {
                self.epochs.insert(*epoch, EpochStatus::Funded);
            }
            Op::PayEpoch { epoch, .. } => {
                self.epochs.insert(*epoch, EpochStatus::Settled);
            }
            _ => {}
        }
    }

    /// The postings `op` makes on the current state. Called after `check_transition`.
    fn postings_for(&self, op: &Op) -> Result<Vec<Posting>, LedgerError> {
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
            Op::Claim { task, .. } => {
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
        work: &[(ProverId, u64)],
        out: &mut Postings,
    ) -> Result<(), LedgerError> {
        let escrow = Account::Escrow(task);
        let reward = self.balance(&escrow);
        let (provers_share, pool_fee) = reward.split_bps(self.config.prover_share_bps);
        // BTreeMap: one posting per prover, in a deterministic order.
        let mut by_prover: BTreeMap<ProverId, u128> = BTreeMap::new();
        for (prover, w) in work {
            *by_prover.entry(*prover).or_default() += *w as u128;
        }
        let total: u128 = by_prover.values().sum();
        let mut paid = Amount::ZERO;
        for (prover, w) in &by_prover {
            let share = mul_div_floor(provers_share.base_units(), *w, total)
                .ok_or(LedgerError::Overflow)?;
            let share = Amount::from_base_units(share);
            paid = paid.checked_add(share)?;
            out.push(escrow, Account::Prover(*prover), share);
        }
        let remainder = provers_share
            .checked_sub(paid)
            .ok_or(LedgerError::Overflow)?;
        out.push(escrow, Account::Treasury, pool_fee.checked_add(remainder)?);
        out.push(
            Account::Bond(task),
            Account::PoolStake,
            self.balance(&Account::Bond(task)),
        );
        Ok(())
    }

    /// Stake first (that is what it is for), then the withdrawable balance.
    fn penalty_postings(
        &self,
        prover: ProverId,
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
        work: Vec<(ProverId, u64)>,
        now_ms: u64,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::Release { task, work, now_ms })
    }

    /// [`Op::Claim`].
    pub fn claim(&mut self, task: TaskId, now_ms: u64) -> Result<Entry, LedgerError> {
        self.execute(Op::Claim { task, now_ms })
    }

    /// [`Op::Penalty`].
    pub fn penalty(&mut self, prover: ProverId, amount: Amount) -> Result<Entry, LedgerError> {
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
        shares: Vec<(ProverId, Amount)>,
    ) -> Result<Entry, LedgerError> {
        self.execute(Op::PayEpoch { epoch, shares })
    }
}

/// The outcome of checking an entry, ready to commit.
struct Staged {
    /// New balances of the accounts the entry touches.
    touched: HashMap<Account, Amount>,
    deposited: Amount,
    withdrawn: Amount,
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
