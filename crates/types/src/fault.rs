//! Fault attribution: why a lease ended without an accepted proof, and why a task ended.
//!
//! The pool stakes a liability bond on every quoted task, so it must know whose fault a
//! failure is. The node decides; what a prover reports is evidence, never a verdict:
//!
//! ```text
//!  lease ends ──► FaultKind (one per lease, decided by the node)
//!                   invalid_proof · lease_expired · false_report ──► the prover's fault:
//!                                                                    collateral slashed
//!                   artifact_report ──► a claim about the requester's artifacts; decided by
//!                                       a prover of another key: a valid proof makes it a
//!                                       false_report, a second report makes the task the
//!                                       requester's fault
//!                   prover_error · withdrawn ──► nobody's fault: the task goes back
//!  task ends ──► TaskCause: proved · requester_fault · prover_fault · pool_fault
//!                only pool_fault pays the requester the bond
//! ```

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{LeaseId, ProverId, TaskId};

/// Who a fault is attributed to.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The requester: artifacts or witness no honest prover can prove.
    Requester,
    /// A prover: an invalid proof, an expired lease, a false failure report.
    Prover,
    /// The pool: it had valid artifacts and did not deliver.
    Pool,
    /// Nobody: a prover's own honest error, or the node taking a lease back.
    Nobody,
}

/// Why one lease ended without an accepted proof, as the node decided it. Stored as its
/// [`FaultKind::code`] on the lease.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// The prover uploaded a proof that does not verify, or cannot be read.
    InvalidProof,
    /// The lease ran out without a result (no heartbeat, or past its longest life).
    LeaseExpired,
    /// The prover reported that the artifacts cannot be proved: its own proof did not verify.
    /// Undecided until another key proves the task (then [`FaultKind::FalseReport`]) or
    /// reports the same (then the task is the requester's fault).
    ArtifactReport,
    /// An artifact report that a prover of another key contradicted with a valid proof.
    FalseReport,
    /// The prover gave the task back for a reason of its own (crashed, out of memory,
    /// shutting down). Not a penalty: the task is leased again.
    ProverError,
    /// The node took the lease back: the prover's key was revoked, the split task it belonged
    /// to ended, or the node itself was away.
    Withdrawn,
}

impl FaultKind {
    /// Every kind, for tests and documentation.
    pub const ALL: [FaultKind; 6] = [
        FaultKind::InvalidProof,
        FaultKind::LeaseExpired,
        FaultKind::ArtifactReport,
        FaultKind::FalseReport,
        FaultKind::ProverError,
        FaultKind::Withdrawn,
    ];

    /// The stable code stored on the lease and shown in task views.
    pub fn code(&self) -> &'static str {
        match self {
            FaultKind::InvalidProof => "invalid_proof",
            FaultKind::LeaseExpired => "lease_expired",
            FaultKind::ArtifactReport => "artifact_report",
            FaultKind::FalseReport => "false_report",
            FaultKind::ProverError => "prover_error",
            FaultKind::Withdrawn => "withdrawn",
        }
    }

    /// Parses [`FaultKind::code`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == s)
    }

    /// Whom the fault is attributed to.
    pub fn party(&self) -> Party {
        match self {
            // Checked by the node itself: the proof does not verify.
            FaultKind::InvalidProof => Party::Prover,
            // The node's clock says so; downtime of the node is excused before this is decided.
            FaultKind::LeaseExpired => Party::Prover,
            // Only a claim against the requester; see `is_decided`.
            FaultKind::ArtifactReport => Party::Requester,
            // Another key proved what this one called unprovable.
            FaultKind::FalseReport => Party::Prover,
            // An honest machine may crash; it loses only the time it spent.
            FaultKind::ProverError => Party::Nobody,
            // The node's own decision.
            FaultKind::Withdrawn => Party::Nobody,
        }
    }

    /// Whether the fault costs the prover its lease's collateral (and counts against its
    /// record).
    pub fn penalises(&self) -> bool {
        match self {
            FaultKind::InvalidProof => true,
            FaultKind::LeaseExpired => true,
            FaultKind::FalseReport => true,
            // Undecided: the collateral stays locked until a second opinion decides.
            FaultKind::ArtifactReport => false,
            FaultKind::ProverError => false,
            FaultKind::Withdrawn => false,
        }
    }

    /// Whether the task may be leased again after this fault (when it has attempts left and
    /// no second report made it the requester's fault). Every lease fault is: one prover
    /// never decides a task's end on its own.
    pub fn is_retryable(&self) -> bool {
        match self {
            FaultKind::InvalidProof => true,
            FaultKind::LeaseExpired => true,
            // A second opinion from another key is exactly what decides it.
            FaultKind::ArtifactReport => true,
            // Recorded when the task is already done; nothing to retry.
            FaultKind::FalseReport => false,
            FaultKind::ProverError => true,
            // The node decided the task's fate separately (revoked key: re-queued; split
            // task failed: stopped).
            FaultKind::Withdrawn => true,
        }
    }

    /// Whether the fault keeps the prover's key from this task for good (on any machine).
    pub fn excludes_key(&self) -> bool {
        matches!(
            self,
            FaultKind::InvalidProof | FaultKind::ArtifactReport | FaultKind::FalseReport
        )
    }

    /// Whether the lease's collateral stays locked after the lease ended, until the task's
    /// cause decides it (released on `requester_fault`, slashed once contradicted).
    pub fn awaits_verdict(&self) -> bool {
        matches!(self, FaultKind::ArtifactReport)
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One fault with its context: which lease of which task on which prover machine.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct TaskFault {
    /// The task.
    pub task: TaskId,
    /// The lease that ended.
    pub lease: LeaseId,
    /// The machine that held it.
    pub prover: ProverId,
    /// What happened.
    pub kind: FaultKind,
}

impl fmt::Display for TaskFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} on {} ({}, {}): {:?}'s fault",
            self.kind,
            self.task,
            self.lease,
            self.prover,
            self.kind.party()
        )
    }
}

