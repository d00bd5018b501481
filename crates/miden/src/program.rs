//! Executing the segment program without proving: the states at chunk boundaries, what each
//! chunk costs, and the program's inputs and outputs.

use miden_vm::advice::{AdviceInputs, AdviceStackBuilder};
use miden_vm::trace::build_trace_with_max_len;
use miden_vm::{
    DefaultHost, ExecutionError, ExecutionOptions, FastProcessor, Program, StackInputs,
    StackOutputs,
};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::{Chunk, MidenLimits, State};

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

/// [`execute_chunks_within`] under [`MidenLimits::default`].
pub fn execute_chunks(
    program: &Program,
    initial: State,
    chunks: &[Chunk],
) -> Result<Vec<ChunkTrace>, BackendError> {
    execute_chunks_within(program, initial, chunks, &MidenLimits::default())
}

/// Runs `program` over `chunks` one chunk at a time from `initial`, without proving: the
/// states at every chunk boundary (where a segment may start) and each chunk's cost.
///
/// A chunk that makes the program fail, that leaves advice unread, that leaves the state
/// unchanged, or after which the stack holds more than the state is
/// [`BackendError::WitnessUnsatisfied`] naming the chunk; a non-canonical element is
/// [`BackendError::Malformed`]. Past `limits` it is [`BackendError::OverLimit`]: too many or
/// too long chunks before anything runs; a chunk past [`MidenLimits::max_chunk_rows`], or the
/// chunk at which the task passes [`MidenLimits::max_task_rows`], as soon as its execution
/// reaches the cap (each chunk runs with the cycles it has left, never to completion first).
pub fn execute_chunks_within(
    program: &Program,
    initial: State,
    chunks: &[Chunk],
    limits: &MidenLimits,
) -> Result<Vec<ChunkTrace>, BackendError> {
    limits.check_chunks(chunks)?;
    let memory_rows = limits.submit_trace_rows();
    // The loop's fixed rows, measured once, so that per-chunk costs add up to a segment's.
    let overhead = trace_rows(program, initial, &[], limits.max_chunk_rows, memory_rows)
        .map_err(|f| f.at("the empty run"))?;
    let mut state = initial;
    let mut left = limits.max_task_rows;
    let mut out = Vec::with_capacity(chunks.len());
    for (i, chunk) in chunks.iter().enumerate() {
        let one = std::slice::from_ref(chunk);
        // Rows of this one-chunk run, loop included, past which it is refused.
        let task_cap = overhead.saturating_add(left);
        let cap = limits.max_chunk_rows.min(task_cap);
        let over = |rows: Option<u64>| over_cap(i, rows, limits, cap < limits.max_chunk_rows);
        let next = match run(program, state, one, cap) {
            Err(Fail::OverLimit(_)) => return Err(over(None)),
            r => r.map_err(|f| f.at(&format!("chunk {i}")))?,
        };
        if next == state {
            return Err(BackendError::WitnessUnsatisfied(format!(
                "chunk {i}: the state did not change, so the chunk is not bound into the result"
            )));
        }
        let rows = match trace_rows(program, state, one, cap, memory_rows) {
            Err(Fail::OverLimit(_)) if cap > memory_rows => {
                return Err(BackendError::over_limit(
                    ArtifactRole::Chunks,
                    format!(
                        "chunk {i} needs a trace of more than {memory_rows} rows, more than \
                         submit_memory_bytes {} allows",
                        limits.submit_memory_bytes
                    ),
                ))
            }
            Err(Fail::OverLimit(_)) => return Err(over(None)),
            r => r.map_err(|f| f.at(&format!("chunk {i}")))?,
        };
        if rows > cap {
            return Err(over(Some(rows)));
        }
        let cost = rows.saturating_sub(overhead).max(1);
        if cost > left {
            return Err(over(Some(rows)));
        }
        left -= cost;
        state = next;
        out.push(ChunkTrace {
            state,
            cycles: cost,
        });
    }
    Ok(out)
}

/// The refusal of chunk `i` at `cap`: the task's rows when the task's remainder set the cap,
/// else the chunk's own cap.
fn over_cap(i: usize, rows: Option<u64>, limits: &MidenLimits, task: bool) -> BackendError {
    let took = rows.map_or_else(
        || "its execution ran past the cap".to_string(),
        |r| format!("its one-chunk run takes {r} rows"),
    );
    let reason = if task {
        format!(
            "the task passes max_task_rows {} at chunk {i} ({took}): submit it as several tasks",
            limits.max_task_rows
        )
    } else {
        format!(
            "chunk {i} passes max_chunk_rows {} ({took}): use smaller chunks",
            limits.max_chunk_rows
        )
    };
    BackendError::over_limit(ArtifactRole::Chunks, reason)
}

/// [`segment_rows_within`] under [`MidenLimits::default`].
pub fn segment_rows(
    program: &Program,
    state_in: State,
    chunks: &[Chunk],
) -> Result<u64, BackendError> {
    segment_rows_within(program, state_in, chunks, &MidenLimits::default())
}

