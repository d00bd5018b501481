//! The B query's batched checks: every B2 point (zkey section 7) in G2's prime-order
//! subgroup, and every B1 point (section 6) the same multiple of G1's generator as its B2 point
//! is of G2's, both decided from a few random linear combinations instead of one test per point.
//! [`all_in_g2`] runs the subgroup sums over decoded points too, for the B points of a batch of
//! proofs (`batch_verify`).
//!
//! ```text
//!   B2 ─decode─► per chunk, Q_k = Σ w_ki·B2_i (5-7 rounds k) ─► ψ(Q_k) == [6x²]Q_k ?  subgroup
//!   B1 ─decode─► per chunk, R_k = Σ w_ki·B1_i (same w) ─┐
//!   δ₁ β₁ ──────────────────────────────────────────────┴► e(Σ s·R, g2) == e(g1, Σ s·Q) ?
//! ```
//!
//! Why batch: ark-bn254's subgroup test is already the fast ψ method (ψ(P) == [6x²]P, a
//! 127-bit multiplication), yet one test per point costs about three proofs on a key whose B2
//! points are dense (`benches/intake.rs` measures it); a weighted sum costs about one point
//! addition per point and round.
//!
//! Soundness. BN254's twist has `h·r` points with `r ∤ h`, so each point is `S + T` with `S` in
//! G2 and `T` in the part of order `h`, and a sum is in G2 iff `Σ w_i·T_i = 0`. If some
//! `T_j ≠ 0`, that holds for at most one residue of `w_j` modulo `ord(T_j)`, and `ord(T_j)` is
//! at least `h`'s smallest prime factor, 10069 (`h` = 10069 · 5864401 · 1875725156269 · p₁₇₇;
//! a unit test checks there is none below 2^13). With weights uniform over `2^b` consecutive
//! integers a round misses with probability ≤ ⌈2^b / 10069⌉ / 2^b, and each chunk of points
//! gets enough independent rounds that it misses with ≤ 2^-65 (five of 13 or 14 bits, six of
//! 11, seven of 10; a unit test checks each scheme). Once the sums are in G2 the pairings
//! compare discrete logarithms in Fr, where a round misses with probability ≤ 2^-b, and the
//! fold with full-size `s` adds 2^-254. Weights are fresh for every check, so a key cannot be
//! tuned against them.
//!
//! Sums are bucketed (Pippenger, signed digits), each chunk with the scheme that costs it
//! fewest additions: more rounds of shorter weights cost more additions per point but fewer
//! buckets to reduce. arkworks' `VariableBaseMSM` would walk all 254 scalar bits, making its
//! bucket reductions cost more than the additions for such short weights. A failed batch is
//! bisected with fresh weights down to a few points tested one by one, so the error names the
//! point; that costs about one more pass, and only on a refused key.

use std::ops::Range;
use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::pairing::Pairing;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup, VariableBaseMSM};
use ark_ff::{AdditiveGroup, UniformRand, Zero};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::binfile::{g1_montgomery, g2_montgomery, G1_BYTES, G2_BYTES};
use crate::zkey::ZkeyHeader;

/// How one chunk weights its points: `rounds` independent sums whose weights are uniform over
/// `2^bits` consecutive integers, bucketed `window` bits at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Scheme {
    bits: u32,
    window: u32,
    rounds: usize,
}

/// The schemes a chunk chooses from; each misses a bad point with probability ≤ 2^-65.
const SCHEMES: [Scheme; 4] = [
    Scheme {
        bits: 14,
        window: 7,
        rounds: 5,
    },
    Scheme {
        bits: 10,
        window: 10,
        rounds: 7,
    },
    Scheme {
        bits: 11,
        window: 11,
        rounds: 6,
    },
    Scheme {
        bits: 13,
        window: 13,
        rounds: 5,
    },
];

impl Scheme {
    fn windows(&self) -> usize {
        (self.bits / self.window) as usize
    }

