//! [`MidenBackend`]: one segment as a [`ProofBackend`] task.

use miden_core::Word;
use miden_vm::{
    prove_sync, DefaultHost, ExecutionOptions, ExecutionProof, Kernel, ProgramInfo, ProvingOptions,
};
use zkpool_backend::{Artifacts, BackendError, ProofArtifact, ProofBackend, TaskShape};
use zkpool_planner::MemoryModel;
use zkpool_types::{ArtifactRole, Claim, ClaimRef, ProofSystem};

use crate::program::{self, advice_inputs, stack_inputs, stack_outputs, state_from_outputs};
use crate::{MidenLimits, SegmentInput, SegmentStatement};

/// Proves and verifies Miden segments.
///
/// Artifacts: [`ArtifactRole::Program`] (UTF-8 Miden assembly defining `proc step`) and
/// [`ArtifactRole::Chunks`] ([`SegmentInput`] JSON). The statement is a [`SegmentStatement`];
/// `verify` needs only the program, since the chunks are private to the prover.
///
/// What `inspect` and the split trace do at submit is bounded by its [`MidenLimits`].
#[derive(Debug, Clone)]
pub struct MidenBackend {
    /// Memory model for [`TaskShape::prove_memory_bytes`].
    pub memory: MemoryModel,
    /// What one task may cost at intake.
    limits: MidenLimits,
}

impl Default for MidenBackend {
    fn default() -> Self {
        MidenBackend::with_limits(MidenLimits::default())
    }
}

impl MidenBackend {
    /// A backend whose intake is bounded by `limits`, with the default memory model.
    pub fn with_limits(limits: MidenLimits) -> Self {
        MidenBackend {
            memory: MemoryModel::MIDEN,
            limits,
        }
    }

    /// The limits its intake runs under.
    pub fn limits(&self) -> &MidenLimits {
        &self.limits
    }
}

impl ProofBackend for MidenBackend {
    fn system(&self) -> ProofSystem {
        ProofSystem::MidenVm
    }

    /// A Miden task states a claim when its chain statement is the one
    /// [`crate::claim::statement_of`] derives from the claim's values; public signals do not
    /// apply.
    fn encodes_claim(
        &self,
        claim: &Claim,
        signals: &[ClaimRef],
        statement: &[u8],
    ) -> Result<(), BackendError> {
        if !signals.is_empty() {
            return Err(BackendError::Mismatch(
                "a Miden leg derives its statement from the claim: give no signals".into(),
            ));
        }
        let got: crate::ChainStatement = serde_json::from_slice(statement)
            .map_err(|e| BackendError::Mismatch(format!("unreadable statement: {e}")))?;
        let want = crate::claim::statement_of(claim)?;
        if got.program_hash != want.program_hash {
            return Err(BackendError::Mismatch(
                "the program is not the claim's function of its model".into(),
            ));
        }
        if got.initial_state != want.initial_state {
            return Err(BackendError::Mismatch(
                "the initial state is not the model's commitment".into(),
            ));
        }
        if got.chunks != want.chunks {
            return Err(BackendError::Mismatch(format!(
                "{} chunks, the claim has {} samples",
                got.chunks, want.chunks
            )));
        }
        if got.claimed_output != want.claimed_output {
            return Err(BackendError::Mismatch(
                "the execution's output is not the claim's samples and classes".into(),
            ));
        }
        Ok(())
    }

    fn inspect(&self, artifacts: &Artifacts) -> Result<TaskShape, BackendError> {
        let limits = &self.limits;
        let program = crate::assemble_within(step_source(artifacts)?, limits)?;
        let input = segment_input(artifacts, limits)?;
        let traces =
            program::execute_chunks_within(&program, input.state_in, &input.chunks, limits)?;
        // Exact rows of this segment; `execute_chunks` above named any failing chunk.
        let work = program::segment_rows_within(&program, input.state_in, &input.chunks, limits)?;
        let state_out = traces.last().map_or(input.state_in, |t| t.state);
        let statement = SegmentStatement {
            program_hash: program.hash().to_hex(),
            state_in: input.state_in,
            state_out,
            chunks: input.chunks.len() as u64,
        };
        Ok(TaskShape {
            work,
            prove_memory_bytes: self.memory.estimate(work),
            statement: statement.to_bytes(),
        })
    }

