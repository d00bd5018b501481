//! snarkjs's R1CS-to-QAP reduction, so that arkworks' prover works with snarkjs's keys.
//!
//! arkworks computes `h = (A·B - C) / Z` over the domain and commits to its coefficients.
//! snarkjs's zkey instead holds, in section 9, the Lagrange basis of `τ^i·Z(τ)/δ` over the odd
//! coset of a domain twice as large, so its prover needs `A·B - C` evaluated on that coset:
//! interpolate `A`, `B`, `C` on the domain, shift by the 2n-th root of unity, evaluate again.
//! The input rows `A[n_constraints + i] = w[i]` are snarkjs's way of making the public inputs
//! linearly independent; they are added here rather than stored in the matrices.

use ark_ff::PrimeField;
use ark_groth16::r1cs_to_qap::{evaluate_constraint, LibsnarkReduction, R1CSToQAP};
use ark_poly::EvaluationDomain;
use ark_relations::r1cs::{ConstraintMatrices, ConstraintSystemRef, SynthesisError};
use rayon::prelude::*;

/// The reduction snarkjs and circom use; pass it to
/// `Groth16::<Bn254, CircomReduction>::create_proof_with_reduction_and_matrices`.
#[derive(Debug, Clone, Copy)]
pub struct CircomReduction;

impl R1CSToQAP for CircomReduction {
    /// Only key generation uses this, and our keys come from snarkjs: delegate.
    #[allow(clippy::type_complexity)]
    fn instance_map_with_evaluation<F: PrimeField, D: EvaluationDomain<F>>(
        cs: ConstraintSystemRef<F>,
        t: &F,
    ) -> Result<(Vec<F>, Vec<F>, Vec<F>, F, usize, usize), SynthesisError> {
        LibsnarkReduction::instance_map_with_evaluation::<F, D>(cs, t)
    }

    fn witness_map_from_matrices<F: PrimeField, D: EvaluationDomain<F>>(
        matrices: &ConstraintMatrices<F>,
        num_inputs: usize,
        num_constraints: usize,
        full_assignment: &[F],
    ) -> Result<Vec<F>, SynthesisError> {
        let domain =
            D::new(num_constraints + num_inputs).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let n = domain.size();
        if matrices.a.len() < num_constraints
            || matrices.b.len() < num_constraints
            || full_assignment.len() < num_inputs
        {
            return Err(SynthesisError::MalformedVerifyingKey);
        }

        let mut a = vec![F::zero(); n];
        let mut b = vec![F::zero(); n];
        a[..num_constraints]
            .par_iter_mut()
            .zip(&mut b[..num_constraints])
            .zip(&matrices.a[..num_constraints])
            .zip(&matrices.b[..num_constraints])
            .for_each(|(((a, b), at), bt)| {
                *a = evaluate_constraint(at, full_assignment);
                *b = evaluate_constraint(bt, full_assignment);
            });
        a[num_constraints..num_constraints + num_inputs]
            .copy_from_slice(&full_assignment[..num_inputs]);
        // C·w equals A·w * B·w on a satisfying witness, which saves evaluating C.
        let mut c: Vec<F> = a.par_iter().zip(&b).map(|(a, b)| *a * b).collect();
        // The input rows have no B, so their C is zero (a * 0 already).

        let double = D::new(2 * n).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        let shift = double.element(1);
        for v in [&mut a, &mut b, &mut c] {
            domain.ifft_in_place(v);
            D::distribute_powers_and_mul_by_const(v, shift, F::one());
            domain.fft_in_place(v);
        }

        a.par_iter_mut()
            .zip(&b)
            .zip(&c)
            .for_each(|((a, b), c)| *a = *a * b - c);
        Ok(a)
    }

    /// The Lagrange basis of `τ^i/δ` on the odd coset, as snarkjs's setup computes it.
    fn h_query_scalars<F: PrimeField, D: EvaluationDomain<F>>(
        max_power: usize,
        t: F,
        _zt: F,
        delta_inverse: F,
    ) -> Result<Vec<F>, SynthesisError> {
        let mut scalars: Vec<F> = (0..2 * max_power + 1)
            .into_par_iter()
            .map(|i| delta_inverse * t.pow([i as u64]))
            .collect();
        let domain = D::new(scalars.len()).ok_or(SynthesisError::PolynomialDegreeTooLarge)?;
        domain.ifft_in_place(&mut scalars);
        Ok(scalars.into_par_iter().skip(1).step_by(2).collect())
    }
}
