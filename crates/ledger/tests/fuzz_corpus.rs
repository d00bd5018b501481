//! Replays the committed fuzz corpus of the signed-quote decoder (see `fuzz/README.md`).

#[test]
fn quote_json_corpus() {
    assert!(zkpool_types::fuzzing::replay("quote_json", zkpool_ledger::fuzzing::quote_json) > 0);
}
