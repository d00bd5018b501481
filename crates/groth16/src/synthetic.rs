//! Synthetic circuits with snarkjs-format artifacts, for benchmarks at sizes the committed
//! fixtures do not reach. [`multiplication_chain`] squares a public input `n` times; its key
//! comes from arkworks' circuit-specific setup with fresh random toxic waste and the standard
//! generators (those a powers-of-tau ceremony starts from, so the intake check's pairings hold
//! as they do for snarkjs keys), with snarkjs's QAP conventions ([`crate::CircomReduction`]),
//! and is written in snarkjs's `.zkey` layout beside an `.r1cs` and a `.wtns`.
//!
//! Every wire but the output enters a `B` term, so the B query is dense: the worst case for
//! the intake check's G2 work.

use ark_bn254::{Bn254, Fr, G1Projective, G2Projective};
use ark_ec::PrimeGroup;
use ark_ff::{Field, UniformRand};
use ark_groth16::{Groth16, ProvingKey};
use ark_relations::lc;
use ark_relations::r1cs::{
    ConstraintMatrices, ConstraintSynthesizer, ConstraintSystem, ConstraintSystemRef,
    OptimizationGoal, SynthesisError, SynthesisMode, Variable,
};
use rand::{CryptoRng, Rng};
use zkpool_backend::BackendError;

use crate::qap::CircomReduction;
use crate::r1cs::{LinearCombination, R1cs};
use crate::wtns::write_wtns;
use crate::zkey::ZkeyProvingKey;

/// A generated circuit's artifacts, as circom and snarkjs would have written them.
#[derive(Debug, Clone)]
pub struct SyntheticCircuit {
    /// The `.r1cs`.
    pub r1cs: Vec<u8>,
    /// The `.zkey`, sections 1-9.
    pub zkey: Vec<u8>,
    /// A satisfying witness, `.wtns`.
    pub wtns: Vec<u8>,
}

/// The public input the chain starts from.
const SEED: u64 = 3;

/// A circuit of `n_constraints` constraints `x_i · x_i = x_{i+1}` from the public input `x_0`
/// to the public output `x_n`: wires `[1, x_n, x_0, x_1 .. x_{n-1}]`, QAP domain the next power
/// of two of `n + 3` (pick `n = 2^k - 3` for a domain of exactly `2^k`). The setup is the cost:
/// about as long as a few proofs.
pub fn multiplication_chain(
    n_constraints: usize,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<SyntheticCircuit, BackendError> {
    padded_multiplication_chain(n_constraints, 0, rng)
}

/// [`multiplication_chain`] followed by `n_empty` empty constraints `0 · 0 = 0`, the padding
/// that inflates a declared constraint count without adding proving work.
pub fn padded_multiplication_chain(
    n_constraints: usize,
    n_empty: usize,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<SyntheticCircuit, BackendError> {
    if n_constraints == 0 {
        return Err(BackendError::Internal("a chain needs a constraint".into()));
    }
    let chain = Chain {
        n: n_constraints,
        empty: n_empty,
    };
    let (pk, m) = arkworks_setup(chain, rng)?;

    let n_public = m.num_instance_variables - 1;
    let rows = |lcs: &[Vec<(Fr, usize)>]| -> Vec<Vec<(usize, Fr)>> {
        lcs.iter()
            .map(|lc| lc.iter().map(|&(v, w)| (w, v)).collect())
            .collect()
    };
    let (a, b, c) = (rows(&m.a), rows(&m.b), rows(&m.c));
    let r1cs = R1cs {
        n_wires: m.num_instance_variables + m.num_witness_variables,
        n_public,
        constraints: a
            .into_iter()
            .zip(b)
            .zip(c)
            .map(|((a, b), c)| [a, b, c])
            .collect(),
    };
    let key = proving_key(pk, m, n_constraints + n_empty, n_public);
    Ok(SyntheticCircuit {
        r1cs: r1cs.to_bytes(),
        zkey: key.to_bytes(),
        wtns: write_wtns(&chain.witness()),
    })
}

/// A proving key for any constraint system, as a snarkjs `.zkey` (sections 1-9): arkworks'
/// circuit-specific setup with fresh random toxic waste, snarkjs's QAP conventions, the
/// standard generators. For benchmarks on circom circuits at sizes where a powers-of-tau
/// ceremony would take longer than the benchmark (never for production: the setup's
/// randomness is known to this process).
pub fn setup(r1cs: &R1cs, rng: &mut (impl Rng + CryptoRng)) -> Result<Vec<u8>, BackendError> {
    let (pk, m) = arkworks_setup(Replay { r1cs }, rng)?;
    let key = proving_key(pk, m, r1cs.n_constraints(), r1cs.n_public);
    Ok(key.to_bytes())
}

/// arkworks' circuit-specific setup of `circuit` with snarkjs's QAP conventions, fresh random
/// toxic waste and the standard generators, and the circuit's constraint matrices.
fn arkworks_setup<C: ConstraintSynthesizer<Fr> + Copy>(
    circuit: C,
    rng: &mut (impl Rng + CryptoRng),
) -> Result<(ProvingKey<Bn254>, ConstraintMatrices<Fr>), BackendError> {
    let internal = |e: SynthesisError| BackendError::Internal(format!("setup failed: {e}"));
    let pk = Groth16::<Bn254, CircomReduction>::generate_parameters_with_qap(
        circuit,
        Fr::rand(rng),
        Fr::rand(rng),
        Fr::rand(rng),
        Fr::rand(rng),
        G1Projective::generator(),
        G2Projective::generator(),
        rng,
    )
    .map_err(internal)?;
    let cs = ConstraintSystem::new_ref();
    cs.set_optimization_goal(OptimizationGoal::Constraints);
    cs.set_mode(SynthesisMode::Setup);
    circuit.generate_constraints(cs.clone()).map_err(internal)?;
    cs.finalize();
    let m = cs
        .to_matrices()
        .ok_or_else(|| BackendError::Internal("no constraint matrices".into()))?;
    Ok((pk, m))
}

/// The key in our form: snarkjs derives `C·w` from `A·w * B·w`, so the `C` matrix is left out.
fn proving_key(
    pk: ProvingKey<Bn254>,
    m: ConstraintMatrices<Fr>,
    num_constraints: usize,
    n_public: usize,
) -> ZkeyProvingKey {
    ZkeyProvingKey {
        pk,
        matrices: ConstraintMatrices {
            c: Vec::new(),
            c_num_non_zero: 0,
            ..m
        },
        num_constraints,
        n_public,
        domain_size: (num_constraints + n_public + 1).next_power_of_two(),
    }
}

/// An r1cs's constraints replayed into arkworks, wire for wire: wire 0 is arkworks' constant
/// one, wires `1..=n_public` its instance variables, the rest its witness variables.
#[derive(Clone, Copy)]
struct Replay<'a> {
    r1cs: &'a R1cs,
}

impl ConstraintSynthesizer<Fr> for Replay<'_> {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let zero = || Ok(Fr::from(0u8));
        let mut vars = Vec::with_capacity(self.r1cs.n_wires);
        vars.push(Variable::One);
        for _ in 0..self.r1cs.n_public {
            vars.push(cs.new_input_variable(zero)?);
        }
        for _ in self.r1cs.n_public + 1..self.r1cs.n_wires {
            vars.push(cs.new_witness_variable(zero)?);
        }
        let lc = |terms: &LinearCombination| -> Result<ark_relations::r1cs::LinearCombination<Fr>, SynthesisError> {
            terms
                .iter()
                .map(|&(wire, v)| {
                    vars.get(wire)
                        .map(|&var| (v, var))
                        .ok_or(SynthesisError::AssignmentMissing)
                })
                .collect::<Result<Vec<_>, _>>()
                .map(ark_relations::r1cs::LinearCombination)
        };
        for [a, b, c] in &self.r1cs.constraints {
            cs.enforce_constraint(lc(a)?, lc(b)?, lc(c)?)?;
        }
        Ok(())
    }
}

