//! Prices, bonds and deadline-aware admission.
//!
//! ```text
//! price = price_per_mwork × work / 10^6 × load_factor        (floored, at least min_price)
//! bond  = max(reward × bond_bps / 10^4, min_bond)
//! load  = queued_work / (capacity_wps × window_s)           (how much of the window is
//!                                                             already spoken for)
//! estimate = queued_work / capacity_wps + task_work / fastest_prover_wps
//! admit iff estimate × slack + overhead <= window
//! ```
//!
//! Work is in the common work unit of [`crate::epoch`] (α-weighted circuit size). The queue
//! model is a fluid one: the queue drains at the whole fleet's speed, and the task itself runs
//! on one prover (the fastest). It ignores that split tasks can go faster and that the fastest
//! prover may be busy; the `slack_bps` factor absorbs that.

use serde::{Deserialize, Serialize};

use crate::amount::{mul_div_floor, Amount, BPS_DENOMINATOR};
use crate::error::AdmissionError;

/// Work units a price is quoted per: `price_per_mwork` buys 10^6 work units.
pub const WORK_PER_PRICE_UNIT: u128 = 1_000_000;

/// A piecewise-linear curve from load (bps of the window's capacity already queued) to a
/// price multiplier (bps; 10_000 = ×1). Flat beyond its first and last points.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct LoadCurve(Vec<(u64, u64)>);

impl LoadCurve {
    /// A curve through `points` (load_bps, factor_bps); loads must strictly increase.
    pub fn new(points: Vec<(u64, u64)>) -> Result<LoadCurve, AdmissionError> {
        if points.is_empty() {
            return Err(AdmissionError::Invalid(
                "load curve needs at least one point",
            ));
        }
        if points.windows(2).any(|w| w[0].0 >= w[1].0) {
            return Err(AdmissionError::Invalid(
                "load curve loads must strictly increase",
            ));
        }
        Ok(LoadCurve(points))
    }

    /// The multiplier (bps) at `load_bps`, interpolated linearly and floored.
    pub fn factor_bps(&self, load_bps: u64) -> u64 {
        let pts = &self.0;
        let (first, last) = (pts[0], pts[pts.len() - 1]);
        if load_bps <= first.0 {
            return first.1;
        }
        if load_bps >= last.0 {
            return last.1;
        }
        // Some window brackets load_bps because first.0 < load_bps < last.0.
        let seg = pts
            .windows(2)
            .find(|w| load_bps <= w[1].0)
            .map(|w| (w[0], w[1]))
            .unwrap_or((last, last));
        let ((x0, y0), (x1, y1)) = seg;
        let dx = (load_bps - x0) as u128;
        let span = (x1 - x0).max(1) as u128;
        if y1 >= y0 {
            y0 + ((y1 - y0) as u128 * dx / span) as u64
        } else {
            y0 - ((y0 - y1) as u128 * dx / span) as u64
        }
    }
}

impl Default for LoadCurve {
    /// ×1 up to half the window's capacity queued, rising to ×2 at a full window and ×4 at
    /// twice the window (which admission will refuse anyway for most tasks).
    fn default() -> Self {
        LoadCurve(vec![
            (0, 10_000),
            (5_000, 10_000),
            (10_000, 20_000),
            (20_000, 40_000),
        ])
    }
}

impl TryFrom<Vec<(u64, u64)>> for LoadCurve {
    type Error = AdmissionError;
    fn try_from(v: Vec<(u64, u64)>) -> Result<Self, Self::Error> {
        LoadCurve::new(v)
    }
}

impl From<LoadCurve> for Vec<(u64, u64)> {
    fn from(c: LoadCurve) -> Self {
        c.0
    }
}

