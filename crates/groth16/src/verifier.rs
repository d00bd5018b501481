//! The Groth16 pairing check, with the verifying key prepared once per circuit.

use ark_bn254::{Bn254, Fr};
use ark_groth16::{Groth16, PreparedVerifyingKey, Proof};
use zkpool_backend::BackendError;

/// Whether `proof` is valid for `public` (the public signals, outputs then inputs).
pub fn verify(
    pvk: &PreparedVerifyingKey<Bn254>,
    proof: &Proof<Bn254>,
    public: &[Fr],
) -> Result<bool, BackendError> {
    let expected = pvk.vk.gamma_abc_g1.len() - 1;
    if public.len() != expected {
        return Err(BackendError::Mismatch(format!(
            "{} public signals, the verifying key takes {expected}",
            public.len()
        )));
    }
    // With the length checked, arkworks fails only on an identity pairing result, which a
    // false proof can produce: that is a failed check too.
    Ok(Groth16::<Bn254>::verify_proof(pvk, proof, public).unwrap_or(false))
}
