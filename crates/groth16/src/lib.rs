//! Groth16 over BN254 for the artifacts circom and snarkjs users already have: an `.r1cs`, a
//! snarkjs `.zkey`, and a witness as a `.wtns` or as a circom `.wasm` generator plus
//! `input.json`. Proofs are snarkjs JSON, so `snarkjs groth16 verify` and the Solidity verifiers
//! snarkjs exports accept them.
//!
//! ```text
//!   .r1cs ──R1cs::parse──────────┬─ check_key (intake, once per pair) ◄── .zkey
//!   .wtns ──parse_wtns──┐        ├─ check_witness ─► statement (public.json)
//!   .wasm + input.json ─┴ witness┘
//!   .zkey ──parse_proving_key──► prove (CircomReduction) ─► {"proof", "public"}
//!   .zkey ──parse_header──► pairing check ◄───────────────┘
//!                        └────► verify_batch ◄── many proofs of one key: one multi-pairing
//! ```
//!
//! Parsing a zkey dominates the cost of a small proof, so [`Groth16Backend`] keeps recently
//! used parsed keys and constraint systems by content hash, within a byte budget, and the
//! intake verdicts of many more (r1cs, zkey) pairs. Every decoder refuses a file whose header
//! promises more than its bytes hold before allocating for it, and a circuit larger than the
//! operator's [`Groth16Limits`] with [`BackendError::OverLimit`]. [`synthetic`] makes keys of
//! any size for benchmarks, [`tamper`] hostile ones for tests. [`verify_batch`] checks many
//! proofs of one key at about a third of the cost of checking them one by one, and names those
//! that fail.

mod batch;
mod batch_verify;
mod binfile;
mod cache;
mod error;
#[doc(hidden)]
pub mod fuzzing;
mod intake;
mod json;
mod limits;
mod msm;
mod prover;
mod qap;
mod r1cs;
pub mod solidity;
pub mod synthetic;
pub mod tamper;
mod verifier;
#[cfg(test)]
mod wasm_asm;
mod witness_wasm;
mod wtns;
mod zkey;

use std::sync::Arc;

use ark_bn254::{Bn254, Fr};
use ark_groth16::{prepare_verifying_key, PreparedVerifyingKey};
use serde_json::{json, Value};
use zkpool_backend::{Artifacts, BackendError, Blob, ProofArtifact, ProofBackend, TaskShape};
use zkpool_types::{ArtifactMap, ArtifactRole, Claim, ClaimRef, ProofSystem};

pub use batch_verify::verify_batch;
pub use error::{BatchFault, BatchRejected, ProofFault};
pub use intake::{check_key, check_key_with, KeyCheck};
pub use json::{
    proof_from_json, proof_to_json, public_from_json, public_to_json, verifying_key_from_json,
    verifying_key_to_json,
};
pub use limits::Groth16Limits;
pub use prover::{prove, prove_arkworks, prove_timed, ProvePhases};
pub use qap::CircomReduction;
pub use r1cs::R1cs;
pub use verifier::verify;
pub use witness_wasm::{compute_witness, compute_witness_with};
pub use wtns::{parse_wtns, parse_wtns_with, write_wtns};
pub use zkey::{
    parse_header, parse_header_with, parse_proving_key, parse_proving_key_with, ZkeyHeader,
    ZkeyProvingKey,
};

use cache::{Cache, PairKey, Verdict, Verdicts};
use intake::check_match;

/// Intake verdicts kept: each is a few dozen bytes.
const VERDICTS: usize = 4096;

/// The Groth16/BN254 [`ProofBackend`], within the [`Groth16Limits`] it was made with.
#[derive(Debug)]
pub struct Groth16Backend {
    limits: Groth16Limits,
    /// Parsed r1cs files, proving keys and verifying keys, within `limits.cache_bytes`.
    parsed: Cache,
    verdicts: Verdicts,
}

/// A verification key (snarkjs JSON) prepared for pairing checks.
#[derive(Debug)]
struct PreparedKey(PreparedVerifyingKey<Bn254>);

