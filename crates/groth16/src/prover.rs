//! Proving with a snarkjs key: arkworks' Groth16 prover driven by [`CircomReduction`].

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, Proof};
use ark_std::UniformRand;
use rand::rngs::OsRng;
use zkpool_backend::BackendError;

use crate::qap::CircomReduction;
use crate::zkey::ZkeyProvingKey;

/// Proves that `witness` (every wire, wire 0 first) satisfies the circuit of `key`, with fresh
/// blinding factors from the operating system, so two proofs of one witness differ.
///
/// The witness must satisfy the constraints (see [`crate::R1cs::check_witness`]); otherwise the
/// proof is produced but does not verify.
pub fn prove(key: &ZkeyProvingKey, witness: &[Fr]) -> Result<Proof<Bn254>, BackendError> {
    if witness.len() != key.pk.a_query.len() {
        return Err(BackendError::Mismatch(format!(
            "witness has {} values, the zkey {} wires",
            witness.len(),
            key.pk.a_query.len()
        )));
    }
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