    /// Point additions to sum `points` points: one per point, window and round, and `2^window`
    /// per window and round to reduce the `2^(window-1)` signed buckets.
    fn cost(&self, points: usize) -> usize {
        self.rounds * self.windows() * (points + (1 << self.window))
    }

    /// The cheapest scheme for `points` points.
    fn cheapest(points: usize) -> Self {
        SCHEMES
            .into_iter()
            .min_by_key(|s| s.cost(points))
            .unwrap_or(SCHEMES[0])
    }
}

/// Ranges this small are searched point by point when a fault is located.
const LEAF: usize = 16;

/// The B query of a zkey: the bodies of sections 6 and 7, each exactly `n` points long.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BQuery<'a> {
    pub b1: &'a [u8],
    pub b2: &'a [u8],
    pub n: usize,
}

/// Where the batched checks spent their time.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Timing {
    /// Decoding B2, its sums and their subgroup tests.
    pub g2_subgroup: Duration,
    /// Decoding B1, its sums and the pairing check.
    pub consistency: Duration,
}

/// Decodes one point from a section body.
type Decode<P> = dyn Fn(&[u8]) -> Result<Affine<P>, &'static str> + Sync;

/// One task of a pass: a range of points, the seed of their weights and how they are used.
#[derive(Debug, Clone)]
struct Chunk {
    range: Range<usize>,
    seed: [u8; 32],
    scheme: Scheme,
}

/// Runs both checks; the error names the point (or δ, β) that fails.
pub(crate) fn check(
    q: &BQuery<'_>,
    h: &ZkeyHeader,
    rng: &mut impl Rng,
) -> Result<Timing, BackendError> {
    let start = Instant::now();
    let plan = q.plan(0..q.n, rng);
    let b2_sums = q.g2_sums(&plan)?;
    if !b2_sums.par_iter().all(in_g2) {
        return Err(q.subgroup_fault(rng)?);
    }
    let g2_subgroup = start.elapsed();

    let start = Instant::now();
    let mut g1_terms = q.g1_sums(&plan)?;
    let mut g2_terms = b2_sums;
    g1_terms.extend([h.delta_g1.into_group(), h.beta_g1.into_group()]);
    g2_terms.extend([h.vk.delta_g2.into_group(), h.vk.beta_g2.into_group()]);
    if !folded_dlogs_agree(&g1_terms, &g2_terms, rng) {
        for (name, g1, g2) in [
            ("delta", h.delta_g1, h.vk.delta_g2),
            ("beta", h.beta_g1, h.vk.beta_g2),
        ] {
            if !same_dlog(g1.into_group(), g2.into_group()) {
                return Err(malformed(format!(
                    "section 2: {name}1 and {name}2 are not the same multiple of the generators"
                )));
            }
        }
        return Err(q.consistency_fault(rng)?);
    }
    Ok(Timing {
        g2_subgroup,
        consistency: start.elapsed(),
    })
}