/// Why a task ended: exactly one cause per finished task, stored as its code.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskCause {
    /// A verified proof was delivered.
    Proved,
    /// The artifacts or witness turned out unprovable after intake: two provers of different
    /// keys reported it. The bond goes back to the pool; provers are paid for their time out
    /// of the escrow, the rest is refunded; nobody is penalised.
    RequesterFault,
    /// An unpaid task ran out of attempts on provers' faults (no money is involved).
    ProverFault,
    /// The pool had valid artifacts and did not deliver: the window closed, or a paid task
    /// ran out of attempts. The requester gets its refund and the bond.
    PoolFault,
    /// A task quoted for the pool contract whose quote expired before the requester
    /// published it on chain: nothing was paid, nothing is owed.
    Lapsed,
    /// A leg of a multi-prover or racing task that was no longer needed: enough other legs
    /// were proved first. Nobody's fault; its lease was withdrawn without penalty.
    Stopped,
}

impl TaskCause {
    /// Every cause.
    pub const ALL: [TaskCause; 6] = [
        TaskCause::Proved,
        TaskCause::RequesterFault,
        TaskCause::ProverFault,
        TaskCause::PoolFault,
        TaskCause::Lapsed,
        TaskCause::Stopped,
    ];

    /// The stable code stored on the task and shown to its requester.
    pub fn code(&self) -> &'static str {
        match self {
            TaskCause::Proved => "proved",
            TaskCause::RequesterFault => "requester_fault",
            TaskCause::ProverFault => "prover_fault",
            TaskCause::PoolFault => "pool_fault",
            TaskCause::Lapsed => "lapsed",
            TaskCause::Stopped => "stopped",
        }
    }

    /// Parses [`TaskCause::code`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.code() == s)
    }

    /// Whom the end is attributed to.
    pub fn party(&self) -> Party {
        match self {
            TaskCause::Proved => Party::Nobody,
            TaskCause::RequesterFault => Party::Requester,
            TaskCause::ProverFault => Party::Prover,
            TaskCause::PoolFault => Party::Pool,
            TaskCause::Lapsed | TaskCause::Stopped => Party::Nobody,
        }
    }

    /// Whether the requester is owed the liability bond: only for the pool's own fault.
    pub fn pays_bond(&self) -> bool {
        matches!(self, TaskCause::PoolFault)
    }
}

impl fmt::Display for TaskCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_serde() {
        for k in FaultKind::ALL {
            assert_eq!(FaultKind::parse(k.code()), Some(k));
            assert_eq!(serde_json::to_value(k).unwrap(), k.code());
        }
        for c in TaskCause::ALL {
            assert_eq!(TaskCause::parse(c.code()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.code());
        }
        assert_eq!(FaultKind::parse("nope"), None);
    }

    #[test]
    fn only_the_pools_fault_pays_the_bond_and_only_prover_faults_penalise() {
        let paying: Vec<_> = TaskCause::ALL
            .into_iter()
            .filter(|c| c.pays_bond())
            .collect();
        assert_eq!(paying, vec![TaskCause::PoolFault]);
        for k in FaultKind::ALL {
            assert_eq!(k.penalises(), k.party() == Party::Prover, "{k}");
        }
        // An undecided report neither penalises nor releases: it waits for a verdict.
        assert!(FaultKind::ArtifactReport.awaits_verdict());
        assert!(!FaultKind::ArtifactReport.penalises());
    }
}
