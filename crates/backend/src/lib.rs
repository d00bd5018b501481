//! Proof systems behind one small, object-safe trait.
//!
//! ```text
//!   node:  submit ──► inspect() ──► (work, statement) stored with the task
//!   agent: lease  ──► prove()   ──► proof bytes uploaded
//!   node:  upload ──► verify(statement, proof) ──► done | refused, task re-leased
//! ```
//!
//! A zkVM task can also be cut into segments proved by different provers ([`SplitBackend`]):
//!
//! ```text
//!   node:  submit ──► trace() ──► chunk cycles ──► planner ──► segments() ──► one task each
//!   node:  every segment verified ──► join() ──► one result for the requester
//! ```
//!
//! Everything crosses the trait as bytes ([`Artifacts`] in, [`ProofArtifact`] out) so that the
//! node, the agent and the store stay ignorant of curves and fields, and a backend can cache
//! expensive parsed forms (a proving key) by the blob's content hash.

#![warn(missing_docs)]

use std::any::Any;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

pub use zkpool_planner::MemoryModel;
use zkpool_types::{ArtifactMap, ArtifactRole, BlobHash, Claim, ClaimRef, ProofSystem};

/// One artifact's bytes and their sha256, the key under which a backend may cache what it
/// parsed from them.
#[derive(Clone)]
pub struct Blob {
    /// sha256 of `bytes`.
    pub hash: BlobHash,
    /// The content.
    pub bytes: Arc<[u8]>,
}

impl Blob {
    /// Wraps bytes, hashing them.
    pub fn new(bytes: impl Into<Arc<[u8]>>) -> Self {
        let bytes = bytes.into();
        Self {
            hash: BlobHash::of(&bytes),
            bytes,
        }
    }
}

impl fmt::Debug for Blob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Blob({:?}, {} bytes)", self.hash, self.bytes.len())
    }
}

/// A task's artifacts by role.
#[derive(Clone, Debug, Default)]
pub struct Artifacts(pub BTreeMap<ArtifactRole, Blob>);

impl Artifacts {
    /// The artifact in `role`, or [`BackendError::MissingArtifact`].
    pub fn get(&self, role: ArtifactRole) -> Result<&Blob, BackendError> {
        self.0.get(&role).ok_or(BackendError::MissingArtifact(role))
    }

    /// Adds or replaces one artifact.
    pub fn insert(&mut self, role: ArtifactRole, blob: Blob) {
        self.0.insert(role, blob);
    }
}

/// What the node learns about a task at submit time, without proving it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskShape {
    /// Size in the backend's work unit (constraints for Groth16, cycles for a zkVM).
    pub work: u64,
    /// Rough peak memory of proving, bytes, for matching the task to a prover.
    pub prove_memory_bytes: u64,
    /// The public statement a proof must prove (for Groth16: `public.json` bytes, the public
    /// signals as decimal strings). Stored with the task and passed to [`ProofBackend::verify`],
    /// so a prover cannot substitute a proof of a different statement.
    pub statement: Vec<u8>,
}

/// A proof as the backend serialises it (for Groth16: snarkjs JSON
/// `{"proof": {...}, "public": [...]}`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofArtifact(pub Vec<u8>);

