//! Multi-scalar multiplication for the prover: `Σ sᵢ·Pᵢ` over BN254's G1 or G2.
//!
//! Pippenger's bucket method, shaped by what a circom witness looks like:
//!
//! - **Scalars split by size.** A scalar above `(r-1)/2` is replaced by `r - s` with the point
//!   negated (a field's `-1`, `-2`, … become small); zeros and points at infinity are dropped;
//!   scalars equal to one are summed directly, spread over many affine accumulators; the rest
//!   go through the bucket method with only as many windows as their largest member needs, so a
//!   circuit of bits and bytes pays for a few windows, not 254 bits' worth.
//! - **Full-size scalars halved by the GLV endomorphism** ([`glv`]): a scalar still above
//!   `2^128` becomes two below `2^127`, one on the point and one on its image `φ(P) = λ·P`.
//!   Hash outputs and the `h` coefficients are all full-size, so their windows are halved.
//! - **Buckets in affine coordinates, filled in batches** ([`buckets`]): additions to
//!   different buckets share one inversion (Montgomery's trick), about 6 multiplications each
//!   against 11 for the mixed Jacobian addition arkworks uses.
//! - **Signed digits**: `2^(c-1)` buckets per window of `c` bits.
//!
//! Windows are independent and run on rayon's threads; the caller runs several MSMs at once
//! (`rayon::join`) and work stealing balances them.

mod arith;
mod buckets;
mod glv;

use ark_bn254::Fr;
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{BigInteger, BigInteger256, PrimeField, Zero};
use rayon::prelude::*;

pub use arith::BaseMul;
use buckets::Buckets;
pub use glv::Endomorphism;

/// Affine accumulators the scalars equal to one are spread over.
const ONE_LANES: usize = 1024;

/// A scalar prepared for the bucket method.
#[derive(Clone, Copy)]
struct Term {
    /// The base's index.
    index: u32,
    /// The term multiplies the base's image under `φ` (the second GLV half), not the base.
    endo: bool,
    /// The point is negated.
    negate: bool,
    /// The magnitude, below `2^128`.
    scalar: u128,
}

/// `Σ scalars[i]·bases[i]` over the shorter of the two slices; `scalars` in canonical form
/// (`Fr::into_bigint`).
pub fn msm<P: Endomorphism<ScalarField = Fr, BaseField: BaseMul>>(
    bases: &[Affine<P>],
    scalars: &[BigInteger256],
) -> Projective<P> {
    let n = bases.len().min(scalars.len());
    let (ones, rest): (Vec<Term>, Vec<Term>) = (0..n)
        .into_par_iter()
        .filter(|&i| !bases[i].infinity)
        .flat_map_iter(|i| terms_of(i, &scalars[i]))
        .partition(|t| t.scalar == 1);
    let bases = Bases::new(&bases[..n], ones.par_iter().chain(&rest).any(|t| t.endo));
    let (sum_ones, sum_rest) =
        rayon::join(|| sum_points(&bases, &ones), || pippenger(&bases, &rest));
    sum_ones + sum_rest
}

/// The terms `s·P` becomes: none for zero, one where `s` or `r - s` (on `-P`) is below
/// `2^128`, else the two GLV halves.
fn terms_of(index: usize, s: &BigInteger256) -> impl Iterator<Item = Term> {
    let index = index as u32;
    let term = |endo: bool, v: i128| {
        (v != 0).then_some(Term {
            index,
            endo,
            negate: v < 0,
            scalar: v.unsigned_abs(),
        })
    };
    let (first, second) = if s.is_zero() {
        (None, None)
    } else {
        let (m, negate) = if *s > Fr::MODULUS_MINUS_ONE_DIV_TWO {
            let mut m = Fr::MODULUS;
            m.sub_with_borrow(s);
            (m, true)
        } else {
            (*s, false)
        };
        if m.num_bits() <= 128 {
            let scalar = u128::from(m.0[0]) | (u128::from(m.0[1]) << 64);
            let t = Term {
                index,
                endo: false,
                negate,
                scalar,
            };
            (Some(t), None)
        } else {
            let (k1, k2) = glv::decompose(s);
            (term(false, k1), term(true, k2))
        }
    };
    first.into_iter().chain(second)
}

/// The bases and, where some term needs them, their images under `φ`.
struct Bases<'a, P: SWCurveConfig> {
    plain: &'a [Affine<P>],
    endo: Vec<Affine<P>>,
}

impl<'a, P: Endomorphism> Bases<'a, P> {
    fn new(plain: &'a [Affine<P>], with_endo: bool) -> Self {
        let endo = if with_endo {
            plain.par_iter().map(P::phi).collect()
        } else {
            Vec::new()
        };
        Self { plain, endo }
    }

    /// The point a term adds, negated where its scalar was.
    #[inline]
    fn point(&self, t: &Term) -> Affine<P> {
        let p = if t.endo {
            self.endo[t.index as usize]
        } else {
            self.plain[t.index as usize]
        };
        if t.negate {
            -p
        } else {
            p
        }
    }
}

