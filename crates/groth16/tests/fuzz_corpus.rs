#![allow(clippy::unwrap_used)]
//! Replays the committed fuzz corpora (`fuzz/corpus/g16_*/`) through the functions the fuzz
//! targets call, on stable Rust, so that an input a fuzzer once found stays handled.

use std::path::Path;

use zkpool_groth16::fuzzing;

/// Runs `target` on every file of `fuzz/corpus/g16_<name>/`, and fails on an empty corpus.
fn replay(name: &str, target: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(format!("g16_{name}"));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        let result = std::panic::catch_unwind(|| target(&data));
        assert!(result.is_ok(), "{} panics", path.display());
        files += 1;
    }
    assert!(files > 0, "{} is empty", dir.display());
}

#[test]
fn r1cs_corpus() {
    replay("r1cs", fuzzing::r1cs);
}

#[test]
fn zkey_corpus() {
    replay("zkey", fuzzing::zkey);
}

#[test]
fn wtns_corpus() {
    replay("wtns", fuzzing::wtns);
}

#[test]
fn wasm_witness_corpus() {
    replay("wasm_witness", fuzzing::wasm_witness);
}

#[test]
fn proof_json_corpus() {
    replay("proof_json", fuzzing::proof_json);
}