/// A zkey's header with its verifying key prepared for pairing checks.
#[derive(Debug)]
struct VerifierKey {
    header: ZkeyHeader,
    pvk: PreparedVerifyingKey<Bn254>,
}

impl Default for Groth16Backend {
    fn default() -> Self {
        Self::new()
    }
}

impl Groth16Backend {
    /// A backend with empty caches and the default [`Groth16Limits`].
    pub fn new() -> Self {
        Self::with_limits(Groth16Limits::default())
    }

    /// A backend with empty caches that refuses work past `limits`.
    pub fn with_limits(limits: Groth16Limits) -> Self {
        Self {
            limits,
            parsed: Cache::new(limits.cache_bytes),
            verdicts: Verdicts::new(VERDICTS),
        }
    }

    /// The limits this backend works within.
    pub fn limits(&self) -> Groth16Limits {
        self.limits
    }

    /// The intake check of the task's zkey against its r1cs ([`check_key`]), run once per
    /// (r1cs, zkey) pair: later calls return the cached verdict, acceptance or refusal.
    pub fn check_key(&self, artifacts: &Artifacts) -> Result<(), BackendError> {
        let pair = pair_key(artifacts)?;
        if let Some(verdict) = self.verdicts.get(&pair) {
            return verdict.to_result();
        }
        let r1cs = self.r1cs(artifacts)?;
        let zkey = &artifacts.get(ArtifactRole::Zkey)?.bytes;
        let result = check_key_with(&r1cs, zkey, &self.limits).map(drop);
        if let Some(verdict) = Verdict::of(&result) {
            self.verdicts.insert(pair, verdict);
        }
        result
    }

    fn r1cs(&self, artifacts: &Artifacts) -> Result<Arc<R1cs>, BackendError> {
        self.parsed
            .get_or_parse(artifacts.get(ArtifactRole::R1cs)?, |bytes| {
                R1cs::parse_with(bytes, &self.limits)
            })
    }

    fn verifier_key(&self, artifacts: &Artifacts) -> Result<Arc<VerifierKey>, BackendError> {
        self.parsed
            .get_or_parse(artifacts.get(ArtifactRole::Zkey)?, |bytes| {
                let header = parse_header_with(bytes, &self.limits)?;
                let pvk = prepare_verifying_key(&header.vk);
                Ok(VerifierKey { header, pvk })
            })
    }

    /// The r1cs and the zkey header, checked to match as far as the header tells.
    fn matched(
        &self,
        artifacts: &Artifacts,
    ) -> Result<(Arc<R1cs>, Arc<VerifierKey>), BackendError> {
        let r1cs = self.r1cs(artifacts)?;
        let key = self.verifier_key(artifacts)?;
        check_match(&r1cs, &key.header)?;
        Ok((r1cs, key))
    }

    /// A witness that satisfies `r1cs`: from the `.wtns`, or from running the `.wasm` on
    /// `input.json`, told the r1cs's wire count so that a generator announcing another
    /// length stops before it computes anything.
    fn checked_witness(&self, artifacts: &Artifacts, r1cs: &R1cs) -> Result<Vec<Fr>, BackendError> {
        let witness = self.witness(artifacts, r1cs)?;
        r1cs.check_witness(&witness)?;
        Ok(witness)
    }

    /// The witness as [`Groth16Backend::checked_witness`] reads it, checked only for its
    /// length and its first value (what proving needs to run), not against the constraints.
    fn witness(&self, artifacts: &Artifacts, r1cs: &R1cs) -> Result<Vec<Fr>, BackendError> {
        let witness = match artifacts.get(ArtifactRole::Wtns) {
            Ok(wtns) => parse_wtns_with(&wtns.bytes, &self.limits)?,
            Err(_) => {
                let wasm = artifacts.get(ArtifactRole::Wasm)?;
                let input = artifacts.get(ArtifactRole::Input)?;
                compute_witness_with(&wasm.bytes, &input.bytes, &self.limits, Some(r1cs.n_wires))?
            }
        };
        r1cs.check_shape(&witness)?;
        Ok(witness)
    }
}

fn pair_key(artifacts: &Artifacts) -> Result<PairKey, BackendError> {
    Ok((
        artifacts.get(ArtifactRole::R1cs)?.hash,
        artifacts.get(ArtifactRole::Zkey)?.hash,
    ))
}

