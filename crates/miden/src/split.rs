//! [`MidenBackend`] as a [`SplitBackend`]: the whole task executed once, cut at chunk
//! boundaries into segment tasks, and their proofs joined into a [`ChainProof`].

use std::ops::Range;

use zkpool_backend::{
    Artifacts, BackendError, MemoryModel, ProofArtifact, SegmentTask, SplitBackend, SplitTrace,
};
use zkpool_types::ArtifactRole;

use crate::backend::{segment_input, step_source};
use crate::{
    chain, program, ChainError, ChainStatement, Chunk, MidenBackend, SegmentInput,
    SegmentStatement, State,
};

/// Rows of the prefix whose exact trace calibrates the per-chunk costs.
const CALIBRATION_ROWS: u128 = 1 << 16;

/// What [`SplitBackend::trace`] learnt, for [`SplitBackend::segments`].
struct Execution {
    program: miden_vm::Program,
    program_hash: String,
    /// `states[i]` is the state before chunk `i`; `states[n]` the output.
    states: Vec<State>,
    chunks: Vec<Chunk>,
}

impl SplitBackend for MidenBackend {
    fn trace(&self, artifacts: &Artifacts) -> Result<SplitTrace, BackendError> {
        let limits = self.limits();
        let program = crate::assemble_within(step_source(artifacts)?, limits)?;
        let input = segment_input(artifacts, limits)?;
        let traces =
            program::execute_chunks_within(&program, input.state_in, &input.chunks, limits)?;
        let mut states = Vec::with_capacity(traces.len() + 1);
        states.push(input.state_in);
        states.extend(traces.iter().map(|t| t.state));
        // Each chunk's cost is measured alone, which counts rows that chunks share (the trace is
        // the longest of several components, and the loop's first pass hashes its body) once
        // per chunk: twice the real rows for the decision tree. The costs are scaled by the
        // exact rows of a prefix of the task (bounded, so the node never builds a huge trace)
        // over their sum there; `segments` then measures each segment exactly.
        let mut prefix = 0;
        let mut measured: u128 = 0;
        for t in &traces {
            if prefix > 0 && measured + u128::from(t.cycles) > CALIBRATION_ROWS {
                break;
            }
            measured += u128::from(t.cycles);
            prefix += 1;
        }
        let exact = program::segment_rows_within(
            &program,
            input.state_in,
            &input.chunks[..prefix],
            limits,
        )?;
        let empty = program::segment_rows_within(&program, input.state_in, &[], limits)?;
        let real = u128::from(exact.saturating_sub(empty).max(1));
        let cycles: Vec<u64> = traces
            .iter()
            .map(|t| {
                let scaled = (u128::from(t.cycles) * real).div_ceil(measured.max(1));
                u64::try_from(scaled).unwrap_or(u64::MAX).max(1)
            })
            .collect();
        let statement = ChainStatement {
            program_hash: program.hash().to_hex(),
            initial_state: input.state_in,
            claimed_output: states[states.len() - 1],
            chunks: input.chunks.len() as u64,
        };
        Ok(SplitTrace {
            chunk_cycles: cycles,
            statement: serde_json::to_vec(&statement).unwrap_or_default(),
            context: Box::new(Execution {
                program,
                program_hash: statement.program_hash,
                states,
                chunks: input.chunks,
            }),
        })
    }

    fn segments(
        &self,
        _artifacts: &Artifacts,
        trace: &SplitTrace,
        ranges: &[Range<usize>],
    ) -> Result<Vec<SegmentTask>, BackendError> {
        let exec = trace
            .context
            .downcast_ref::<Execution>()
            .ok_or_else(|| BackendError::Internal("trace is not a Miden execution".into()))?;
        let mut next = 0;
        let mut out = Vec::with_capacity(ranges.len());
        for r in ranges {
            if r.start != next || r.end <= r.start || r.end > exec.chunks.len() {
                return Err(BackendError::Internal(format!(
                    "segment ranges must be contiguous and non-empty over {} chunks; got {r:?} after {next}",
                    exec.chunks.len()
                )));
            }
            next = r.end;
            // Chunk costs are each measured alone, so their sum over-counts rows that chunks
            // share (the trace is the longest of several components); that is safe for
            // planning, but a segment's work (what its prover is paid for) is its exact rows.
            let work = program::segment_rows_within(
                &exec.program,
                exec.states[r.start],
                &exec.chunks[r.clone()],
                self.limits(),
            )?;
            let statement = SegmentStatement {
                program_hash: exec.program_hash.clone(),
                state_in: exec.states[r.start],
                state_out: exec.states[r.end],
                chunks: r.len() as u64,
            };
            let input = SegmentInput {
                state_in: statement.state_in,
                chunks: exec.chunks[r.clone()].to_vec(),
            };
            out.push(SegmentTask {
                chunks: r.clone(),
                work,
                prove_memory_bytes: self.memory.estimate(work),
                statement: statement.to_bytes(),
                artifacts: vec![(
                    ArtifactRole::Chunks,
                    serde_json::to_vec(&input).unwrap_or_default(),
                )],
            });
        }
        if next != exec.chunks.len() {
            return Err(BackendError::Internal(format!(
                "segment ranges end at chunk {next} of {}",
                exec.chunks.len()
            )));
        }
        Ok(out)
    }

    fn join(
        &self,
        statement: &[u8],
        segments: Vec<(Vec<u8>, ProofArtifact)>,
    ) -> Result<ProofArtifact, BackendError> {
        let statement: ChainStatement = serde_json::from_slice(statement)
            .map_err(|e| BackendError::Mismatch(format!("unreadable chain statement: {e}")))?;
        let segments = segments
            .into_iter()
            .enumerate()
            .map(|(i, (s, proof))| {
                SegmentStatement::from_bytes(&s)
                    .map(|s| (s, proof))
                    .map_err(|e| {
                        BackendError::Mismatch(format!("segment {i}: unreadable statement: {e}"))
                    })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let joined = chain::join(statement, segments).map_err(|e| match e {
            ChainError::SegmentRefused { segment, source } => match source {
                BackendError::InvalidProof(m) => {
                    BackendError::InvalidProof(format!("segment {segment}: {m}"))
                }
                BackendError::MalformedProof(m) => {
                    BackendError::MalformedProof(format!("segment {segment}: {m}"))
                }
                other => BackendError::Mismatch(format!("segment {segment}: {other}")),
            },
            other => BackendError::Mismatch(other.to_string()),
        })?;
        Ok(ProofArtifact(joined.to_bytes()))
    }

    fn memory_model(&self) -> MemoryModel {
        self.memory
    }
}