/// A proof system.
///
/// Implementations are synchronous and CPU-bound; callers run them on a blocking thread.
/// Malformed input is always an `Err`, never a panic.
pub trait ProofBackend: Send + Sync + 'static {
    /// The system this backend proves.
    fn system(&self) -> ProofSystem;

    /// Checks that the artifacts are well formed and consistent with each other, that the
    /// witness satisfies the circuit, and measures the task. Costs a witness computation at
    /// most, never a proof.
    fn inspect(&self, artifacts: &Artifacts) -> Result<TaskShape, BackendError>;

    /// Proves the task.
    fn prove(&self, artifacts: &Artifacts) -> Result<ProofArtifact, BackendError>;

    /// Verifies `proof` against the task's verifying key and `statement` (from
    /// [`ProofBackend::inspect`]). `Ok(())` promises the proof is valid for exactly that
    /// statement; [`BackendError::InvalidProof`] that it is well formed but false; any other
    /// error that the proof bytes are unreadable or the artifacts unusable.
    fn verify(
        &self,
        artifacts: &Artifacts,
        statement: &[u8],
        proof: &ProofArtifact,
    ) -> Result<(), BackendError>;

    /// The artifacts [`ProofBackend::verify`] and [`ProofBackend::verify_many`] read, so that
    /// a node loads only those to check a proof (Groth16: the zkey, not the r1cs or the
    /// witness, which at a million constraints are half a gigabyte more); `None` (the default):
    /// all of them.
    fn verify_roles(&self) -> Option<&'static [ArtifactRole]> {
        None
    }

    /// The backend's split proving, when its tasks can be cut into segments.
    fn splitter(&self) -> Option<&dyn SplitBackend> {
        None
    }

    /// What verifying this task's proofs depends on besides the statement (Groth16: the
    /// zkey's hash), read from the task's artifact hashes alone. Proofs of tasks with the same
    /// verifier id may be checked together by [`ProofBackend::verify_many`], and against the
    /// few bytes of [`ProofBackend::verifying_key`] instead of the artifacts
    /// ([`ProofBackend::verify_with_key`]); `None` (the default) verifies one by one, from the
    /// artifacts.
    fn verifier_id(&self, artifacts: &ArtifactMap) -> Option<BlobHash> {
        let _ = artifacts;
        None
    }

    /// [`ProofBackend::verify_many`] against `key`, the bytes [`ProofBackend::verifying_key`]
    /// gave for a task with a verifier id, instead of the task's artifacts: a node keeps those
    /// few bytes per circuit (Groth16: a verification key of a kilobyte or so, against a zkey
    /// of up to gigabytes) and never reads the artifacts again to check a proof. `key` must
    /// come from the node's own `verifying_key` of checked artifacts, never from a prover or a
    /// requester. A backend with a verifier id implements it; the default refuses every item.
    fn verify_with_key(
        &self,
        key: &Blob,
        items: &[(Vec<u8>, ProofArtifact)],
    ) -> Vec<Result<(), BackendError>> {
        let _ = key;
        items
            .iter()
            .map(|_| {
                Err(BackendError::Internal(format!(
                    "{} verifies from the task's artifacts, not from a verifying key",
                    self.system()
                )))
            })
            .collect()
    }

    /// Verifies several proofs of tasks that share `artifacts`' verifier id
    /// ([`ProofBackend::verifier_id`]), each against its own statement: one result per item,
    /// in order, each promising what [`ProofBackend::verify`] promises, so a bad proof among
    /// good ones is refused alone. The default verifies them one by one; a backend with a
    /// batch check (Groth16: one multi-pairing) overrides it.
    fn verify_many(
        &self,
        artifacts: &Artifacts,
        items: &[(Vec<u8>, ProofArtifact)],
    ) -> Vec<Result<(), BackendError>> {
        items
            .iter()
            .map(|(statement, proof)| self.verify(artifacts, statement, proof))
            .collect()
    }

    /// Checks that `statement` (from [`ProofBackend::inspect`], or a split task's
    /// [`SplitTrace::statement`]) states exactly `claim`, so a leg of a multi-prover task
    /// cannot prove something else. A system with public signals reads `signals` (which claim
    /// value each signal is, in order; every claim value must appear); a system that derives
    /// its statement from the claim ignores them. `Err(Mismatch)` names the first difference.
    /// The default: this system cannot prove a multi-prover claim.
    fn encodes_claim(
        &self,
        claim: &Claim,
        signals: &[ClaimRef],
        statement: &[u8],
    ) -> Result<(), BackendError> {
        let _ = (claim, signals, statement);
        Err(BackendError::Mismatch(format!(
            "{} cannot prove a multi-prover claim",
            self.system()
        )))
    }

    /// What a verifier outside the pool checks this task's proofs with, as bytes the bundle
    /// carries: for Groth16 the snarkjs verification key JSON; empty where the statement
    /// already binds everything (Miden: the program hash).
    fn verifying_key(&self, artifacts: &Artifacts) -> Result<Vec<u8>, BackendError> {
        let _ = artifacts;
        Ok(Vec::new())
    }
}

/// A task executed once without proving, ready to be cut: what the planner needs, and what
/// the backend needs to build the segments ([`SplitBackend::segments`]).
pub struct SplitTrace {
    /// Cost of each input chunk in the backend's work unit (trace rows), in order.
    pub chunk_cycles: Vec<u64>,
    /// The whole task's public statement; the joined result proves it.
    pub statement: Vec<u8>,
    /// Backend-private results of the execution (the state at every chunk boundary).
    pub context: Box<dyn Any + Send>,
}

impl fmt::Debug for SplitTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplitTrace")
            .field("chunks", &self.chunk_cycles.len())
            .finish_non_exhaustive()
    }
}

/// One segment of a split task: a task of its own for one prover.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegmentTask {
    /// The chunks it covers.
    pub chunks: Range<usize>,
    /// Its work, trace rows.
    pub work: u64,
    /// Estimated peak proving memory, bytes: only a prover with this much may take it.
    pub prove_memory_bytes: u64,
    /// What its proof must prove.
    pub statement: Vec<u8>,
    /// Artifacts that differ from the whole task's (for Miden: its own chunks and start
    /// state); the other roles are shared with the whole task.
    pub artifacts: Vec<(ArtifactRole, Vec<u8>)>,
}

/// Split proving: execute, cut, join. The planning between the two steps is the node's
/// (`zkpool-planner`), since it depends on the provers connected.
pub trait SplitBackend: Send + Sync {
    /// Executes the whole task without proving: each chunk's cost and the task's statement.
    /// A chunk that fails or does not advance the state is refused by index.
    fn trace(&self, artifacts: &Artifacts) -> Result<SplitTrace, BackendError>;

