//! Fuzz entry points (cargo-fuzz targets in `fuzz/` and the corpus replay in `cargo test`
//! call these): the signed quote a requester hands back, from arbitrary bytes.

use zkpool_types::KeyId;

use crate::quote::{Expected, QuoteSigner, SignedQuote};

/// A signed quote's JSON as a requester sends it back: whatever parses must round-trip, its
/// signer recovery and verification must answer without panicking, and only a quote signed
/// by the pool's key may verify.
pub fn quote_json(data: &[u8]) {
    let Ok(q) = serde_json::from_slice::<SignedQuote>(data) else {
        return;
    };
    let text = serde_json::to_string(&q).unwrap_or_else(|e| panic!("no serialisation: {e}"));
    let again: SignedQuote =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{text} does not parse: {e}"));
    assert_eq!(q, again, "a quote changes on a round trip");
    let _ = q.recover_signer();
    let _ = q.quote.signing_digest();
    // A fixed pool key: a fuzzer cannot forge its signature, so nothing it writes verifies.
    let Ok(pool) = QuoteSigner::from_bytes(&[7; 32]) else {
        return;
    };
    let expected = Expected {
        pool: pool.address(),
        signer: pool.address(),
        terms: q.quote.terms(),
        chain_id: q.quote.chain_id,
        requester: KeyId(q.quote.requester.0),
        segments: q.quote.segments,
        task_digest: q.quote.task_digest,
    };
    assert!(
        q.verify(&expected, 0).is_err(),
        "a quote the pool never signed verified: {text}"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_real_quote_round_trips_and_garbage_is_refused() {
        quote_json(b"{}");
        quote_json(b"not json");
        let signer = QuoteSigner::from_bytes(&[9; 32]).unwrap();
        let q = crate::quote::Quote {
            task_digest: [1; 32],
            requester: KeyId(3),
            payer: Default::default(),
            verifier: Default::default(),
            public_inputs_hash: [0; 32],
            segments: 0,
            reward: crate::Amount::from_base_units(5),
            bond: crate::Amount::from_base_units(10),
            deadline_ms: 100,
            expires_at_ms: 50,
            nonce: 1,
            pool: signer.address(),
            chain_id: 31337,
        };
        let signed = signer.sign(q).unwrap();
        quote_json(&serde_json::to_vec(&signed).unwrap());
    }
}
