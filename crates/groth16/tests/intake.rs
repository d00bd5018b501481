//! Intake against hostile keys built from the committed fixtures: each is refused by `inspect`
//! with an error naming its fault, except two H points swapped, which intake cannot tell from
//! an honest key and whose proofs fail; and the work measure against padded circuits.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::OnceLock;

use rand::rngs::OsRng;
use zkpool_backend::{Artifacts, BackendError, Blob, ProofBackend};
use zkpool_groth16::{synthetic, tamper, Groth16Backend};
use zkpool_types::ArtifactRole;

const CIRCUITS: [&str; 2] = ["multiplier", "poseidon_chain"];

fn file(circuit: &str, ext: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(circuit)
        .join(format!("{circuit}.{ext}"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn backend() -> &'static Groth16Backend {
    static B: OnceLock<Groth16Backend> = OnceLock::new();
    B.get_or_init(Groth16Backend::new)
}

fn artifacts(r1cs: Vec<u8>, zkey: Vec<u8>, wtns: Vec<u8>) -> Artifacts {
    let mut a = Artifacts::default();
    a.insert(ArtifactRole::R1cs, Blob::new(r1cs));
    a.insert(ArtifactRole::Zkey, Blob::new(zkey));
    a.insert(ArtifactRole::Wtns, Blob::new(wtns));
    a
}

fn fixture_with(circuit: &str, zkey: Vec<u8>) -> Artifacts {
    artifacts(file(circuit, "r1cs"), zkey, file(circuit, "wtns"))
}

type Builder = fn(&[u8]) -> Result<Vec<u8>, BackendError>;

/// Each builder, the error code intake must give and words its message must contain.
const REFUSED: [(&str, Builder, &str, &str); 7] = [
    (
        "sections 1-3 only",
        |z| tamper::keep_sections(z, &[1, 2, 3]),
        "malformed_artifact",
        "missing section 4 (coefficients)",
    ),
    (
        "no H points",
        |z| tamper::keep_sections(z, &[1, 2, 3, 4, 5, 6, 7, 8, 10]),
        "malformed_artifact",
        "missing section 9 (H points)",
    ),
    (
        "altered coefficient",
        tamper::alter_coefficient,
        "artifacts_mismatch",
        "constraint 0: the zkey's A coefficients (section 4) differ",
    ),
    (
        "B2 outside the subgroup",
        tamper::b2_outside_subgroup,
        "malformed_artifact",
        "is not in G2's prime-order subgroup",
    ),
    (
        "B2 doubled",
        tamper::skew_b2,
        "malformed_artifact",
        "are not the same multiple of the generators",
    ),
    (
        "δ the identity",
        tamper::degenerate_delta,
        "malformed_artifact",
        "delta1 is the identity",
    ),
    (
        "δ₂ doubled",
        tamper::mismatched_delta,
        "malformed_artifact",
        "delta1 and delta2 are not the same multiple",
    ),
];

#[test]
fn every_tampered_key_is_refused_and_names_its_fault() {
    for circuit in CIRCUITS {
        let zkey = file(circuit, "zkey");
        for (name, build, code, words) in REFUSED {
            let a = fixture_with(circuit, build(&zkey).unwrap());
            let err = backend().inspect(&a).unwrap_err();
            assert_eq!(err.code(), code, "{circuit}, {name}: {err}");
            assert!(err.to_string().contains(words), "{circuit}, {name}: {err}");
            // The refusal is cached, and a cached refusal also stops a proof.
            let again = backend().prove(&a).unwrap_err();
            assert_eq!(again.to_string(), err.to_string(), "{circuit}, {name}");
        }
    }
}

#[test]
fn the_b2_fault_is_located_at_its_point() {
    let zkey = file("poseidon_chain", "zkey");
    let key = zkpool_groth16::parse_proving_key(&zkey).unwrap();
    let first = key
        .pk
        .b_g2_query
        .iter()
        .position(|p| !ark_ec::AffineRepr::is_zero(p))
        .unwrap();
    for build in [tamper::b2_outside_subgroup as Builder, tamper::skew_b2] {
        let a = fixture_with("poseidon_chain", build(&zkey).unwrap());
        let err = Groth16Backend::new().inspect(&a).unwrap_err();
        assert!(
            err.to_string().contains(&format!("point {first} ")),
            "{err}"
        );
    }
}

/// Two H points swapped: every point valid, so intake accepts, yet the proof fails. This is the
/// case only a second prover's opinion decides. The prover checks its own proof against the
/// key's verifying key and says the key is at fault instead of handing out a false proof.
#[test]
fn swapped_h_points_pass_intake_but_their_proofs_fail() {
    for circuit in CIRCUITS {
        let a = fixture_with(
            circuit,
            tamper::swap_h_points(&file(circuit, "zkey")).unwrap(),
        );
        let backend = Groth16Backend::new();
        backend.inspect(&a).unwrap();
        let err = backend.prove(&a).unwrap_err();
        assert!(
            matches!(err, BackendError::Mismatch(_))
                && err.to_string().contains("own verifying key"),
            "{circuit}: {err}"
        );
    }
}

#[test]
fn untampered_fixtures_pass_the_full_check() {
    for circuit in CIRCUITS {
        let r1cs = zkpool_groth16::R1cs::parse(&file(circuit, "r1cs")).unwrap();
        zkpool_groth16::check_key(&r1cs, &file(circuit, "zkey")).unwrap();
    }
}

#[test]
fn empty_constraints_do_not_count_as_work() {
    let plain = synthetic::multiplication_chain(10, &mut OsRng).unwrap();
    let padded = synthetic::padded_multiplication_chain(10, 30, &mut OsRng).unwrap();
    let backend = Groth16Backend::new();
    let mut works = Vec::new();
    for c in [plain, padded] {
        let declared = zkpool_groth16::R1cs::parse(&c.r1cs)
            .unwrap()
            .n_constraints();
        let a = artifacts(c.r1cs, c.zkey, c.wtns);
        let shape = backend.inspect(&a).unwrap();
        let proof = backend.prove(&a).unwrap();
        backend.verify(&a, &shape.statement, &proof).unwrap();
        works.push((declared, shape.work));
    }
    assert_eq!(works, [(10, 10), (40, 10)]);
}

/// A byte flipped anywhere in sections 1-9 is refused (section 10, the contributions, is not
/// read); never a panic.
#[test]
fn every_corrupted_byte_before_the_contributions_is_refused() {
    for circuit in CIRCUITS {
        let zkey = file(circuit, "zkey");
        // snarkjs writes section 10 last: its 12-byte table entry, then its body.
        let last = zkey.len() - 12 - contributions_len(&zkey);
        let backend = Groth16Backend::new();
        for i in (0..zkey.len()).step_by(zkey.len() / 61) {
            let mut bad = zkey.clone();
            bad[i] ^= 0x55;
            match backend.inspect(&fixture_with(circuit, bad)) {
                Err(BackendError::Malformed { .. } | BackendError::Mismatch(_)) => {}
                Ok(_) if i >= last => {}
                other => panic!("{circuit}, byte {i} of {}: {other:?}", zkey.len()),
            }
        }
    }
}

fn contributions_len(zkey: &[u8]) -> usize {
    let mut at = 12;
    while at + 12 <= zkey.len() {
        let id = u32::from_le_bytes(zkey[at..at + 4].try_into().unwrap());
        let size = u64::from_le_bytes(zkey[at + 4..at + 12].try_into().unwrap()) as usize;
        if id == 10 {
            assert_eq!(at + 12 + size, zkey.len(), "section 10 is last");
            return size;
        }
        at += 12 + size;
    }
    panic!("no section 10");
}
