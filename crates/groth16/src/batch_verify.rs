//! Many Groth16 proofs of one verifying key checked together, at about one Miller-loop pair
//! per proof where one by one each costs three pairs and a final exponentiation.
//!
//! ```text
//!   (proof_i, x_i) ─counts, curves─► B_i ─batch::all_in_g2─┐  r_i ← OsRng, 128 bits
//!                                                          ▼
//!   Π e(r_i·A_i, B_i) · e(Σ r_i·L_i, −γ) · e(Σ r_i·C_i, −δ) == e(α, β)^(Σ r_i) ?
//!        │                 └ one MSM over γ_abc with scalars Σ_i r_i·x_ij
//!        └ fails ─► halves with fresh r_i, down to LEAF proofs verified one by one
//! ```
//!
//! Soundness. Let `D_i = e(A_i, B_i)·e(L_i, −γ)·e(C_i, −δ) / e(α, β)`, where
//! `L_i = γ_abc[0] + Σ_j x_ij·γ_abc[j]`; proof `i` is valid iff `D_i = 1`. By bilinearity the
//! check is `Π D_i^(r_i) = 1`, and `D_i` lies in GT, of prime order. If some `D_k ≠ 1`, then
//! whatever the other weights, exactly one residue of `r_k` makes the product 1, so a batch
//! with a bad proof passes with probability at most 2^-128. The weights are drawn after the
//! proofs are fixed, from the operating system, fresh for every check, so a prover cannot
//! choose proofs whose errors cancel. Bilinearity needs every point in its prime-order group:
//! G1 has cofactor 1, so A and C need only be on the curve; B is tested for G2 with
//! [`crate::batch`]'s weighted sums, a few G2 additions per proof rather than one ψ test each.
//! A valid batch always passes, so a failed check proves that a bad proof is there.
//!
//! Cost. Per proof: preparing B's line coefficients, its Miller-loop pair, a 128-bit G1
//! multiplication for `r_i·A_i`, its share of two MSMs and of the subgroup sums. Per batch:
//! two pairs with the key's prepared `−γ`, `−δ`, a final exponentiation and a power of the
//! key's `e(α, β)` by `Σ r_i` (128 + log2(n) bits), which replaces a pair with `β`.
//! `benches/verify.rs` measures it. A failed batch is bisected: one bad proof costs about one
//! and a half batches more (a failed half leaves its sibling to check), `k` of them at most
//! `k·log2(n / LEAF)` checks of halves, quarters and so on.

use ark_bn254::{Bn254, Fq12, Fr, G1Affine, G1Projective, G2Affine};
use ark_ec::bn::G2Prepared;
use ark_ec::pairing::{MillerLoopOutput, Pairing};
use ark_ec::{AffineRepr, CurveGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, CyclotomicMultSubgroup, Field, PrimeField};
use ark_groth16::{PreparedVerifyingKey, Proof};
use rand::rngs::{OsRng, StdRng};
use rand::{CryptoRng, Rng, RngCore, SeedableRng};
use rayon::prelude::*;

use crate::batch;
use crate::error::{BatchFault, BatchRejected, ProofFault};
use crate::verifier::verify;

/// Sets this small are verified proof by proof when a failed batch is searched: there, the
/// three pairs of a single check cost less than another round of halving.
const LEAF: usize = 4;

/// Proofs per parallel task of the Miller loop: enough to amortise a task's Fq12 product, few
/// enough that a batch of 64 splits into a task per thread with some to balance, and that the
/// prepared B points (about 17 KiB each) stay in cache.
const MILLER_CHUNK: usize = 16;

/// Verifies every proof of `items`, each with its public signals (outputs then inputs), against
/// one verifying key, with one random linear combination of their pairing checks (see the
/// module docs). An empty batch is accepted.
///
/// Refuses the batch when any proof fails, naming each that does: a wrong number of public
/// signals, a point off its curve or B outside G2, or a failed pairing check. Every proof is
/// checked either way, so the faults listed are all there are, but for a chance of 2^-128 per
/// weighted check made.
pub fn verify_batch(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
) -> Result<(), BatchRejected> {
    verify_batch_with(pvk, items, &mut OsRng)
}

