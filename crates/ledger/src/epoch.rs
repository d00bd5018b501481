//! Epoch rewards (Proof of ZK Work): measure work, then split an epoch's reward pool with a
//! Cobb–Douglas rule over work and stake.
//!
//! ```text
//! task records ──aggregate_work (α × size per prover)──▶ work_i
//! work_i, stake_i ──allocate (Cobb–Douglas, a, b)──▶ Allocation ──▶ Op::PayEpoch
//! ```
//!
//! **Work unit.** `work = α(system) × size` where α is an integer in thousandths
//! ([`ALPHA_SCALE`]): one work unit is a thousandth of a PLONK gate, so the defaults (PLONK 1,
//! Groth16 0.2, zkVM 4 per cycle) stay integers. α is keyed by the proof system's lower-case
//! name (`ProofSystem::as_str`, plus names of systems this build cannot prove yet, such as
//! `plonk` and `zkvm`) so governance can price a system before a backend for it lands.
//!
//! **Weights.** `weight_i = (work_i / Σwork)^a × (stake_i / Σstake)^b` in `f64`. A factor
//! whose exponent is 0 is 1 (it does not count); otherwise a participant with zero work (or
//! zero stake) has weight 0. If every weight is 0 the whole pool goes to the treasury.
//! Participants are provers' access keys; a key's stake is its unlocked stake plus the
//! collateral locked for its open leases (locked stake is still stake).
//!
//! **Amounts.** Weights are quantised to integers (`q_i = ⌊weight_i / Σweight × 2^52⌋`) and
//! `reward_i = ⌊n × q_i / Σq⌋` in exact integer arithmetic; `n − Σ reward_i` is the named
//! remainder for the treasury, so the allocation always sums to exactly `n`. Floating point
//! may differ in the last bit between machines, which is why [`Op::PayEpoch`](crate::Op)
//! records the shares instead of recomputing them on replay.
//!
//! The same [`allocate`] splits one level up, between applications (circuit size and stake,
//! exponents `c`, `d`) or between requesters (usage and stake): only the key type differs.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use zkpool_types::KeyId;

use crate::amount::{mul_div_floor, Amount};
use crate::error::EpochError;

/// α values are integers in thousandths: 1_000 = α of 1.
pub const ALPHA_SCALE: u64 = 1_000;

/// Quantisation of weights: 2^52 steps, within `f64`'s exact integer range.
const WEIGHT_STEPS: f64 = (1u64 << 52) as f64;

/// α per proof system, in thousandths, keyed by lower-case system name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkFactors(BTreeMap<String, u64>);

impl Default for WorkFactors {
    /// The design's defaults: PLONK 1, Groth16 0.2, zkVM 4 (per cycle).
    fn default() -> Self {
        WorkFactors(BTreeMap::from([
            ("plonk".to_string(), 1_000),
            ("groth16".to_string(), 200),
            ("zkvm".to_string(), 4_000),
        ]))
    }
}

impl WorkFactors {
    /// Sets α (in thousandths) for `system`.
    pub fn set(&mut self, system: &str, alpha_milli: u64) {
        self.0.insert(system.to_ascii_lowercase(), alpha_milli);
    }

    /// α (in thousandths) for `system`, if configured.
    pub fn alpha_milli(&self, system: &str) -> Option<u64> {
        self.0.get(system).copied().or_else(|| {
            // Names are stored lower-case; only allocate when the caller's is not.
            self.0.get(&system.to_ascii_lowercase()).copied()
        })
    }

    /// `α × size` in work units (thousandths of a PLONK gate).
    pub fn work(&self, system: &str, size: u64) -> Result<u128, EpochError> {
        let alpha = self
            .alpha_milli(system)
            .ok_or_else(|| EpochError::UnknownSystem(system.to_string()))?;
        Ok(alpha as u128 * size as u128)
    }
}

/// One proved task as the epoch sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkRecord<'a> {
    /// The access key of the prover that proved it (for split tasks: one record per segment
    /// and prover). Rewards go to keys, not machines.
    pub prover: KeyId,
    /// The proof system's lower-case name.
    pub system: &'a str,
    /// Circuit size (constraints or gates) or, for a zkVM, cycle count.
    pub size: u64,
}

/// Sums each prover's work over an epoch's records. Unknown systems are an error rather than
/// zero work, so a misconfigured α cannot silently cost provers their reward.
pub fn aggregate_work<'a>(
    factors: &WorkFactors,
    records: impl IntoIterator<Item = WorkRecord<'a>>,
) -> Result<HashMap<KeyId, u128>, EpochError> {
    let mut out: HashMap<KeyId, u128> = HashMap::new();
    // Records come in runs of few distinct systems: remember the last lookup.
    let mut last: Option<(&str, u64)> = None;
    for r in records {
        let alpha = match last {
            Some((s, a)) if s == r.system => a,
            _ => {
                let a = factors
                    .alpha_milli(r.system)
                    .ok_or_else(|| EpochError::UnknownSystem(r.system.to_string()))?;
                last = Some((r.system, a));
                a
            }
        };
        let slot = out.entry(r.prover).or_default();
        *slot = slot
            .checked_add(alpha as u128 * r.size as u128)
            .ok_or(EpochError::Overflow)?;
    }
    Ok(out)
}

