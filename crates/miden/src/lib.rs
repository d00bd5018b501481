//! Miden VM backend for split proving: a task is a state machine over input chunks, proved in
//! segments that are chained into one result.
//!
//! ```text
//!   program: `proc step` : [STATE] --(reads one chunk from the advice stack)--> [STATE']
//!
//!   chunks      c0 c1 c2 | c3 c4 | c5 c6 c7
//!   execute_chunks ─► state after each chunk + its trace rows ─► zkpool-planner ─► segments
//!   segment i:  prove (state_in, its chunks) ─► STARK proof of
//!               (program hash, state_in, chunk count) ↦ state_out
//!   join:       verify every proof, then initial = in0, out0 = in1, …, out_last = claimed output
//! ```
//!
//! The requester writes only `step`; [`segment_source`] wraps it in a loop that runs it once per
//! chunk, so one program hash covers every segment of every split. The public inputs of a
//! segment proof are the chunk count and `state_in` on the operand stack, its public output is
//! `state_out`; chunks are private advice. A segment is a task of its own: artifacts
//! [`ArtifactRole::Program`](zkpool_types::ArtifactRole::Program) (the `step` source) and
//! [`ArtifactRole::Chunks`](zkpool_types::ArtifactRole::Chunks) ([`SegmentInput`] JSON), proved
//! and verified through [`MidenBackend`], a [`zkpool_backend::ProofBackend`].
//!
//! Everything a submission makes the node do before proving (parse, assemble, execute, build
//! traces to measure them) is bounded by [`MidenLimits`], each limit checked before the work it
//! bounds.

mod assembly;
mod backend;
mod chain;
pub mod claim;
mod error;
mod full_tree;
#[doc(hidden)]
pub mod fuzzing;
mod input;
pub mod iris;
mod limits;
mod program;
mod split;
pub mod tree;

use serde::{Deserialize, Serialize};

pub use assembly::{assemble, assemble_within, segment_source};
pub use backend::MidenBackend;
pub use chain::{join, verify_chain, verify_result, ChainProof, ChainStatement, SegmentProof};
pub use error::ChainError;
pub use limits::{MidenLimits, SUBMIT_BYTES_PER_ROW};
pub use program::{
    execute_chunks, execute_chunks_within, segment_rows, segment_rows_within, ChunkTrace,
};

/// A program's state between chunks: one Miden word, four canonical field elements.
pub type State = [u64; 4];

/// One chunk of input: field elements the `step` procedure reads from the advice stack.
pub type Chunk = Vec<u64>;

/// What a segment consumes: [`ArtifactRole::Chunks`](zkpool_types::ArtifactRole::Chunks).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentInput {
    /// The state before the segment's first chunk.
    pub state_in: State,
    /// The chunks, in order; at least one.
    pub chunks: Vec<Chunk>,
}

/// The public statement a segment proof proves: running the program `program_hash` from
/// `state_in` over `chunks` chunks ends in `state_out`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SegmentStatement {
    /// The wrapped program's MAST root, hex.
    pub program_hash: String,
    /// The state before the segment.
    pub state_in: State,
    /// The state after it.
    pub state_out: State,
    /// How many chunks it consumed.
    pub chunks: u64,
}

impl SegmentStatement {
    /// The JSON form stored as a task's statement.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Parses [`SegmentStatement::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(bytes)
    }
}