impl BQuery<'_> {
    /// [`plan`] over `range`, by the count of B2 points that are not the identity. The B1
    /// pass, which must reuse the weights, uses the same plan.
    fn plan(&self, range: Range<usize>, rng: &mut impl Rng) -> Vec<Chunk> {
        plan(
            range,
            |r| {
                self.b2[r.start * G2_BYTES..r.end * G2_BYTES]
                    .chunks_exact(G2_BYTES)
                    .filter(|b| b.iter().any(|&x| x != 0))
                    .count()
            },
            rng,
        )
    }

    fn g2_sums(&self, plan: &[Chunk]) -> Result<Vec<G2Projective>, BackendError> {
        weighted_sums(self.b2, G2_BYTES, &|b| g2_montgomery(b, false), plan)
            .map_err(|(i, e)| malformed(format!("section 7 (B2 points): point {i}: {e}")))
    }

    fn g1_sums(&self, plan: &[Chunk]) -> Result<Vec<G1Projective>, BackendError> {
        weighted_sums(self.b1, G1_BYTES, &g1_montgomery, plan)
            .map_err(|(i, e)| malformed(format!("section 6 (B1 points): point {i}: {e}")))
    }

    /// Point `i` of B1 and of B2; the passes already decoded them, so errors cannot occur.
    fn point(&self, i: usize) -> (G1Affine, G2Affine) {
        let b1 = g1_montgomery(&self.b1[i * G1_BYTES..][..G1_BYTES]).unwrap_or_default();
        let b2 = g2_montgomery(&self.b2[i * G2_BYTES..][..G2_BYTES], false).unwrap_or_default();
        (b1, b2)
    }

    fn subgroup_fault(&self, rng: &mut impl Rng) -> Result<BackendError, BackendError> {
        let found = locate(
            self.n,
            |range| {
                let plan = self.plan(range, rng);
                Ok(self.g2_sums(&plan)?.iter().all(in_g2))
            },
            |i| in_g2(&self.point(i).1.into_group()),
        )?;
        Ok(malformed(match found {
            Some(i) => {
                format!("section 7 (B2 points): point {i} is not in G2's prime-order subgroup")
            }
            None => "section 7 (B2 points): not all in G2's prime-order subgroup".into(),
        }))
    }

    fn consistency_fault(&self, rng: &mut impl Rng) -> Result<BackendError, BackendError> {
        let found = locate(
            self.n,
            |range| {
                let plan = self.plan(range, rng);
                let (g1, g2) = (self.g1_sums(&plan)?, self.g2_sums(&plan)?);
                Ok(g2.iter().all(in_g2) && folded_dlogs_agree(&g1, &g2, rng))
            },
            |i| {
                let (b1, b2) = self.point(i);
                in_g2(&b2.into_group()) && same_dlog(b1.into_group(), b2.into_group())
            },
        )?;
        Ok(malformed(match found {
            Some(i) => format!(
                "sections 6 and 7: B1 point {i} and B2 point {i} are not the same multiple of \
                 the generators"
            ),
            None => "sections 6 and 7: the B1 and B2 points disagree".into(),
        }))
    }
}

/// One chunk per thread over `range`, each with its own seed and the scheme cheapest for its
/// count of points that are not the identity (`nonzero` counts them in a range).
fn plan(
    range: Range<usize>,
    nonzero: impl Fn(Range<usize>) -> usize,
    rng: &mut impl Rng,
) -> Vec<Chunk> {
    let per = range.len().div_ceil(rayon::current_num_threads()).max(1024);
    let mut chunks = Vec::new();
    let mut start = range.start;
    while start < range.end {
        let end = (start + per).min(range.end);
        chunks.push(Chunk {
            range: start..end,
            seed: rng.gen(),
            scheme: Scheme::cheapest(nonzero(start..end)),
        });
        start = end;
    }
    chunks
}

/// Whether every point of `points`, each on the curve, is in G2's prime-order subgroup: the
/// zkey check's weighted sums (see the module's soundness note) over decoded points, for the
/// B points of a proof batch. `rng` must be unpredictable to whoever chose the points.
pub(crate) fn all_in_g2(points: &[G2Affine], rng: &mut impl Rng) -> bool {
    let plan = plan(
        0..points.len(),
        |r| points[r].iter().filter(|p| !p.is_zero()).count(),
        rng,
    );
    plan.par_iter()
        .map(|chunk| chunk_sums(|i| Ok(points[i]), chunk))
        .collect::<Result<Vec<_>, (usize, &str)>>()
        .is_ok_and(|sums| sums.iter().flatten().all(in_g2))
}

/// Bisects `0..n`, known to fail `passes`, down to a leaf searched with `holds`.
fn locate(
    n: usize,
    mut passes: impl FnMut(Range<usize>) -> Result<bool, BackendError>,
    mut holds: impl FnMut(usize) -> bool,
) -> Result<Option<usize>, BackendError> {
    let mut range = 0..n;
    while range.len() > LEAF {
        let mid = range.start + range.len() / 2;
        range = if passes(range.start..mid)? {
            mid..range.end
        } else {
            range.start..mid
        };
    }
    Ok(range.into_iter().find(|&i| !holds(i)))
}

