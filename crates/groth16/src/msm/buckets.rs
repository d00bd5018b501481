//! Buckets in affine coordinates whose additions are batched to share one inversion.

use ark_ec::short_weierstrass::{Affine, Projective, SWCurveConfig};
use ark_ec::AdditiveGroup;
use ark_ff::Field;

use super::arith::{BaseMul, Jac};

/// The most additions collected before their denominators are inverted together: enough that
/// the inversion (≈ 230 multiplications' time, arkworks' binary GCD) is a small share. A batch
/// takes at most a quarter of the buckets, so that most additions find their bucket free (an
/// eighth measured 3 % slower at 2^14 full-size scalars, where inversions took a tenth of the
/// time).
const BATCH: usize = 512;

/// Buckets kept in affine coordinates; additions batched so that they share one inversion.
pub struct Buckets<P: SWCurveConfig> {
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
    pub fn new(n: usize) -> Self {
        let batch = (n / 4).clamp(1, BATCH);
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
    pub fn add(&mut self, b: usize, p: Affine<P>) {
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
    pub fn finish(&mut self) {
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
    pub fn total(&self) -> Projective<P> {
        let mut sum = Jac::ZERO;
        for b in 0..self.points.len() {
            sum.add(&self.bucket(b));
        }
        sum.into_projective()
    }

    /// `Σ (b+1)·bucket[b]`, as running sums from the top bucket down.
    pub fn weighted_total(&self) -> Projective<P> {
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
