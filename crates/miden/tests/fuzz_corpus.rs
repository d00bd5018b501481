#![allow(clippy::unwrap_used)]
//! Replays every committed fuzz corpus file (`fuzz/corpus/miden_*/`) through the same
//! `zkpool_miden::fuzzing` function the fuzzer ran, so an input once found stays handled.

use std::path::PathBuf;
use std::time::Instant;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let started = Instant::now();
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            run(&std::fs::read(&path).unwrap());
            files += 1;
        }
    }
    assert!(files >= 1, "no corpus files in {}", dir.display());
    eprintln!("{target}: {files} files in {:?}", started.elapsed());
}

#[test]
fn miden_chunks_json_corpus() {
    replay("miden_chunks_json", zkpool_miden::fuzzing::chunks_json);
}

#[test]
fn miden_program_source_corpus() {
    replay(
        "miden_program_source",
        zkpool_miden::fuzzing::program_source,
    );
}

#[test]
fn miden_split_result_corpus() {
    replay("miden_split_result", zkpool_miden::fuzzing::split_result);
}

/// Writes the real inputs the corpora were seeded with: chunks JSON, `step` programs, and a
/// segment proof with its one-segment chain result, for the statement `split_result` checks.
/// Run with `cargo test -p zkpool-miden --release --test fuzz_corpus -- --ignored`.
#[test]
#[ignore = "writes fuzz/corpus seeds; proves one segment"]
fn regenerate_seeds() {
    use zkpool_backend::{Artifacts, Blob, ProofBackend};
    use zkpool_miden::fuzzing::{proof_statement, HASH_CHAIN, INITIAL, PROOF_CHUNK};
    use zkpool_miden::{ChainProof, ChainStatement, MidenBackend, SegmentInput, SegmentProof};
    use zkpool_types::ArtifactRole;

    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    let write = |target: &str, name: &str, bytes: &[u8]| {
        let dir = corpus.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("seed-{name}")), bytes).unwrap();
    };

    let input = |chunks: Vec<Vec<u64>>| {
        serde_json::to_vec(&SegmentInput {
            state_in: INITIAL,
            chunks,
        })
        .unwrap()
    };
    write(
        "miden_chunks_json",
        "one",
        &input(vec![PROOF_CHUNK.to_vec()]),
    );
    write(
        "miden_chunks_json",
        "three",
        &input((0..3).map(|i| vec![i, i + 1, i + 2, i + 3]).collect()),
    );
    write("miden_chunks_json", "short", &input(vec![vec![1, 2]]));
    write("miden_chunks_json", "long", &input(vec![vec![1; 5]]));
    write(
        "miden_chunks_json",
        "noncanonical",
        &input(vec![vec![u64::MAX; 4]]),
    );
    write(
        "miden_chunks_json",
        "too-many",
        &input(vec![vec![1, 2, 3, 4]; 9]),
    );

    let tree = zkpool_miden::tree::DecisionTree::generate(3, 7);
    write("miden_program_source", "hash-chain", HASH_CHAIN.as_bytes());
    write(
        "miden_program_source",
        "tree",
        tree.step_source().as_bytes(),
    );
    write(
        "miden_program_source",
        "loop",
        b"proc step\n    adv_pushw\n    hmerge\n    push.1\n    while.true\n        push.1\n    end\nend\n",
    );
    write(
        "miden_program_source",
        "repeat",
        b"proc step\n    adv_pushw\n    hmerge\n    repeat.3\n        nop\n    end\nend\n",
    );

    let statement = proof_statement().unwrap().clone();
    let mut a = Artifacts::default();
    a.insert(
        ArtifactRole::Program,
        Blob::new(HASH_CHAIN.as_bytes().to_vec()),
    );
    a.insert(
        ArtifactRole::Chunks,
        Blob::new(input(vec![PROOF_CHUNK.to_vec()])),
    );
    let proof = MidenBackend::default().prove(&a).unwrap();
    write("miden_split_result", "segment-proof", &proof.0);
    let chain = ChainProof {
        statement: ChainStatement {
            program_hash: statement.program_hash.clone(),
            initial_state: statement.state_in,
            claimed_output: statement.state_out,
            chunks: 1,
        },
        segments: vec![SegmentProof {
            statement,
            proof: hex::encode(&proof.0),
        }],
    };
    zkpool_miden::verify_chain(&chain).unwrap();
    write("miden_split_result", "chain", &chain.to_bytes());
}
