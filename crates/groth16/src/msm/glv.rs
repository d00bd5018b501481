//! The GLV endomorphism: a full-size scalar becomes two of half the size.
//!
//! Both BN254 groups have `φ(x, y) = (βx, y)` with `β` a cube root of unity in `Fq`, and `φ`
//! multiplies every point by `λ`, a cube root of unity mod `r`. A scalar `k` splits into
//! `k₁ + λ·k₂` with `|k₁|, |k₂| < 2^127`, so `k·P = k₁·P + k₂·φ(P)`: the bucket method gets
//! twice the terms but half the windows, and the bucket sums, which cost per window and not
//! per term, are halved; `φ(P)` costs one multiplication in the base field.

use ark_bn254::{g1, g2, Fq, Fq2};
use ark_ec::short_weierstrass::{Affine, SWCurveConfig};
use ark_ff::{BigInteger256, MontFp};

/// A curve whose points `φ` maps to `λ·P`, with one `λ` for both groups.
pub trait Endomorphism: SWCurveConfig {
    /// `φ(p) = λ·p`.
    fn phi(p: &Affine<Self>) -> Affine<Self>;
}

/// `β` whose `φ` is multiplication by [`LAMBDA`] on G1.
const BETA: Fq =
    MontFp!("21888242871839275220042445260109153167277707414472061641714758635765020556616");

/// `β²`, the other cube root of unity: on G2, `(βx, y)` is multiplication by `λ²`, so
/// `(β²x, y)` is multiplication by `λ⁴ = λ`.
const BETA_SQUARED: Fq = MontFp!("2203960485148121921418603742825762020974279258880205651966");

impl Endomorphism for g1::Config {
    #[inline]
    fn phi(p: &Affine<Self>) -> Affine<Self> {
        if p.infinity {
            return *p;
        }
        Affine::new_unchecked(p.x * BETA, p.y)
    }
}

impl Endomorphism for g2::Config {
    #[inline]
    fn phi(p: &Affine<Self>) -> Affine<Self> {
        if p.infinity {
            return *p;
        }
        let x = Fq2::new(p.x.c0 * BETA_SQUARED, p.x.c1 * BETA_SQUARED);
        Affine::new_unchecked(x, p.y)
    }
}

/// A short basis of the lattice `{(a, b) : a + λ·b ≡ 0 mod r}`: `v₁ = (N11, -N12)`,
/// `v₂ = (N21, N22)`, of determinant `r` (arkworks' `SCALAR_DECOMP_COEFFS` for G1).
const N11: u128 = 147_946_756_881_789_319_000_765_030_803_803_410_728;
const N12: u128 = 9_931_322_734_385_697_763;
const N21: u128 = 9_931_322_734_385_697_763;
const N22: u128 = 147_946_756_881_789_319_010_696_353_538_189_108_491;

/// `round(2^256·N22/r)` and `round(2^256·N12/r)`, little-endian limbs: `k·G / 2^256`
/// approximates the coordinates `(k·N22/r, k·N12/r)` of `(k, 0)` in the basis.
const G1: [u64; 3] = [0x5398_fd03_00ff_6565, 0x4cce_f014_a773_d2d2, 0x2];
const G2: [u64; 2] = [0xd91d_232e_c7e0_b3d7, 0x2];

/// `(k₁, k₂)` with `k ≡ k₁ + λ·k₂ (mod r)` and `|k₁|, |k₂| < 2^127`, for a canonical `k < r`.
///
/// Babai's rounding: `(k₁, k₂) = (k, 0) - b₁·v₁ - b₂·v₂` with `bᵢ` the coordinates rounded.
/// Each `bᵢ` is within `1/2 + 2^-3` of the exact coordinate (the `Gᵢ` are rounded too, and
/// `k < 2^254`), so `|k₁| ≤ 0.625·(N11 + N21)` and `|k₂| ≤ 0.625·(N12 + N22)`, both below
/// `2^127`: the results are exact in `i128` even though they are computed modulo `2^128` from
/// `k`'s low half.
pub fn decompose(k: &BigInteger256) -> (i128, i128) {
    let b1 = rounded_high(&k.0, &G1);
    let b2 = rounded_high(&k.0, &G2);
    let low = u128::from(k.0[0]) | (u128::from(k.0[1]) << 64);
    let k1 = low
        .wrapping_sub(b1.wrapping_mul(N11))
        .wrapping_sub(b2.wrapping_mul(N21));
    let k2 = b1.wrapping_mul(N12).wrapping_sub(b2.wrapping_mul(N22));
    (k1 as i128, k2 as i128)
}