/// `Σ_i w_ki·P_i` for each chunk of `plan` and each of its rounds `k`, chunk by chunk, the
/// chunks in parallel; a point that does not decode is returned with its index. The weights
/// come from each chunk's seed, one draw per point whatever the point, so that two passes over
/// sections of the same length agree.
fn weighted_sums<P: SWCurveConfig>(
    body: &[u8],
    point_bytes: usize,
    decode: &Decode<P>,
    plan: &[Chunk],
) -> Result<Vec<Projective<P>>, (usize, &'static str)> {
    let per_chunk = plan
        .par_iter()
        .map(|chunk| chunk_sums(|i| decode(&body[i * point_bytes..][..point_bytes]), chunk))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(per_chunk.into_iter().flatten().collect())
}

/// [`weighted_sums`] for one chunk, `point(i)` giving point `i` (decoded from a section's
/// body, or taken from a slice).
fn chunk_sums<P: SWCurveConfig>(
    point: impl Fn(usize) -> Result<Affine<P>, &'static str>,
    chunk: &Chunk,
) -> Result<Vec<Projective<P>>, (usize, &'static str)> {
    let scheme = chunk.scheme;
    let (c, windows, rounds) = (scheme.window, scheme.windows(), scheme.rounds);
    let half = 1usize << (c - 1);
    let mut buckets = vec![Projective::<P>::zero(); rounds * windows * half];
    let mut rng = StdRng::from_seed(chunk.seed);
    for i in chunk.range.clone() {
        let bits: u128 = rng.gen();
        let p = point(i).map_err(|e| (i, e))?;
        if p.is_zero() {
            continue;
        }
        for k in 0..rounds {
            for j in 0..windows {
                let digit = digit(bits, scheme, k, j);
                let bucket = &mut buckets[(k * windows + j) * half..][..half];
                if digit > 0 {
                    bucket[digit as usize - 1] += &p;
                } else if digit < 0 {
                    bucket[digit.unsigned_abs() as usize - 1] -= &p;
                }
            }
        }
    }
    let mut sums = vec![Projective::<P>::zero(); rounds];
    for (k, sum) in sums.iter_mut().enumerate() {
        for j in (0..windows).rev() {
            for _ in 0..c {
                sum.double_in_place();
            }
            // Σ_b (b + 1)·bucket_b by running sums from the top.
            let mut running = Projective::<P>::zero();
            for b in buckets[(k * windows + j) * half..][..half].iter().rev() {
                running += b;
                *sum += running;
            }
        }
    }
    Ok(sums)
}

/// Window `j` of round `k`'s weight, from the point's random `bits`: a signed digit in
/// `[-2^(c-1), 2^(c-1))` for window size `c`. The weight `Σ_j digit_j·2^(c·j)` then ranges
/// uniformly over `2^scheme.bits` consecutive integers.
fn digit(bits: u128, scheme: Scheme, k: usize, j: usize) -> i64 {
    let c = scheme.window;
    let w = (bits >> (scheme.bits as usize * k)) as u64 & ((1 << scheme.bits) - 1);
    ((w >> (c as usize * j)) & ((1 << c) - 1)) as i64 - (1i64 << (c - 1))
}

fn in_g2(p: &G2Projective) -> bool {
    p.is_zero() || p.into_affine().is_in_correct_subgroup_assuming_on_curve()
}

/// Whether `e(x, g2) == e(g1, y)`: `x` and `y` are the same multiple of the generators.
fn same_dlog(x: G1Projective, y: G2Projective) -> bool {
    let g1 = -G1Projective::generator();
    Bn254::multi_pairing(
        [x.into_affine(), g1.into_affine()],
        [G2Affine::generator(), y.into_affine()],
    )
    .is_zero()
}

