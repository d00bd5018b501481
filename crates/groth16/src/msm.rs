//! Multi-scalar multiplication for the prover: `Σ sᵢ·Pᵢ` over BN254's G1 or G2.
//!
//! Pippenger's bucket method, shaped by what a circom witness looks like:
//!
//! - **Scalars split by size.** A scalar above `(r-1)/2` is replaced by `r - s` with the point
//!   negated (a field's `-1`, `-2`, … become small); zeros and points at infinity are dropped;
//!   scalars equal to one are summed directly, spread over many affine accumulators; the rest
//!   go through the bucket method with only as many windows as their largest member needs, so a
//!   circuit of bits and bytes pays for a few windows, not 254 bits' worth.
//! - **Buckets in affine coordinates, filled in batches.** An affine addition costs one
//!   inversion; additions to different buckets are collected and their inversions done
//!   together (Montgomery's trick: three multiplications each and one inversion per batch), so
//!   an addition costs about 6 multiplications against 11 for the mixed Jacobian addition
//!   arkworks uses. A point whose bucket is already in the open batch waits for the next one;
//!   one that doubles or cancels its bucket, or finds a batch's worth already waiting, goes to
//!   the bucket's Jacobian overflow: the batch never stalls, and a witness of many equal
//!   values costs what the textbook method does.
//! - **Signed digits**: `2^(c-1)` buckets per window of `c` bits.
//!
//! Windows are independent and run on rayon's threads; the caller runs several MSMs at once
//! (`rayon::join`) and work stealing balances them.

use ark_bn254::{Fq, Fq2, Fr};
use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::{BigInteger, BigInteger256, Field, PrimeField, Zero};
use rayon::prelude::*;

/// The most additions collected before their denominators are inverted together: enough that
/// the inversion (≈ 100 multiplications) is a small share. A batch takes at most an eighth of
/// the buckets, so that few additions find their bucket already in it.
const BATCH: usize = 512;

/// Affine accumulators the scalars equal to one are spread over.
const ONE_LANES: usize = 1024;

/// Multiplication in a curve's base field by the fastest formula at hand. arkworks multiplies
/// in `Fq2` with two sums of products, ≈ 8.4 `Fq` multiplications' time on this machine;
/// Karatsuba's three products and five additions take ≈ 3.5.
pub trait BaseMul: Field {
    /// `a · b`.
    fn mul(a: &Self, b: &Self) -> Self;
    /// `a²`.
    fn sq(a: &Self) -> Self;
}

impl BaseMul for Fq {
    #[inline(always)]
    fn mul(a: &Self, b: &Self) -> Self {
        fq_mul(a, b)
    }

    #[inline(always)]
    fn sq(a: &Self) -> Self {
        fq_mul(a, a)
    }
}

/// `Fq`'s modulus, little-endian limbs.
const Q: [u64; 4] = Fq::MODULUS.0;

/// `a + b·c + carry` as (low, high) words.
#[inline(always)]
fn mac(a: u64, b: u64, c: u64, carry: u64) -> (u64, u64) {
    let t = a as u128 + (b as u128) * (c as u128) + carry as u128;
    (t as u64, (t >> 64) as u64)
}

/// Montgomery multiplication in `Fq`: the same algorithm as arkworks' (CIOS, with the
/// "no carry" shortcut `q`'s top limb allows), written so that it is always inlined: the
/// call arkworks' is compiled to took a third of the MSM's time.
#[inline(always)]
fn fq_mul(a: &Fq, b: &Fq) -> Fq {
    let (a, b) = (&(a.0).0, &(b.0).0);
    let mut r = [0u64; 4];
    for &bi in b {
        let (r0, mut carry1) = mac(r[0], a[0], bi, 0);
        let k = r0.wrapping_mul(Fq::INV);
        let (_, mut carry2) = mac(r0, k, Q[0], 0);
        for j in 1..4 {
            let (rj, c1) = mac(r[j], a[j], bi, carry1);
            carry1 = c1;
            let (low, c2) = mac(rj, k, Q[j], carry2);
            carry2 = c2;
            r[j - 1] = low;
        }
        r[3] = carry1 + carry2;
    }
    // r < 2q: one conditional subtraction.
    let mut r = ark_ff::BigInt(r);
    if r >= Fq::MODULUS {
        r.sub_with_borrow(&Fq::MODULUS);
    }
    Fq::new_unchecked(r)
}