/// `round(k·g / 2^256)`, which is below `2^128` for the constants above.
#[inline]
fn rounded_high(k: &[u64; 4], g: &[u64]) -> u128 {
    let mut product = [0u64; 8];
    for (i, &ki) in k.iter().enumerate() {
        let mut carry = 0u128;
        for (j, &gj) in g.iter().enumerate() {
            let t = u128::from(product[i + j]) + u128::from(ki) * u128::from(gj) + carry;
            product[i + j] = t as u64;
            carry = t >> 64;
        }
        product[i + g.len()] = carry as u64;
    }
    // Adding 2^255 rounds to the nearest.
    let (low, carry) = product[3].overflowing_add(1 << 63);
    product[3] = low;
    let high = u128::from(product[4]) | (u128::from(product[5]) << 64);
    high + u128::from(carry)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ark_bn254::{Fr, G1Projective, G2Projective};
    use ark_ec::scalar_mul::glv::GLVConfig;
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_ff::{Field, PrimeField, UniformRand};
    use rand::{rngs::StdRng, SeedableRng};

    use super::*;

    /// `λ`: the `λ` of arkworks' G1 parameters.
    fn lambda() -> Fr {
        <g1::Config as GLVConfig>::LAMBDA
    }

    fn from_i128(v: i128) -> Fr {
        let m = Fr::from(v.unsigned_abs());
        if v < 0 {
            -m
        } else {
            m
        }
    }

    /// Scalars where the decomposition could go wrong: the ends of the field, powers of two,
    /// the basis vectors' entries, and scalars whose coordinates sit next to a rounding
    /// boundary (`k·N22/r` or `k·N12/r` close to a half).
    fn edge_scalars() -> Vec<Fr> {
        let r = num_bigint::BigUint::from(Fr::MODULUS);
        let mut v: Vec<Fr> = [0u64, 1, 2, 3]
            .iter()
            .map(|&x| Fr::from(x))
            .chain([-Fr::from(1u64), -Fr::from(2u64)])
            .chain([127u32, 128, 253].map(|e| Fr::from(2u64).pow([u64::from(e)])))
            .chain([N11, N12, N22, N11 / 2, N22 / 2].map(Fr::from))
            .chain([lambda(), -lambda(), lambda() + Fr::from(1u64)])
            .collect();
        for n in [N22, N12] {
            for j in 1..200u32 {
                let boundary = (&r * (2 * j + 1)) / (num_bigint::BigUint::from(n) * 2u32);
                for d in [0u32, 1] {
                    v.push(Fr::from(&boundary + d));
                }
            }
        }
        v
    }

    #[test]
    fn decompositions_recompose_and_stay_under_2_to_127() {
        let mut rng = StdRng::seed_from_u64(11);
        let scalars = edge_scalars()
            .into_iter()
            .chain((0..100_000).map(|_| Fr::rand(&mut rng)));
        for k in scalars {
            let (k1, k2) = decompose(&k.into_bigint());
            assert!(k1.unsigned_abs() < 1 << 127 && k2.unsigned_abs() < 1 << 127);
            assert_eq!(from_i128(k1) + lambda() * from_i128(k2), k, "{k}");
        }
    }

    #[test]
    fn the_endomorphism_multiplies_by_lambda_in_both_groups() {
        let mut rng = StdRng::seed_from_u64(12);
        let mut g1 = vec![G1Projective::generator()];
        let mut g2 = vec![G2Projective::generator()];
        for _ in 0..20 {
            g1.push(G1Projective::rand(&mut rng));
            g2.push(G2Projective::rand(&mut rng));
        }
        for p in G1Projective::normalize_batch(&g1) {
            assert_eq!(g1::Config::phi(&p), (p * lambda()).into_affine());
        }
        for p in G2Projective::normalize_batch(&g2) {
            assert_eq!(g2::Config::phi(&p), (p * lambda()).into_affine());
        }
        let zero = Affine::<g1::Config>::identity();
        assert_eq!(g1::Config::phi(&zero), zero);
    }

    #[test]
    fn scalar_multiplication_through_the_decomposition_matches_plain() {
        let mut rng = StdRng::seed_from_u64(13);
        let p = G1Projective::rand(&mut rng).into_affine();
        let q = G2Projective::rand(&mut rng).into_affine();
        let scalars = edge_scalars()
            .into_iter()
            .step_by(7)
            .chain((0..50).map(|_| Fr::rand(&mut rng)));
        for k in scalars {
            let (k1, k2) = decompose(&k.into_bigint());
            let (a, b) = (from_i128(k1), from_i128(k2));
            assert_eq!(p * a + g1::Config::phi(&p) * b, p * k);
            assert_eq!(q * a + g2::Config::phi(&q) * b, q * k);
        }
    }
}
