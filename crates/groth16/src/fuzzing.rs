//! Entry points for the fuzz targets in `fuzz/fuzz_targets/g16_*.rs` and for the corpus replay
//! in `tests/fuzz_corpus.rs`: one function per target, run on arbitrary bytes. Each must return
//! whatever the bytes are; a panic is a finding. Results are ignored except for round trips,
//! whose failure is a finding too.
//!
//! The limits are small ([`limits`]) so that one execution stays within milliseconds; the
//! decoders' checks are the same at any limit.

use std::sync::OnceLock;

use ark_bn254::Bn254;
use ark_ff::One;
use ark_groth16::{prepare_verifying_key, PreparedVerifyingKey};
use rand::rngs::StdRng;
use rand::SeedableRng;
use zkpool_backend::ProofArtifact;

use crate::intake::check_key_seeded;
use crate::synthetic::{multiplication_chain, SyntheticCircuit};
use crate::{
    compute_witness_with, parse_header_with, parse_proving_key_with, parse_wtns_with,
    proof_from_json, public_from_json, split_proof_json, verify, write_wtns, Groth16Limits, R1cs,
};

/// The limits every target runs under.
pub fn limits() -> Groth16Limits {
    Groth16Limits {
        wasm_memory_bytes: 16 << 20,
        wasm_fuel: 1_000_000,
        max_witness_len: 1 << 16,
        max_constraints: 1 << 16,
        max_input_bytes: 1 << 16,
        cache_bytes: 1 << 20,
    }
}

/// A small circuit (five squarings) with its key, the fixed partner of the zkey and proof
/// targets; `write_seeds` puts its files in the corpora.
pub fn circuit() -> &'static SyntheticCircuit {
    static CIRCUIT: OnceLock<SyntheticCircuit> = OnceLock::new();
    CIRCUIT.get_or_init(|| {
        // The chain is always buildable; a failure here is a bug the first run reports.
        multiplication_chain(5, &mut StdRng::seed_from_u64(7))
            .unwrap_or_else(|e| panic!("the fuzzing circuit: {e}"))
    })
}

fn circuit_r1cs() -> &'static R1cs {
    static R1CS: OnceLock<R1cs> = OnceLock::new();
    R1CS.get_or_init(|| {
        R1cs::parse(&circuit().r1cs).unwrap_or_else(|e| panic!("the fuzzing r1cs: {e}"))
    })
}

fn circuit_pvk() -> &'static PreparedVerifyingKey<Bn254> {
    static PVK: OnceLock<PreparedVerifyingKey<Bn254>> = OnceLock::new();
    PVK.get_or_init(|| {
        let header = parse_header_with(&circuit().zkey, &limits())
            .unwrap_or_else(|e| panic!("the fuzzing zkey: {e}"));
        prepare_verifying_key(&header.vk)
    })
}

/// `.r1cs`: parse; a parsed system must write back to one that parses the same, and a
/// witness of ones must be checkable.
pub fn r1cs(data: &[u8]) {
    let Ok(r) = R1cs::parse_with(data, &limits()) else {
        return;
    };
    let again = R1cs::parse_with(&r.to_bytes(), &limits());
    assert!(
        again.is_ok_and(|a| a.constraints == r.constraints && a.n_wires == r.n_wires),
        "an r1cs does not survive its own encoding"
    );
    let _ = r.n_nonempty_constraints();
    let _ = r.check_witness(&vec![ark_bn254::Fr::one(); r.n_wires]);
}

/// `.zkey`: the header, the whole key, and the intake check against [`circuit`]'s r1cs.
pub fn zkey(data: &[u8]) {
    let limits = limits();
    let _ = parse_header_with(data, &limits);
    if let Ok(key) = parse_proving_key_with(data, &limits) {
        let again = parse_proving_key_with(&key.to_bytes(), &limits);
        assert!(
            again.is_ok_and(|a| a.pk == key.pk && a.num_constraints == key.num_constraints),
            "a zkey does not survive its own encoding"
        );
    }
    let mut rng = StdRng::seed_from_u64(1);
    let _ = check_key_seeded(circuit_r1cs(), data, &limits, &mut rng);
}