/// `Σ ±bases[t.index]` for terms whose scalar is one.
fn sum_points<P: Endomorphism<BaseField: BaseMul>>(
    bases: &Bases<'_, P>,
    terms: &[Term],
) -> Projective<P> {
    terms
        .par_chunks(ONE_LANES * 16)
        .map(|chunk| {
            let mut lanes = Buckets::<P>::new(ONE_LANES);
            for (k, t) in chunk.iter().enumerate() {
                lanes.add(k % ONE_LANES, bases.point(t));
            }
            lanes.finish();
            lanes.total()
        })
        .reduce(Projective::<P>::zero, |a, b| a + b)
}

/// The bucket method over `terms`, windows in parallel.
fn pippenger<P: Endomorphism<BaseField: BaseMul>>(
    bases: &Bases<'_, P>,
    terms: &[Term],
) -> Projective<P> {
    let bits = terms
        .iter()
        .map(|t| 128 - t.scalar.leading_zeros() as usize)
        .max()
        .unwrap_or(0);
    if bits == 0 {
        return Projective::zero();
    }
    let c = window_bits(terms.len(), bits);
    let windows = (bits + 1).div_ceil(c);
    let digits = signed_digits(terms, c, windows);

    let sums: Vec<Projective<P>> = (0..windows)
        .into_par_iter()
        .map(|w| {
            let mut buckets = Buckets::<P>::new(1 << (c - 1));
            for (k, t) in terms.iter().enumerate() {
                let d = digits[k * windows + w];
                if d > 0 {
                    buckets.add(d as usize - 1, bases.point(t));
                } else if d < 0 {
                    buckets.add((-d) as usize - 1, -bases.point(t));
                }
            }
            buckets.finish();
            buckets.weighted_total()
        })
        .collect();

    // Σ sums[w]·2^(c·w), from the top window down.
    let mut total = Projective::<P>::zero();
    for sum in sums.iter().rev() {
        for _ in 0..c {
            total.double_in_place();
        }
        total += sum;
    }
    total
}

/// The window width that minimises the estimated cost: per window, one batched affine
/// addition per term and about four additions' worth of Jacobian work per bucket to sum them.
fn window_bits(terms: usize, bits: usize) -> usize {
    (2..=15usize)
        .min_by_key(|&c| {
            let windows = (bits + 1).div_ceil(c);
            windows * (terms + 4 * (1usize << (c - 1)))
        })
        .unwrap_or(8)
}

