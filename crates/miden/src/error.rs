//! Why a joined result is refused.

use zkpool_backend::BackendError;

use crate::State;

/// A chain of segment proofs that does not prove its statement. Each variant that concerns one
/// segment names it, so the node can re-prove just that segment.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The result bytes are not a chain proof.
    #[error("malformed chain proof: {0}")]
    Malformed(String),
    /// The chain has no segments.
    #[error("chain proof has no segments")]
    Empty,
    /// A segment proves another program.
    #[error("segment {segment} proves program {found}, not {expected}")]
    WrongProgram {
        /// Which segment.
        segment: usize,
        /// The chain's program hash.
        expected: String,
        /// The segment's.
        found: String,
    },
    /// A segment does not start where the chain says it must: from the initial state for the
    /// first, from the previous segment's output for the others.
    #[error("segment {segment} starts from {found:?}, but {from} is {expected:?}")]
    BrokenChain {
        /// Which segment.
        segment: usize,
        /// Where its input must come from, in words.
        from: String,
        /// The state it must start from.
        expected: State,
        /// The state it starts from.
        found: State,
    },
    /// The last segment does not end in the claimed output.
    #[error("segment {segment} ends in {found:?}, not the claimed output {expected:?}")]
    OutputMismatch {
        /// The last segment.
        segment: usize,
        /// The claimed output.
        expected: State,
        /// Its output.
        found: State,
    },
    /// The segments together do not consume the task's chunks.
    #[error("segments cover {found} chunks, the task has {expected}")]
    ChunkCount {
        /// The task's chunk count.
        expected: u64,
        /// The sum over segments.
        found: u64,
    },
    /// A segment's proof is unreadable or does not verify for its statement.
    #[error("segment {segment} refused: {source}")]
    SegmentRefused {
        /// Which segment.
        segment: usize,
        /// Why.
        #[source]
        source: BackendError,
    },
}

impl ChainError {
    /// The segment at fault, when one is.
    pub fn segment(&self) -> Option<usize> {
        match self {
            ChainError::WrongProgram { segment, .. }
            | ChainError::BrokenChain { segment, .. }
            | ChainError::OutputMismatch { segment, .. }
            | ChainError::SegmentRefused { segment, .. } => Some(*segment),
            ChainError::Malformed(_) | ChainError::Empty | ChainError::ChunkCount { .. } => None,
        }
    }
}
