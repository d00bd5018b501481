//! Why a plan could not be made.

/// A planning request that has no valid plan.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// The trace has no chunks: there is nothing to prove.
    #[error("no chunks to plan")]
    NoChunks,
    /// No prover is available, so no segment can fit anywhere.
    #[error("no provers to plan for")]
    NoProvers,
    /// A target of zero segments was asked for.
    #[error("target segment count must be at least 1")]
    ZeroTarget,
    /// One chunk alone exceeds what a segment may hold; chunks are never split, so the task
    /// cannot be proved by these provers.
    #[error(
        "chunk {chunk} needs {cycles} cycles but a segment holds at most {limit_cycles} \
         (largest prover memory and max cycles per segment)"
    )]
    ChunkTooLarge {
        /// Index of the chunk in the trace.
        chunk: usize,
        /// Its cycle count.
        cycles: u64,
        /// The most cycles one segment may hold.
        limit_cycles: u64,
    },
}