/// [`verify_batch`] with weights from `rng`, which must be unpredictable to the provers: tests
/// seed it; production uses the operating system's.
pub(crate) fn verify_batch_with<R: RngCore + CryptoRng + Send>(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
    rng: &mut R,
) -> Result<(), BatchRejected> {
    let inputs = pvk.vk.gamma_abc_g1.len();
    let early: Vec<Option<ProofFault>> = items.par_iter().map(|i| malformed(i, inputs)).collect();
    let (mut faults, mut live) = (Vec::new(), Vec::new());
    for (index, fault) in early.into_iter().enumerate() {
        match fault {
            Some(kind) => faults.push(BatchFault { index, kind }),
            None => live.push(index),
        }
    }

    // The subgroup sums run beside the first pairing check, which counts only if they pass:
    // with a B outside G2 the pairing is not bilinear and the check says nothing.
    let b: Vec<G2Affine> = live.iter().map(|&i| items[i].0.b).collect();
    let mut g2_rng = StdRng::from_seed(rng.gen());
    let (in_g2, mut passed) = rayon::join(
        || batch::all_in_g2(&b, &mut g2_rng),
        || live.is_empty() || holds(pvk, items, &live, rng),
    );
    if !in_g2 {
        let outside: Vec<usize> = live
            .par_iter()
            .copied()
            .filter(|&i| !items[i].0.b.is_in_correct_subgroup_assuming_on_curve())
            .collect();
        live.retain(|i| outside.binary_search(i).is_err());
        faults.extend(outside.into_iter().map(|index| BatchFault {
            index,
            kind: ProofFault::NotInG2,
        }));
        passed = live.is_empty() || holds(pvk, items, &live, rng);
    }

    if !passed {
        let mut bad = Vec::new();
        search(pvk, items, &live, rng, &mut bad);
        // The search infers that the second half of a failed set is bad when the first
        // passes; should a bad first half pass (probability 2^-128) it could come back empty,
        // and a failed batch must still name its proofs.
        if bad.is_empty() {
            bad = one_by_one(pvk, items, &live);
        }
        faults.extend(bad.into_iter().map(|index| BatchFault {
            index,
            kind: ProofFault::PairingFails,
        }));
    }

    if faults.is_empty() {
        return Ok(());
    }
    faults.sort_by_key(|f| f.index);
    Err(BatchRejected {
        batch: items.len(),
        faults,
    })
}

/// What makes a proof unfit for the batch's algebra before any pairing: its signal count
/// against the key's `inputs` points (one more than its signals; a key with none refuses every
/// proof), or a point off its curve. Proofs decoded by [`crate::proof_from_json`] pass both.
fn malformed((proof, public): &(Proof<Bn254>, Vec<Fr>), inputs: usize) -> Option<ProofFault> {
    if public.len() + 1 != inputs {
        return Some(ProofFault::PublicCount {
            got: public.len(),
            expected: inputs.saturating_sub(1),
        });
    }
    if !proof.a.is_on_curve() {
        Some(ProofFault::NotOnCurve("A"))
    } else if !proof.b.is_on_curve() {
        Some(ProofFault::NotOnCurve("B"))
    } else if !proof.c.is_on_curve() {
        Some(ProofFault::NotOnCurve("C"))
    } else {
        None
    }
}

/// Whether the proofs `which` of `items`, well formed, pass one randomly weighted check. The
/// proofs' pairs, the key's two and the power of `e(α, β)` are independent until the final
/// exponentiation, so they run side by side: the last two would otherwise leave a thread idle
/// for a small batch.
fn holds(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
    which: &[usize],
    rng: &mut impl RngCore,
) -> bool {
    let mut weights = vec![0u128; which.len()];
    rng.fill(&mut weights[..]);
    let r: Vec<Fr> = weights.iter().map(|&w| Fr::from(w)).collect();
    // GT has order |Fr|, so Σ r_i taken in Fr is the exponent of e(α, β).
    let sum: Fr = r.iter().sum();
    let (proofs, (key, alpha_beta)) = rayon::join(
        || proof_pairs(items, which, &weights),
        || {
            rayon::join(
                || key_pairs(pvk, items, which, &r, sum),
                || pvk.alpha_g1_beta_g2.cyclotomic_exp(sum.into_bigint()),
            )
        },
    );
    Bn254::final_exponentiation(MillerLoopOutput(proofs * key)).is_some_and(|gt| gt.0 == alpha_beta)
}

/// The Miller loop of `Π e(r_i·A_i, B_i)`, in chunks run in parallel: each multi-Miller loop
/// multiplies its pairs' lines into one accumulator, and the chunks' outputs multiply the
/// same way.
fn proof_pairs(items: &[(Proof<Bn254>, Vec<Fr>)], which: &[usize], weights: &[u128]) -> Fq12 {
    which
        .par_chunks(MILLER_CHUNK)
        .zip(weights.par_chunks(MILLER_CHUNK))
        .map(|(chunk, w)| {
            let a: Vec<G1Projective> = chunk
                .iter()
                .zip(w)
                .map(|(&i, &w)| items[i].0.a.mul_bigint([w as u64, (w >> 64) as u64]))
                .collect();
            let b = chunk.iter().map(|&i| G2Prepared::from(items[i].0.b));
            Bn254::multi_miller_loop(G1Projective::normalize_batch(&a), b).0
        })
        .reduce(|| Fq12::ONE, |x, y| x * y)
}