impl BaseMul for Fq2 {
    /// `(a₀ + a₁u)(b₀ + b₁u)` with `u² = -1`.
    #[inline(always)]
    fn mul(a: &Self, b: &Self) -> Self {
        let v0 = fq_mul(&a.c0, &b.c0);
        let v1 = fq_mul(&a.c1, &b.c1);
        let c1 = fq_mul(&(a.c0 + a.c1), &(b.c0 + b.c1)) - v0 - v1;
        Fq2::new(v0 - v1, c1)
    }

    /// `(a₀ + a₁)(a₀ - a₁) + 2a₀a₁·u`.
    #[inline(always)]
    fn sq(a: &Self) -> Self {
        let c0 = fq_mul(&(a.c0 + a.c1), &(a.c0 - a.c1));
        let c1 = fq_mul(&a.c0, &a.c1).double();
        Fq2::new(c0, c1)
    }
}

/// A scalar prepared for the bucket method: its index, its magnitude, and whether its point
/// is negated.
#[derive(Clone, Copy)]
struct Term {
    index: u32,
    negate: bool,
    scalar: BigInteger256,
}

/// `Σ scalars[i]·bases[i]` over the shorter of the two slices; `scalars` in canonical form
/// (`Fr::into_bigint`).
pub fn msm<P: SWCurveConfig<ScalarField = Fr, BaseField: BaseMul>>(
    bases: &[Affine<P>],
    scalars: &[BigInteger256],
) -> Projective<P> {
    let n = bases.len().min(scalars.len());
    let half = Fr::MODULUS_MINUS_ONE_DIV_TWO;
    let modulus = Fr::MODULUS;
    let one = BigInteger256::from(1u64);

    // Classify in parallel: ones, and the rest with their magnitude.
    let (ones, rest): (Vec<Term>, Vec<Term>) = (0..n)
        .into_par_iter()
        .filter_map(|i| {
            let s = scalars[i];
            if s.is_zero() || bases[i].infinity {
                return None;
            }
            let (scalar, negate) = if s > half {
                let mut m = modulus;
                m.sub_with_borrow(&s);
                (m, true)
            } else {
                (s, false)
            };
            Some(Term {
                index: i as u32,
                negate,
                scalar,
            })
        })
        .partition(|t| t.scalar == one);

    let (sum_ones, sum_rest) = rayon::join(|| sum_points(bases, &ones), || pippenger(bases, &rest));
    sum_ones + sum_rest
}

/// The point a term adds, negated where its scalar was.
#[inline]
fn point<P: SWCurveConfig>(bases: &[Affine<P>], t: &Term) -> Affine<P> {
    let p = bases[t.index as usize];
    if t.negate {
        -p
    } else {
        p
    }
}

/// `Σ ±bases[t.index]` for terms whose scalar is one.
fn sum_points<P: SWCurveConfig<BaseField: BaseMul>>(
    bases: &[Affine<P>],
    terms: &[Term],
) -> Projective<P> {
    terms
        .par_chunks(ONE_LANES * 16)
        .map(|chunk| {
            let mut lanes = Buckets::<P>::new(ONE_LANES);
            for (k, t) in chunk.iter().enumerate() {
                lanes.add(k % ONE_LANES, point(bases, t));
            }
            lanes.finish();
            lanes.total()
        })
        .reduce(Projective::<P>::zero, |a, b| a + b)
}