/// Trace rows of proving `chunks` from `state_in` as one segment, before padding: the
/// longest of the main, chiplet and range traces. The prover pads this to a power of two.
///
/// The trace is built to be measured, so a segment whose trace would not fit in
/// [`MidenLimits::submit_memory_bytes`] is [`BackendError::OverLimit`]; the execution and the
/// trace builder both stop at that many rows.
pub fn segment_rows_within(
    program: &Program,
    state_in: State,
    chunks: &[Chunk],
    limits: &MidenLimits,
) -> Result<u64, BackendError> {
    limits.check_chunks(chunks)?;
    let memory_rows = limits.submit_trace_rows();
    match trace_rows(program, state_in, chunks, memory_rows, memory_rows) {
        Err(Fail::OverLimit(e)) => Err(BackendError::over_limit(
            ArtifactRole::Chunks,
            format!(
                "a segment of {} chunks needs a trace of more than {memory_rows} rows, more than \
                 submit_memory_bytes {} allows ({e})",
                chunks.len(),
                limits.submit_memory_bytes
            ),
        )),
        r => r.map_err(|f| f.at("the segment")),
    }
}

/// Why one execution was refused, before it is put in terms of a chunk.
#[derive(Debug)]
pub(crate) enum Fail {
    /// An input element is not a field element.
    Malformed(String),
    /// The program failed, or ended in a state that is not a clean output.
    Unsatisfied(String),
    /// The execution reached its cycle cap, or the trace its row cap.
    OverLimit(String),
}

impl Fail {
    fn at(self, what: &str) -> BackendError {
        match self {
            Fail::Malformed(e) => {
                BackendError::malformed(ArtifactRole::Chunks, format!("{what}: {e}"))
            }
            Fail::Unsatisfied(e) => BackendError::WitnessUnsatisfied(format!("{what}: {e}")),
            Fail::OverLimit(e) => {
                BackendError::over_limit(ArtifactRole::Chunks, format!("{what}: {e}"))
            }
        }
    }

    fn execution(e: ExecutionError) -> Fail {
        match e {
            ExecutionError::CycleLimitExceeded(_) | ExecutionError::TraceLenExceeded(_) => {
                Fail::OverLimit(e.to_string())
            }
            e => Fail::Unsatisfied(format!("execution failed: {e}")),
        }
    }
}

/// Executes the segment program on `chunks` from `state_in`, at most `max_cycles` cycles, and
/// returns `state_out`, checking that every advice element was read and the stack holds only
/// the state. No trace is recorded, so memory stays that of the VM's state.
pub(crate) fn run(
    program: &Program,
    state_in: State,
    chunks: &[Chunk],
    max_cycles: u64,
) -> Result<State, Fail> {
    let output = FastProcessor::new_with_options(
        stack_inputs(state_in, chunks.len()).map_err(Fail::Malformed)?,
        advice_inputs(chunks).map_err(Fail::Malformed)?,
        options(max_cycles, max_cycles)?,
    )
    .map_err(|e| Fail::Unsatisfied(format!("advice: {e}")))?
    .execute_sync(program, &mut DefaultHost::default())
    .map_err(Fail::execution)?;
    let unread = output.advice.stack().len();
    if unread > 0 {
        return Err(Fail::Unsatisfied(format!(
            "{unread} advice elements left unread (chunk longer than `step` reads)"
        )));
    }
    state_from_outputs(&output.stack).map_err(Fail::Unsatisfied)
}

/// Rows of the trace of `chunks` from `state_in`, executing at most `max_cycles` cycles and
/// building at most `max_rows` rows (the trace builder stops there, so this is also the
/// memory bound: see [`MidenLimits::submit_trace_rows`]).
fn trace_rows(
    program: &Program,
    state_in: State,
    chunks: &[Chunk],
    max_cycles: u64,
    max_rows: u64,
) -> Result<u64, Fail> {
    let processor = FastProcessor::new_with_options(
        stack_inputs(state_in, chunks.len()).map_err(Fail::Malformed)?,
        advice_inputs(chunks).map_err(Fail::Malformed)?,
        options(max_cycles.min(max_rows), max_rows)?,
    )
    .map_err(|e| Fail::Unsatisfied(format!("advice: {e}")))?;
    let inputs = processor
        .execute_trace_inputs_sync(program, &mut DefaultHost::default())
        .map_err(Fail::execution)?;
    let max_rows = usize::try_from(max_rows).unwrap_or(usize::MAX);
    let trace = build_trace_with_max_len(inputs, max_rows).map_err(Fail::execution)?;
    Ok(trace.trace_len_summary().trace_len() as u64)
}

/// Miden's shortest trace (`miden_air::trace::MIN_TRACE_LEN`).
const MIN_TRACE_LEN: u32 = 64;

/// Execution options stopping after `max_cycles` (at least Miden's minimum trace), with core
/// trace fragments small enough that the trace builder's row check, which counts whole
/// fragments, does not refuse a trace well within `max_rows`.
fn options(max_cycles: u64, max_rows: u64) -> Result<ExecutionOptions, Fail> {
    let cycles = max_cycles.clamp(
        u64::from(MIN_TRACE_LEN),
        u64::from(ExecutionOptions::MAX_CYCLES),
    ) as u32;
    let fragment = ExecutionOptions::DEFAULT_CORE_TRACE_FRAGMENT_SIZE
        .min(usize::try_from(max_rows / 16).unwrap_or(usize::MAX))
        .max(16);
    ExecutionOptions::new(Some(cycles), MIN_TRACE_LEN, fragment, false, false)
        .map_err(|e| Fail::Unsatisfied(format!("execution options: {e}")))
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
    use crate::assemble;

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
            let trace = miden_vm::trace::build_trace(inputs).unwrap();
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
