//! The segment program: the requester's `step` wrapped in a loop over chunks, its inputs, and
//! execution without proving.

use miden_vm::advice::{AdviceInputs, AdviceStackBuilder};
use miden_vm::trace::build_trace;
use miden_vm::{
    execute_sync, Assembler, DefaultHost, ExecutionOptions, FastProcessor, Program, StackInputs,
    StackOutputs,
};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::{Chunk, State};

/// Wraps `step` in the loop every segment runs.
///
/// Operand stack on entry: `[n, STATE]` (`n` chunks to consume, the state word below it); on
/// exit: `[STATE', 0, …]`. `step` must turn `[STATE]` into `[STATE']`, reading its chunk from
/// the advice stack and leaving nothing else behind.
pub fn segment_source(step_source: &str) -> String {
    format!(
        "{step_source}

begin
    dup neq.0
    while.true
        movdn.4
        exec.step
        movup.4 sub.1
        dup neq.0
    end
    drop
end
"
    )
}

/// Assembles the segment program around `step_source`. A source that does not assemble (or
/// defines no `step`) is [`BackendError::Malformed`] for [`ArtifactRole::Program`].
pub fn assemble(step_source: &str) -> Result<Program, BackendError> {
    Assembler::default()
        .assemble_program(segment_source(step_source))
        .map_err(|e| BackendError::malformed(ArtifactRole::Program, format!("{e}")))
}

/// The state after one chunk and what the chunk costs to prove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkTrace {
    /// The state after this chunk.
    pub state: State,
    /// Trace rows this chunk adds: the rows (longest of the main, chiplet and range traces,
    /// before padding) of a one-chunk run less those of an empty run. A segment's rows are
    /// about [`segment_rows`] of no chunks plus the sum over its chunks.
    pub cycles: u64,
}

/// Runs `program` over `chunks` one chunk at a time from `initial`, without proving: the
/// states at every chunk boundary (where a segment may start) and each chunk's cost.
///
/// A chunk that makes the program fail, that leaves advice unread, that leaves the state
/// unchanged, or after which the stack holds more than the state is [`BackendError::WitnessUnsatisfied`] naming the chunk; a
/// non-canonical element is [`BackendError::Malformed`].
pub fn execute_chunks(
    program: &Program,
    initial: State,
    chunks: &[Chunk],
) -> Result<Vec<ChunkTrace>, BackendError> {
    // The loop's fixed rows, measured once, so that per-chunk costs add up to a segment's.
    let overhead = trace_rows(program, initial, &[]).map_err(BackendError::WitnessUnsatisfied)?;
    let mut state = initial;
    let mut total = 0u64;
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let one = std::slice::from_ref(chunk);
        let next = run(program, state, one).map_err(|e| at_chunk(i, e))?;
        if next == state {
            return Err(BackendError::WitnessUnsatisfied(format!(
                "chunk {i}: the state did not change, so the chunk is not bound into the result"
            )));
        }
        let cycles = trace_rows(program, state, one).map_err(|e| at_chunk(i, e))?;
        total = total.saturating_add(cycles);
        if total > TASK_ROWS {
            return Err(BackendError::malformed(
                ArtifactRole::Chunks,
                format!(
                    "the task runs past {TASK_ROWS} trace rows at chunk {i}: submit it as several tasks"
                ),
            ));
        }
        state = next;
        out.push(ChunkTrace {
            state,
            cycles: cycles.saturating_sub(overhead).max(1),
        });
    }
    Ok(out)
}

/// Trace rows of proving `chunks` from `state_in` as one segment, before padding: the
/// longest of the main, chiplet and range traces. The prover pads this to a power of two.
pub fn segment_rows(
    program: &Program,
    state_in: State,
    chunks: &[Chunk],
) -> Result<u64, BackendError> {
    trace_rows(program, state_in, chunks).map_err(BackendError::WitnessUnsatisfied)
}

/// Executes the segment program on `chunks` from `state_in` and returns `state_out`, checking
/// that every advice element was read and the stack holds only the state.
pub(crate) fn run(program: &Program, state_in: State, chunks: &[Chunk]) -> Result<State, String> {
    let output = execute_sync(
        program,
        stack_inputs(state_in, chunks.len())?,
        advice_inputs(chunks)?,
        &mut DefaultHost::default(),
        budget(chunks.len())?,
    )
    .map_err(|e| format!("execution failed: {e}"))?;
    let unread = output.advice.stack().len();
    if unread > 0 {
        return Err(format!(
            "{unread} advice elements left unread (chunk longer than `step` reads)"
        ));
    }
    state_from_outputs(&output.stack)
}

fn trace_rows(program: &Program, state_in: State, chunks: &[Chunk]) -> Result<u64, String> {
    let processor = FastProcessor::new_with_options(
        stack_inputs(state_in, chunks.len())?,
        advice_inputs(chunks)?,
        budget(chunks.len())?,
    )
    .map_err(|e| format!("advice: {e}"))?;
    let inputs = processor
        .execute_trace_inputs_sync(program, &mut DefaultHost::default())
        .map_err(|e| format!("execution failed: {e}"))?;
    let trace = build_trace(inputs).map_err(|e| format!("trace: {e}"))?;
    Ok(trace.trace_len_summary().trace_len() as u64)
}

/// Most cycles one chunk may run. A chunk this long could not be proved on any machine a pool
/// has (≈ 90k cycles already take GiBs), so stopping there bounds what one submission costs
/// the node before anything is proved.
pub const CHUNK_CYCLES: u32 = 1 << 22;

