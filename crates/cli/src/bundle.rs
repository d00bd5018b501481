//! `zkpool verify bundle.json`: a requester checks a multi-prover task's bundle on its own
//! machine, trusting nothing the pool says. Every leg's proof is verified again (Groth16
//! against the verification key it carries, or the requester's own with `--vkey`; Miden's
//! segment chain), every leg is checked to state exactly the bundle's claim, and the
//! certificate is checked to be the pool's signature over this claim, `k`, `n` and exactly
//! these legs: a leg removed, added or altered, or a claim changed, breaks it.

use std::collections::BTreeSet;

use anyhow::{ensure, Context};
use serde_json::Value;
use zkpool_backend::{ProofArtifact, ProofBackend};
use zkpool_ledger::certificate::bundle_terms;
use zkpool_ledger::quote::QuoteSignature;
use zkpool_ledger::Address;
use zkpool_types::{Bundle, ProofSystem};

/// What a verified bundle proves.
#[derive(Debug)]
pub struct Checked {
    /// Who signed the certificate (compare with the pool's address, or pass `--pool-address`).
    pub signer: Address,
    /// The bundle.
    pub bundle: Bundle,
}

/// Parses and verifies a bundle. `pool`: the signer the certificate must have; `vkeys`:
/// verification keys every Groth16 leg must use one of (empty: the bundle's own, which the
/// certificate attests).
pub fn check(bytes: &[u8], pool: Option<Address>, vkeys: &[Value]) -> anyhow::Result<Checked> {
    let bundle: Bundle =
        serde_json::from_slice(bytes).context("not a zkpool multi-prover bundle")?;
    bundle
        .claim
        .check()
        .map_err(|e| anyhow::anyhow!("the bundle's claim is malformed: {e}"))?;
    ensure!(
        bundle.k >= 1 && bundle.k <= bundle.n,
        "the bundle says {} of {} legs",
        bundle.k,
        bundle.n
    );
    ensure!(
        bundle.legs.len() as u32 >= bundle.k,
        "the bundle has {} verified legs, {} are required",
        bundle.legs.len(),
        bundle.k
    );
    let mut seen = BTreeSet::new();
    for leg in &bundle.legs {
        ensure!(
            leg.index < bundle.n && seen.insert(leg.index),
            "leg index {} is repeated or out of range",
            leg.index
        );
    }
    // The certificate: the pool's signature over exactly this claim and these legs.
    let terms = bundle_terms(&bundle).context("the certificate's pool address is malformed")?;
    let claimed: Vec<String> = terms
        .legs
        .iter()
        .map(|d| format!("0x{}", hex::encode(d)))
        .collect();
    ensure!(
        claimed == bundle.certificate.legs,
        "the certificate covers other legs than the bundle carries (a leg removed, added or altered)"
    );
    ensure!(
        format!("0x{}", hex::encode(terms.claim)) == bundle.certificate.claim_digest,
        "the certificate is for another claim"
    );
    let signature: QuoteSignature =
        serde_json::from_value(Value::String(bundle.certificate.signature.clone()))
            .context("the certificate's signature is malformed")?;
    let signer = terms
        .recover(&signature)
        .context("the certificate's signature is invalid")?;
    ensure!(
        signer == terms.pool,
        "the certificate was signed by {signer}, not by the pool it names ({})",
        terms.pool
    );
    if let Some(pool) = pool {
        ensure!(
            signer == pool,
            "the certificate was signed by {signer}, not by {pool}"
        );
    }
    // Every leg: a valid proof of a statement that states the claim.
    let groth16 = zkpool_groth16::Groth16Backend::new();
    let miden = zkpool_miden::MidenBackend::with_limits(zkpool_miden::MidenLimits::default());
    for leg in &bundle.legs {
        let i = leg.index;
        let statement = leg.statement.to_string().into_bytes();
        let proof = ProofArtifact(leg.proof.to_string().into_bytes());
        match leg.system {
            ProofSystem::Groth16 => {
                if !vkeys.is_empty() {
                    ensure!(
                        vkeys.contains(&leg.verifying_key),
                        "leg {i}: its verification key is none of the --vkey files"
                    );
                }
                zkpool_groth16::verify_with_key_json(&leg.verifying_key, &proof)
                    .with_context(|| format!("leg {i} (groth16): the proof does not verify"))?;
                let (_, public) = zkpool_groth16::split_proof_json(&proof)?;
                ensure!(
                    public == leg.statement,
                    "leg {i} (groth16): the proof's public signals are not the leg's statement"
                );
                groth16
                    .encodes_claim(&bundle.claim, &leg.signals, &statement)
                    .with_context(|| format!("leg {i} (groth16) does not state the claim"))?;
            }
            ProofSystem::MidenVm => {
                let st = zkpool_miden::verify_result(&proof.0).map_err(|e| {
                    anyhow::anyhow!("leg {i} (miden): the proof does not verify: {e}")
                })?;
                let want: zkpool_miden::ChainStatement =
                    serde_json::from_value(leg.statement.clone())
                        .with_context(|| format!("leg {i} (miden): unreadable statement"))?;
                ensure!(
                    st == want,
                    "leg {i} (miden): the proof proves another statement than the leg's"
                );
                miden
                    .encodes_claim(&bundle.claim, &leg.signals, &statement)
                    .with_context(|| format!("leg {i} (miden) does not state the claim"))?;
            }
        }
    }
    Ok(Checked { signer, bundle })
}
