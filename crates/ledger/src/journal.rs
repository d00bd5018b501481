//! What the ledger writes down: accounts, postings and journal entries.
//!
//! One [`Entry`] per accepted operation. An entry is the operation as the caller asked for it
//! ([`Op`], with every input the decision depended on, including the caller's clock) plus the
//! [`Posting`]s it produced. The node stores entries in order; replaying them with
//! [`Ledger::apply`](crate::Ledger::apply) rebuilds the ledger after a restart.
//!
//! Storage sketch (one row per posting keeps the journal queryable by account):
//!
//! ```text
//! ledger_entries  (seq INTEGER PRIMARY KEY, op TEXT /* Op as JSON */)
//! ledger_postings (seq INTEGER, idx INTEGER, from_acct TEXT, to_acct TEXT, amount TEXT,
//!                  PRIMARY KEY (seq, idx))
//! ```
//!
//! Accounts and amounts have stable string forms ([`Account`]'s `Display`/`FromStr`,
//! [`Amount`] as decimal base units), so both columns are plain text.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use zkpool_types::{KeyId, TaskId};

use crate::amount::Amount;

/// An epoch of Proof-of-ZK-Work rewards, numbered by the node (e.g. days since launch).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default,
)]
#[serde(transparent)]
pub struct EpochId(pub u64);

impl fmt::Display for EpochId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "e-{}", self.0)
    }
}

/// Where tokens sit. Every account except [`Account::External`] has a non-negative balance.
///
/// String forms (stable, used in storage): `external`, `requester:k-1`, `prover:k-1`,
/// `prover_stake:k-1`, `collateral:k-1`, `treasury`, `pool_stake`, `escrow:t-1`, `bond:t-1`,
/// `epoch:e-1`. Provers are accounted by their access key (`k-N`); a machine id (`p-N`) is
/// not an account and does not parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Account {
    /// The world outside the ledger. Deposits come from here and withdrawals go here; it has
    /// no balance, the ledger counts what crossed the boundary instead.
    External,
    /// A requester's spendable balance, keyed by its access key.
    Requester(KeyId),
    /// A prover's earned, withdrawable balance, keyed by the prover's access key (one key may
    /// run several machines; the key is what is paid and held accountable).
    Prover(KeyId),
    /// Tokens a prover has staked and not locked; counts as stake in epoch rewards, is
    /// penalised first, and is where lease collateral is locked from.
    ProverStake(KeyId),
    /// Stake locked as collateral for the prover's open leases: slashed to the pool stake on
    /// the prover's fault, released back to [`Account::ProverStake`] otherwise. Still counts
    /// as stake in epoch rewards.
    Collateral(KeyId),
    /// The pool's own money: its fee share, rounding remainders, penalties.
    Treasury,
    /// The pool's liability stake, from which task bonds are drawn.
    PoolStake,
    /// A task's escrowed reward, held until release or claim.
    Escrow(TaskId),
    /// A task's liability bond, held until settlement: back to the pool stake on release or
    /// requester fault, to the requester on claim or concession.
    Bond(TaskId),
    /// One epoch's reward pool.
    EpochPool(EpochId),
}

impl fmt::Display for Account {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Account::External => f.write_str("external"),
            Account::Requester(k) => write!(f, "requester:{k}"),
            Account::Prover(p) => write!(f, "prover:{p}"),
            Account::ProverStake(p) => write!(f, "prover_stake:{p}"),
            Account::Collateral(p) => write!(f, "collateral:{p}"),
            Account::Treasury => f.write_str("treasury"),
            Account::PoolStake => f.write_str("pool_stake"),
            Account::Escrow(t) => write!(f, "escrow:{t}"),
            Account::Bond(t) => write!(f, "bond:{t}"),
            Account::EpochPool(e) => write!(f, "epoch:{e}"),
        }
    }
}

/// A string that is not an [`Account`]'s display form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot parse account {0:?}")]
pub struct ParseAccountError(pub String);

impl FromStr for Account {
    type Err = ParseAccountError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseAccountError(s.to_string());
        match s {
            "external" => return Ok(Account::External),
            "treasury" => return Ok(Account::Treasury),
            "pool_stake" => return Ok(Account::PoolStake),
            _ => {}
        }
        let (kind, id) = s.split_once(':').ok_or_else(err)?;
        match kind {
            "requester" => id.parse().map(Account::Requester).map_err(|_| err()),
            "prover" => id.parse().map(Account::Prover).map_err(|_| err()),
            "prover_stake" => id.parse().map(Account::ProverStake).map_err(|_| err()),
            "collateral" => id.parse().map(Account::Collateral).map_err(|_| err()),
            "escrow" => id.parse().map(Account::Escrow).map_err(|_| err()),
            "bond" => id.parse().map(Account::Bond).map_err(|_| err()),
            "epoch" => id
                .strip_prefix("e-")
                .unwrap_or(id)
                .parse()
                .map(|n| Account::EpochPool(EpochId(n)))
                .map_err(|_| err()),
            _ => Err(err()),
        }
    }
}

