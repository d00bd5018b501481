//! End-to-end: execute a chunked program, plan segments, prove each through the backend, join,
//! verify the result; and the ways a result must be refused.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::OnceLock;
use std::time::Instant;

use miden_core::crypto::hash::Poseidon2;
use miden_core::{Felt, Word};
use zkpool_backend::{Artifacts, BackendError, Blob, ProofArtifact, ProofBackend};
use zkpool_miden::tree::DecisionTree;
use zkpool_miden::{
    assemble, execute_chunks, execute_chunks_within, join, segment_rows_within, verify_chain,
    verify_result, ChainError, ChainProof, ChainStatement, Chunk, MidenBackend, MidenLimits,
    SegmentInput, SegmentStatement, State,
};
use zkpool_planner::{plan, MemoryModel, PlanRequest};
use zkpool_types::{ArtifactRole, ProofSystem};

/// state' = hash(chunk, state): the smallest useful chunk program.
const HASH_CHAIN: &str = "proc step\n    adv_pushw\n    hmerge\nend\n";
const INITIAL: State = [1, 2, 3, 4];

fn hash_chunks(n: u64) -> Vec<Chunk> {
    (0..n).map(|i| vec![i, i + 100, i + 200, i + 300]).collect()
}

fn artifacts(source: &str, state_in: State, chunks: &[Chunk]) -> Artifacts {
    let mut a = Artifacts::default();
    a.insert(ArtifactRole::Program, Blob::new(source.as_bytes().to_vec()));
    let input = SegmentInput {
        state_in,
        chunks: chunks.to_vec(),
    };
    a.insert(
        ArtifactRole::Chunks,
        Blob::new(serde_json::to_vec(&input).unwrap()),
    );
    a
}

fn native_hash_chain(initial: State, chunks: &[Chunk]) -> State {
    let word = |v: &[u64]| Word::new([0, 1, 2, 3].map(|i| Felt::new(v[i]).unwrap()));
    chunks.iter().fold(initial, |s, c| {
        let out = Poseidon2::merge(&[word(c), word(&s)]);
        [0, 1, 2, 3].map(|i| out[i].as_canonical_u64())
    })
}

/// A task split by the planner, every segment proved: shared by the tests that tamper with it.
struct Split {
    statement: ChainStatement,
    segments: Vec<(SegmentStatement, ProofArtifact)>,
}

/// Executes once, plans three segments, proves each through the backend.
fn prove_split(source: &str, initial: State, chunks: &[Chunk], provers: usize) -> Split {
    let backend = MidenBackend::default();
    let program = assemble(source).unwrap();
    let traces = execute_chunks(&program, initial, chunks).unwrap();
    let cycles: Vec<u64> = traces.iter().map(|t| t.cycles).collect();
    let p = plan(&PlanRequest {
        chunk_cycles: &cycles,
        prover_memory: &vec![16 << 30; provers],
        memory: MemoryModel::MIDEN,
        target_segments: provers,
        max_cycles_per_segment: u64::MAX,
    })
    .unwrap();
    let mut segments = Vec::new();
    for seg in &p.segments {
        let state_in = match seg.chunks.start {
            0 => initial,
            i => traces[i - 1].state,
        };
        let a = artifacts(source, state_in, &chunks[seg.chunks.clone()]);
        let shape = backend.inspect(&a).unwrap();
        let statement = SegmentStatement::from_bytes(&shape.statement).unwrap();
        assert_eq!(statement.state_out, traces[seg.chunks.end - 1].state);
        let proof = backend.prove(&a).unwrap();
        backend.verify(&a, &shape.statement, &proof).unwrap();
        segments.push((statement, proof));
    }
    Split {
        statement: ChainStatement {
            program_hash: program.hash().to_hex(),
            initial_state: initial,
            claimed_output: traces.last().unwrap().state,
            chunks: chunks.len() as u64,
        },
        segments,
    }
}

fn hash_split() -> &'static Split {
    static SPLIT: OnceLock<Split> = OnceLock::new();
    SPLIT.get_or_init(|| prove_split(HASH_CHAIN, INITIAL, &hash_chunks(6), 3))
}

