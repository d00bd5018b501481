//! Proving with a snarkjs key.
//!
//! ```text
//!   witness ──CircomReduction (6 FFTs on the domain and its coset)──► h
//!   witness, h ──five MSMs in one parallel region (crate::msm)──► A, B (G1 and G2), C
//! ```
//!
//! arkworks' prover ([`prove_arkworks`], kept as the reference the tests and the benchmark
//! compare with) runs the same formulas with its own MSM, one after another.

use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr, G1Projective};
use ark_ec::CurveGroup;
use ark_ff::{BigInteger256, PrimeField};
use ark_groth16::r1cs_to_qap::R1CSToQAP;
use ark_groth16::{Groth16, Proof};
use ark_poly::GeneralEvaluationDomain;
use ark_std::UniformRand;
use rand::rngs::OsRng;
use rayon::prelude::*;
use zkpool_backend::BackendError;

use crate::msm::msm;
use crate::qap::CircomReduction;
use crate::zkey::ZkeyProvingKey;

/// Where a proof's time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProvePhases {
    /// The QAP witness map: `h` from the witness (FFTs).
    pub witness_map: Duration,
    /// The five multi-scalar multiplications, run together.
    pub msm: Duration,
}

/// Proves that `witness` (every wire, wire 0 first) satisfies the circuit of `key`, with fresh
/// blinding factors from the operating system, so two proofs of one witness differ.
///
/// The witness must satisfy the constraints (see [`crate::R1cs::check_witness`]); otherwise the
/// proof is produced but does not verify.
pub fn prove(key: &ZkeyProvingKey, witness: &[Fr]) -> Result<Proof<Bn254>, BackendError> {
    prove_timed(key, witness).map(|(proof, _)| proof)
}

/// [`prove`], with the time of each phase.
pub fn prove_timed(
    key: &ZkeyProvingKey,
    witness: &[Fr],
) -> Result<(Proof<Bn254>, ProvePhases), BackendError> {
    check_len(key, witness)?;
    let r = Fr::rand(&mut OsRng);
    let s = Fr::rand(&mut OsRng);
    let pk = &key.pk;

    let start = Instant::now();
    let h = CircomReduction::witness_map_from_matrices::<Fr, GeneralEvaluationDomain<Fr>>(
        &key.matrices,
        key.n_public + 1,
        key.num_constraints,
        witness,
    )
    .map_err(|e| BackendError::Internal(format!("witness map failed: {e}")))?;
    let witness_map = start.elapsed();

    let start = Instant::now();
    let (w, h): (Vec<BigInteger256>, Vec<BigInteger256>) = rayon::join(
        || witness.par_iter().map(|v| v.into_bigint()).collect(),
        || h.par_iter().map(|v| v.into_bigint()).collect(),
    );
    // snarkjs's C query starts after the public wires; arkworks' l_query holds exactly those.
    let aux = &w[key.n_public + 1..];
    let ((a, b1), (b2, (l, hq))) = rayon::join(
        || rayon::join(|| msm(&pk.a_query, &w), || msm(&pk.b_g1_query, &w)),
        || {
            rayon::join(
                || msm(&pk.b_g2_query, &w),
                || rayon::join(|| msm(&pk.l_query, aux), || msm(&pk.h_query, &h)),
            )
        },
    );
    let msm_time = start.elapsed();

    // A = α + Σ wᵢ·Aᵢ + r·δ; B = β + Σ wᵢ·Bᵢ + s·δ (in G1 and G2);
    // C = Σ auxᵢ·Lᵢ + Σ hᵢ·Hᵢ + s·A + r·B₁ - r·s·δ.
    let delta_g1: G1Projective = pk.delta_g1.into();
    let g_a = a + pk.vk.alpha_g1 + delta_g1 * r;
    let g1_b = b1 + pk.beta_g1 + delta_g1 * s;
    let g2_b = b2 + pk.vk.beta_g2 + pk.vk.delta_g2 * s;
    let g_c = l + hq + g_a * s + g1_b * r - delta_g1 * (r * s);

    let proof = Proof {
        a: g_a.into_affine(),
        b: g2_b.into_affine(),
        c: g_c.into_affine(),
    };
    Ok((
        proof,
        ProvePhases {
            witness_map,
            msm: msm_time,
        },
    ))
}

/// arkworks' own Groth16 prover on the same key and reduction: the reference [`prove`] is
/// measured and tested against.
#[doc(hidden)]
pub fn prove_arkworks(key: &ZkeyProvingKey, witness: &[Fr]) -> Result<Proof<Bn254>, BackendError> {
    check_len(key, witness)?;
    let r = Fr::rand(&mut OsRng);
    let s = Fr::rand(&mut OsRng);
    Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices(
        &key.pk,
        r,
        s,
        &key.matrices,
        key.n_public + 1,
        key.num_constraints,
        witness,
    )
    .map_err(|e| BackendError::Internal(format!("prover failed: {e}")))
}

fn check_len(key: &ZkeyProvingKey, witness: &[Fr]) -> Result<(), BackendError> {
    if witness.len() != key.pk.a_query.len() {
        return Err(BackendError::Mismatch(format!(
            "witness has {} values, the zkey {} wires",
            witness.len(),
            key.pk.a_query.len()
        )));
    }
    Ok(())
}