/// The Miller loop of `e(Σ r_i·L_i, −γ)·e(Σ r_i·C_i, −δ)`, with
/// `Σ r_i·L_i = (Σ r_i)·γ_abc[0] + Σ_j (Σ_i r_i·x_ij)·γ_abc[j]`: one MSM over the key
/// however many proofs, where one by one each proof costs one multiplication per signal.
fn key_pairs(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
    which: &[usize],
    r: &[Fr],
    sum: Fr,
) -> Fq12 {
    let mut s = vec![Fr::ZERO; pvk.vk.gamma_abc_g1.len()];
    if let Some(s0) = s.first_mut() {
        *s0 = sum;
    }
    for (&i, r) in which.iter().zip(r) {
        for (s, x) in s.iter_mut().skip(1).zip(&items[i].1) {
            *s += *r * x;
        }
    }
    let l = G1Projective::msm_unchecked(&pvk.vk.gamma_abc_g1, &s);
    let c: Vec<G1Affine> = which.iter().map(|&i| items[i].0.c).collect();
    let c = G1Projective::msm_unchecked(&c, r);
    Bn254::multi_miller_loop(
        [l.into_affine(), c.into_affine()],
        [pvk.gamma_g2_neg_pc.clone(), pvk.delta_g2_neg_pc.clone()],
    )
    .0
}

/// Appends to `bad` the failing proofs of `which`, a set known to hold at least one: its
/// halves are checked with fresh weights, a half that passes is cleared, and a second half is
/// not checked when the first passed, since the failure must then be in it.
fn search<R: RngCore>(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
    which: &[usize],
    rng: &mut R,
    bad: &mut Vec<usize>,
) {
    if which.len() <= LEAF {
        bad.extend(one_by_one(pvk, items, which));
        return;
    }
    let (left, right) = which.split_at(which.len() / 2);
    if holds(pvk, items, left, rng) {
        search(pvk, items, right, rng, bad);
    } else {
        search(pvk, items, left, rng, bad);
        if !holds(pvk, items, right, rng) {
            search(pvk, items, right, rng, bad);
        }
    }
}