/// Each term's scalar as `windows` signed digits of `c` bits (row per term), each in
/// `[-2^(c-1), 2^(c-1)]`, with `Σ dᵢ·2^(c·i)` equal to the scalar.
fn signed_digits(terms: &[Term], c: usize, windows: usize) -> Vec<i16> {
    let mut digits = vec![0i16; terms.len() * windows];
    let full = 1i64 << c;
    let half = full / 2;
    digits
        .par_chunks_mut(windows)
        .zip(terms)
        .for_each(|(row, t)| {
            let mut carry = 0i64;
            for (w, d) in row.iter_mut().enumerate() {
                let offset = w * c;
                let bits = if offset < 128 {
                    (t.scalar >> offset) as u64 & ((1 << c) - 1)
                } else {
                    0
                };
                let v = bits as i64 + carry;
                if v > half {
                    *d = (v - full) as i16;
                    carry = 1;
                } else {
                    *d = v as i16;
                    carry = 0;
                }
            }
            debug_assert_eq!(carry, 0, "the top window holds the last carry");
        });
    digits
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::{Field, UniformRand};
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;

    fn check<P: Endomorphism<ScalarField = Fr, BaseField: BaseMul>>(
        bases: &[Affine<P>],
        scalars: &[Fr],
    ) {
        let big: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
        let want = <Projective<P> as VariableBaseMSM>::msm(bases, scalars).unwrap();
        assert_eq!(msm(bases, &big).into_affine(), want.into_affine());
    }

    fn g1_points(rng: &mut StdRng, n: usize) -> Vec<G1Affine> {
        let p: Vec<G1Projective> = (0..n).map(|_| G1Projective::rand(rng)).collect();
        G1Projective::normalize_batch(&p)
    }

    fn g2_points(rng: &mut StdRng, n: usize) -> Vec<G2Affine> {
        let p: Vec<G2Projective> = (0..n).map(|_| G2Projective::rand(rng)).collect();
        G2Projective::normalize_batch(&p)
    }

    /// The witness shapes the splitting by size must get right.
    fn scalar_sets(rng: &mut StdRng, n: usize) -> Vec<(&'static str, Vec<Fr>)> {
        vec![
            ("random", (0..n).map(|_| Fr::rand(rng)).collect()),
            ("zeros", vec![Fr::from(0u64); n]),
            ("ones", vec![Fr::from(1u64); n]),
            ("minus ones", vec![-Fr::from(1u64); n]),
            (
                "bits",
                (0..n).map(|_| Fr::from(rng.gen_range(0u64..2))).collect(),
            ),
            (
                "bytes and their negations",
                (0..n)
                    .map(|i| {
                        let v = Fr::from(rng.gen_range(0u64..256));
                        if i % 3 == 0 {
                            -v
                        } else {
                            v
                        }
                    })
                    .collect(),
            ),
            ("all equal", vec![Fr::from(7u64); n]),
            (
                "largest",
                (0..n)
                    .map(|i| {
                        -Fr::from(i as u64 + 1) * Fr::from(2u64).inverse().unwrap()
                            + Fr::from(i as u64 % 2)
                    })
                    .collect(),
            ),
            (
                "around 2^128, where the GLV split starts",
                (0..n)
                    .map(|i| {
                        let two128 = Fr::from(u128::MAX) + Fr::from(1u64);
                        let near = two128 + Fr::from(i as u64 % 5) - Fr::from(2u64);
                        match i % 3 {
                            0 => near,
                            1 => -near,
                            _ => two128 * Fr::from(rng.gen::<u8>()) + Fr::from(rng.gen::<u128>()),
                        }
                    })
                    .collect(),
            ),
            (
                "mixed",
                (0..n)
                    .map(|i| match i % 5 {
                        0 => Fr::from(0u64),
                        1 => Fr::from(1u64),
                        2 => Fr::from(rng.gen::<u32>()),
                        3 => -Fr::from(rng.gen::<u64>()),
                        _ => Fr::rand(rng),
                    })
                    .collect(),
            ),
        ]
    }

    #[test]
    fn agrees_with_arkworks_on_every_witness_shape_in_g1_and_g2() {
        let mut rng = StdRng::seed_from_u64(7);
        for n in [0, 1, 2, 3, 100, 1000, 3000] {
            let g1 = g1_points(&mut rng, n);
            let g2 = g2_points(&mut rng, n.min(300));
            for (name, scalars) in scalar_sets(&mut rng, n) {
                eprintln!("{name}, n = {n}");
                check(&g1, &scalars);
                check(&g2, &scalars[..n.min(300)]);
            }
        }
    }

    #[test]
    fn agrees_with_a_naive_sum_of_products() {
        let mut rng = StdRng::seed_from_u64(14);
        let g1 = g1_points(&mut rng, 200);
        let g2 = g2_points(&mut rng, 40);
        for (name, scalars) in scalar_sets(&mut rng, g1.len()) {
            let big: Vec<_> = scalars.iter().map(|s| s.into_bigint()).collect();
            let want: G1Projective = g1.iter().zip(&scalars).map(|(p, s)| *p * s).sum();
            assert_eq!(msm(&g1, &big), want, "G1, {name}");
            let want: G2Projective = g2.iter().zip(&scalars).map(|(p, s)| *p * s).sum();
            assert_eq!(msm(&g2, &big), want, "G2, {name}");
        }
    }

    #[test]
    fn repeated_opposite_and_infinite_points_are_summed_right() {
        let mut rng = StdRng::seed_from_u64(8);
        let p = g1_points(&mut rng, 5);
        // The same point many times (doublings in a bucket), a point and its negation
        // (cancellations), and points at infinity, under ones, small and random scalars.
        let mut bases = Vec::new();
        for i in 0..2000 {
            bases.push(match i % 4 {
                0 => p[0],
                1 => -p[0],
                2 => G1Affine::identity(),
                _ => p[i % 5],
            });
        }
        for (_, scalars) in scalar_sets(&mut rng, bases.len()) {
            check(&bases, &scalars);
        }
    }

    #[test]
    fn signed_digits_recompose_every_scalar() {
        let mut rng = StdRng::seed_from_u64(9);
        let terms: Vec<Term> = (0..200)
            .map(|i| Term {
                index: i,
                endo: false,
                negate: false,
                scalar: rng.gen::<u128>() >> (i % 128),
            })
            .collect();
        for c in [2, 5, 8, 13, 15] {
            let bits = terms
                .iter()
                .map(|t| 128 - t.scalar.leading_zeros() as usize)
                .max()
                .unwrap();
            let windows = (bits + 1).div_ceil(c);
            let digits = signed_digits(&terms, c, windows);
            for (k, t) in terms.iter().enumerate() {
                let mut v = Fr::from(0u64);
                for w in (0..windows).rev() {
                    v *= Fr::from(1u64 << c);
                    let d = digits[k * windows + w];
                    assert!(d.unsigned_abs() <= 1 << (c - 1));
                    v += Fr::from(d.unsigned_abs() as u64)
                        * if d < 0 {
                            -Fr::from(1u64)
                        } else {
                            Fr::from(1u64)
                        };
                }
                assert_eq!(v, Fr::from(t.scalar));
            }
        }
    }
}
