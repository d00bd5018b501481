//! Joining segment proofs into one result, and verifying that result in one call.
//!
//! The join is a check, not a recursive proof: a [`ChainProof`] carries every segment proof
//! with its statement, and is valid when each proof verifies and the states chain as
//! [`JoinPlan::chain`] says. Verifying it costs one STARK verification per segment.

use serde::{Deserialize, Serialize};
use zkpool_backend::{BackendError, ProofArtifact};
use zkpool_planner::{JoinPlan, StateSource};

use crate::backend::verify_segment;
use crate::{ChainError, SegmentStatement, State};

/// What a joined result proves: running `program_hash` from `initial_state` over `chunks`
/// chunks ends in `claimed_output`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainStatement {
    /// The segment program's MAST root, hex.
    pub program_hash: String,
    /// The task's initial state commitment.
    pub initial_state: State,
    /// The task's claimed output state.
    pub claimed_output: State,
    /// How many chunks the task has.
    pub chunks: u64,
}

/// One segment of a [`ChainProof`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentProof {
    /// What the segment proves.
    pub statement: SegmentStatement,
    /// The Miden proof bytes, hex.
    pub proof: String,
}

/// The delivered result of a split task: JSON, verified by [`verify_result`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainProof {
    /// What the whole chain proves.
    pub statement: ChainStatement,
    /// The segments in chain order.
    pub segments: Vec<SegmentProof>,
}

impl ChainProof {
    /// The JSON bytes delivered to the requester.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Plain strings and integers only: serialisation cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses [`ChainProof::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, ChainError> {
        serde_json::from_slice(bytes).map_err(|e| ChainError::Malformed(e.to_string()))
    }
}

/// Joins segment proofs, in chain order, into a result for `statement`, refusing (and naming
/// the segment) if any proof or link is bad.
pub fn join(
    statement: ChainStatement,
    segments: Vec<(SegmentStatement, ProofArtifact)>,
) -> Result<ChainProof, ChainError> {
    let chain = ChainProof {
        statement,
        segments: segments
            .into_iter()
            .map(|(statement, proof)| SegmentProof {
                statement,
                proof: hex::encode(proof.0),
            })
            .collect(),
    };
    verify_chain(&chain)?;
    Ok(chain)
}

/// Checks a chain: every segment proves the chain's program, the states link from the initial
/// state to the claimed output, the chunk counts add up, and every proof verifies. The cheap
/// checks run first so that a broken chain is refused without any STARK verification.
pub fn verify_chain(chain: &ChainProof) -> Result<(), ChainError> {
    let st = &chain.statement;
    let segs = &chain.segments;
    if segs.is_empty() {
        return Err(ChainError::Empty);
    }
    let plan = JoinPlan::chain(segs.len());

    for (i, seg) in segs.iter().enumerate() {
        if seg.statement.program_hash != st.program_hash {
            return Err(ChainError::WrongProgram {
                segment: i,
                expected: st.program_hash.clone(),
                found: seg.statement.program_hash.clone(),
            });
        }
        let (from, expected) = match plan.state_in[i] {
            StateSource::Initial => ("the initial state".to_string(), st.initial_state),
            StateSource::SegmentOutput(j) => {
                (format!("segment {j}'s output"), segs[j].statement.state_out)
            }
        };
        if seg.statement.state_in != expected {
            return Err(ChainError::BrokenChain {
                segment: i,
                from,
                expected,
                found: seg.statement.state_in,
            });
        }
    }

    let last = plan.claimed_output_from;
    let found = segs[last].statement.state_out;
    if found != st.claimed_output {
        return Err(ChainError::OutputMismatch {
            segment: last,
            expected: st.claimed_output,
            found,
        });
    }

    let total = segs
        .iter()
        .fold(0u64, |a, s| a.saturating_add(s.statement.chunks));
    if total != st.chunks {
        return Err(ChainError::ChunkCount {
            expected: st.chunks,
            found: total,
        });
    }

    for (i, seg) in segs.iter().enumerate() {
        let refused = |source| ChainError::SegmentRefused { segment: i, source };
        let bytes = hex::decode(&seg.proof)
            .map_err(|e| refused(BackendError::MalformedProof(format!("not hex: {e}"))))?;
        verify_segment(&seg.statement, &bytes).map_err(refused)?;
    }
    Ok(())
}

/// Verifies a delivered result and returns what it proves. The caller must still compare the
/// returned statement (program, initial state, output) with the one it asked for.
pub fn verify_result(bytes: &[u8]) -> Result<ChainStatement, ChainError> {
    let chain = ChainProof::from_bytes(bytes)?;
    verify_chain(&chain)?;
    Ok(chain.statement)
}