/// The operator's pricing parameters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PricingConfig {
    /// Price of 10^6 work units at load factor ×1.
    pub price_per_mwork: Amount,
    /// The lowest price quoted, so tiny tasks are not free.
    pub min_price: Amount,
    /// Load → multiplier.
    pub load_curve: LoadCurve,
    /// The liability bond as a multiple of the reward in bps (20_000 = twice the reward).
    pub bond_bps: u64,
    /// The lowest bond, so cheap tasks still carry a meaningful guarantee.
    pub min_bond: Amount,
    /// Multiplier on the completion estimate before comparing with the window (12_000 = the
    /// estimate must fit with 20 % to spare).
    pub slack_bps: u64,
    /// Fixed time added to every estimate: lease, upload and verification (ms).
    pub overhead_ms: u64,
}

impl Default for PricingConfig {
    fn default() -> Self {
        PricingConfig {
            price_per_mwork: Amount::from_base_units(100_000),
            min_price: Amount::from_base_units(1_000),
            load_curve: LoadCurve::default(),
            bond_bps: 20_000,
            min_bond: Amount::from_base_units(1_000_000),
            slack_bps: 12_000,
            overhead_ms: 2_000,
        }
    }
}

/// What the scheduler knows about the fleet when a quote is asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FleetLoad {
    /// Work already accepted and not yet proved.
    pub queued_work: u64,
    /// Measured work units per second summed over online provers.
    pub capacity_wps: u64,
    /// Work units per second of the fastest online prover able to take the task.
    pub fastest_prover_wps: u64,
}

/// An admitted task's terms.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Offer {
    /// The reward to escrow.
    pub price: Amount,
    /// The pool's liability bond.
    pub bond: Amount,
    /// Estimated completion including slack and overhead (ms).
    pub estimated_ms: u64,
    /// Load used for the price (bps of the window's capacity already queued).
    pub load_bps: u64,
    /// The multiplier applied (bps).
    pub factor_bps: u64,
}

impl PricingConfig {
    /// `price_per_mwork × work / 10^6 × factor`, floored, at least `min_price`.
    pub fn price(&self, work: u64, factor_bps: u64) -> Result<Amount, AdmissionError> {
        let scaled = self
            .price_per_mwork
            .base_units()
            .checked_mul(work as u128)
            .and_then(|p| p.checked_mul(factor_bps as u128))
            .ok_or(AdmissionError::Overflow)?;
        let price = scaled / (WORK_PER_PRICE_UNIT * BPS_DENOMINATOR as u128);
        Ok(Amount::from_base_units(price).max(self.min_price))
    }

    /// `max(reward × bond_bps / 10^4, min_bond)`, floored.
    pub fn bond(&self, reward: Amount) -> Result<Amount, AdmissionError> {
        let whole = BPS_DENOMINATOR as u128;
        let bps = self.bond_bps as u128;
        // bond_bps may exceed 10_000 (a bond larger than the reward), so split it in wholes.
        let bond = reward
            .base_units()
            .checked_mul(bps / whole)
            .and_then(|b| b.checked_add(mul_div_floor(reward.base_units(), bps % whole, whole)?))
            .ok_or(AdmissionError::Overflow)?;
        Ok(Amount::from_base_units(bond).max(self.min_bond))
    }

    /// Admits a task of `work` units that must be delivered within `window_ms`, and prices
    /// it; or refuses with the reason.
    pub fn admit(
        &self,
        fleet: &FleetLoad,
        work: u64,
        window_ms: u64,
    ) -> Result<Offer, AdmissionError> {
        if work == 0 {
            return Err(AdmissionError::Invalid(
                "task work must be greater than zero",
            ));
        }
        if window_ms == 0 {
            return Err(AdmissionError::Invalid("window must be greater than zero"));
        }
        if fleet.capacity_wps == 0 || fleet.fastest_prover_wps == 0 {
            return Err(AdmissionError::NoCapacity);
        }
        let prove_ms = ceil_div(work as u128 * 1_000, fleet.fastest_prover_wps as u128);
        self.offer(fleet, work, prove_ms, window_ms)
    }

