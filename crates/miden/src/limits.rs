//! [`MidenLimits`]: how much one submission may make the node read and execute before anything
//! is proved.
//!
//! A Miden task is executed at submit, to learn its states and the cost of each chunk. Without
//! limits one upload could make that execution run for hours or build a trace of hundreds of
//! GiB. Every limit here is checked before the work it bounds: counts right after parsing,
//! cycles by the VM as it runs (it stops at the cap), trace rows by the trace builder as it
//! fills them.

use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

/// Bytes of memory one padded trace row costs while a trace is executed and built at submit
/// (execution tracer, core, chiplet and range traces, and the main trace they are copied into).
/// Measured by `measure_submit_memory_per_row` in `tests/it.rs`: the peak resident memory is
/// 0.76–0.83 KiB per padded row from 2^16 to 2^22 rows, for a hash-dominated and for a
/// cycle-dominated trace alike. Set to 2 KiB, so that [`MidenLimits::submit_trace_rows`] errs
/// on the side of building less. (Proving costs ≈ 9–16 KiB per row; that is the prover's, not
/// the node's.)
pub const SUBMIT_BYTES_PER_ROW: u64 = 2 << 10;

/// What the node lets one Miden task cost at intake. Each field is checked before the work it
/// bounds; a task past one is refused with [`BackendError::OverLimit`], which names the field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MidenLimits {
    /// Most trace rows a task may take over all its chunks: the sum of
    /// [`ChunkTrace::cycles`](crate::ChunkTrace::cycles), what the planner splits. Default
    /// 2^24: 128 segments of 2^17 rows (the node's default segment cap), ≈ 28 core-minutes of
    /// proving at ≈ 0.1 ms per row, a few minutes for a pool of provers; more is a job to
    /// submit as several tasks. Executing and tracing it at submit costs ≈ 3 µs per row, so
    /// ≈ 50 s of one core per pass at the cap.
    pub max_task_rows: u64,
    /// Most cycles, and most trace rows, one chunk may take (its one-chunk run, the loop's
    /// fixed rows included). A chunk is never cut, so it must fit in one segment with room to
    /// spare. Default 2^16, half the node's default segment cap of 2^17 rows; the execution of
    /// a chunk that loops forever stops here.
    pub max_chunk_rows: u64,
    /// Most memory one execution at submit may use to measure a trace. Default 1 GiB, which at
    /// [`SUBMIT_BYTES_PER_ROW`] allows traces of 2^19 padded rows (≈ 400 MiB measured): more
    /// than a chunk or a segment under the node's default caps takes.
    pub submit_memory_bytes: u64,
    /// Most chunks per task. Default 2^14: every chunk is executed and traced on its own at
    /// submit, ≈ 0.4 ms each even for the smallest chunk, so ≈ 6 s for the most chunks.
    pub max_chunks: usize,
    /// Most field elements per chunk. Default 2^16 (512 KiB of advice); Miden's advice stack
    /// holds 2^17 elements at most, so a segment cannot read more anyway.
    pub max_chunk_len: usize,
    /// Most bytes of `step` source. Default 1 MiB: a decision tree of depth 10 is ≈ 200 KiB.
    pub max_program_bytes: usize,
    /// Most instructions the program may stand for once every `repeat` is unrolled, which
    /// bounds what assembling it costs: 24 bytes of `repeat.1000000 nop end` take the
    /// assembler ≈ 2 s. Default 2^18, ≈ 0.6 s of assembly at worst.
    pub max_program_ops: u64,
}

impl Default for MidenLimits {
    fn default() -> Self {
        MidenLimits {
            max_task_rows: 1 << 24,
            max_chunk_rows: 1 << 16,
            submit_memory_bytes: 1 << 30,
            max_chunks: 1 << 14,
            max_chunk_len: 1 << 16,
            max_program_bytes: 1 << 20,
            max_program_ops: 1 << 18,
        }
    }
}

impl MidenLimits {
    /// Most rows one trace built at submit may take: [`MidenLimits::submit_memory_bytes`] over
    /// [`SUBMIT_BYTES_PER_ROW`], rounded down to a power of two because traces are padded to
    /// one. At least Miden's shortest trace, 64 rows.
    pub fn submit_trace_rows(&self) -> u64 {
        let rows = (self.submit_memory_bytes / SUBMIT_BYTES_PER_ROW).max(64);
        1 << rows.ilog2()
    }

    /// The `step` source as text, if it is within [`MidenLimits::max_program_bytes`].
    pub fn check_program<'a>(&self, source: &'a [u8]) -> Result<&'a str, BackendError> {
        if source.len() > self.max_program_bytes {
            return Err(BackendError::over_limit(
                ArtifactRole::Program,
                format!(
                    "the program is {} bytes, max_program_bytes is {}",
                    source.len(),
                    self.max_program_bytes
                ),
            ));
        }
        std::str::from_utf8(source)
            .map_err(|e| BackendError::malformed(ArtifactRole::Program, format!("not UTF-8: {e}")))
    }

    /// Checks chunk counts and lengths, before anything is executed: at most
    /// [`MidenLimits::max_chunks`] chunks of at most [`MidenLimits::max_chunk_len`] elements.
    pub fn check_chunks(&self, chunks: &[crate::Chunk]) -> Result<(), BackendError> {
        if chunks.len() > self.max_chunks {
            return Err(BackendError::over_limit(
                ArtifactRole::Chunks,
                format!(
                    "{} chunks, max_chunks is {}: submit it as several tasks",
                    chunks.len(),
                    self.max_chunks
                ),
            ));
        }
        if let Some((i, c)) = chunks
            .iter()
            .enumerate()
            .find(|(_, c)| c.len() > self.max_chunk_len)
        {
            return Err(BackendError::over_limit(
                ArtifactRole::Chunks,
                format!(
                    "chunk {i} has {} elements, max_chunk_len is {}",
                    c.len(),
                    self.max_chunk_len
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn submit_trace_rows_is_a_power_of_two_within_the_memory() {
        let l = MidenLimits::default();
        let rows = l.submit_trace_rows();
        assert!(rows.is_power_of_two());
        assert!(rows * SUBMIT_BYTES_PER_ROW <= l.submit_memory_bytes);
        assert!(
            rows >= l.max_chunk_rows,
            "a chunk at its cap must be measurable"
        );
        let tiny = MidenLimits {
            submit_memory_bytes: 0,
            ..l
        };
        assert_eq!(tiny.submit_trace_rows(), 64);
    }

    #[test]
    fn counts_are_checked_before_anything_runs() {
        let l = MidenLimits {
            max_chunks: 2,
            max_chunk_len: 3,
            max_program_bytes: 4,
            ..MidenLimits::default()
        };
        assert!(l.check_chunks(&[vec![1, 2, 3], vec![]]).is_ok());
        let err = l.check_chunks(&[vec![], vec![], vec![]]).unwrap_err();
        assert_eq!(err.code(), "over_limit");
        assert!(err.to_string().contains("max_chunks"), "{err}");
        let err = l.check_chunks(&[vec![], vec![0; 4]]).unwrap_err();
        assert!(err.to_string().contains("chunk 1"), "{err}");
        assert!(err.to_string().contains("max_chunk_len"), "{err}");
        assert_eq!(l.check_program(b"abcd").unwrap(), "abcd");
        let err = l.check_program(b"abcde").unwrap_err();
        assert!(err.to_string().contains("max_program_bytes"), "{err}");
        assert_eq!(
            l.check_program(&[0xff]).unwrap_err().code(),
            "malformed_artifact"
        );
    }
}