impl Serialize for Account {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Account {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// One movement of tokens: `amount` leaves `from` and arrives at `to`.
///
/// In double-entry terms a posting is a debit/credit pair that sums to zero, so every entry
/// balances by construction; conservation across the boundary is tracked by counting what
/// moves from and to [`Account::External`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Posting {
    /// The account that pays.
    pub from: Account,
    /// The account that receives.
    pub to: Account,
    /// How much; never zero in entries this crate produces.
    pub amount: Amount,
}

/// A request to change the ledger, with every input its outcome depends on.
///
/// Times are unix milliseconds passed in by the caller: the ledger never reads a clock, so
/// replaying an entry re-checks the liability window against the time it was decided at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Tokens enter from outside into a requester, prover, treasury or pool-stake account.
    Deposit {
        /// The receiving account.
        to: Account,
        /// How much.
        amount: Amount,
    },
    /// Tokens leave to the outside from a requester, prover or treasury account.
    Withdraw {
        /// The paying account.
        from: Account,
        /// How much; more than the balance is refused.
        amount: Amount,
    },
    /// A requester accepts a quote: its reward moves into the task's escrow and the task's
    /// settlement record (deadline) is created.
    Escrow {
        /// The task, new to the ledger.
        task: TaskId,
        /// Who pays, and who gets refund and bond on a claim or concession.
        requester: KeyId,
        /// The quoted reward.
        amount: Amount,
        /// End of the liability window (unix ms).
        deadline_ms: u64,
        /// The caller's clock; escrowing into an already closed window is refused.
        now_ms: u64,
    },
    /// The pool backs the task: the bond moves from the pool stake into the task's bond.
    StakeBond {
        /// An escrowed, not yet bonded or settled task.
        task: TaskId,
        /// The bond.
        amount: Amount,
    },
    /// The task was delivered inside the window: pay provers and pool, return the bond.
    Release {
        /// The task.
        task: TaskId,
        /// Work each prover (by access key) contributed (any unit, e.g. segments or
        /// α-weighted size); a key may appear more than once (one line per segment), its lines
        /// are summed.
        work: Vec<(KeyId, u64)>,
        /// The caller's clock; must be before the deadline.
        now_ms: u64,
    },
    /// The window passed without a proof: escrow and bond go to the requester.
    Claim {
        /// The task.
        task: TaskId,
        /// The caller's clock; must be at or after the deadline.
        now_ms: u64,
    },
    /// The requester's fault: its artifacts cannot be proved by an honest prover. The listed
    /// provers are paid for their time out of the escrow (`reward × pay_bps / 10_000`, split by
    /// work, remainder to the treasury), the rest of the escrow is refunded, the bond goes back
    /// to the pool stake, and nobody is penalised. Allowed before or after the deadline.
    RequesterFault {
        /// The task, open (escrowed or bonded, not settled).
        task: TaskId,
        /// Work each prover spent, as in [`Op::Release`]; may be empty (nobody worked: the
        /// whole escrow is refunded).
        work: Vec<(KeyId, u64)>,
        /// The share of the reward paid to the provers, in basis points (at most 10_000).
        pay_bps: u32,
        /// The caller's clock, recorded for audit.
        now_ms: u64,
    },
    /// The pool gives up on a task with valid artifacts (e.g. it ran out of attempts): escrow
    /// and bond go to the requester exactly as on [`Op::Claim`], but at any time, so the
    /// requester need not wait for the window to close.
    Concede {
        /// The task, open (escrowed or bonded, not settled).
        task: TaskId,
        /// The caller's clock, recorded for audit.
        now_ms: u64,
    },
    /// A prover is fined beyond a lease's collateral: its unlocked stake, then its balance,
    /// pays the treasury. The actual amount (capped or exact, see
    /// [`PenaltyMode`](crate::PenaltyMode)) is in the postings. Locked collateral is not
    /// touched: a fault on a lease is [`Op::SlashCollateral`].
    Penalty {
        /// The prover's access key.
        prover: KeyId,
        /// The penalty asked for.
        amount: Amount,
    },
    /// A prover locks part of its balance as stake.
    ProverStake {
        /// The prover's access key.
        prover: KeyId,
        /// How much.
        amount: Amount,
    },
    /// A prover unlocks stake (not collateral) back to its balance.
    ProverUnstake {
        /// The prover's access key.
        prover: KeyId,
        /// How much.
        amount: Amount,
    },
    /// A lease is granted: part of the prover's stake is locked as collateral for it. Refused
    /// with `insufficient_funds` when the unlocked stake is short (the lease is then not
    /// granted).
    LockCollateral {
        /// The prover's access key.
        prover: KeyId,
        /// The leased task, recorded for audit (the node tracks collateral per lease).
        task: TaskId,
        /// How much; at most the prover's unlocked stake.
        amount: Amount,
    },
    /// A lease ended without the prover's fault: its collateral goes back to the stake.
    ReleaseCollateral {
        /// The prover's access key.
        prover: KeyId,
        /// The leased task, recorded for audit.
        task: TaskId,
        /// How much; at most what the key has locked.
        amount: Amount,
    },
    /// A lease ended by the prover's fault (invalid proof, expired lease, false failure
    /// report): its collateral goes to the pool stake, which backs the bonds the fault put at
    /// risk.
    SlashCollateral {
        /// The prover's access key.
        prover: KeyId,
        /// The leased task, recorded for audit.
        task: TaskId,
        /// How much; at most what the key has locked.
        amount: Amount,
    },
    /// The pool moves treasury money into its liability stake.
    PoolStake {
        /// How much.
        amount: Amount,
    },
    /// The pool moves liability stake not bound in bonds back to the treasury.
    PoolUnstake {
        /// How much.
        amount: Amount,
    },
    /// The treasury funds an epoch's reward pool (may be called several times per epoch).
    FundEpoch {
        /// The epoch, not yet settled.
        epoch: EpochId,
        /// How much.
        amount: Amount,
    },
    /// Pay an epoch's whole pool: the listed shares to provers, the rest to the treasury.
    /// The shares are recorded, not recomputed, because they come from floating-point
    /// weights (see [`crate::epoch`]) that need not be bit-identical across machines.
    PayEpoch {
        /// The epoch, funded and not yet settled.
        epoch: EpochId,
        /// Each prover's (access key's) reward; their sum may not exceed the pool.
        shares: Vec<(KeyId, Amount)>,
    },
}