    /// Admits and prices a task proved as segments in parallel (split proving), each entry of
    /// `segment_work` one segment's work. The price is that of all the work; the proving time
    /// is the longer of the largest segment on the fastest prover and all of the work spread
    /// over the fleet's whole capacity, so more provers make a split task admissible sooner.
    pub fn admit_segments(
        &self,
        fleet: &FleetLoad,
        segment_work: &[u64],
        window_ms: u64,
    ) -> Result<Offer, AdmissionError> {
        let work = segment_work
            .iter()
            .try_fold(0u64, |a, &w| a.checked_add(w))
            .ok_or(AdmissionError::Overflow)?;
        if work == 0 || segment_work.contains(&0) {
            return Err(AdmissionError::Invalid(
                "every segment's work must be greater than zero",
            ));
        }
        if window_ms == 0 {
            return Err(AdmissionError::Invalid("window must be greater than zero"));
        }
        if fleet.capacity_wps == 0 || fleet.fastest_prover_wps == 0 {
            return Err(AdmissionError::NoCapacity);
        }
        let largest = segment_work.iter().copied().max().unwrap_or(0);
        let prove_ms = ceil_div(largest as u128 * 1_000, fleet.fastest_prover_wps as u128)
            .max(ceil_div(work as u128 * 1_000, fleet.capacity_wps as u128));
        self.offer(fleet, work, prove_ms, window_ms)
    }

    /// The offer for `work` that takes `prove_ms` once it leaves the queue.
    fn offer(
        &self,
        fleet: &FleetLoad,
        work: u64,
        prove_ms: u128,
        window_ms: u64,
    ) -> Result<Offer, AdmissionError> {
        let queue_ms = ceil_div(
            fleet.queued_work as u128 * 1_000,
            fleet.capacity_wps as u128,
        );
        let raw = queue_ms + prove_ms;
        let estimated = ceil_div(raw * self.slack_bps as u128, BPS_DENOMINATOR as u128)
            + self.overhead_ms as u128;
        let estimated_ms = u64::try_from(estimated).unwrap_or(u64::MAX);
        if estimated_ms > window_ms {
            return Err(AdmissionError::DeadlineUnreachable {
                estimated_ms,
                window_ms,
            });
        }
        // Capacity of the whole window in work units; queued work as bps of it.
        let window_capacity = fleet.capacity_wps as u128 * window_ms as u128 / 1_000;
        let load = (fleet.queued_work as u128 * BPS_DENOMINATOR as u128)
            .checked_div(window_capacity)
            .unwrap_or(u128::MAX);
        let load_bps = u64::try_from(load).unwrap_or(u64::MAX);
        let factor_bps = self.load_curve.factor_bps(load_bps);
        let price = self.price(work, factor_bps)?;
        Ok(Offer {
            price,
            bond: self.bond(price)?,
            estimated_ms,
            load_bps,
            factor_bps,
        })
    }
}