/// Governance exponents of one Cobb–Douglas level: `a`, `b` for provers, `c`, `d` for
/// applications.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Exponents {
    /// Exponent on the work (or circuit size / usage) share.
    pub work: f64,
    /// Exponent on the stake share.
    pub stake: f64,
}

impl Default for Exponents {
    /// Zypher PoZK's split: work counts more than stake.
    fn default() -> Self {
        Exponents {
            work: 0.7,
            stake: 0.3,
        }
    }
}

/// One participant's inputs to [`allocate`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contribution<K> {
    /// Prover, application or requester.
    pub key: K,
    /// Work in the epoch (or circuit size / usage).
    pub work: u128,
    /// Stake (base units).
    pub stake: u128,
}

/// An exact split of a reward pool.
///
/// Invariant: `Σ shares + remainder == pool`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allocation<K> {
    /// Non-zero rewards, in the order of the contributions.
    pub shares: Vec<(K, Amount)>,
    /// What rounding (or an all-zero weight) left over; goes to the treasury.
    pub remainder: Amount,
}

/// Splits `pool` by Cobb–Douglas weights (see the module docs for the rule).
pub fn allocate<K: Clone>(
    pool: Amount,
    parts: &[Contribution<K>],
    exps: Exponents,
) -> Result<Allocation<K>, EpochError> {
    for (name, e) in [("work", exps.work), ("stake", exps.stake)] {
        if !e.is_finite() || e < 0.0 {
            return Err(EpochError::BadExponent(name));
        }
    }
    let total_work = parts
        .iter()
        .try_fold(0u128, |s, p| s.checked_add(p.work))
        .ok_or(EpochError::Overflow)?;
    let total_stake = parts
        .iter()
        .try_fold(0u128, |s, p| s.checked_add(p.stake))
        .ok_or(EpochError::Overflow)?;
    let weights: Vec<f64> = parts
        .iter()
        .map(|p| factor(p.work, total_work, exps.work) * factor(p.stake, total_stake, exps.stake))
        .collect();
    let sum: f64 = weights.iter().sum();
    let everything_to_treasury = Allocation {
        shares: Vec::new(),
        remainder: pool,
    };
    if !(sum.is_finite() && sum > 0.0) {
        return Ok(everything_to_treasury);
    }
    // `as u64` saturates and maps NaN to 0, so a pathological weight cannot panic.
    let steps: Vec<u64> = weights
        .iter()
        .map(|w| (w / sum * WEIGHT_STEPS) as u64)
        .collect();
    let total_steps: u128 = steps.iter().map(|s| *s as u128).sum();
    if total_steps == 0 {
        return Ok(everything_to_treasury);
    }
    let mut shares = Vec::new();
    let mut paid = 0u128;
    for (p, q) in parts.iter().zip(&steps) {
        // q <= total_steps < 2^64, so mul_div_floor cannot fail.
        let r = mul_div_floor(pool.base_units(), *q as u128, total_steps).unwrap_or(0);
        if r > 0 {
            paid += r;
            shares.push((p.key.clone(), Amount::from_base_units(r)));
        }
    }
    Ok(Allocation {
        shares,
        remainder: Amount::from_base_units(pool.base_units() - paid),
    })
}

/// `(x / total)^e`, with `e == 0` meaning "does not count" and a zero share weighing 0.
fn factor(x: u128, total: u128, e: f64) -> f64 {
    if e == 0.0 {
        1.0
    } else if x == 0 || total == 0 {
        0.0
    } else {
        (x as f64 / total as f64).powf(e)
    }
}

