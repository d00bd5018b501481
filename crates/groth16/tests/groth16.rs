//! End-to-end tests of the Groth16 backend on real circom/snarkjs fixtures
//! (`scripts/build-fixtures.sh` regenerates them), including interop with snarkjs itself.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::{json, Value};
use zkpool_backend::{Artifacts, BackendError, Blob, ProofArtifact, ProofBackend};
use zkpool_groth16::{
    compute_witness, parse_wtns, split_proof_json, verification_key_json, witness_from_wasm,
    write_wtns, Groth16Backend, Groth16Limits, R1cs,
};
use zkpool_types::{ArtifactMap, ArtifactRole};

const CIRCUITS: [&str; 2] = ["multiplier", "poseidon_chain"];

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn fixture(circuit: &str, file: &str) -> Vec<u8> {
    let path = root().join("fixtures").join(circuit).join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn file(circuit: &str, ext: &str) -> Vec<u8> {
    fixture(circuit, &format!("{circuit}.{ext}"))
}

/// One backend for the whole binary, so that its caches spare re-parsing the zkeys.
fn backend() -> &'static Groth16Backend {
    static B: OnceLock<Groth16Backend> = OnceLock::new();
    B.get_or_init(Groth16Backend::new)
}

fn artifacts(circuit: &str, via_wasm: bool) -> Artifacts {
    let mut a = Artifacts::default();
    a.insert(ArtifactRole::R1cs, Blob::new(file(circuit, "r1cs")));
    a.insert(ArtifactRole::Zkey, Blob::new(file(circuit, "zkey")));
    if via_wasm {
        a.insert(ArtifactRole::Wasm, Blob::new(file(circuit, "wasm")));
        a.insert(
            ArtifactRole::Input,
            Blob::new(fixture(circuit, "input.json")),
        );
    } else {
        a.insert(ArtifactRole::Wtns, Blob::new(file(circuit, "wtns")));
    }
    a
}

fn with(mut a: Artifacts, role: ArtifactRole, bytes: Vec<u8>) -> Artifacts {
    a.insert(role, Blob::new(bytes));
    a
}

fn proof_with(proof: &ProofArtifact, edit: impl FnOnce(&mut Value)) -> ProofArtifact {
    let mut v: Value = serde_json::from_slice(&proof.0).unwrap();
    edit(&mut v);
    ProofArtifact(v.to_string().into_bytes())
}

/// A proof of each circuit from its `.wtns`, made once.
fn proof_of(circuit: &str) -> &'static (Vec<u8>, ProofArtifact) {
    static PROOFS: OnceLock<Vec<(Vec<u8>, ProofArtifact)>> = OnceLock::new();
    let all = PROOFS.get_or_init(|| {
        CIRCUITS
            .iter()
            .map(|c| {
                let a = artifacts(c, false);
                let shape = backend().inspect(&a).unwrap();
                (shape.statement, backend().prove(&a).unwrap())
            })
            .collect()
    });
    &all[CIRCUITS.iter().position(|c| *c == circuit).unwrap()]
}

#[test]
fn inspect_measures_and_states_public_signals() {
    let shape = backend().inspect(&artifacts("multiplier", false)).unwrap();
    assert_eq!(shape.work, 100);
    // public.json is [c, a]: the output, then the public input, as decimal strings.
    let public: Vec<String> = serde_json::from_slice(&shape.statement).unwrap();
    let w = parse_wtns(&file("multiplier", "wtns")).unwrap();
    assert_eq!(public, [w[1].to_string(), "3".to_string()]);
    assert!(!shape.statement.contains(&b' '), "compact JSON");

    let shape = backend()
        .inspect(&artifacts("poseidon_chain", false))
        .unwrap();
    assert!(shape.work >= 4096, "{} constraints", shape.work);
    assert!(shape.prove_memory_bytes > 1 << 20);
    let public: Vec<String> = serde_json::from_slice(&shape.statement).unwrap();
    assert_eq!(public[1], "12345");
}

#[test]
fn proofs_from_wtns_verify() {
    for c in CIRCUITS {
        let (statement, proof) = proof_of(c);
        backend()
            .verify(&artifacts(c, false), statement, proof)
            .unwrap();
        let (p, public) = split_proof_json(proof).unwrap();
        assert_eq!(p["protocol"], "groth16");
        assert_eq!(public, serde_json::from_slice::<Value>(statement).unwrap());
    }
}