impl ProofBackend for Groth16Backend {
    fn system(&self) -> ProofSystem {
        ProofSystem::Groth16
    }

    /// Checks the artifacts, the zkey in full ([`Groth16Backend::check_key`], cached per
    /// pair) before the witness, and measures the task. `work` is the number of constraints
    /// with a non-zero coefficient: what proving really costs, not the declared count, which
    /// empty `0 * 0 = 0` constraints would inflate.
    fn inspect(&self, artifacts: &Artifacts) -> Result<TaskShape, BackendError> {
        let (r1cs, key) = self.matched(artifacts)?;
        self.check_key(artifacts)?;
        let witness = self.checked_witness(artifacts, &r1cs)?;
        let zkey_len = artifacts.get(ArtifactRole::Zkey)?.bytes.len() as u64;
        let h = &key.header;
        // Parsed points take ~1.1x their encoding; the QAP holds about six domain-sized vectors
        // of 32-byte scalars at its peak.
        let prove_memory_bytes =
            zkey_len * 5 / 4 + (h.domain_size as u64) * 32 * 6 + (h.n_vars as u64) * 32;
        Ok(TaskShape {
            work: r1cs.n_nonempty_constraints() as u64,
            prove_memory_bytes,
            statement: public_json_bytes(&witness[1..=r1cs.n_public]),
        })
    }

    /// Proves the task. The full key check is intake's; here only a verdict already cached
    /// is consulted, so a key this backend refused is never proved, at no cost otherwise.
    ///
    /// The witness is not checked against the constraints first (intake did that, and at a
    /// million constraints it costs a second): the proof is checked against the key's own
    /// verifying key instead (one pairing check), and only when it fails are the constraints
    /// evaluated, to say which one the witness breaks. Either way no false proof comes out.
    fn prove(&self, artifacts: &Artifacts) -> Result<ProofArtifact, BackendError> {
        let (r1cs, verifier) = self.matched(artifacts)?;
        if let Some(verdict) = self.verdicts.get(&pair_key(artifacts)?) {
            verdict.to_result()?;
        }
        let witness = self.witness(artifacts, &r1cs)?;
        let key = self
            .parsed
            .get_or_parse(artifacts.get(ArtifactRole::Zkey)?, |bytes| {
                parse_proving_key_with(bytes, &self.limits)
            })?;
        if key.num_constraints != r1cs.n_constraints() {
            return Err(BackendError::Mismatch(format!(
                "the zkey has {} constraints, the r1cs {}",
                key.num_constraints,
                r1cs.n_constraints()
            )));
        }
        let proof = prove(&key, &witness)?;
        if !verify(&verifier.pvk, &proof, &witness[1..=r1cs.n_public])? {
            r1cs.check_witness(&witness)?;
            return Err(BackendError::Mismatch(
                "the proof does not verify against the zkey's own verifying key: the proving \
                 key does not match it"
                    .into(),
            ));
        }
        let out = json!({
            "proof": proof_to_json(&proof),
            "public": public_to_json(&witness[1..=r1cs.n_public]),
        });
        Ok(ProofArtifact(out.to_string().into_bytes()))
    }

    fn verify(
        &self,
        artifacts: &Artifacts,
        statement: &[u8],
        proof: &ProofArtifact,
    ) -> Result<(), BackendError> {
        let (proof, public) = proof_for(statement, proof)?;
        let key = self.verifier_key(artifacts)?;
        if verify(&key.pvk, &proof, &public)? {
            Ok(())
        } else {
            Err(BackendError::InvalidProof("the pairing check fails".into()))
        }
    }

    fn encodes_claim(
        &self,
        claim: &Claim,
        signals: &[ClaimRef],
        statement: &[u8],
    ) -> Result<(), BackendError> {
        Self::claim_signals(claim, signals, statement)
    }

