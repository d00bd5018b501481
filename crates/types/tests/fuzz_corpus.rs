//! Replays the committed fuzz corpus of the API body decoders (see `fuzz/README.md`).

#[test]
fn api_bodies_corpus() {
    assert!(zkpool_types::fuzzing::replay("api_bodies", zkpool_types::fuzzing::api_bodies) > 0);
}