#[test]
fn wasm_witness_equals_snarkjs_wtns_and_proves() {
    for c in CIRCUITS {
        let ours = compute_witness(&file(c, "wasm"), &fixture(c, "input.json")).unwrap();
        assert_eq!(ours, parse_wtns(&file(c, "wtns")).unwrap(), "{c}");
        let wtns = witness_from_wasm(&file(c, "wasm"), &fixture(c, "input.json")).unwrap();
        assert_eq!(
            wtns,
            file(c, "wtns"),
            "{c}: .wtns bytes as snarkjs writes them"
        );
    }
    let a = artifacts("multiplier", true);
    let shape = backend().inspect(&a).unwrap();
    assert_eq!(&shape.statement, &proof_of("multiplier").0);
    let proof = backend().prove(&a).unwrap();
    backend().verify(&a, &shape.statement, &proof).unwrap();
}

#[test]
fn proofs_are_randomised() {
    let a = artifacts("multiplier", false);
    assert_ne!(backend().prove(&a).unwrap(), proof_of("multiplier").1);
}

#[test]
fn tampered_proofs_are_invalid() {
    let a = artifacts("multiplier", false);
    let (statement, proof) = proof_of("multiplier");
    // pi_a replaced by another valid point (pi_c): well formed, false.
    let swapped = proof_with(proof, |v| v["proof"]["pi_a"] = v["proof"]["pi_c"].clone());
    assert!(matches!(
        backend().verify(&a, statement, &swapped),
        Err(BackendError::InvalidProof(_))
    ));
    // A proof of the other circuit.
    let other = &proof_of("poseidon_chain").1;
    let foreign = proof_with(proof, |v| v["proof"] = split_proof_json(other).unwrap().0);
    assert!(matches!(
        backend().verify(&a, statement, &foreign),
        Err(BackendError::InvalidProof(_))
    ));
}

#[test]
fn proofs_of_other_public_signals_are_invalid() {
    let a = artifacts("multiplier", false);
    let (statement, proof) = proof_of("multiplier");
    let changed = proof_with(proof, |v| v["public"][1] = json!("4"));
    let err = backend().verify(&a, statement, &changed).unwrap_err();
    assert!(
        err.to_string().contains("differ from the task's statement"),
        "{err}"
    );
    // Statement and proof agreeing on different signals: the pairing check catches it.
    let statement4 = {
        let mut s: Value = serde_json::from_slice(statement).unwrap();
        s[1] = json!("4");
        s.to_string().into_bytes()
    };
    assert!(matches!(
        backend().verify(&a, &statement4, &changed),
        Err(BackendError::InvalidProof(_))
    ));
}

#[test]
fn unreadable_proofs_are_malformed() {
    let a = artifacts("multiplier", false);
    let (statement, proof) = proof_of("multiplier");
    let off_curve = proof_with(proof, |v| v["proof"]["pi_a"][0] = json!("1"));
    let no_public = proof_with(proof, |v| {
        v.as_object_mut().unwrap().remove("public");
    });
    let bad_number = proof_with(proof, |v| v["public"][0] = json!("x1"));
    for bad in [
        ProofArtifact(b"{not json".to_vec()),
        ProofArtifact(proof.0[..proof.0.len() / 2].to_vec()),
        off_curve,
        no_public,
        bad_number,
    ] {
        let err = backend().verify(&a, statement, &bad).unwrap_err();
        assert!(matches!(err, BackendError::MalformedProof(_)), "{err}");
    }
}

/// Offsets spread over the file, including inside the header and each section table entry.
fn cuts(len: usize) -> Vec<usize> {
    let mut v: Vec<usize> = (0..40).collect();
    v.extend((1..50).map(|i| len * i / 50));
    v.push(len - 1);
    v
}

#[test]
fn truncated_or_garbled_artifacts_are_malformed() {
    let base = artifacts("multiplier", false);
    for (role, ext) in [
        (ArtifactRole::R1cs, "r1cs"),
        (ArtifactRole::Zkey, "zkey"),
        (ArtifactRole::Wtns, "wtns"),
    ] {
        let bytes = file("multiplier", ext);
        let mut garbled: Vec<Vec<u8>> = cuts(bytes.len())
            .into_iter()
            .map(|c| bytes[..c].to_vec())
            .collect();
        let mut magic = bytes.clone();
        magic[1] ^= 0x20;
        garbled.push(magic);
        for bad in garbled {
            let len = bad.len();
            let a = with(base.clone(), role, bad);
            match backend().inspect(&a) {
                Err(BackendError::Malformed { role: r, .. }) if r == role => {}
                other => panic!("{ext} cut to {len} bytes: {other:?}"),
            }
        }
    }
}

