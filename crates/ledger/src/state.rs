//! The ledger's configuration and the per-task and per-epoch records it keeps besides
//! balances.

use serde::{Deserialize, Serialize};
use zkpool_types::KeyId;

use crate::amount::Amount;

/// How a penalty larger than what the prover holds is handled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PenaltyMode {
    /// Take what there is (stake first, then balance); never refuse. The default, because a
    /// penalty that errors would let a broke prover escape the record of its fault.
    #[default]
    Capped,
    /// Refuse with `insufficient_funds` unless the prover can pay it all.
    Strict,
}

/// Parameters that decide how operations split money. They affect planning only: replaying
/// recorded entries reproduces the recorded postings whatever the current configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerConfig {
    /// The provers' share of a released reward in basis points (default 8_000 = 80 %); the
    /// rest is the pool's fee and goes to the treasury.
    pub prover_share_bps: u32,
    /// How penalties above the prover's holdings are handled.
    pub penalty_mode: PenaltyMode,
}

impl Default for LedgerConfig {
    fn default() -> Self {
        LedgerConfig {
            prover_share_bps: 8_000,
            penalty_mode: PenaltyMode::Capped,
        }
    }
}

/// Where a task's settlement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// Reward escrowed, no bond yet.
    Escrowed,
    /// Reward escrowed and the pool's bond staked.
    Bonded,
    /// Delivered in time: reward paid out, bond returned. Final.
    Released,
    /// Not delivered in time, claimed by the requester: refunded and paid the bond. Final.
    Claimed,
    /// The pool gave up on valid artifacts (before or after the deadline): the requester was
    /// refunded and paid the bond, as on a claim. Final.
    Conceded,
    /// The requester's artifacts could not be proved: provers were paid for their time, the
    /// rest refunded, the bond returned to the pool stake. Final.
    RequesterFault,
}

impl TaskStatus {
    /// True once the task was released, claimed, conceded or ended by the requester's fault;
    /// nothing can change it afterwards.
    pub fn is_settled(self) -> bool {
        matches!(
            self,
            TaskStatus::Released
                | TaskStatus::Claimed
                | TaskStatus::Conceded
                | TaskStatus::RequesterFault
        )
    }
}

/// A task's settlement record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskRecord {
    /// Who escrowed the reward and is owed refund and bond on a claim or concession.
    pub requester: KeyId,
    /// The escrowed reward.
    pub reward: Amount,
    /// The staked bond (zero until [`Op::StakeBond`](crate::Op::StakeBond)).
    pub bond: Amount,
    /// End of the liability window (unix ms): release strictly before, claim at or after;
    /// concession and requester fault at any time.
    pub deadline_ms: u64,
    /// Where it stands.
    pub status: TaskStatus,
}

/// Where an epoch's reward pool stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EpochStatus {
    /// Funded at least once, not paid yet.
    Funded,
    /// Paid out. Final.
    Settled,
}