/// The whole epoch computation for provers: aggregate work from task records, join with
/// stakes, allocate. Participants are ordered by key so the result is deterministic.
/// `stakes` is each key's unlocked stake plus its locked collateral, as
/// [`Ledger::prover_stakes`](crate::Ledger::prover_stakes) reports it. Feed
/// [`Allocation::shares`] to [`Ledger::pay_epoch`](crate::Ledger::pay_epoch).
pub fn settle_epoch<'a>(
    factors: &WorkFactors,
    records: impl IntoIterator<Item = WorkRecord<'a>>,
    stakes: &HashMap<KeyId, Amount>,
    pool: Amount,
    exps: Exponents,
) -> Result<Allocation<KeyId>, EpochError> {
    let work = aggregate_work(factors, records)?;
    let mut parts: Vec<Contribution<KeyId>> = work
        .iter()
        .map(|(p, w)| Contribution {
            key: *p,
            work: *w,
            stake: stakes.get(p).map_or(0, |s| s.base_units()),
        })
        .collect();
    parts.extend(
        stakes
            .iter()
            .filter(|(p, _)| !work.contains_key(p))
            .map(|(p, s)| Contribution {
                key: *p,
                work: 0,
                stake: s.base_units(),
            }),
    );
    parts.sort_unstable_by_key(|c| c.key);
    allocate(pool, &parts, exps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(key: u32, work: u128, stake: u128) -> Contribution<u32> {
        Contribution { key, work, stake }
    }

    fn total(a: &Allocation<u32>) -> u128 {
        a.shares.iter().map(|(_, s)| s.base_units()).sum::<u128>() + a.remainder.base_units()
    }

    #[test]
    fn work_uses_alpha_in_thousandths() {
        let f = WorkFactors::default();
        assert_eq!(f.work("groth16", 1_000).unwrap(), 200_000);
        assert_eq!(f.work("PLONK", 3).unwrap(), 3_000);
        assert_eq!(f.work("zkvm", 10).unwrap(), 40_000);
        assert_eq!(f.work("stark", 1).unwrap_err().code(), "unknown_system");
    }

    #[test]
    fn work_only_split_is_proportional_with_remainder_to_treasury() {
        let exps = Exponents {
            work: 1.0,
            stake: 0.0,
        };
        let a = allocate(
            Amount::from_base_units(100),
            &[c(1, 1, 0), c(2, 2, 0)],
            exps,
        )
        .unwrap();
        assert_eq!(
            a.shares,
            vec![
                (1, Amount::from_base_units(33)),
                (2, Amount::from_base_units(66))
            ]
        );
        assert_eq!(a.remainder.base_units(), 1);
    }

    #[test]
    fn cobb_douglas_weights_multiply() {
        // Equal work; stake 1:3 with b = 0.5 gives weights 1:√3.
        let exps = Exponents {
            work: 0.5,
            stake: 0.5,
        };
        let a = allocate(
            Amount::from_base_units(1_000_000),
            &[c(1, 5, 1), c(2, 5, 3)],
            exps,
        )
        .unwrap();
        let (r1, r2) = (a.shares[0].1.base_units(), a.shares[1].1.base_units());
        assert!(
            (r2 as f64 / r1 as f64 - 3f64.sqrt()).abs() < 1e-4,
            "{r1} {r2}"
        );
        assert_eq!(total(&a), 1_000_000);
    }

    #[test]
    fn zero_work_or_stake_weighs_nothing_and_all_zero_goes_to_treasury() {
        let exps = Exponents::default();
        let a = allocate(
            Amount::from_base_units(999),
            &[c(1, 0, 10), c(2, 10, 0), c(3, 10, 10)],
            exps,
        )
        .unwrap();
        assert_eq!(a.shares, vec![(3, Amount::from_base_units(999))]);
        let none = allocate(Amount::from_base_units(999), &[c(1, 0, 0)], exps).unwrap();
        assert!(none.shares.is_empty());
        assert_eq!(none.remainder.base_units(), 999);
        let empty = allocate::<u32>(Amount::from_base_units(5), &[], exps).unwrap();
        assert_eq!(empty.remainder.base_units(), 5);
    }

    #[test]
    fn huge_pools_still_sum_exactly() {
        let a = allocate(
            Amount::MAX,
            &[c(1, 7, 3), c(2, 11, 5), c(3, 13, 1)],
            Exponents::default(),
        )
        .unwrap();
        assert_eq!(total(&a), u128::MAX);
        assert!(a.remainder.base_units() < u128::MAX / (1 << 40));
    }

    #[test]
    fn bad_exponents_are_refused() {
        for bad in [f64::NAN, -1.0, f64::INFINITY] {
            let e = Exponents {
                work: bad,
                stake: 1.0,
            };
            let err = allocate(Amount::ZERO, &[c(1, 1, 1)], e).unwrap_err();
            assert_eq!(err.code(), "bad_exponent");
        }
    }

    #[test]
    fn application_level_uses_the_same_rule() {
        // Two applications by circuit size and stake with exponents c = 1, d = 1.
        let apps = [
            Contribution {
                key: "rollup",
                work: 3,
                stake: 1,
            },
            Contribution {
                key: "zkml",
                work: 1,
                stake: 1,
            },
        ];
        let exps = Exponents {
            work: 1.0,
            stake: 1.0,
        };
        let a = allocate(Amount::from_base_units(400), &apps, exps).unwrap();
        assert_eq!(
            a.shares,
            vec![
                ("rollup", Amount::from_base_units(300)),
                ("zkml", Amount::from_base_units(100))
            ]
        );
    }

    #[test]
    fn settle_epoch_includes_stakers_without_work() {
        let records = [
            WorkRecord {
                prover: KeyId(2),
                system: "groth16",
                size: 10,
            },
            WorkRecord {
                prover: KeyId(1),
                system: "plonk",
                size: 2,
            },
        ];
        let stakes = HashMap::from([(KeyId(3), Amount::from_base_units(5))]);
        let exps = Exponents {
            work: 1.0,
            stake: 0.0,
        };
        let a = settle_epoch(
            &WorkFactors::default(),
            records,
            &stakes,
            Amount::from_base_units(400),
            exps,
        )
        .unwrap();
        // Work 2_000 each: an even split; the staker without work gets nothing when a > 0.
        let keys: Vec<_> = a.shares.iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, vec![KeyId(1), KeyId(2)]);
        assert_eq!(a.shares[0].1.base_units(), 200);
    }
}
