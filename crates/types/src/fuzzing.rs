//! Fuzz entry points (cargo-fuzz targets in `fuzz/` and the corpus replay in `cargo test`
//! call these): every request body the node decodes, from arbitrary bytes.

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::{api, settlement};

/// The first byte picks a request body type, the rest is its JSON. Whatever parses must
/// serialise and parse back to the same value (no type may accept what it cannot write), and
/// nothing may panic.
pub fn api_bodies(data: &[u8]) {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    match which % 13 {
        0 => round_trip::<api::CreateKeyRequest>(json),
        1 => round_trip::<api::SubmitRequest>(json),
        2 => round_trip::<api::Hello>(json),
        3 => round_trip::<api::LeaseRequest>(json),
        4 => round_trip::<api::Heartbeat>(json),
        5 => round_trip::<api::FailureReport>(json),
        6 => round_trip::<settlement::QuoteRequest>(json),
        7 => round_trip::<settlement::QuotedSubmitRequest>(json),
        8 => round_trip::<settlement::StakeRequest>(json),
        9 => round_trip::<settlement::WithdrawRequest>(json),
        10 => round_trip::<settlement::DepositRequest>(json),
        11 => round_trip::<api::ResultMeta>(json),
        _ => {
            if let Ok(spec) = serde_json::from_slice::<crate::TaskSpec>(json) {
                // the node's own checks of a parsed spec
                let _ = spec.check_artifacts();
                let _ = spec.witness_source();
                if let Some(crate::Strategy::MultiProver { claim, legs, .. }) = &spec.strategy {
                    let _ = claim.check();
                    for r in legs.iter().flat_map(|l| &l.signals) {
                        let _ = claim.value(*r);
                    }
                    let _ = claim.canonical_bytes();
                }
                round_trip::<crate::TaskSpec>(json);
            }
        }
    }
}

/// Runs `f` on every file of the committed corpus `fuzz/corpus/<target>/` and returns how
/// many it read: the corpus replay each crate's `tests/fuzz_corpus.rs` runs in `cargo test`,
/// so a crash once found stays fixed. (The only file access in this crate, for tests.)
pub fn replay(target: &str, f: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let entries =
        std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()));
    let mut n = 0;
    for entry in entries {
        let path = entry
            .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
            .path();
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        if std::panic::catch_unwind(|| f(&bytes)).is_err() {
            panic!("corpus file {} panics", path.display());
        }
        n += 1;
    }
    n
}

fn round_trip<T: Serialize + DeserializeOwned>(json: &[u8]) {
    let Ok(parsed) = serde_json::from_slice::<T>(json) else {
        return;
    };
    let Ok(first) = serde_json::to_value(&parsed) else {
        panic!("a parsed body does not serialise");
    };
    let again: T = match serde_json::from_value(first.clone()) {
        Ok(v) => v,
        Err(e) => panic!("a body parses but its serialisation {first} does not: {e}"),
    };
    let second = serde_json::to_value(&again).ok();
    assert_eq!(
        Some(&first),
        second.as_ref(),
        "a body changes on a round trip"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_round_trip_or_are_refused() {
        api_bodies(b"\x01{\"spec\":{\"system\":\"groth16\",\"artifacts\":{}}}");
        api_bodies(b"\x03{\"wait_ms\":18446744073709551615}");
        api_bodies(b"\x08{\"amount\":\"1.5\"}");
        api_bodies(b"\x0c{\"system\":\"miden\",\"artifacts\":{},\"segments\":0}");
        api_bodies(b"");
        api_bodies(b"\x07not json");
    }
}
