//! Pure domain types shared by every zkpool crate: no I/O, no async.
//!
//! The wire format between the CLI, the prover agent and the node is JSON over HTTP; the
//! request and response bodies live in [`api`] so that the node, the client and the tests
//! agree on one definition.

#![warn(missing_docs)]

pub mod api;
mod fault;
#[doc(hidden)]
pub mod fuzzing;
mod hash;
mod ids;
mod multi;
pub mod settlement;
mod system;
mod task;

pub use fault::{FaultKind, Party, TaskCause, TaskFault};
pub use hash::{BlobHash, ParseHashError};
pub use ids::{KeyId, LeaseId, ProverId, TaskId};
pub use multi::{
    Bundle, BundleLeg, Certificate, Claim, ClaimRef, Composition, Leg, Strategy, MAX_CLAIM_VALUES,
    MAX_LEGS,
};
pub use system::{ParseProofSystemError, ProofSystem};
pub use task::{
    ArtifactMap, ArtifactRole, FencingToken, HardwareReport, TaskSpec, TaskState, WitnessSource,
};