impl Op {
    /// The operation's stable snake_case name (matches the JSON `op` tag).
    pub fn name(&self) -> &'static str {
        match self {
            Op::Deposit { .. } => "deposit",
            Op::Withdraw { .. } => "withdraw",
            Op::Escrow { .. } => "escrow",
            Op::StakeBond { .. } => "stake_bond",
            Op::Release { .. } => "release",
            Op::Claim { .. } => "claim",
            Op::RequesterFault { .. } => "requester_fault",
            Op::Concede { .. } => "concede",
            Op::Penalty { .. } => "penalty",
            Op::ProverStake { .. } => "prover_stake",
            Op::ProverUnstake { .. } => "prover_unstake",
            Op::LockCollateral { .. } => "lock_collateral",
            Op::ReleaseCollateral { .. } => "release_collateral",
            Op::SlashCollateral { .. } => "slash_collateral",
            Op::PoolStake { .. } => "pool_stake",
            Op::PoolUnstake { .. } => "pool_unstake",
            Op::FundEpoch { .. } => "fund_epoch",
            Op::PayEpoch { .. } => "pay_epoch",
        }
    }
}

/// One accepted operation as the journal stores it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// Position in the journal, from 0 without gaps; replay refuses anything else.
    pub seq: u64,
    /// What was asked.
    pub op: Op,
    /// What moved, in order.
    pub postings: Vec<Posting>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_strings_round_trip() {
        let all = [
            Account::External,
            Account::Requester(KeyId(3)),
            Account::Prover(KeyId(4)),
            Account::ProverStake(KeyId(5)),
            Account::Collateral(KeyId(5)),
            Account::Treasury,
            Account::PoolStake,
            Account::Escrow(TaskId(6)),
            Account::Bond(TaskId(7)),
            Account::EpochPool(EpochId(8)),
        ];
        for a in all {
            assert_eq!(a.to_string().parse::<Account>().unwrap(), a, "{a}");
        }
        assert_eq!(Account::Escrow(TaskId(6)).to_string(), "escrow:t-6");
        assert!("escrow:".parse::<Account>().is_err());
        assert!("vault:1".parse::<Account>().is_err());
        assert_eq!(Account::Prover(KeyId(4)).to_string(), "prover:k-4");
        assert_eq!(Account::Collateral(KeyId(5)).to_string(), "collateral:k-5");
        // Provers were once accounted per machine; those forms are not accounts any more.
        assert!("prover:p-4".parse::<Account>().is_err());
        assert!("prover_stake:p-4".parse::<Account>().is_err());
    }

    #[test]
    fn entries_round_trip_through_json() {
        let e = Entry {
            seq: 9,
            op: Op::Release {
                task: TaskId(1),
                work: vec![(KeyId(1), 3), (KeyId(2), 1)],
                now_ms: 5,
            },
            postings: vec![Posting {
                from: Account::Escrow(TaskId(1)),
                to: Account::Prover(KeyId(1)),
                amount: Amount::from_base_units(60),
            }],
        };
        let json = serde_json::to_string(&e).unwrap();
        assert!(json.contains("\"op\":\"release\""), "{json}");
        assert!(json.contains("\"from\":\"escrow:t-1\""), "{json}");
        assert_eq!(serde_json::from_str::<Entry>(&json).unwrap(), e);
    }
}