/// The proofs of `which` that fail the single pairing check.
fn one_by_one(
    pvk: &PreparedVerifyingKey<Bn254>,
    items: &[(Proof<Bn254>, Vec<Fr>)],
    which: &[usize],
) -> Vec<usize> {
    which
        .par_iter()
        .copied()
        .filter(|&i| !matches!(verify(pvk, &items[i].0, &items[i].1), Ok(true)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    use ark_bn254::{Fq, Fq2, G2Projective};
    use ark_ec::PrimeGroup;
    use ark_ff::{UniformRand, Zero};
    use ark_groth16::prepare_verifying_key;
    use zkpool_backend::BackendError;

    use crate::{compute_witness, parse_proving_key, parse_wtns, prove, synthetic, ZkeyProvingKey};

    type Item = (Proof<Bn254>, Vec<Fr>);

    fn rng() -> StdRng {
        StdRng::seed_from_u64(11)
    }

    /// A verifying key and valid proofs of it.
    struct Circuit {
        pvk: PreparedVerifyingKey<Bn254>,
        proofs: Vec<Item>,
    }

    fn circuit(key: &ZkeyProvingKey, witnesses: &[Vec<Fr>]) -> Circuit {
        let proofs = witnesses
            .iter()
            .map(|w| (prove(key, w).unwrap(), w[1..=key.n_public].to_vec()))
            .collect();
        Circuit {
            pvk: prepare_verifying_key(&key.pk.vk),
            proofs,
        }
    }

    /// Proofs of a committed fixture, one per `input.json`.
    fn fixture(name: &str, inputs: &[String]) -> Circuit {
        let file = |ext: &str| {
            std::fs::read(format!(
                "{}/../../fixtures/{name}/{name}.{ext}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
        };
        let key = parse_proving_key(&file("zkey")).unwrap();
        let wasm = file("wasm");
        let witnesses: Vec<_> = inputs
            .iter()
            .map(|i| compute_witness(&wasm, i.as_bytes()).unwrap())
            .collect();
        circuit(&key, &witnesses)
    }

    /// 24 proofs of the multiplier (public `c = a·k…`, then `a`): `a` from 1 to p − 1 and
    /// factors from 0 to p − 1, so that some outputs are 0 and most are full-size.
    fn multiplier() -> &'static Circuit {
        static C: OnceLock<Circuit> = OnceLock::new();
        C.get_or_init(|| {
            let a = [
                "1",
                "3",
                "-1",
                "123456789012345678901234567890123456789",
                "-2",
                "2",
            ];
            let k = [
                "-1",
                "987654321987654321987654321",
                "5",
                "-12345678901234567890",
            ];
            let inputs: Vec<String> = (0..24)
                .map(|i| {
                    let k00 = if i % 4 == 0 { "0" } else { k[i % 3] };
                    let (k01, k10, k11) = (k[(i + 1) % 4], k[(i + 2) % 4], k[(i + 3) % 4]);
                    format!(
                        r#"{{"a": "{}", "k": [["{k00}", "{k01}"], ["{k10}", "{k11}"]]}}"#,
                        a[i % a.len()]
                    )
                })
                .collect();
            fixture("multiplier", &inputs)
        })
    }

    /// Five proofs of the Poseidon chain, seeds 0, p − 1 and others.
    fn poseidon() -> &'static Circuit {
        static C: OnceLock<Circuit> = OnceLock::new();
        C.get_or_init(|| {
            let inputs: Vec<String> = [("0", "67890"), ("-1", "0"), ("12345", "1"), ("7", "-7")]
                .iter()
                .map(|(seed, secret)| format!(r#"{{"seed": "{seed}", "secret": "{secret}"}}"#))
                .collect();
            fixture("poseidon_chain", &inputs)
        })
    }

    /// Six proofs of one statement on a synthetic key: each with its own blinding.
    fn chain() -> &'static Circuit {
        static C: OnceLock<Circuit> = OnceLock::new();
        C.get_or_init(|| {
            let c = synthetic::multiplication_chain(13, &mut rng()).unwrap();
            let key = parse_proving_key(&c.zkey).unwrap();
            let w = parse_wtns(&c.wtns).unwrap();
            circuit(&key, &vec![w; 6])
        })
    }

    fn check(c: &Circuit, items: &[Item]) -> Result<(), BatchRejected> {
        verify_batch_with(&c.pvk, items, &mut rng())
    }

    fn faults(e: &BatchRejected) -> Vec<(usize, ProofFault)> {
        e.faults.iter().map(|f| (f.index, f.kind)).collect()
    }

    /// A moved by the generator: a proof that fails only the pairing check.
    fn bump_a(item: &mut Item) {
        item.0.a = (item.0.a + G1Affine::generator()).into_affine();
    }

    #[test]
    fn valid_batches_of_three_keys_pass() {
        for c in [multiplier(), poseidon(), chain()] {
            for (proof, public) in &c.proofs {
                assert!(
                    verify(&c.pvk, proof, public).unwrap(),
                    "each proof is valid"
                );
            }
            check(c, &c.proofs).unwrap();
            check(c, &c.proofs[..1]).unwrap();
            verify_batch(&c.pvk, &c.proofs).unwrap();
        }
        assert!(multiplier().proofs.iter().any(|(_, x)| x[0].is_zero()));
        assert!(multiplier().proofs.iter().any(|(_, x)| x[1] == -Fr::ONE));
        verify_batch(&multiplier().pvk, &[]).unwrap();
    }

    #[test]
    fn one_bad_proof_is_named_wherever_it_sits() {
        let c = multiplier();
        for at in [0, 7, 12, 23] {
            let mut items = c.proofs.clone();
            bump_a(&mut items[at]);
            let e = check(c, &items).unwrap_err();
            assert_eq!(faults(&e), [(at, ProofFault::PairingFails)]);
            assert_eq!((e.batch, e.indices()), (24, vec![at]));
        }
        for at in [3, 18] {
            let mut items = c.proofs.clone();
            items[at].1[1] += Fr::ONE;
            assert_eq!(
                check(c, &items).unwrap_err().indices(),
                [at],
                "public input"
            );
            let e = verify_batch(&c.pvk, &items).unwrap_err();
            assert_eq!(e.indices(), [at], "with the operating system's weights");
        }
        let mut items = poseidon().proofs.clone();
        items[2].1[0] = Fr::ONE;
        assert_eq!(check(poseidon(), &items).unwrap_err().indices(), [2]);
    }

    #[test]
    fn two_bad_proofs_are_both_named() {
        let c = multiplier();
        for pair in [[5, 17], [10, 11], [0, 23]] {
            let mut items = c.proofs.clone();
            bump_a(&mut items[pair[0]]);
            items[pair[1]].1[0] += Fr::ONE;
            assert_eq!(check(c, &items).unwrap_err().indices(), pair);
        }
        let mut items = c.proofs[..6].to_vec();
        items.iter_mut().for_each(bump_a);
        assert_eq!(check(c, &items).unwrap_err().indices(), [0, 1, 2, 3, 4, 5]);
    }

    /// Errors that cancel in an unweighted sum: C moved by +D in one proof and −D in another
    /// leaves Σ C_i, and so the unweighted product of the checks, unchanged.
    #[test]
    fn errors_that_cancel_without_weights_are_caught() {
        let c = multiplier();
        let mut items = c.proofs.clone();
        let d = G1Projective::generator() * Fr::from(5u8);
        items[4].0.c = (items[4].0.c + d).into_affine();
        items[19].0.c = (items[19].0.c - d).into_affine();
        let sum = |items: &[Item]| items.iter().map(|i| i.0.c).sum::<G1Projective>();
        assert_eq!(sum(&items), sum(&c.proofs));
        assert_eq!(check(c, &items).unwrap_err().indices(), [4, 19]);
    }

    #[test]
    fn a_proof_for_another_key_is_refused() {
        let c = multiplier();
        let mut items = c.proofs.clone();
        items[9] = chain().proofs[0].clone();
        items[20] = poseidon().proofs[1].clone();
        let e = check(c, &items).unwrap_err();
        assert_eq!(
            faults(&e),
            [
                (9, ProofFault::PairingFails),
                (20, ProofFault::PairingFails)
            ]
        );
        let mut items = chain().proofs.clone();
        items[3] = c.proofs[3].clone();
        assert_eq!(check(chain(), &items).unwrap_err().indices(), [3]);
    }

    #[test]
    fn wrong_signal_counts_are_named_and_the_rest_still_checked() {
        let c = multiplier();
        let mut items = c.proofs.clone();
        items[2].1.pop();
        items[15].1.push(Fr::ONE);
        let e = check(c, &items).unwrap_err();
        let count = |got| ProofFault::PublicCount { got, expected: 2 };
        assert_eq!(faults(&e), [(2, count(1)), (15, count(3))]);
        assert!(matches!(BackendError::from(e), BackendError::Mismatch(_)));

        bump_a(&mut items[8]);
        let e = check(c, &items).unwrap_err();
        assert_eq!(
            faults(&e),
            [(2, count(1)), (8, ProofFault::PairingFails), (15, count(3))]
        );
        let message = e.to_string();
        assert!(
            message.starts_with("3 of 24 proofs refused: proof 2: 1 public signals"),
            "{message}"
        );
        assert!(matches!(
            BackendError::from(e),
            BackendError::InvalidProof(_)
        ));

        // A key without γ_abc points takes no statement at all: refused, not a panic.
        let mut pvk = c.pvk.clone();
        pvk.vk.gamma_abc_g1.clear();
        let e = verify_batch(&pvk, &c.proofs[..2]).unwrap_err();
        assert_eq!(e.indices(), [0, 1]);
    }

    /// A point of the twist outside G2: x hashed to the curve, no cofactor clearing.
    fn off_subgroup(rng: &mut StdRng) -> G2Affine {
        loop {
            let x = Fq2::new(Fq::rand(rng), Fq::rand(rng));
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, rng.gen()) {
                if !p.is_in_correct_subgroup_assuming_on_curve() {
                    return p;
                }
            }
        }
    }

    #[test]
    fn points_off_the_curve_or_outside_g2_are_named() {
        let c = multiplier();
        let mut items = c.proofs.clone();
        let a = items[4].0.a;
        items[4].0.a = G1Affine::new_unchecked(a.x, a.y + Fq::ONE);
        let c6 = items[6].0.c;
        items[6].0.c = G1Affine::new_unchecked(c6.x + Fq::ONE, c6.y);
        let b = items[10].0.b;
        items[10].0.b = G2Affine::new_unchecked(b.x, b.y + Fq2::ONE);
        items[13].0.b = off_subgroup(&mut rng());
        // In G2 but not the prover's B: only the pairing check can tell.
        items[21].0.b = (G2Projective::from(items[21].0.b).double()).into_affine();
        let e = check(c, &items).unwrap_err();
        assert_eq!(
            faults(&e),
            [
                (4, ProofFault::NotOnCurve("A")),
                (6, ProofFault::NotOnCurve("C")),
                (10, ProofFault::NotOnCurve("B")),
                (13, ProofFault::NotInG2),
                (21, ProofFault::PairingFails),
            ]
        );
    }
}