/// `n` squarings, then `empty` empty constraints.
#[derive(Debug, Clone, Copy)]
struct Chain {
    n: usize,
    empty: usize,
}

impl Chain {
    /// `[1, x_n, x_0, x_1 .. x_{n-1}]`.
    fn witness(&self) -> Vec<Fr> {
        let mut xs = Vec::with_capacity(self.n + 1);
        xs.push(Fr::from(SEED));
        for i in 0..self.n {
            xs.push(xs[i].square());
        }
        let mut w = vec![Fr::from(1u8), xs[self.n]];
        w.extend_from_slice(&xs[..self.n]);
        w
    }
}

impl ConstraintSynthesizer<Fr> for Chain {
    fn generate_constraints(self, cs: ConstraintSystemRef<Fr>) -> Result<(), SynthesisError> {
        let w = self.witness();
        let out = cs.new_input_variable(|| Ok(w[1]))?;
        let mut prev = cs.new_input_variable(|| Ok(w[2]))?;
        for i in 0..self.n {
            let next = if i + 1 == self.n {
                out
            } else {
                cs.new_witness_variable(|| Ok(w[3 + i]))?
            };
            cs.enforce_constraint(lc!() + prev, lc!() + prev, lc!() + next)?;
            prev = next;
        }
        for _ in 0..self.empty {
            cs.enforce_constraint(lc!(), lc!(), lc!())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_wtns, Groth16Backend};
    use rand::rngs::OsRng;
    use zkpool_backend::{Artifacts, Blob, ProofBackend};
    use zkpool_types::ArtifactRole;

    #[test]
    fn a_generated_chain_inspects_proves_and_verifies() {
        let c = multiplication_chain(13, &mut OsRng).unwrap();
        let r1cs = R1cs::parse(&c.r1cs).unwrap();
        assert_eq!(
            (r1cs.n_constraints(), r1cs.n_wires, r1cs.n_public),
            (13, 15, 2)
        );
        r1cs.check_witness(&parse_wtns(&c.wtns).unwrap()).unwrap();
        let key = crate::parse_proving_key(&c.zkey).unwrap();
        assert_eq!(key.domain_size, 16);
        assert_eq!(
            ZkeyProvingKey::to_bytes(&key),
            c.zkey,
            "the writer round-trips"
        );

        let mut a = Artifacts::default();
        a.insert(ArtifactRole::R1cs, Blob::new(c.r1cs));
        a.insert(ArtifactRole::Zkey, Blob::new(c.zkey));
        a.insert(ArtifactRole::Wtns, Blob::new(c.wtns));
        let backend = Groth16Backend::new();
        let shape = backend.inspect(&a).unwrap();
        assert_eq!(shape.work, 13);
        let proof = backend.prove(&a).unwrap();
        backend.verify(&a, &shape.statement, &proof).unwrap();
    }
}