    /// The segments for contiguous `ranges` covering every chunk of `trace`, in order.
    fn segments(
        &self,
        artifacts: &Artifacts,
        trace: &SplitTrace,
        ranges: &[Range<usize>],
    ) -> Result<Vec<SegmentTask>, BackendError>;

    /// Joins segment proofs (statement and proof, in chain order) into the whole task's
    /// result for `statement`, verifying every proof and link. The error names the segment.
    fn join(
        &self,
        statement: &[u8],
        segments: Vec<(Vec<u8>, ProofArtifact)>,
    ) -> Result<ProofArtifact, BackendError>;

    /// Peak proving memory against segment size, measured on this backend; the planner
    /// sizes segments with it so each fits the prover that takes it.
    fn memory_model(&self) -> MemoryModel;
}

/// Why a backend call failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The task lacks an artifact the backend needs.
    #[error("missing artifact: {}", .0.as_str())]
    MissingArtifact(ArtifactRole),
    /// An artifact could not be parsed.
    #[error("malformed {} file: {reason}", role.as_str())]
    Malformed {
        /// Which artifact.
        role: ArtifactRole,
        /// What is wrong with it.
        reason: String,
    },
    /// An artifact asks for more than this process allows: more memory, a larger witness, more
    /// trace rows than the operator's limits. The same input may pass where limits are higher,
    /// so this is a refusal, not a verdict on the input.
    #[error("{} over a limit: {reason}", role.as_str())]
    OverLimit {
        /// Which artifact asked for too much.
        role: ArtifactRole,
        /// Which limit, its value, and what was asked.
        reason: String,
    },
    /// Artifacts that do not belong together (a zkey for another circuit, a witness of the
    /// wrong length).
    #[error("artifacts do not match: {0}")]
    Mismatch(String),
    /// The witness does not satisfy the constraints.
    #[error("witness does not satisfy constraints: {0}")]
    WitnessUnsatisfied(String),
    /// The proof bytes are unreadable.
    #[error("malformed proof: {0}")]
    MalformedProof(String),
    /// The proof is well formed but does not verify for the statement.
    #[error("invalid proof: {0}")]
    InvalidProof(String),
    /// The backend failed for a reason unrelated to the input (out of memory, a bug).
    #[error("internal backend error: {0}")]
    Internal(String),
}

impl BackendError {
    /// A stable snake_case code for APIs and logs.
    pub fn code(&self) -> &'static str {
        match self {
            BackendError::MissingArtifact(_) => "missing_artifact",
            BackendError::Malformed { .. } => "malformed_artifact",
            BackendError::OverLimit { .. } => "over_limit",
            BackendError::Mismatch(_) => "artifacts_mismatch",
            BackendError::WitnessUnsatisfied(_) => "witness_unsatisfied",
            BackendError::MalformedProof(_) => "malformed_proof",
            BackendError::InvalidProof(_) => "invalid_proof",
            BackendError::Internal(_) => "backend_internal",
        }
    }

    /// True when the same task may succeed on another prover or a later attempt. Errors that
    /// come from the task's own inputs are not retryable: retrying them would loop forever.
    pub fn is_retryable(&self) -> bool {
        matches!(self, BackendError::Internal(_))
    }

    /// Shorthand for [`BackendError::OverLimit`].
    pub fn over_limit(role: ArtifactRole, reason: impl Into<String>) -> Self {
        BackendError::OverLimit {
            role,
            reason: reason.into(),
        }
    }

    /// Shorthand for [`BackendError::Malformed`].
    pub fn malformed(role: ArtifactRole, reason: impl Into<String>) -> Self {
        BackendError::Malformed {
            role,
            reason: reason.into(),
        }
    }
}

/// The backends one process has, by proof system.
#[derive(Clone, Default)]
pub struct Backends(BTreeMap<ProofSystem, Arc<dyn ProofBackend>>);

impl Backends {
    /// Adds a backend, replacing any for the same system.
    pub fn with(mut self, backend: Arc<dyn ProofBackend>) -> Self {
        self.0.insert(backend.system(), backend);
        self
    }

    /// The backend for `system`, if this process has one.
    pub fn get(&self, system: ProofSystem) -> Option<&Arc<dyn ProofBackend>> {
        self.0.get(&system)
    }

    /// The systems available.
    pub fn systems(&self) -> Vec<ProofSystem> {
        self.0.keys().copied().collect()
    }
}

impl fmt::Debug for Backends {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.0.keys()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_internal_errors_are_retryable() {
        assert!(BackendError::Internal("oom".into()).is_retryable());
        assert!(!BackendError::WitnessUnsatisfied("c 3".into()).is_retryable());
        assert!(!BackendError::malformed(ArtifactRole::Zkey, "short").is_retryable());
        assert_eq!(
            BackendError::InvalidProof("x".into()).code(),
            "invalid_proof"
        );
    }

    #[test]
    fn missing_artifact_names_the_role() {
        let a = Artifacts::default();
        let err = a.get(ArtifactRole::Zkey).unwrap_err();
        assert_eq!(err.to_string(), "missing artifact: zkey");
    }
}