fn chain(split: &Split) -> ChainProof {
    ChainProof::from_bytes(
        &join(split.statement.clone(), split.segments.clone())
            .unwrap()
            .to_bytes(),
    )
    .unwrap()
}

#[test]
fn execution_matches_a_native_hash_chain() {
    let chunks = hash_chunks(5);
    let traces = execute_chunks(&assemble(HASH_CHAIN).unwrap(), INITIAL, &chunks).unwrap();
    assert_eq!(traces.len(), 5);
    for (i, t) in traces.iter().enumerate() {
        assert_eq!(
            t.state,
            native_hash_chain(INITIAL, &chunks[..=i]),
            "chunk {i}"
        );
        assert!(t.cycles > 0);
    }
}

#[test]
fn a_split_task_joins_and_verifies_in_one_call() {
    let split = hash_split();
    assert_eq!(split.segments.len(), 3);
    let bytes = join(split.statement.clone(), split.segments.clone())
        .unwrap()
        .to_bytes();
    let proved = verify_result(&bytes).unwrap();
    assert_eq!(proved, split.statement);
    assert_eq!(
        proved.claimed_output,
        native_hash_chain(INITIAL, &hash_chunks(6))
    );
}

#[test]
fn backend_names_its_system_and_measures_work() {
    let b = MidenBackend::default();
    assert_eq!(b.system(), ProofSystem::MidenVm);
    let shape = b
        .inspect(&artifacts(HASH_CHAIN, INITIAL, &hash_chunks(2)))
        .unwrap();
    let program = assemble(HASH_CHAIN).unwrap();
    let traces = execute_chunks(&program, INITIAL, &hash_chunks(2)).unwrap();
    let empty = zkpool_miden::segment_rows(&program, INITIAL, &[]).unwrap();
    // Per-chunk costs add up to the segment's rows, give or take the traces' max().
    let sum: u64 = empty + traces.iter().map(|t| t.cycles).sum::<u64>();
    assert!(
        shape.work > empty && shape.work <= sum,
        "{} vs {sum}",
        shape.work
    );
    assert!(shape.prove_memory_bytes >= MemoryModel::MIDEN.estimate(shape.work));
}

#[test]
fn a_program_that_does_not_assemble_is_malformed() {
    let b = MidenBackend::default();
    let err = b
        .inspect(&artifacts(
            "proc step\n    not_an_instruction\nend\n",
            INITIAL,
            &hash_chunks(1),
        ))
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Program,
                ..
            }
        ),
        "{err}"
    );
    let err = b
        .prove(&artifacts("begin end", INITIAL, &hash_chunks(1)))
        .unwrap_err();
    assert_eq!(err.code(), "malformed_artifact");
}

#[test]
fn a_chunk_that_makes_the_program_fail_is_named() {
    let program = assemble(HASH_CHAIN).unwrap();
    let mut chunks = hash_chunks(4);
    chunks[2].truncate(2); // `adv_pushw` runs out of advice.
    let err = execute_chunks(&program, INITIAL, &chunks).unwrap_err();
    assert!(matches!(err, BackendError::WitnessUnsatisfied(_)), "{err}");
    assert!(err.to_string().contains("chunk 2"), "{err}");

    let mut chunks = hash_chunks(4);
    chunks[1].push(9); // One element more than `step` reads.
    let err = execute_chunks(&program, INITIAL, &chunks).unwrap_err();
    assert!(err.to_string().contains("chunk 1"), "{err}");
    assert!(err.to_string().contains("unread"), "{err}");

    // An assertion on the chunk's content: chunk 3 is not below 3.
    let asserting = "proc step\n    adv_push lt.3 assert\n    adv_push drop adv_push drop adv_push drop\n    padw hmerge\nend\n";
    let program = assemble(asserting).unwrap();
    let err = execute_chunks(&program, INITIAL, &hash_chunks(4)).unwrap_err();
    assert!(err.to_string().contains("chunk 3"), "{err}");
    let err = MidenBackend::default()
        .prove(&artifacts(asserting, INITIAL, &hash_chunks(4)))
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
}