/// Most trace rows one task may take, over all its chunks (2,048 segments of 2^17 rows): the
/// execution at submit stops there.
pub const TASK_ROWS: u64 = 1 << 28;

/// Miden's shortest trace (`miden_air::trace::MIN_TRACE_LEN`).
const MIN_TRACE_LEN: u32 = 64;

/// Execution options allowing [`CHUNK_CYCLES`] per chunk (at least Miden's minimum trace).
fn budget(chunks: usize) -> Result<ExecutionOptions, String> {
    let cycles = (chunks.max(1) as u64)
        .saturating_mul(u64::from(CHUNK_CYCLES))
        .min(u64::from(ExecutionOptions::MAX_CYCLES)) as u32;
    ExecutionOptions::new(
        Some(cycles),
        MIN_TRACE_LEN,
        ExecutionOptions::DEFAULT_CORE_TRACE_FRAGMENT_SIZE,
        false,
        false,
    )
    .map_err(|e| format!("execution options: {e}"))
}

fn at_chunk(i: usize, reason: String) -> BackendError {
    if reason.starts_with("chunk element") {
        BackendError::malformed(ArtifactRole::Chunks, format!("chunk {i}: {reason}"))
    } else {
        BackendError::WitnessUnsatisfied(format!("chunk {i}: {reason}"))
    }
}

/// The public inputs: `[n, STATE]`, `n` on top.
pub(crate) fn stack_inputs(state: State, n: usize) -> Result<StackInputs, String> {
    let mut values = vec![felt(n as u64)?];
    for v in state {
        values.push(felt(v)?);
    }
    StackInputs::new(&values).map_err(|e| format!("stack inputs: {e}"))
}

/// The public outputs: `[STATE', 0, …]`, all 16 stack elements.
pub(crate) fn stack_outputs(state: State) -> Result<StackOutputs, String> {
    let mut values = Vec::with_capacity(16);
    for v in state {
        values.push(felt(v)?);
    }
    values.resize(16, felt(0)?);
    StackOutputs::new(&values).map_err(|e| format!("stack outputs: {e}"))
}

/// The state a run ended in, or why the stack holds more than the state.
pub(crate) fn state_from_outputs(outputs: &StackOutputs) -> Result<State, String> {
    let top = outputs.get_num_elements(16);
    if top.len() < 4 {
        return Err("fewer than 4 elements on the final stack".into());
    }
    if top[4..].iter().any(|f| f.as_canonical_u64() != 0) {
        return Err("`step` left values on the stack besides the state".into());
    }
    let mut state = [0u64; 4];
    for (s, f) in state.iter_mut().zip(top) {
        *s = f.as_canonical_u64();
    }
    Ok(state)
}

/// The chunks as the advice stack, consumed in order (chunk 0's first element first).
pub(crate) fn advice_inputs(chunks: &[Chunk]) -> Result<AdviceInputs, String> {
    let mut builder = AdviceStackBuilder::new();
    for chunk in chunks {
        for &v in chunk {
            builder.push_element(felt(v)?);
        }
    }
    Ok(builder.build())
}

fn felt(v: u64) -> Result<miden_core::Felt, String> {
    miden_core::Felt::new(v)
        .map_err(|_| format!("chunk element {v} is not a canonical field element"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trace components against chunk count, to see which lengths add up per chunk.
    #[test]
    #[ignore = "measurement"]
    fn print_trace_components() {
        let d = crate::iris::iris().unwrap();
        let t = crate::tree::DecisionTree::train(&d.features, &d.labels, 4);
        let program = assemble(&t.step_source()).unwrap();
        let chunks = crate::tree::DecisionTree::chunks(&d.features);
        for n in [0usize, 1, 2, 4, 16, 64] {
            let processor = FastProcessor::new_with_options(
                stack_inputs([1, 2, 3, 4], n).unwrap(),
                advice_inputs(&chunks[..n]).unwrap(),
                ExecutionOptions::default(),
            )
            .unwrap();
            let inputs = processor
                .execute_trace_inputs_sync(&program, &mut DefaultHost::default())
                .unwrap();
            let trace = build_trace(inputs).unwrap();
            let s = trace.trace_len_summary();
            let c = s.chiplets_trace_len();
            println!(
                "n={n:3} main={} range={} chiplets={} (hash {} bitwise {} memory {} ace {} kernel {})",
                s.main_trace_len(),
                s.range_trace_len(),
                c.trace_len(),
                c.hash_chiplet_len(),
                c.bitwise_chiplet_len(),
                c.memory_chiplet_len(),
                c.ace_chiplet_len(),
                c.kernel_rom_len()
            );
        }
    }

    #[test]
    fn a_program_without_step_is_malformed() {
        let err = assemble("proc other\n    nop\nend").unwrap_err();
        assert!(matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Program,
                ..
            }
        ));
    }

    #[test]
    fn outputs_round_trip_through_the_state() {
        let s = [1, 2, 3, u64::from(u32::MAX)];
        assert_eq!(state_from_outputs(&stack_outputs(s).unwrap()), Ok(s));
    }

    #[test]
    fn non_canonical_elements_are_refused() {
        assert!(advice_inputs(&[vec![u64::MAX]]).is_err());
        assert!(stack_inputs([u64::MAX, 0, 0, 0], 1).is_err());
    }
}
