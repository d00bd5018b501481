//! Entry points for the fuzz targets in `fuzz/fuzz_targets/miden_*.rs` and for the corpus
//! replay in `tests/fuzz_corpus.rs`: each takes arbitrary bytes, runs the code that reads such
//! bytes in the pool, and must never panic, whatever it is given.
//!
//! Not a stable API: it exists so that the fuzzer and `cargo test` run exactly the same code.

use std::sync::OnceLock;

use miden_vm::Program;
use zkpool_backend::BackendError;

use crate::backend::verify_segment;
use crate::{
    assemble, assemble_within, execute_chunks_within, segment_rows_within, verify_chain,
    ChainProof, MidenLimits, SegmentInput, SegmentStatement, State,
};

/// `state' = hash(chunk, state)`: the program the chunk and proof targets run.
pub const HASH_CHAIN: &str = "proc step\n    adv_pushw\n    hmerge\nend\n";

/// The state the fixed statements start from.
pub const INITIAL: State = [1, 2, 3, 4];

/// The one chunk of the fixed segment statement [`split_result`] verifies proofs against.
pub const PROOF_CHUNK: [u64; 4] = [5, 6, 7, 8];

/// Limits small enough that one fuzz input costs at most a few milliseconds of execution.
pub fn tiny_limits() -> MidenLimits {
    MidenLimits {
        max_task_rows: 4096,
        max_chunk_rows: 1024,
        submit_memory_bytes: 16 << 20,
        max_chunks: 8,
        max_chunk_len: 16,
        max_program_bytes: 4096,
        max_program_ops: 4096,
    }
}

fn hash_chain() -> Option<&'static Program> {
    static PROGRAM: OnceLock<Option<Program>> = OnceLock::new();
    PROGRAM.get_or_init(|| assemble(HASH_CHAIN).ok()).as_ref()
}

/// The statement of proving [`PROOF_CHUNK`] from [`INITIAL`] with [`HASH_CHAIN`].
pub fn proof_statement() -> Option<&'static SegmentStatement> {
    static STATEMENT: OnceLock<Option<SegmentStatement>> = OnceLock::new();
    STATEMENT
        .get_or_init(|| {
            let program = hash_chain()?;
            let out =
                crate::program::run(program, INITIAL, &[PROOF_CHUNK.to_vec()], 1 << 16).ok()?;
            Some(SegmentStatement {
                program_hash: program.hash().to_hex(),
                state_in: INITIAL,
                state_out: out,
                chunks: 1,
            })
        })
        .as_ref()
}

/// A chunks artifact ([`SegmentInput`] JSON) as intake reads it under [`tiny_limits`]: decoded
/// with the count checks, then, when it decodes, executed chunk by chunk with [`HASH_CHAIN`]
/// and measured as one segment, as the node does at submit.
pub fn chunks_json(data: &[u8]) {
    let limits = tiny_limits();
    let input = match SegmentInput::from_json(data, &limits) {
        Ok(input) => input,
        Err(e) => return expect_intake_error(&e),
    };
    assert!(!input.chunks.is_empty() && input.chunks.len() <= limits.max_chunks);
    assert!(input.chunks.iter().all(|c| c.len() <= limits.max_chunk_len));
    let Some(program) = hash_chain() else {
        return;
    };
    match execute_chunks_within(program, input.state_in, &input.chunks, &limits) {
        Ok(traces) => {
            assert_eq!(traces.len(), input.chunks.len());
            let total: u64 = traces.iter().map(|t| t.cycles).sum();
            assert!(total <= limits.max_task_rows, "{total} rows accepted");
            if let Err(e) = segment_rows_within(program, input.state_in, &input.chunks, &limits) {
                expect_intake_error(&e);
            }
        }
        Err(e) => expect_intake_error(&e),
    }
}

/// A `step` source as intake reads it under [`tiny_limits`]: the byte cap and UTF-8, then
/// assembly of the segment program around it, then a bounded execution on one small chunk.
pub fn program_source(data: &[u8]) {
    let limits = tiny_limits();
    let source = match limits.check_program(data) {
        Ok(s) => s,
        Err(e) => return expect_intake_error(&e),
    };
    let program = match assemble_within(source, &limits) {
        Ok(p) => p,
        Err(e) => return expect_intake_error(&e),
    };
    let chunks = [vec![1, 2, 3, 4]];
    if let Err(e) = execute_chunks_within(&program, INITIAL, &chunks, &limits) {
        expect_intake_error(&e);
    }
}

/// What a prover delivers and what the join and the requester read: the bytes as a segment
/// proof, verified against [`proof_statement`]; and as a [`ChainProof`] result file, decoded
/// and checked (links first, then every proof).
pub fn split_result(data: &[u8]) {
    if let Some(statement) = proof_statement() {
        if let Err(e) = verify_segment(statement, data) {
            assert!(
                matches!(
                    e,
                    BackendError::MalformedProof(_) | BackendError::InvalidProof(_)
                ),
                "a proof was refused as {e}"
            );
        }
    }
    if let Ok(chain) = ChainProof::from_bytes(data) {
        let _ = verify_chain(&chain);
    }
}

/// Intake refuses bad input as malformed, unsatisfiable or over a limit; anything else (an
/// internal error) from bytes alone is a bug.
fn expect_intake_error(e: &BackendError) {
    assert!(
        matches!(
            e,
            BackendError::Malformed { .. }
                | BackendError::OverLimit { .. }
                | BackendError::WitnessUnsatisfied(_)
        ),
        "intake refused input as {e}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixed_statement_exists() {
        let st = proof_statement().unwrap();
        assert_ne!(st.state_out, INITIAL);
    }

    #[test]
    fn entry_points_take_edge_cases() {
        for data in [
            &b""[..],
            b"{}",
            b"\xff\xfe",
            br#"{"state_in":[1,2,3,4],"chunks":[[5,6,7,8]]}"#,
            HASH_CHAIN.as_bytes(),
        ] {
            chunks_json(data);
            program_source(data);
            split_result(data);
        }
    }
}