    /// A proof is checked against the zkey's verifying key alone.
    fn verify_roles(&self) -> Option<&'static [ArtifactRole]> {
        Some(&[ArtifactRole::Zkey])
    }

    fn verifier_id(&self, artifacts: &ArtifactMap) -> Option<zkpool_types::BlobHash> {
        artifacts.get(&ArtifactRole::Zkey).copied()
    }

    /// [`ProofBackend::verify_many`] against the snarkjs verification key JSON that
    /// [`ProofBackend::verifying_key`] wrote, parsed and prepared once per key (cached by its
    /// hash).
    fn verify_with_key(
        &self,
        key: &Blob,
        items: &[(Vec<u8>, ProofArtifact)],
    ) -> Vec<Result<(), BackendError>> {
        let prepared = self.parsed.get_or_parse(key, |bytes| {
            let v: Value = serde_json::from_slice(bytes)
                .map_err(|e| BackendError::Mismatch(format!("unreadable verification key: {e}")))?;
            let vk = verifying_key_from_json(&v)
                .map_err(|e| BackendError::Mismatch(format!("unreadable verification key: {e}")))?;
            Ok(PreparedKey(prepare_verifying_key(&vk)))
        });
        match prepared {
            Ok(key) => check_many(&key.0, items),
            Err(e) => refuse_all(&e, items),
        }
    }

    /// Every proof read and matched to its statement alone, then the well-formed ones checked
    /// in one random linear combination ([`verify_batch`]); a batch that fails names each bad
    /// proof, which alone gets its error.
    fn verify_many(
        &self,
        artifacts: &Artifacts,
        items: &[(Vec<u8>, ProofArtifact)],
    ) -> Vec<Result<(), BackendError>> {
        match self.verifier_key(artifacts) {
            Ok(key) => check_many(&key.pvk, items),
            Err(e) => refuse_all(&e, items),
        }
    }

    fn verifying_key(&self, artifacts: &Artifacts) -> Result<Vec<u8>, BackendError> {
        let key = self.verifier_key(artifacts)?;
        Ok(json::verifying_key_to_json(&key.header.vk)
            .to_string()
            .into_bytes())
    }
}

/// Every item refused with the key's error: no proof can be checked without its key.
fn refuse_all(
    e: &BackendError,
    items: &[(Vec<u8>, ProofArtifact)],
) -> Vec<Result<(), BackendError>> {
    let reason = e.to_string();
    items
        .iter()
        .map(|_| Err(BackendError::Mismatch(reason.clone())))
        .collect()
}

/// [`ProofBackend::verify_many`]'s check against a prepared key.
fn check_many(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Vec<u8>, ProofArtifact)],
) -> Vec<Result<(), BackendError>> {
    let mut results: Vec<Result<(), BackendError>> = Vec::with_capacity(items.len());
    let (mut batch, mut at) = (Vec::new(), Vec::new());
    for (i, (statement, proof)) in items.iter().enumerate() {
        match proof_for(statement, proof) {
            Ok(parsed) => {
                batch.push(parsed);
                at.push(i);
                results.push(Ok(()));
            }
            Err(e) => results.push(Err(e)),
        }
    }
    if let Err(rejected) = verify_batch(pvk, &batch) {
        for fault in rejected.faults {
            let err = match fault.kind {
                ProofFault::PublicCount { .. } => BackendError::Mismatch(fault.kind.to_string()),
                ProofFault::NotOnCurve(_) | ProofFault::NotInG2 => {
                    BackendError::MalformedProof(fault.kind.to_string())
                }
                ProofFault::PairingFails => BackendError::InvalidProof(fault.kind.to_string()),
            };
            if let Some(&i) = at.get(fault.index) {
                results[i] = Err(err);
            }
        }
    }
    results
}