fn ceil_div(n: u128, d: u128) -> u128 {
    n.div_ceil(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fleet(queued: u64, cap: u64, fastest: u64) -> FleetLoad {
        FleetLoad {
            queued_work: queued,
            capacity_wps: cap,
            fastest_prover_wps: fastest,
        }
    }

    #[test]
    fn curve_interpolates_and_clamps() {
        let c = LoadCurve::default();
        assert_eq!(c.factor_bps(0), 10_000);
        assert_eq!(c.factor_bps(5_000), 10_000);
        assert_eq!(c.factor_bps(7_500), 15_000);
        assert_eq!(c.factor_bps(15_000), 30_000);
        assert_eq!(c.factor_bps(u64::MAX), 40_000);
        let down = LoadCurve::new(vec![(0, 20_000), (10_000, 10_000)]).unwrap();
        assert_eq!(down.factor_bps(2_500), 17_500);
        assert!(LoadCurve::new(vec![]).is_err());
        assert!(LoadCurve::new(vec![(5, 1), (5, 2)]).is_err());
        assert!(serde_json::from_str::<LoadCurve>("[[2,1],[1,1]]").is_err());
    }

    #[test]
    fn price_scales_with_work_and_load() {
        let cfg = PricingConfig::default();
        // 10^6 work at ×1 costs price_per_mwork.
        assert_eq!(cfg.price(1_000_000, 10_000).unwrap(), cfg.price_per_mwork);
        assert_eq!(cfg.price(2_000_000, 15_000).unwrap().base_units(), 300_000);
        assert_eq!(cfg.price(1, 10_000).unwrap(), cfg.min_price);
        let huge = PricingConfig {
            price_per_mwork: Amount::MAX,
            ..cfg
        };
        assert_eq!(huge.price(2, 10_000), Err(AdmissionError::Overflow));
    }

    #[test]
    fn bond_is_a_multiple_with_a_floor() {
        let cfg = PricingConfig::default();
        assert_eq!(
            cfg.bond(Amount::from_tokens(5)).unwrap(),
            Amount::from_tokens(10)
        );
        assert_eq!(cfg.bond(Amount::from_base_units(10)).unwrap(), cfg.min_bond);
        let half = PricingConfig {
            bond_bps: 15_000,
            min_bond: Amount::ZERO,
            ..cfg
        };
        assert_eq!(
            half.bond(Amount::from_base_units(3)).unwrap().base_units(),
            4
        );
    }

    #[test]
    fn admission_refuses_what_cannot_fit() {
        let cfg = PricingConfig::default();
        // 10k queued at 1k/s = 10 s, own 1k work at 1k/s = 1 s; ×1.2 + 2 s = 15.2 s.
        let f = fleet(10_000, 1_000, 1_000);
        let ok = cfg.admit(&f, 1_000, 15_200).unwrap();
        assert_eq!(ok.estimated_ms, 15_200);
        assert_eq!(
            cfg.admit(&f, 1_000, 15_199),
            Err(AdmissionError::DeadlineUnreachable {
                estimated_ms: 15_200,
                window_ms: 15_199
            })
        );
        assert_eq!(
            cfg.admit(&fleet(0, 0, 0), 1, 1_000),
            Err(AdmissionError::NoCapacity)
        );
        assert_eq!(cfg.admit(&f, 0, 1_000).unwrap_err().code(), "invalid_input");
        assert_eq!(cfg.admit(&f, 1, 0).unwrap_err().code(), "invalid_input");
    }

    #[test]
    fn segments_in_parallel_fit_windows_a_whole_task_does_not() {
        let cfg = PricingConfig::default();
        // Four provers of 1k/s: 4k of work is 4 s on one machine (×1.2 + 2 s = 6.8 s), but
        // four 1k segments take 1 s in parallel (3.2 s).
        let f = fleet(0, 4_000, 1_000);
        let whole = cfg.admit(&f, 4_000, 10_000).unwrap();
        let split = cfg.admit_segments(&f, &[1_000; 4], 10_000).unwrap();
        assert_eq!((whole.estimated_ms, split.estimated_ms), (6_800, 3_200));
        assert_eq!(whole.price, split.price);
        assert!(cfg.admit_segments(&f, &[1_000; 4], 5_000).is_ok());
        assert!(cfg.admit(&f, 4_000, 5_000).is_err());
        // More segments than provers: bounded by the fleet's capacity, not the largest one.
        let eight = cfg.admit_segments(&f, &[1_000; 8], 10_000).unwrap();
        assert_eq!(eight.estimated_ms, 4_400);
        assert!(cfg.admit_segments(&f, &[], 10_000).is_err());
        assert!(cfg.admit_segments(&f, &[1, 0], 10_000).is_err());
        assert_eq!(
            cfg.admit_segments(&f, &[u64::MAX, 1], 10_000),
            Err(AdmissionError::Overflow)
        );
    }

    #[test]
    fn busier_fleet_quotes_higher() {
        let cfg = PricingConfig::default();
        let idle = cfg
            .admit(&fleet(0, 1_000, 10_000), 1_000_000, 3_600_000)
            .unwrap();
        let busy = cfg
            .admit(&fleet(2_700_000, 1_000, 10_000), 1_000_000, 3_600_000)
            .unwrap();
        assert_eq!(idle.factor_bps, 10_000);
        assert_eq!(busy.load_bps, 7_500);
        assert_eq!(busy.factor_bps, 15_000);
        assert!(busy.price > idle.price);
        assert_eq!(busy.bond, cfg.bond(busy.price).unwrap());
    }
}