#[test]
fn corrupted_points_are_malformed_not_panics() {
    let zkey = file("multiplier", "zkey");
    // Flip bytes all over the key: each must be caught by a point, size or field check, or
    // land in the ignored contributions section; never a panic.
    let backend = Groth16Backend::new();
    for i in (0..zkey.len()).step_by(zkey.len() / 97) {
        let mut bad = zkey.clone();
        bad[i] ^= 0x55;
        let a = with(artifacts("multiplier", false), ArtifactRole::Zkey, bad);
        if let Err(e) = backend.prove(&a) {
            assert!(
                matches!(
                    e,
                    BackendError::Malformed { .. } | BackendError::Mismatch(_)
                ),
                "byte {i}: {e}"
            );
        }
    }
}

#[test]
fn zkey_of_another_circuit_is_a_mismatch() {
    let a = with(
        artifacts("multiplier", false),
        ArtifactRole::Zkey,
        file("poseidon_chain", "zkey"),
    );
    inspect_and_prove_refuse_as_mismatch(&a);
}

#[test]
fn wrong_witness_is_unsatisfied_and_names_the_constraint() {
    let mut w = parse_wtns(&file("multiplier", "wtns")).unwrap();
    let last = w.len() - 1;
    w[last] += ark_bn254::Fr::from(1u8);
    let a = with(
        artifacts("multiplier", false),
        ArtifactRole::Wtns,
        write_wtns(&w),
    );
    let err = backend().inspect(&a).unwrap_err();
    assert!(matches!(err, BackendError::WitnessUnsatisfied(_)), "{err}");
    assert!(err.to_string().contains("constraint "), "{err}");
    // Proving does not evaluate the constraints first; its own proof fails the key's
    // verifying key, and only then is the broken constraint looked for and named.
    let err = backend().prove(&a).unwrap_err();
    assert!(matches!(err, BackendError::WitnessUnsatisfied(_)), "{err}");
    assert!(err.to_string().contains("constraint "), "{err}");

    let short = with(
        artifacts("multiplier", false),
        ArtifactRole::Wtns,
        write_wtns(&w[..10]),
    );
    inspect_and_prove_refuse_as_mismatch(&short);
}

/// Both intake and proving refuse `a` as artifacts that do not fit together.
fn inspect_and_prove_refuse_as_mismatch(a: &Artifacts) {
    for result in [
        backend().inspect(a).map(|_| ()),
        backend().prove(a).map(|_| ()),
    ] {
        assert!(
            matches!(result, Err(BackendError::Mismatch(_))),
            "{result:?}"
        );
    }
}

