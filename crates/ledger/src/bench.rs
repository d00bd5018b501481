//! Deterministic synthetic workloads, so the CLI (`zkpool bench`) and the ignored timing
//! tests measure the same thing. Time it yourself: this crate never reads a clock.
//!
//! ```no_run
//! use std::time::Instant;
//! use zkpool_ledger::{bench, epoch};
//!
//! let load = bench::synthetic_epoch(10_000, 1_000_000, 7);
//! let start = Instant::now();
//! let alloc = load.settle().unwrap();
//! println!("{} shares in {:?}", alloc.shares.len(), start.elapsed());
//! ```

use std::collections::HashMap;

use zkpool_types::KeyId;

use crate::amount::Amount;
use crate::epoch::{settle_epoch, Allocation, Exponents, WorkFactors, WorkRecord};
use crate::error::EpochError;

const SYSTEMS: [&str; 3] = ["groth16", "plonk", "zkvm"];

/// An epoch's worth of task records and prover stakes.
#[derive(Clone, Debug)]
pub struct SyntheticEpoch {
    /// One record per proved task.
    pub records: Vec<WorkRecord<'static>>,
    /// Stake per prover (every tenth prover has none).
    pub stakes: HashMap<KeyId, Amount>,
    /// The reward pool to split.
    pub pool: Amount,
}

impl SyntheticEpoch {
    /// Runs [`settle_epoch`] with the default α and exponents: the measured operation.
    pub fn settle(&self) -> Result<Allocation<KeyId>, EpochError> {
        settle_epoch(
            &WorkFactors::default(),
            self.records.iter().copied(),
            &self.stakes,
            self.pool,
            Exponents::default(),
        )
    }
}

/// `tasks` records spread over `provers` provers with sizes up to 2^20, from `seed`.
pub fn synthetic_epoch(provers: usize, tasks: usize, seed: u64) -> SyntheticEpoch {
    let provers = provers.max(1) as u64;
    let mut state = seed | 1;
    // xorshift64: good enough to spread load, and needs no dependency.
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let records = (0..tasks)
        .map(|_| {
            let r = next();
            WorkRecord {
                prover: KeyId((r % provers) as i64),
                system: SYSTEMS[(r >> 20) as usize % SYSTEMS.len()],
                size: (r >> 32) % (1 << 20) + 1,
            }
        })
        .collect();
    let stakes = (0..provers)
        .filter(|p| p % 10 != 0)
        .map(|p| (KeyId(p as i64), Amount::from_tokens(next() % 10_000 + 1)))
        .collect();
    SyntheticEpoch {
        records,
        stakes,
        pool: Amount::from_tokens(1_000_000),
    }
}