#[test]
fn non_canonical_and_empty_chunks_are_malformed() {
    let b = MidenBackend::default();
    let err = b
        .inspect(&artifacts(HASH_CHAIN, INITIAL, &[vec![u64::MAX, 0, 0, 0]]))
        .unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Chunks,
                ..
            }
        ),
        "{err}"
    );
    let err = b.inspect(&artifacts(HASH_CHAIN, INITIAL, &[])).unwrap_err();
    assert!(
        matches!(
            err,
            BackendError::Malformed {
                role: ArtifactRole::Chunks,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn a_proof_does_not_verify_for_another_statement() {
    let split = hash_split();
    let (st, proof) = &split.segments[1];
    let b = MidenBackend::default();
    let a = artifacts(HASH_CHAIN, st.state_in, &[]);
    let mut forged = st.clone();
    forged.state_out[0] ^= 1;
    let err = b.verify(&a, &forged.to_bytes(), proof).unwrap_err();
    assert!(matches!(err, BackendError::InvalidProof(_)), "{err}");

    let mut forged = st.clone();
    forged.chunks += 1;
    let err = b.verify(&a, &forged.to_bytes(), proof).unwrap_err();
    assert!(matches!(err, BackendError::InvalidProof(_)), "{err}");

    let err = b
        .verify(&a, &st.to_bytes(), &ProofArtifact(vec![1, 2, 3]))
        .unwrap_err();
    assert!(matches!(err, BackendError::MalformedProof(_)), "{err}");

    // The statement names another program than the artifact.
    let other = artifacts(
        "proc step\n    adv_pushw\n    hmerge\n    nop\nend\n",
        st.state_in,
        &[],
    );
    let err = b.verify(&other, &st.to_bytes(), proof).unwrap_err();
    assert!(matches!(err, BackendError::Mismatch(_)), "{err}");
}

#[test]
fn a_proof_for_the_wrong_segment_is_refused_by_name() {
    let split = hash_split();

    // Segment 1's proof delivered in place of segment 2.
    let mut segs = split.segments.clone();
    segs[2] = segs[1].clone();
    let err = join(split.statement.clone(), segs).unwrap_err();
    assert!(
        matches!(err, ChainError::BrokenChain { segment: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("segment 2"), "{err}");

    // Segments out of order.
    let mut segs = split.segments.clone();
    segs.swap(0, 1);
    let err = join(split.statement.clone(), segs).unwrap_err();
    assert_eq!(err.segment(), Some(0), "{err}");

    // A segment missing at the end.
    let mut segs = split.segments.clone();
    segs.pop();
    let err = join(split.statement.clone(), segs).unwrap_err();
    assert!(
        matches!(err, ChainError::OutputMismatch { segment: 1, .. }),
        "{err}"
    );

    // A claimed output the chain does not reach.
    let mut st = split.statement.clone();
    st.claimed_output = INITIAL;
    let err = join(st, split.segments.clone()).unwrap_err();
    assert!(
        matches!(err, ChainError::OutputMismatch { segment: 2, .. }),
        "{err}"
    );

    assert!(matches!(
        join(split.statement.clone(), vec![]).unwrap_err(),
        ChainError::Empty
    ));
}

#[test]
fn a_chain_with_a_forged_link_is_refused_by_its_proof() {
    let split = hash_split();
    // Rewrite segment 1's output and segment 2's input consistently: the links hold, but
    // segment 1's proof does not prove the new output.
    let mut c = chain(split);
    let fake = [7, 7, 7, 7];
    c.segments[1].statement.state_out = fake;
    c.segments[2].statement.state_in = fake;
    let err = verify_chain(&c).unwrap_err();
    assert!(
        matches!(
            err,
            ChainError::SegmentRefused {
                segment: 1,
                source: BackendError::InvalidProof(_)
            }
        ),
        "{err}"
    );

    let mut c = chain(split);
    c.segments[0].proof = "zz".into();
    let err = verify_chain(&c).unwrap_err();
    assert!(
        matches!(err, ChainError::SegmentRefused { segment: 0, .. }),
        "{err}"
    );

    let mut c = chain(split);
    c.statement.chunks += 1;
    assert!(matches!(
        verify_chain(&c).unwrap_err(),
        ChainError::ChunkCount { .. }
    ));

    let mut c = chain(split);
    c.segments[1].statement.program_hash = "0x00".into();
    let err = verify_chain(&c).unwrap_err();
    assert!(
        matches!(err, ChainError::WrongProgram { segment: 1, .. }),
        "{err}"
    );

    assert!(matches!(
        verify_result(b"{not json").unwrap_err(),
        ChainError::Malformed(_)
    ));
}

#[test]
fn decision_tree_predictions_are_proved_in_four_segments() {
    let tree = DecisionTree::generate(4, 42);
    let samples: Vec<[u32; 4]> = (0..8u32)
        .map(|i| [i * 37 % 256, i * 91 % 256, i * 13 % 256, i * 201 % 256])
        .collect();
    let source = tree.step_source();
    let chunks = DecisionTree::chunks(&samples);

    // Execution agrees with native evaluation at every chunk boundary.
    let traces = execute_chunks(&assemble(&source).unwrap(), INITIAL, &chunks).unwrap();
    for (i, t) in traces.iter().enumerate() {
        assert_eq!(t.state, tree.commit(INITIAL, &samples[..=i]), "sample {i}");
    }
    // The samples reach more than one leaf, so the comparison exercises the branches.
    let classes: std::collections::BTreeSet<u32> =
        samples.iter().map(|s| tree.predict(s)).collect();
    assert!(classes.len() > 1, "{classes:?}");

    let split = prove_split(&source, INITIAL, &chunks, 4);
    assert_eq!(split.segments.len(), 4);
    let bytes = join(split.statement.clone(), split.segments)
        .unwrap()
        .to_bytes();
    let proved = verify_result(&bytes).unwrap();
    assert_eq!(proved.claimed_output, tree.commit(INITIAL, &samples));
}

/// Per-segment prove time and memory against segment size, to ground the planner's model.
/// Run with `cargo test -p zkpool-miden --release -- --ignored --nocapture`.
#[test]
#[ignore = "measurement, minutes"]
fn measure_prove_time_per_segment_size() {
    let b = MidenBackend::default();
    let program = assemble(HASH_CHAIN).unwrap();
    let per_chunk = execute_chunks(&program, INITIAL, &hash_chunks(1)).unwrap()[0].cycles;
    println!("hash-chain chunk: {per_chunk} rows");
    println!("chunks  trace_rows  padded  prove_ms  verify_ms  proof_bytes  peak_rss_mib");
    for n in [1u64, 8, 32, 128, 512, 1024, 2048] {
        let a = artifacts(HASH_CHAIN, INITIAL, &hash_chunks(n));
        let shape = b.inspect(&a).unwrap();
        let t = Instant::now();
        let proof = b.prove(&a).unwrap();
        let prove_ms = t.elapsed().as_millis();
        let t = Instant::now();
        b.verify(&a, &shape.statement, &proof).unwrap();
        let verify_ms = t.elapsed().as_millis();
        println!(
            "{n:>6}  {:>10}  {:>6}  {prove_ms:>8}  {verify_ms:>9}  {:>11}  {:>12}",
            shape.work,
            shape.work.next_power_of_two(),
            proof.0.len(),
            peak_rss_mib()
        );
    }
}

/// Peak resident memory of this process so far (Linux), MiB; 0 elsewhere.
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

#[test]
fn corrupted_proof_bytes_are_errors_not_panics() {
    let split = hash_split();
    let (st, proof) = &split.segments[0];
    let a = artifacts(HASH_CHAIN, st.state_in, &[]);
    let b = MidenBackend::default();
    let len = proof.0.len();
    for pos in [0, 1, 7, len / 3, len / 2, len - 1] {
        let mut bad = proof.0.clone();
        bad[pos] ^= 0x55;
        assert!(
            b.verify(&a, &st.to_bytes(), &ProofArtifact(bad)).is_err(),
            "flipped byte {pos}"
        );
    }
    assert!(b
        .verify(
            &a,
            &st.to_bytes(),
            &ProofArtifact(proof.0[..len / 2].to_vec())
        )
        .is_err());
}

/// `step` that hashes its chunk in, then loops forever.
const LOOPS_FOREVER: &str =
    "proc step\n    adv_pushw\n    hmerge\n    push.1\n    while.true\n        push.1\n    end\nend\n";

fn assert_over_limit(err: &BackendError, limit: &str) {
    assert_eq!(err.code(), "over_limit", "{err}");
    assert!(err.to_string().contains(limit), "{err} should name {limit}");
}

#[test]
fn a_task_exactly_at_the_row_cap_is_accepted_and_one_row_over_is_refused() {
    let program = assemble(HASH_CHAIN).unwrap();
    let chunks = hash_chunks(8);
    let traces = execute_chunks(&program, INITIAL, &chunks).unwrap();
    let rows: u64 = traces.iter().map(|t| t.cycles).sum();

    let at = MidenLimits {
        max_task_rows: rows,
        ..MidenLimits::default()
    };
    assert_eq!(
        execute_chunks_within(&program, INITIAL, &chunks, &at).unwrap(),
        traces
    );
    let shape = MidenBackend::with_limits(at)
        .inspect(&artifacts(HASH_CHAIN, INITIAL, &chunks))
        .unwrap();
    assert!(shape.work > 0);

    let over = MidenLimits {
        max_task_rows: rows - 1,
        ..at
    };
    let err = execute_chunks_within(&program, INITIAL, &chunks, &over).unwrap_err();
    assert_over_limit(&err, "max_task_rows");
    assert!(err.to_string().contains("chunk 7"), "{err}");
    let b = MidenBackend::with_limits(over);
    assert_eq!(b.limits(), &over);
    let err = b
        .inspect(&artifacts(HASH_CHAIN, INITIAL, &chunks))
        .unwrap_err();
    assert_over_limit(&err, "max_task_rows");
    let err = zkpool_backend::SplitBackend::trace(&b, &artifacts(HASH_CHAIN, INITIAL, &chunks))
        .err()
        .unwrap();
    assert_over_limit(&err, "max_task_rows");
}

#[test]
fn a_chunk_that_loops_forever_stops_at_the_cycle_cap_quickly() {
    let program = assemble(LOOPS_FOREVER).unwrap();
    let limits = MidenLimits::default();
    let started = Instant::now();
    let err = execute_chunks_within(&program, INITIAL, &hash_chunks(3), &limits).unwrap_err();
    let took = started.elapsed();
    assert_over_limit(&err, "max_chunk_rows");
    assert!(err.to_string().contains("chunk 0"), "{err}");
    // 2^16 cycles without a trace: milliseconds, even unoptimised.
    assert!(took.as_secs() < 5, "refused after {took:?}");

    // With room for more cycles per chunk than the task has left, the task's cap stops it.
    let limits = MidenLimits {
        max_task_rows: 1 << 12,
        max_chunk_rows: 1 << 20,
        ..limits
    };
    let err = execute_chunks_within(&program, INITIAL, &hash_chunks(3), &limits).unwrap_err();
    assert_over_limit(&err, "max_task_rows");
}

#[test]
fn a_chunk_with_few_cycles_but_a_long_hash_trace_is_refused() {
    // 20,000 permutations in 20,000 cycles: the hasher chiplet, not the cycles, passes the cap.
    let source = "proc step\n    adv_pushw\n    hmerge\n    padw padw padw\n    repeat.20000\n        hperm\n    end\n    dropw dropw dropw\nend\n";
    let program = assemble(source).unwrap();
    let limits = MidenLimits::default();
    let err = execute_chunks_within(&program, INITIAL, &hash_chunks(1), &limits).unwrap_err();
    assert_over_limit(&err, "max_chunk_rows");
    // Measured as one segment, it is refused by the memory the trace would need.
    let small = MidenLimits {
        submit_memory_bytes: 64 << 20,
        ..limits
    };
    let err = segment_rows_within(&program, INITIAL, &hash_chunks(1), &small).unwrap_err();
    assert_over_limit(&err, "submit_memory_bytes");
}

#[test]
fn oversized_chunk_counts_are_refused_before_execution() {
    let limits = MidenLimits {
        max_chunks: 4,
        max_chunk_len: 4,
        ..MidenLimits::default()
    };
    // A program that would run forever is never started: the counts are refused first.
    let program = assemble(LOOPS_FOREVER).unwrap();
    let started = Instant::now();
    let err = execute_chunks_within(&program, INITIAL, &hash_chunks(5), &limits).unwrap_err();
    assert_over_limit(&err, "max_chunks");
    let mut long = hash_chunks(2);
    long[1].push(0);
    let err = execute_chunks_within(&program, INITIAL, &long, &limits).unwrap_err();
    assert_over_limit(&err, "max_chunk_len");
    assert!(
        started.elapsed().as_millis() < 100,
        "{:?}",
        started.elapsed()
    );

    let b = MidenBackend::with_limits(limits);
    let err = b
        .inspect(&artifacts(HASH_CHAIN, INITIAL, &hash_chunks(5)))
        .unwrap_err();
    assert_over_limit(&err, "max_chunks");
    let err = MidenBackend::with_limits(MidenLimits {
        max_program_bytes: 8,
        ..limits
    })
    .inspect(&artifacts(HASH_CHAIN, INITIAL, &hash_chunks(1)))
    .unwrap_err();
    assert_over_limit(&err, "max_program_bytes");
}

/// Memory and time of building a trace at submit against its padded rows, and how long a
/// refusal at the cycle cap takes; grounds [`zkpool_miden::SUBMIT_BYTES_PER_ROW`].
/// Run with `cargo test -p zkpool-miden --release --test it -- --ignored --nocapture measure_submit`.
#[test]
#[ignore = "measurement, a minute"]
fn measure_submit_memory_per_row() {
    let big = MidenLimits {
        submit_memory_bytes: 64 << 30,
        max_chunks: 1 << 20,
        ..MidenLimits::default()
    };
    let base = peak_rss_mib();
    println!("baseline peak rss {base} MiB");
    println!("program  chunks  rows  padded  ms  peak_rss_mib  kib_per_padded_row");
    // A hash-dominated trace (the hasher chiplet is longest), then a cycle-dominated one. Sizes
    // grow, so each peak is this size's (memory freed by a smaller one is reused).
    let core =
        "proc step\n    adv_pushw\n    hmerge\n    repeat.1000\n        dup drop\n    end\nend\n";
    for (name, source, sizes) in [
        ("hash", HASH_CHAIN, [1u64 << 10, 1 << 12, 1 << 14, 1 << 15]),
        ("cycles", core, [1 << 5, 1 << 7, 1 << 9, 1 << 10]),
    ] {
        let program = assemble(source).unwrap();
        for n in sizes {
            let chunks = hash_chunks(n);
            let t = Instant::now();
            let rows = segment_rows_within(&program, INITIAL, &chunks, &big).unwrap();
            let ms = t.elapsed().as_millis();
            let peak = peak_rss_mib();
            let padded = rows.next_power_of_two();
            println!(
                "{name:>7}  {n:>6}  {rows:>8}  {padded:>8}  {ms:>6}  {peak:>6}  {:.2}",
                (peak - base) as f64 * 1024.0 / padded as f64
            );
        }
    }
    let program = assemble(HASH_CHAIN).unwrap();
    for n in [1u64 << 10, 1 << 12] {
        let t = Instant::now();
        let traces = execute_chunks_within(&program, INITIAL, &hash_chunks(n), &big).unwrap();
        let rows: u64 = traces.iter().map(|t| t.cycles).sum();
        println!(
            "execute_chunks: {n} hash-chain chunks ({rows} rows) in {:?}",
            t.elapsed()
        );
    }
    let looping = assemble(LOOPS_FOREVER).unwrap();
    for cap in [1u64 << 16, 1 << 20, 1 << 24] {
        let limits = MidenLimits {
            max_chunk_rows: cap,
            max_task_rows: u64::MAX,
            ..big
        };
        let t = Instant::now();
        let err = execute_chunks_within(&looping, INITIAL, &hash_chunks(1), &limits).unwrap_err();
        println!(
            "refusal at max_chunk_rows {cap}: {:?} ({})",
            t.elapsed(),
            err.code()
        );
    }
}
