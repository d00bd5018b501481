//! A proof as the Solidity verifier snarkjs exports takes it
//! (`verifyProof(uint[2] pA, uint[2][2] pB, uint[2] pC, uint[N] pubSignals)`), so the pool
//! contract can hand it on: eight 32-byte big-endian words and one word per public signal.
//!
//! The order is snarkjs's `zkey export soliditycalldata`: `[a.x, a.y, b.x.c1, b.x.c0, b.y.c1,
//! b.y.c0, c.x, c.y]`. G2 coordinates go imaginary part first, the order of the EIP-197
//! pairing precompile, where `proof.json` writes them real part first.

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_groth16::Proof;
use zkpool_backend::{BackendError, ProofArtifact};

use crate::json::{proof_from_json, public_from_json};
use crate::split_proof_json;

/// One ABI word: a `uint256`, big-endian.
pub type Word = [u8; 32];

/// The proof and its public signals as calldata words for the exported verifier.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SolidityProof {
    /// `pA ‖ pB ‖ pC`.
    pub proof: [Word; 8],
    /// The public signals, in the circuit's order.
    pub public: Vec<Word>,
}

/// The words of a proof artifact (`{"proof", "public"}` as this backend writes it).
pub fn solidity_proof(artifact: &ProofArtifact) -> Result<SolidityProof, BackendError> {
    let (proof, public) = split_proof_json(artifact)?;
    let proof = proof_from_json(&proof).map_err(BackendError::MalformedProof)?;
    let public = public_from_json(&public).map_err(BackendError::MalformedProof)?;
    Ok(SolidityProof {
        proof: proof_words(&proof),
        public: public_words(&public),
    })
}

/// `pA ‖ pB ‖ pC` in the verifier's order. The point at infinity is `(0, 0)`, as the
/// precompiles read it.
pub fn proof_words(proof: &Proof<Bn254>) -> [Word; 8] {
    let [ax, ay] = g1(&proof.a);
    let [bxc1, bxc0, byc1, byc0] = g2(&proof.b);
    let [cx, cy] = g1(&proof.c);
    [ax, ay, bxc1, bxc0, byc1, byc0, cx, cy]
}

/// Public signals as `uint256` words.
pub fn public_words(public: &[Fr]) -> Vec<Word> {
    public.iter().map(word).collect()
}

fn word<F: PrimeField>(x: &F) -> Word {
    let bytes = x.into_bigint().to_bytes_be();
    let mut w = [0u8; 32];
    w[32 - bytes.len()..].copy_from_slice(&bytes);
    w
}

fn g1(p: &G1Affine) -> [Word; 2] {
    match p.xy() {
        Some((x, y)) => [word::<Fq>(&x), word::<Fq>(&y)],
        None => [[0; 32]; 2],
    }
}

fn g2(p: &G2Affine) -> [Word; 4] {
    match p.xy() {
        Some((x, y)) => [word(&x.c1), word(&x.c0), word(&y.c1), word(&y.c0)],
        None => [[0; 32]; 4],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dec(w: &Word) -> String {
        num_bigint::BigUint::from_bytes_be(w).to_string()
    }

    /// A "proof" of the group generators, whose coordinates are public constants, comes out
    /// in `soliditycalldata`'s order. (That a real proof's words verify on chain is the chain
    /// crate's test, against the exported verifier on anvil.)
    #[test]
    fn words_follow_snarkjs_calldata_order() {
        let proof_json: serde_json::Value = serde_json::json!({
            "pi_a": ["1", "2", "1"],
            "pi_b": [["10857046999023057135944570762232829481370756359578518086990519993285655852781",
                      "11559732032986387107991004021392285783925812861821192530917403151452391805634"],
                     ["8495653923123431417604973247489272438418190587263600148770280649306958101930",
                      "4082367875863433681332203403145435568316851327593401208105741076214120093531"],
                     ["1", "0"]],
            "pi_c": ["1", "2", "1"],
        });
        let proof = proof_from_json(&proof_json).unwrap();
        let w = proof_words(&proof);
        let got: Vec<String> = w.iter().map(dec).collect();
        // pi_b[0][1], pi_b[0][0], pi_b[1][1], pi_b[1][0]: imaginary part first.
        assert_eq!(got[0], "1");
        assert_eq!(got[1], "2");
        assert_eq!(got[2], proof_json["pi_b"][0][1].as_str().unwrap());
        assert_eq!(got[3], proof_json["pi_b"][0][0].as_str().unwrap());
        assert_eq!(got[4], proof_json["pi_b"][1][1].as_str().unwrap());
        assert_eq!(got[5], proof_json["pi_b"][1][0].as_str().unwrap());
        assert_eq!(got[6], "1");
        assert_eq!(got[7], "2");
        assert_eq!(dec(&public_words(&[Fr::from(3u64)])[0]), "3");
    }
}