    fn prove(&self, artifacts: &Artifacts) -> Result<ProofArtifact, BackendError> {
        let program = crate::assemble_within(step_source(artifacts)?, &self.limits)?;
        let input = segment_input(artifacts, &self.limits)?;
        let malformed = |e: String| BackendError::malformed(ArtifactRole::Chunks, e);
        let (outputs, proof) = prove_sync(
            &program,
            stack_inputs(input.state_in, input.chunks.len()).map_err(malformed)?,
            advice_inputs(&input.chunks).map_err(malformed)?,
            &mut DefaultHost::default(),
            ExecutionOptions::default(),
            ProvingOptions::default(),
        )
        .map_err(|e| BackendError::WitnessUnsatisfied(format!("execution failed: {e}")))?;
        // The proof would not verify against a clean [STATE', 0, ..] output; say why here.
        state_from_outputs(&outputs).map_err(BackendError::WitnessUnsatisfied)?;
        Ok(ProofArtifact(proof.to_bytes()))
    }

    fn verify(
        &self,
        artifacts: &Artifacts,
        statement: &[u8],
        proof: &ProofArtifact,
    ) -> Result<(), BackendError> {
        let program = crate::assemble_within(step_source(artifacts)?, &self.limits)?;
        let statement = SegmentStatement::from_bytes(statement)
            .map_err(|e| BackendError::Mismatch(format!("unreadable statement: {e}")))?;
        if statement.program_hash != program.hash().to_hex() {
            return Err(BackendError::Mismatch(format!(
                "statement is for program {}, the artifact is {}",
                statement.program_hash,
                program.hash().to_hex()
            )));
        }
        verify_segment(&statement, &proof.0)
    }

    fn splitter(&self) -> Option<&dyn zkpool_backend::SplitBackend> {
        Some(self)
    }
}

/// Verifies one segment proof against its statement, with nothing but the statement: the
/// program hash, the chunk count and `state_in` as public inputs, `state_out` as public output.
pub(crate) fn verify_segment(
    statement: &SegmentStatement,
    proof: &[u8],
) -> Result<(), BackendError> {
    let hash = Word::try_from(statement.program_hash.as_str())
        .map_err(|e| BackendError::Mismatch(format!("bad program hash in statement: {e}")))?;
    let chunks = usize::try_from(statement.chunks)
        .map_err(|_| BackendError::Mismatch("chunk count out of range".into()))?;
    let inputs = stack_inputs(statement.state_in, chunks).map_err(BackendError::Mismatch)?;
    let outputs = stack_outputs(statement.state_out).map_err(BackendError::Mismatch)?;
    let proof = ExecutionProof::from_bytes(proof)
        .map_err(|e| BackendError::MalformedProof(e.to_string()))?;
    miden_vm::verify(
        ProgramInfo::new(hash, Kernel::default()),
        inputs,
        outputs,
        proof,
    )
    .map(|_security_bits| ())
    .map_err(|e| BackendError::InvalidProof(e.to_string()))
}

pub(crate) fn step_source(artifacts: &Artifacts) -> Result<&str, BackendError> {
    std::str::from_utf8(&artifacts.get(ArtifactRole::Program)?.bytes)
        .map_err(|e| BackendError::malformed(ArtifactRole::Program, format!("not UTF-8: {e}")))
}

pub(crate) fn segment_input(
    artifacts: &Artifacts,
    limits: &MidenLimits,
) -> Result<SegmentInput, BackendError> {
    SegmentInput::from_json(&artifacts.get(ArtifactRole::Chunks)?.bytes, limits)
}