#[test]
fn bad_inputs_to_the_wasm_are_clear_errors() {
    let wasm = file("multiplier", "wasm");
    let k = r#""k": [[2, 5], [7, 11]]"#;
    for (input, expect) in [
        (format!(r#"{{"b": 3, {k}}}"#), "no input signal \"b\""),
        (format!(r#"{{"a": [3, 4], {k}}}"#), "takes 1 values"),
        (r#"{"a": 3}"#.to_string(), "takes 5 input values"),
        (format!(r#"{{"a": "0x", {k}}}"#), "not an integer"),
    ] {
        let err = compute_witness(&wasm, input.as_bytes()).unwrap_err();
        assert!(
            matches!(
                err,
                BackendError::Malformed {
                    role: ArtifactRole::Input,
                    ..
                }
            ),
            "{input}: {err}"
        );
        assert!(err.to_string().contains(expect), "{input}: {err}");
    }
    let err = compute_witness(&wasm, format!(r#"{{"a": 0, {k}}}"#).as_bytes()).unwrap_err();
    assert!(matches!(err, BackendError::WitnessUnsatisfied(_)), "{err}");
    assert!(err.to_string().contains("assert"), "{err}");
    assert!(
        err.to_string().contains("MultiplierChain"),
        "names the template: {err}"
    );

    let a = with(
        artifacts("multiplier", true),
        ArtifactRole::Input,
        br#"{"nope": 1}"#.to_vec(),
    );
    assert!(backend().inspect(&a).is_err());
    let mut missing = artifacts("multiplier", true);
    missing.0.remove(&ArtifactRole::Input);
    assert!(matches!(
        backend().inspect(&missing),
        Err(BackendError::MissingArtifact(ArtifactRole::Input))
    ));
}

#[test]
fn limits_refuse_circuits_past_them_and_are_kept() {
    let limits = Groth16Limits {
        max_constraints: 99,
        ..Groth16Limits::default()
    };
    let small = Groth16Backend::with_limits(limits);
    assert_eq!(small.limits(), limits);
    assert_eq!(Groth16Backend::new().limits(), Groth16Limits::default());
    match small.inspect(&artifacts("multiplier", false)) {
        Err(BackendError::OverLimit { role, reason }) => {
            assert_eq!(role, ArtifactRole::R1cs);
            assert!(reason.contains("max_constraints"), "{reason}");
        }
        other => panic!("expected over_limit, got {other:?}"),
    }
}

#[test]
fn a_generator_for_another_circuit_stops_at_its_witness_length() {
    let a = with(
        artifacts("poseidon_chain", true),
        ArtifactRole::Wasm,
        file("multiplier", "wasm"),
    );
    let a = with(a, ArtifactRole::Input, fixture("multiplier", "input.json"));
    match backend().inspect(&a) {
        Err(BackendError::Mismatch(reason)) => {
            assert!(reason.contains("the witness generator makes"), "{reason}")
        }
        other => panic!("expected a mismatch, got {other:?}"),
    }
}

#[test]
fn r1cs_fixture_counts() {
    let m = R1cs::parse(&file("multiplier", "r1cs")).unwrap();
    assert_eq!((m.n_constraints(), m.n_public), (100, 2));
    let p = R1cs::parse(&file("poseidon_chain", "r1cs")).unwrap();
    assert!(p.n_constraints() >= 4096);
    assert_eq!(p.n_public, 2);
}

#[test]
fn verification_key_json_matches_snarkjs_export() {
    for c in CIRCUITS {
        let ours = verification_key_json(&file(c, "zkey")).unwrap();
        let theirs: Value = serde_json::from_slice(&fixture(c, "verification_key.json")).unwrap();
        for (field, value) in theirs.as_object().unwrap() {
            assert_eq!(&ours[field], value, "{c}: {field}");
        }
    }
}

/// Our proofs must convince snarkjs itself, not only our verifier.
#[test]
fn snarkjs_accepts_our_proofs() {
    for c in CIRCUITS {
        let (proof, public) = split_proof_json(&proof_of(c).1).unwrap();
        let vkey = root().join(format!("fixtures/{c}/verification_key.json"));
        snarkjs_verifies(&vkey, &public, &proof, c);
    }
}

fn snarkjs_verifies(vkey: &Path, public: &Value, proof: &Value, what: &str) {
    let snarkjs = root().join("node_modules/.bin/snarkjs");
    assert!(
        snarkjs.exists(),
        "{} is missing: run `npm ci` at the repository root",
        snarkjs.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let (proof_path, public_path) = (
        dir.path().join("proof.json"),
        dir.path().join("public.json"),
    );
    std::fs::write(&proof_path, proof.to_string()).unwrap();
    std::fs::write(&public_path, public.to_string()).unwrap();
    let out = Command::new(&snarkjs)
        .args(["groth16", "verify"])
        .arg(vkey)
        .args([&public_path, &proof_path])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("OK"),
        "{what}: snarkjs says {stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The prover's MSM treats zeros, ones (and minus ones), small and large scalars each its own
/// way: witnesses made mostly of each must give proofs snarkjs and our verifier accept.
#[test]
fn proofs_of_witnesses_of_zeros_ones_and_large_values_verify_with_snarkjs() {
    let minus_one = "21888242871839275222246405745257275088548364400416034343698204186575808495616";
    let large = "12345678901234567890123456789012345678901234567890123456789012345678901234";
    let inputs = [
        ("zeros", json!({"a": "5", "k": [[0, 7], [0, 9]]})),
        (
            "minus ones",
            json!({"a": minus_one, "k": [[minus_one, minus_one], [minus_one, minus_one]]}),
        ),
        ("ones and twos", json!({"a": "1", "k": [[1, 2], [1, 1]]})),
        (
            "large",
            json!({"a": large, "k": [[large, "3"], [minus_one, large]]}),
        ),
    ];
    let vkey = root().join("fixtures/multiplier/verification_key.json");
    for (what, input) in inputs {
        let witness =
            compute_witness(&file("multiplier", "wasm"), input.to_string().as_bytes()).unwrap();
        let a = with(
            artifacts("multiplier", false),
            ArtifactRole::Wtns,
            write_wtns(&witness),
        );
        let statement = backend().inspect(&a).unwrap().statement;
        let proof = backend().prove(&a).unwrap();
        backend().verify(&a, &statement, &proof).unwrap();
        let (proof, public) = split_proof_json(&proof).unwrap();
        snarkjs_verifies(&vkey, &public, &proof, what);
    }
}

/// A key written by our own setup for a circom circuit (what `zkpool bench groth16` makes for
/// sizes past the committed fixtures) proves, and snarkjs verifies the proof with the
/// verification key exported from it.
#[test]
fn a_key_from_our_setup_proves_circom_circuits_that_snarkjs_verifies() {
    for c in CIRCUITS {
        let r1cs = R1cs::parse(&file(c, "r1cs")).unwrap();
        let zkey = zkpool_groth16::synthetic::setup(&r1cs, &mut rand::rngs::OsRng).unwrap();
        let a = with(artifacts(c, false), ArtifactRole::Zkey, zkey.clone());
        let statement = backend().inspect(&a).unwrap().statement;
        let proof = backend().prove(&a).unwrap();
        backend().verify(&a, &statement, &proof).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let vkey = dir.path().join("verification_key.json");
        std::fs::write(&vkey, verification_key_json(&zkey).unwrap().to_string()).unwrap();
        let (proof, public) = split_proof_json(&proof).unwrap();
        snarkjs_verifies(&vkey, &public, &proof, c);
    }
}

/// Prints parse and prove times; run with
/// `cargo test -p zkpool-groth16 --release --test groth16 -- --ignored --nocapture timings`.
#[test]
#[ignore = "measurement, not a check"]
fn timings() {
    use std::time::Instant;
    for c in CIRCUITS {
        let zkey = file(c, "zkey");
        let t = Instant::now();
        let domain = zkpool_groth16::parse_header(&zkey).unwrap().domain_size;
        let header_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let key = zkpool_groth16::parse_proving_key(&zkey).unwrap();
        let parse_ms = t.elapsed().as_secs_f64() * 1e3;
        let witness = parse_wtns(&file(c, "wtns")).unwrap();
        let t = Instant::now();
        let wasm_witness = compute_witness(&file(c, "wasm"), &fixture(c, "input.json")).unwrap();
        let wasm_ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(wasm_witness, witness);
        let t = Instant::now();
        zkpool_groth16::prove(&key, &witness).unwrap();
        let prove_ms = t.elapsed().as_secs_f64() * 1e3;
        let a = artifacts(c, false);
        let b = Groth16Backend::new();
        let t = Instant::now();
        let proof = b.prove(&a).unwrap();
        let cold_ms = t.elapsed().as_secs_f64() * 1e3;
        let t = Instant::now();
        let proof2 = b.prove(&a).unwrap();
        let warm_ms = t.elapsed().as_secs_f64() * 1e3;
        let statement = b.inspect(&a).unwrap().statement;
        let t = Instant::now();
        b.verify(&a, &statement, &proof).unwrap();
        b.verify(&a, &statement, &proof2).unwrap();
        let verify_ms = t.elapsed().as_secs_f64() * 1e3 / 2.0;
        println!(
            "{c}: {} constraints, domain {}, zkey {} KiB: header {header_ms:.1} ms, full parse \
             {parse_ms:.1} ms, wasm witness {wasm_ms:.1} ms, prove {prove_ms:.1} ms, backend \
             prove cold {cold_ms:.1} ms / cached {warm_ms:.1} ms, verify {verify_ms:.1} ms",
            key.num_constraints,
            domain,
            zkey.len() / 1024
        );
    }
}

#[test]
fn proofs_verified_together_get_their_own_verdicts() {
    let a = artifacts("multiplier", false);
    let (statement, proof) = proof_of("multiplier");
    // Proofs are randomised: several distinct valid proofs of the same statement.
    let mut items: Vec<(Vec<u8>, ProofArtifact)> = (0..5)
        .map(|_| (statement.clone(), backend().prove(&a).unwrap()))
        .collect();
    items.push((statement.clone(), proof.clone()));
    let all = backend().verify_many(&a, &items);
    assert!(all.iter().all(Result::is_ok), "{all:?}");
    // A false proof, an unreadable one and one of another statement among them: each is
    // refused alone, as `verify` refuses it, and the others pass.
    items[1].1 = proof_with(proof, |v| v["proof"]["pi_a"] = v["proof"]["pi_c"].clone());
    items[3].1 = ProofArtifact(b"garbage".to_vec());
    items[4].0 = proof_of("poseidon_chain").0.clone();
    let mixed = backend().verify_many(&a, &items);
    assert!(
        matches!(mixed[1], Err(BackendError::InvalidProof(_))),
        "{mixed:?}"
    );
    assert!(
        matches!(mixed[3], Err(BackendError::MalformedProof(_))),
        "{mixed:?}"
    );
    assert!(mixed[4].is_err(), "{mixed:?}");
    for i in [0, 2, 5] {
        assert!(mixed[i].is_ok(), "{i}: {mixed:?}");
    }
    for (i, (s, p)) in items.iter().enumerate() {
        assert_eq!(backend().verify(&a, s, p).is_ok(), mixed[i].is_ok(), "{i}");
    }
    let hashes: ArtifactMap = a.0.iter().map(|(role, b)| (*role, b.hash)).collect();
    assert_eq!(
        backend().verifier_id(&hashes),
        Some(a.get(ArtifactRole::Zkey).unwrap().hash)
    );
}

/// The node loads only the artifacts `verify_roles` names to check a proof: with just those,
/// on a backend that has parsed nothing yet, a proof verifies alone and in a batch, and a
/// false one is still refused.
#[test]
fn verification_needs_only_the_roles_it_names() {
    let roles = backend().verify_roles().expect("Groth16 names its roles");
    for c in CIRCUITS {
        let full = artifacts(c, false);
        let (statement, proof) = proof_of(c);
        let mut only = Artifacts::default();
        for role in roles {
            only.insert(*role, full.get(*role).unwrap().clone());
        }
        let fresh = Groth16Backend::new();
        fresh.verify(&only, statement, proof).unwrap();
        let batch = fresh.verify_many(&only, &[(statement.clone(), proof.clone())]);
        assert!(batch[0].is_ok(), "{c}: {batch:?}");
        let other = proof_of(CIRCUITS.iter().find(|o| **o != c).unwrap());
        assert!(fresh.verify(&only, statement, &other.1).is_err(), "{c}");
    }
}

/// A node checks proofs against the verifying key it keeps per zkey, not the zkey: from those
/// bytes alone, on a backend that has parsed nothing yet, a good proof passes alone and among
/// others, a false one (another circuit's proof) and a malformed one are refused by position,
/// and an unreadable key refuses every item rather than passing any.
#[test]
fn proofs_are_checked_against_the_kept_verifying_key_alone() {
    for c in CIRCUITS {
        let full = artifacts(c, false);
        let key = Blob::new(backend().verifying_key(&full).unwrap());
        let (statement, proof) = proof_of(c);
        let other = proof_of(CIRCUITS.iter().find(|o| **o != c).unwrap());
        let fresh = Groth16Backend::new();
        let alone = fresh.verify_with_key(&key, &[(statement.clone(), proof.clone())]);
        assert!(alone[0].is_ok(), "{c}: {alone:?}");
        let items = vec![
            (statement.clone(), proof.clone()),
            (statement.clone(), other.1.clone()),
            (statement.clone(), ProofArtifact(b"{\"proof\":1}".to_vec())),
            (statement.clone(), proof.clone()),
        ];
        let verdicts = fresh.verify_with_key(&key, &items);
        assert!(
            verdicts[0].is_ok() && verdicts[3].is_ok(),
            "{c}: {verdicts:?}"
        );
        assert!(
            verdicts[1].is_err() && verdicts[2].is_err(),
            "{c}: {verdicts:?}"
        );
        let junk = Blob::new(b"{\"protocol\":\"groth16\"}".to_vec());
        let refused = fresh.verify_with_key(&junk, &items[..1]);
        assert!(
            matches!(refused[0], Err(BackendError::Mismatch(_))),
            "{c}: {refused:?}"
        );
    }
}
