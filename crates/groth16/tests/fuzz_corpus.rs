//! Replays the committed fuzz corpora (`fuzz/corpus/g16_*/`) through the functions the fuzz
//! targets call, on stable Rust, so that an input a fuzzer once found stays handled.

use zkpool_groth16::fuzzing;

/// Runs `target` on every file of `fuzz/corpus/g16_<name>/`, and fails on an empty corpus.
fn replay(name: &str, target: fn(&[u8])) {
    let files = zkpool_types::fuzzing::replay(&format!("g16_{name}"), target);
    assert!(files > 0, "the g16_{name} corpus is empty");
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