/// `.wtns`: parse; a parsed witness must write back to the same values.
pub fn wtns(data: &[u8]) {
    if let Ok(w) = parse_wtns_with(data, &limits()) {
        let again = parse_wtns_with(&write_wtns(&w), &limits());
        assert!(again.is_ok_and(|a| a == w), "a witness does not survive");
    }
}

/// A circom witness generator and its `input.json`: the first two bytes, little-endian, are
/// the length of the input, which follows; the rest is the module.
pub fn wasm_witness(data: &[u8]) {
    let Some((len, rest)) = data.split_first_chunk::<2>() else {
        return;
    };
    let len = usize::from(u16::from_le_bytes(*len)).min(rest.len());
    let (input, wasm) = rest.split_at(len);
    let _ = compute_witness_with(wasm, input, &limits(), None);
}

/// A proof artifact (`{"proof", "public"}`), verified against [`circuit`]'s key.
pub fn proof_json(data: &[u8]) {
    let Ok((proof, public)) = split_proof_json(&ProofArtifact(data.to_vec())) else {
        return;
    };
    let proof = proof_from_json(&proof);
    let public = public_from_json(&public);
    if let (Ok(proof), Ok(public)) = (proof, public) {
        let _ = verify(circuit_pvk(), &proof, &public);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wasm_asm;
    use crate::Groth16Backend;
    use zkpool_backend::{Artifacts, Blob, ProofBackend};
    use zkpool_types::ArtifactRole;

    #[test]
    fn the_targets_accept_their_seeds() {
        let c = circuit();
        r1cs(&c.r1cs);
        zkey(&c.zkey);
        wtns(&c.wtns);
        let mut rng = StdRng::seed_from_u64(1);
        check_key_seeded(circuit_r1cs(), &c.zkey, &limits(), &mut rng).unwrap();
        for seed in seeds() {
            let run = match seed.0 {
                "r1cs" => r1cs,
                "zkey" => zkey,
                "wtns" => wtns,
                "wasm_witness" => wasm_witness,
                _ => proof_json,
            };
            run(&seed.2);
        }
    }

    /// `(target, file name, bytes)` of the hand-made seeds.
    fn seeds() -> Vec<(&'static str, String, Vec<u8>)> {
        let c = circuit();
        let mut a = Artifacts::default();
        a.insert(ArtifactRole::R1cs, Blob::new(c.r1cs.clone()));
        a.insert(ArtifactRole::Zkey, Blob::new(c.zkey.clone()));
        a.insert(ArtifactRole::Wtns, Blob::new(c.wtns.clone()));
        let proof = Groth16Backend::new().prove(&a).unwrap().0;
        let with_input = |input: &[u8], wasm: Vec<u8>| {
            let mut out = (input.len() as u16).to_le_bytes().to_vec();
            out.extend(input);
            out.extend(wasm);
            out
        };
        let mut seeds = vec![
            ("r1cs", "chain.r1cs".into(), c.r1cs.clone()),
            ("zkey", "chain.zkey".into(), c.zkey.clone()),
            ("wtns", "chain.wtns".into(), c.wtns.clone()),
            ("proof_json", "chain.proof.json".into(), proof),
        ];
        for (name, wasm) in wasm_asm::hostile_modules() {
            seeds.push((
                "wasm_witness",
                format!("{name}.bin"),
                with_input(b"{}", wasm),
            ));
        }
        seeds
    }

    /// Writes the hand-made seeds into `fuzz/corpus/g16_*/`:
    /// `cargo test -p zkpool-groth16 write_seeds -- --ignored`.
    #[test]
    #[ignore]
    fn write_seeds() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fuzz/corpus");
        for (target, name, bytes) in seeds() {
            let dir = format!("{root}/g16_{target}");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(format!("{dir}/seed-{name}"), bytes).unwrap();
        }
    }
}