impl Groth16Backend {
    /// [`ProofBackend::encodes_claim`] for Groth16: the public signals are the claim's values
    /// in the order `signals` declares, every claim value among them.
    fn claim_signals(
        claim: &Claim,
        signals: &[ClaimRef],
        statement: &[u8],
    ) -> Result<(), BackendError> {
        let public: Vec<String> = serde_json::from_slice(statement)
            .map_err(|e| BackendError::Mismatch(format!("unreadable statement: {e}")))?;
        if public.len() != signals.len() {
            return Err(BackendError::Mismatch(format!(
                "the circuit has {} public signals, the leg names {}",
                public.len(),
                signals.len()
            )));
        }
        let named: std::collections::BTreeSet<ClaimRef> = signals.iter().copied().collect();
        let every = (0..claim.inputs.len())
            .map(|i| ClaimRef::Input(i as u32))
            .chain((0..claim.outputs.len()).map(|i| ClaimRef::Output(i as u32)));
        for r in every {
            if !named.contains(&r) {
                return Err(BackendError::Mismatch(format!(
                    "claim value {r} is not among the leg's public signals"
                )));
            }
        }
        for (i, (r, got)) in signals.iter().zip(&public).enumerate() {
            let want = claim.value(*r).ok_or_else(|| {
                BackendError::Mismatch(format!(
                    "public signal {i} names {r}, which the claim lacks"
                ))
            })?;
            if want != got {
                return Err(BackendError::Mismatch(format!(
                    "public signal {i} is {got}, but {r} of the claim is {want}"
                )));
            }
        }
        Ok(())
    }
}

/// A proof artifact read and matched against `statement`: the proof's points in their groups,
/// its public signals exactly the statement's.
fn proof_for(
    statement: &[u8],
    proof: &ProofArtifact,
) -> Result<(ark_groth16::Proof<ark_bn254::Bn254>, Vec<Fr>), BackendError> {
    let (proof_json, public_json) = split_proof_json(proof)?;
    let proof = proof_from_json(&proof_json).map_err(BackendError::MalformedProof)?;
    let public = public_from_json(&public_json).map_err(BackendError::MalformedProof)?;
    let expected = serde_json::from_slice(statement)
        .map_err(|e| e.to_string())
        .and_then(|v: Value| public_from_json(&v))
        .map_err(|e| BackendError::Mismatch(format!("unreadable statement: {e}")))?;
    if public != expected {
        return Err(BackendError::InvalidProof(
            "public signals differ from the task's statement".into(),
        ));
    }
    Ok((proof, public))
}

fn public_json_bytes(public: &[Fr]) -> Vec<u8> {
    public_to_json(public).to_string().into_bytes()
}

/// Splits a proof artifact into snarkjs's `proof.json` and `public.json` values.
pub fn split_proof_json(proof: &ProofArtifact) -> Result<(Value, Value), BackendError> {
    let mut v: Value = serde_json::from_slice(&proof.0)
        .map_err(|e| BackendError::MalformedProof(format!("not JSON: {e}")))?;
    let mut take = |name: &str| {
        v.get_mut(name)
            .map(Value::take)
            .ok_or_else(|| BackendError::MalformedProof(format!("no \"{name}\" field")))
    };
    Ok((take("proof")?, take("public")?))
}

/// Verifies a snarkjs `{proof, public}` artifact against a snarkjs verification key, as a
/// requester does offline (`zkpool verify bundle.json`); the caller compares the public
/// signals with what it expects.
pub fn verify_with_key_json(vk: &Value, proof: &ProofArtifact) -> Result<(), BackendError> {
    let vk = verifying_key_from_json(vk)
        .map_err(|e| BackendError::Mismatch(format!("unreadable verification key: {e}")))?;
    let (proof_json, public_json) = split_proof_json(proof)?;
    let proof = proof_from_json(&proof_json).map_err(BackendError::MalformedProof)?;
    let public = public_from_json(&public_json).map_err(BackendError::MalformedProof)?;
    if verify(&prepare_verifying_key(&vk), &proof, &public)? {
        Ok(())
    } else {
        Err(BackendError::InvalidProof("the pairing check fails".into()))
    }
}

/// The verifying key of a zkey as `snarkjs zkey export verificationkey` writes it.
pub fn verification_key_json(zkey_bytes: &[u8]) -> Result<Value, BackendError> {
    Ok(json::verifying_key_to_json(&parse_header(zkey_bytes)?.vk))
}

/// Runs a circom witness generator on `input.json` and returns the witness as `.wtns` bytes.
pub fn witness_from_wasm(wasm: &[u8], input_json: &[u8]) -> Result<Vec<u8>, BackendError> {
    Ok(write_wtns(&compute_witness(wasm, input_json)?))
}