/// [`same_dlog`] for every pair at once, folded with random full-size scalars.
fn folded_dlogs_agree(g1: &[G1Projective], g2: &[G2Projective], rng: &mut impl Rng) -> bool {
    let s: Vec<Fr> = g1.iter().map(|_| Fr::rand(rng)).collect();
    let x = G1Projective::msm_unchecked(&G1Projective::normalize_batch(g1), &s);
    let y = G2Projective::msm_unchecked(&G2Projective::normalize_batch(g2), &s);
    g1.len() == g2.len() && same_dlog(x, y)
}

fn malformed(reason: String) -> BackendError {
    BackendError::malformed(ArtifactRole::Zkey, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_bn254::{Fq, Fq2};
    use ark_ec::CurveConfig;
    use ark_ff::{BigInteger, PrimeField};
    use num_bigint::BigUint;

    use crate::binfile::{put_g1, put_g2};

    fn rng() -> StdRng {
        StdRng::seed_from_u64(7)
    }

    /// A point on the twist, almost surely outside G2: x hashed to the curve, no cofactor
    /// clearing.
    fn off_subgroup(rng: &mut StdRng) -> G2Affine {
        loop {
            let x = Fq2::new(Fq::rand(rng), Fq::rand(rng));
            if let Some(p) = G2Affine::get_point_from_x_unchecked(x, rng.gen()) {
                return p;
            }
        }
    }

    fn slow_in_g2(p: &G2Affine) -> bool {
        p.mul_bigint(Fr::MODULUS).is_zero()
    }

    /// B1/B2 of `n` random consistent points; every third wire has none (identity).
    fn b_query(n: usize, rng: &mut StdRng) -> (Vec<G1Affine>, Vec<G2Affine>) {
        (0..n)
            .map(|i| {
                let v = if i % 3 == 2 {
                    Fr::zero()
                } else {
                    Fr::rand(rng)
                };
                let b1 = (G1Projective::generator() * v).into_affine();
                (b1, (G2Projective::generator() * v).into_affine())
            })
            .unzip()
    }

    fn encode(b1: &[G1Affine], b2: &[G2Affine]) -> (Vec<u8>, Vec<u8>) {
        let (mut e1, mut e2) = (Vec::new(), Vec::new());
        b1.iter().for_each(|p| put_g1(&mut e1, p));
        b2.iter().for_each(|p| put_g2(&mut e2, p));
        (e1, e2)
    }

    #[test]
    fn the_cofactor_has_no_prime_factor_below_2_to_the_13() {
        let h = BigUint::from_bytes_le(
            &ark_ff::BigInt::<4>::new(
                <ark_bn254::g2::Config as CurveConfig>::COFACTOR
                    .try_into()
                    .unwrap(),
            )
            .to_bytes_le(),
        );
        assert!((2u32..1 << 13).all(|d| &h % d != BigUint::from(0u8)));
        assert_eq!(
            &h % 10069u32,
            BigUint::from(0u8),
            "the bound is tight: 10069 divides h"
        );
    }

    #[test]
    fn every_scheme_misses_with_at_most_2_to_the_minus_64() {
        for s in SCHEMES {
            assert_eq!(s.bits % s.window, 0, "{s:?}: windows tile the weight");
            assert!(
                s.bits as usize * s.rounds <= 128,
                "{s:?}: one u128 per point"
            );
            // A round misses a point of order ≥ 10069 for at most ⌈2^b / 10069⌉ weights.
            let per_round = (1u64 << s.bits).div_ceil(10069) as f64 / (1u64 << s.bits) as f64;
            assert!(per_round.log2() * s.rounds as f64 <= -64.0, "{s:?}");
        }
        assert_eq!(Scheme::cheapest(4), SCHEMES[0]);
        assert_eq!(Scheme::cheapest(1 << 17), SCHEMES[3]);
    }

    #[test]
    fn the_psi_test_agrees_with_the_slow_one() {
        let mut rng = rng();
        for _ in 0..20 {
            let inside = (G2Projective::generator() * Fr::rand(&mut rng)).into_affine();
            let outside = off_subgroup(&mut rng);
            for p in [inside, outside] {
                assert_eq!(p.is_in_correct_subgroup_assuming_on_curve(), slow_in_g2(&p));
            }
            assert!(in_g2(&inside.into_group()));
            assert!(!in_g2(&outside.into_group()));
        }
    }

    #[test]
    fn sums_use_the_weights_of_the_seed() {
        let mut rng = rng();
        let (b1, b2) = b_query(40, &mut rng);
        let (e1, e2) = encode(&b1, &b2);
        for scheme in SCHEMES {
            let chunk = Chunk {
                range: 3..40,
                seed: rng.gen(),
                scheme,
            };
            let sums =
                weighted_sums(&e1, G1_BYTES, &g1_montgomery, std::slice::from_ref(&chunk)).unwrap();
            let mut weights = StdRng::from_seed(chunk.seed);
            let mut expected = vec![G1Projective::zero(); scheme.rounds];
            for p in &b1[3..40] {
                let bits: u128 = weights.gen();
                for (k, e) in expected.iter_mut().enumerate() {
                    let w: i64 = (0..scheme.windows())
                        .map(|j| digit(bits, scheme, k, j) << (scheme.window as usize * j))
                        .sum();
                    let s = Fr::from(w.unsigned_abs());
                    *e += if w < 0 { -(*p * s) } else { *p * s };
                }
            }
            assert_eq!(sums, expected, "{scheme:?}");
            let b2_sums = weighted_sums(&e2, G2_BYTES, &|b| g2_montgomery(b, false), &[chunk]);
            assert!(b2_sums.unwrap().iter().all(in_g2));
        }
    }

    fn header_for_test() -> ZkeyHeader {
        let zkey = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/multiplier/multiplier.zkey"
        ))
        .unwrap();
        crate::zkey::parse_header(&zkey).unwrap()
    }

    #[test]
    fn a_consistent_query_passes_and_each_fault_is_named() {
        let mut rng = rng();
        let h = header_for_test();
        let (b1, b2) = b_query(300, &mut rng);
        let (e1, e2) = encode(&b1, &b2);
        let q = BQuery {
            b1: &e1,
            b2: &e2,
            n: 300,
        };
        check(&q, &h, &mut rng).unwrap();

        let mut outside = b2.clone();
        outside[201] = off_subgroup(&mut rng);
        let (_, e2) = encode(&b1, &outside);
        let err = check(&BQuery { b2: &e2, ..q }, &h, &mut rng).unwrap_err();
        assert!(err.to_string().contains("point 201 is not in G2"), "{err}");

        // Doubled: in the subgroup, but no longer B1's multiple.
        let mut skewed = b2.clone();
        skewed[57] = (skewed[57] + skewed[57]).into_affine();
        let (_, e2) = encode(&b1, &skewed);
        let err = check(&BQuery { b2: &e2, ..q }, &h, &mut rng).unwrap_err();
        assert!(
            err.to_string().contains("B1 point 57 and B2 point 57"),
            "{err}"
        );

        let mut bad = e2.clone();
        bad[5 * G2_BYTES + 3] ^= 1;
        let err = check(&BQuery { b2: &bad, ..q }, &h, &mut rng).unwrap_err();
        assert!(
            err.to_string().contains("section 7 (B2 points): point 5"),
            "{err}"
        );
    }

    #[test]
    fn pairing_helpers_compare_discrete_logs() {
        let mut rng = rng();
        let v = Fr::rand(&mut rng);
        let (x, y) = (G1Projective::generator() * v, G2Projective::generator() * v);
        assert!(same_dlog(x, y));
        assert!(!same_dlog(x + x, y));
        assert!(folded_dlogs_agree(&[x, x + x], &[y, y + y], &mut rng));
        assert!(!folded_dlogs_agree(&[x, x], &[y, y + y], &mut rng));
    }
}