/// The bucket method over `terms`, windows in parallel.
fn pippenger<P: SWCurveConfig<BaseField: BaseMul>>(
    bases: &[Affine<P>],
    terms: &[Term],
) -> Projective<P> {
    if terms.is_empty() {
        return Projective::zero();
    }
    let bits = terms
        .iter()
        .map(|t| t.scalar.num_bits() as usize)
        .max()
        .unwrap_or(0);
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
                    buckets.add(d as usize - 1, point(bases, t));
                } else if d < 0 {
                    buckets.add((-d) as usize - 1, -point(bases, t));
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
            let limbs = t.scalar.as_ref();
            let mut carry = 0i64;
            for (w, d) in row.iter_mut().enumerate() {
                let v = window_value(limbs, w * c, c) as i64 + carry;
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

/// Bits `offset .. offset + c` of a little-endian limb array.
#[inline]
fn window_value(limbs: &[u64], offset: usize, c: usize) -> u64 {
    let limb = offset / 64;
    let shift = offset % 64;
    if limb >= limbs.len() {
        return 0;
    }
    let mut v = limbs[limb] >> shift;
    if shift + c > 64 && limb + 1 < limbs.len() {
        v |= limbs[limb + 1] << (64 - shift);
    }
    v & ((1u64 << c) - 1)
}

/// A point in Jacobian coordinates (`x = X/Z²`, `y = Y/Z³`, `Z = 0` at infinity, as arkworks'
/// `Projective`), with the `a = 0` formulas (both BN254 groups) over [`BaseMul`]: arkworks'
/// own would multiply in `Fq2` at its slower speed.
struct Jac<P: SWCurveConfig> {
    x: P::BaseField,
    y: P::BaseField,
    z: P::BaseField,
}

impl<P: SWCurveConfig> Clone for Jac<P> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P: SWCurveConfig> Copy for Jac<P> {}

impl<P: SWCurveConfig<BaseField: BaseMul>> Jac<P> {
    const ZERO: Self = Self {
        x: P::BaseField::ONE,
        y: P::BaseField::ONE,
        z: P::BaseField::ZERO,
    };

    fn is_zero(&self) -> bool {
        self.z.is_zero()
    }

    fn from_affine(p: &Affine<P>) -> Self {
        if p.infinity {
            Self::ZERO
        } else {
            Self {
                x: p.x,
                y: p.y,
                z: P::BaseField::ONE,
            }
        }
    }

    fn into_projective(self) -> Projective<P> {
        if self.is_zero() {
            Projective::zero()
        } else {
            Projective::new_unchecked(self.x, self.y, self.z)
        }
    }

    /// dbl-2009-l: 2M + 5S.
    fn double(&mut self) {
        if self.is_zero() {
            return;
        }
        let m = BaseMul::mul;
        let a = BaseMul::sq(&self.x);
        let b = BaseMul::sq(&self.y);
        let c = BaseMul::sq(&b);
        let d = (BaseMul::sq(&(self.x + b)) - a - c).double();
        let e = a.double() + a;
        let f = BaseMul::sq(&e);
        let z3 = m(&self.y, &self.z).double();
        let x3 = f - d.double();
        let y3 = m(&e, &(d - x3)) - c.double().double().double();
        *self = Self {
            x: x3,
            y: y3,
            z: z3,
        };
    }

    /// `self += q`, madd-2007-bl: 7M + 4S.
    fn add_affine(&mut self, q: &Affine<P>) {
        if q.infinity {
            return;
        }
        if self.is_zero() {
            *self = Self::from_affine(q);
            return;
        }
        let m = BaseMul::mul;
        let z1z1 = BaseMul::sq(&self.z);
        let u2 = m(&q.x, &z1z1);
        let s2 = m(&q.y, &m(&self.z, &z1z1));
        let h = u2 - self.x;
        let r = (s2 - self.y).double();
        if h.is_zero() {
            if r.is_zero() {
                self.double();
            } else {
                *self = Self::ZERO;
            }
            return;
        }
        let hh = BaseMul::sq(&h);
        let i = hh.double().double();
        let j = m(&h, &i);
        let v = m(&self.x, &i);
        let x3 = BaseMul::sq(&r) - j - v.double();
        let y3 = m(&r, &(v - x3)) - m(&self.y, &j).double();
        let z3 = BaseMul::sq(&(self.z + h)) - z1z1 - hh;
        *self = Self {
            x: x3,
            y: y3,
            z: z3,
        };
    }

    /// `self += q`, add-2007-bl: 11M + 5S.
    fn add(&mut self, q: &Self) {
        if q.is_zero() {
            return;
        }
        if self.is_zero() {
            *self = *q;
            return;
        }
        let m = BaseMul::mul;
        let z1z1 = BaseMul::sq(&self.z);
        let z2z2 = BaseMul::sq(&q.z);
        let u1 = m(&self.x, &z2z2);
        let u2 = m(&q.x, &z1z1);
        let s1 = m(&self.y, &m(&q.z, &z2z2));
        let s2 = m(&q.y, &m(&self.z, &z1z1));
        let h = u2 - u1;
        let r = (s2 - s1).double();
        if h.is_zero() {
            if r.is_zero() {
                self.double();
            } else {
                *self = Self::ZERO;
            }
            return;
        }
        let i = BaseMul::sq(&h.double());
        let j = m(&h, &i);
        let v = m(&u1, &i);
        let x3 = BaseMul::sq(&r) - j - v.double();
        let y3 = m(&r, &(v - x3)) - m(&s1, &j).double();
        let z3 = m(&(BaseMul::sq(&(self.z + q.z)) - z1z1 - z2z2), &h);
        *self = Self {
            x: x3,
            y: y3,
            z: z3,
        };
    }
}

/// Buckets kept in affine coordinates; additions batched so that they share one inversion.
struct Buckets<P: SWCurveConfig> {
    points: Vec<Affine<P>>,
    /// Bucket `b` has an addition in the open batch.
    busy: Vec<bool>,
    /// The open batch: bucket and the point to add to it.
    pending: Vec<(u32, Affine<P>)>,
    /// Additions that could not join the batch, per bucket, in Jacobian coordinates.
    overflow: Vec<Jac<P>>,
    /// Additions whose bucket was in the open batch, for the next one.
    deferred: Vec<(u32, Affine<P>)>,
    /// `deferred` while it is being retried.
    retry: Vec<(u32, Affine<P>)>,
    /// Prefix products of the batch's denominators.
    scratch: Vec<P::BaseField>,
    /// Additions per batch.
    batch: usize,
}

impl<P: SWCurveConfig<BaseField: BaseMul>> Buckets<P> {
    fn new(n: usize) -> Self {
        let batch = (n / 8).clamp(1, BATCH);
        Self {
            points: vec![Affine::identity(); n],
            busy: vec![false; n],
            pending: Vec::with_capacity(batch),
            overflow: Vec::new(),
            deferred: Vec::with_capacity(batch),
            retry: Vec::with_capacity(batch),
            scratch: Vec::with_capacity(batch),
            batch,
        }
    }

    /// Adds `p` to bucket `b`.
    #[inline]
    fn add(&mut self, b: usize, p: Affine<P>) {
        self.push(b, p);
        if self.pending.len() >= self.batch {
            self.flush_and_retry();
        }
    }

    /// Puts `p` into the open batch, or sets an empty bucket to it; an addition whose bucket is
    /// already in the batch waits for the next one (at most a batch of them wait; past that,
    /// and for a doubling or a cancellation, it goes to the bucket's Jacobian overflow).
    #[inline]
    fn push(&mut self, b: usize, p: Affine<P>) {
        if self.busy[b] {
            if self.deferred.len() < self.batch {
                self.deferred.push((b as u32, p));
            } else {
                self.spill(b, p);
            }
            return;
        }
        let q = self.points[b];
        if q.infinity {
            self.points[b] = p;
        } else if q.x == p.x {
            self.spill(b, p);
        } else {
            self.busy[b] = true;
            self.pending.push((b as u32, p));
        }
    }

    /// Performs the open batch, then offers the waiting additions to the next one.
    fn flush_and_retry(&mut self) {
        self.flush();
        std::mem::swap(&mut self.deferred, &mut self.retry);
        for i in 0..self.retry.len() {
            let (b, p) = self.retry[i];
            self.push(b as usize, p);
        }
        self.retry.clear();
    }

    #[cold]
    fn spill(&mut self, b: usize, p: Affine<P>) {
        if self.overflow.is_empty() {
            self.overflow = vec![Jac::ZERO; self.points.len()];
        }
        self.overflow[b].add_affine(&p);
    }

    /// Performs the open batch: `λ = (y₂-y₁)/(x₂-x₁)`, `x₃ = λ² - x₁ - x₂`,
    /// `y₃ = λ(x₁ - x₃) - y₁`, with one inversion for all of them.
    fn flush(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.scratch.clear();
        let mut acc = P::BaseField::ONE;
        for &(b, p) in &self.pending {
            self.scratch.push(acc);
            acc = BaseMul::mul(&acc, &(p.x - self.points[b as usize].x));
        }
        // Every denominator is non-zero: equal x coordinates never enter a batch.
        let mut inv = acc.inverse().unwrap_or(P::BaseField::ZERO);
        for (i, &(b, p)) in self.pending.iter().enumerate().rev() {
            let b = b as usize;
            let q = self.points[b];
            let d = p.x - q.x;
            let d_inv = BaseMul::mul(&inv, &self.scratch[i]);
            inv = BaseMul::mul(&inv, &d);
            let lambda = BaseMul::mul(&(p.y - q.y), &d_inv);
            let x3 = BaseMul::sq(&lambda) - q.x - p.x;
            let y3 = BaseMul::mul(&lambda, &(q.x - x3)) - q.y;
            self.points[b] = Affine::new_unchecked(x3, y3);
            self.busy[b] = false;
        }
        self.pending.clear();
    }

    /// Performs every addition still open or waiting. Waiting additions that crowd a few
    /// buckets (a witness of many equal values) would take a batch each: past the first round
    /// that places few of them, they go to the overflow.
    fn finish(&mut self) {
        while !self.pending.is_empty() || !self.deferred.is_empty() {
            let waiting = self.deferred.len();
            self.flush_and_retry();
            if self.pending.len() * 8 < waiting {
                for (b, p) in std::mem::take(&mut self.deferred) {
                    self.spill(b as usize, p);
                }
            }
        }
    }

    /// Bucket `b`'s value.
    #[inline]
    fn bucket(&self, b: usize) -> Jac<P> {
        let mut v = self.overflow.get(b).copied().unwrap_or(Jac::ZERO);
        v.add_affine(&self.points[b]);
        v
    }

    /// `Σ bucket[b]`.
    fn total(&self) -> Projective<P> {
        let mut sum = Jac::ZERO;
        for b in 0..self.points.len() {
            sum.add(&self.bucket(b));
        }
        sum.into_projective()
    }

    /// `Σ (b+1)·bucket[b]`, as running sums from the top bucket down.
    fn weighted_total(&self) -> Projective<P> {
        let mut running = Jac::<P>::ZERO;
        let mut total = Jac::<P>::ZERO;
        for b in (0..self.points.len()).rev() {
            if let Some(o) = self.overflow.get(b) {
                running.add(o);
            }
            running.add_affine(&self.points[b]);
            total.add(&running);
        }
        total.into_projective()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use ark_bn254::{G1Affine, G1Projective, G2Affine, G2Projective};
    use ark_ec::{CurveGroup, VariableBaseMSM};
    use ark_ff::UniformRand;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    use super::*;

    fn check<P: SWCurveConfig<ScalarField = Fr, BaseField: BaseMul>>(
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
    fn fq_mul_agrees_with_arkworks() {
        let mut rng = StdRng::seed_from_u64(10);
        let edges = [
            Fq::from(0u64),
            Fq::from(1u64),
            -Fq::from(1u64),
            -Fq::from(2u64),
        ];
        for a in edges {
            for b in edges {
                assert_eq!(fq_mul(&a, &b), a * b);
            }
        }
        for _ in 0..100_000 {
            let (a, b) = (Fq::rand(&mut rng), Fq::rand(&mut rng));
            assert_eq!(fq_mul(&a, &b), a * b);
        }
    }

    #[test]
    fn signed_digits_recompose_every_scalar() {
        let mut rng = StdRng::seed_from_u64(9);
        let terms: Vec<Term> = (0..200)
            .map(|i| Term {
                index: i,
                negate: false,
                scalar: Fr::rand(&mut rng).into_bigint(),
            })
            .collect();
        for c in [2, 5, 8, 13, 15] {
            let bits = terms
                .iter()
                .map(|t| t.scalar.num_bits() as usize)
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
                assert_eq!(v.into_bigint(), t.scalar);
            }
        }
    }
}
