//! Pure, synchronous segment planner for split proving.
//!
//! A zkVM task is executed once without proving; the execution reports the cycles each input
//! chunk took. The planner groups the chunks into contiguous segments that are proved in
//! parallel, then joined by checking that each segment's output state is the next one's input:
//!
//! ```text
//!   chunk cycles  [c0 c1 c2 | c3 c4 | c5 c6 c7]      (a chunk is never split)
//!   segments       seg 0     seg 1    seg 2
//!   join chain    initial ─► s0 ─► in1 ═ out0 ─► in2 ═ out1 ─► out2 ═ claimed output
//! ```
//!
//! The plan minimises the largest segment (the wall time when every segment is proved at once)
//! subject to two limits: a segment must fit in the largest prover's memory under a
//! [`MemoryModel`] measured on the backend, and hold at most `max_cycles_per_segment`. It uses
//! at most the target number of segments unless those limits force more. Planning is
//! deterministic: the same input gives the same plan.

#![warn(missing_docs)]

mod error;

use std::ops::Range;

use serde::{Deserialize, Serialize};

pub use error::PlanError;

/// A split of a task into segments and the way their proofs are joined.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    /// The segments in trace order; their chunk ranges are contiguous and cover every chunk.
    pub segments: Vec<Segment>,
    /// How the segment proofs chain into one result.
    pub join: JoinPlan,
}

/// One independently proved part of the trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    /// Position in the plan, from 0.
    pub index: usize,
    /// The chunks it proves, as indices into the trace.
    pub chunks: Range<usize>,
    /// Sum of its chunks' cycles.
    pub cycles: u64,
    /// Estimated peak proving memory under the plan's [`MemoryModel`]; a prover with less memory
    /// should not be given this segment.
    pub memory_bytes: u64,
}

/// Where a segment's input state must come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum StateSource {
    /// The task's initial state commitment.
    Initial,
    /// The output state of the segment with this index.
    SegmentOutput(usize),
}

/// The join: the equalities that make segment proofs one proof of the whole trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinPlan {
    /// For segment `i`, where its `state_in` must come from: `Initial` for the first,
    /// `SegmentOutput(i - 1)` for the others.
    pub state_in: Vec<StateSource>,
    /// The segment whose `state_out` must equal the task's claimed output (the last one).
    pub claimed_output_from: usize,
}

impl JoinPlan {
    /// The chain for `n` segments (`n >= 1`).
    pub fn chain(n: usize) -> Self {
        let state_in = (0..n)
            .map(|i| match i {
                0 => StateSource::Initial,
                i => StateSource::SegmentOutput(i - 1),
            })
            .collect();
        JoinPlan {
            state_in,
            claimed_output_from: n.saturating_sub(1),
        }
    }
}

/// Peak proving memory as a function of a segment's cycles, fitted to measurements of a
/// backend: `fixed_bytes + bytes_per_cycle × trace_length`, where the trace length is the cycle
/// count, rounded up to a power of two when the prover pads its trace (STARK provers do, so a
/// segment one cycle past a power of two costs twice the memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemoryModel {
    /// Memory independent of the trace (program, tables, allocator slack).
    pub fixed_bytes: u64,
    /// Memory per trace row.
    pub bytes_per_cycle: u64,
    /// Whether the trace length is the next power of two of the cycle count.
    pub pad_to_power_of_two: bool,
}

impl MemoryModel {
    /// Miden VM 0.23, measured (zkpool-miden's ignored `measure_prove_time_per_segment_size`):
    /// peak RSS 357 MiB at 32768 padded rows, 695 MiB at 65536, 1371 MiB at 131072, i.e.
    /// ≈ 10.5 KiB per padded row; 16 KiB leaves a 1.5× margin. Consistent with older reports
    /// (90k cycles in 2.5 GiB, 900k cycles over 16 GiB).
    pub const MIDEN: MemoryModel = MemoryModel {
        fixed_bytes: 64 << 20,
        bytes_per_cycle: 16 << 10,
        pad_to_power_of_two: true,
    };

    /// Estimated peak memory to prove `cycles` cycles.
    pub fn estimate(&self, cycles: u64) -> u64 {
        let rows = if self.pad_to_power_of_two {
            cycles.checked_next_power_of_two().unwrap_or(u64::MAX)
        } else {
            cycles
        };
        self.fixed_bytes
            .saturating_add(self.bytes_per_cycle.saturating_mul(rows))
    }

    /// The most cycles whose estimate fits in `memory_bytes`.
    pub fn max_cycles(&self, memory_bytes: u64) -> u64 {
        let Some(avail) = memory_bytes.checked_sub(self.fixed_bytes) else {
            return 0;
        };
        let rows = avail.checked_div(self.bytes_per_cycle).unwrap_or(u64::MAX);
        if self.pad_to_power_of_two && rows > 0 {
            // The largest power of two not above `rows`.
            1 << (63 - rows.leading_zeros())
        } else {
            rows
        }
    }
}

/// What the planner needs to know.
#[derive(Debug, Clone)]
pub struct PlanRequest<'a> {
    /// Cycles of each chunk, in trace order, from executing the task once.
    pub chunk_cycles: &'a [u64],
    /// Memory of each available prover, bytes.
    pub prover_memory: &'a [u64],
    /// Peak proving memory per segment size.
    pub memory: MemoryModel,
    /// How many segments to aim for, usually the number of provers.
    pub target_segments: usize,
    /// A hard cap on one segment's cycles, whatever the memory.
    pub max_cycles_per_segment: u64,
}

/// Plans the segments and their join. See the crate docs for the objective.
pub fn plan(req: &PlanRequest<'_>) -> Result<Plan, PlanError> {
    let cycles = req.chunk_cycles;
    if cycles.is_empty() {
        return Err(PlanError::NoChunks);
    }
    let largest_memory = req
        .prover_memory
        .iter()
        .copied()
        .max()
        .ok_or(PlanError::NoProvers)?;
    if req.target_segments == 0 {
        return Err(PlanError::ZeroTarget);
    }

    let limit = req
        .memory
        .max_cycles(largest_memory)
        .min(req.max_cycles_per_segment);
    if let Some((chunk, &c)) = cycles.iter().enumerate().find(|(_, &c)| c > limit) {
        return Err(PlanError::ChunkTooLarge {
            chunk,
            cycles: c,
            limit_cycles: limit,
        });
    }

    // The fewest segments the limit allows; more than the target only when the limit forces it.
    let forced = greedy_count(cycles, limit);
    let segments_allowed = forced.max(req.target_segments);

    // Smallest bound on a segment's cycles that still needs no more than `segments_allowed`
    // segments. Feasibility is monotone in the bound, so binary search; `limit` is feasible.
    let mut lo = cycles.iter().copied().max().unwrap_or(0);
    let mut hi = limit;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if greedy_count(cycles, mid) <= segments_allowed {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }

    let segments: Vec<Segment> = greedy_ranges(cycles, lo)
        .into_iter()
        .enumerate()
        .map(|(index, chunks)| {
            let total = sum(&cycles[chunks.clone()]);
            Segment {
                index,
                chunks,
                cycles: total,
                memory_bytes: req.memory.estimate(total),
            }
        })
        .collect();
    let join = JoinPlan::chain(segments.len());
    Ok(Plan { segments, join })
}

fn sum(cycles: &[u64]) -> u64 {
    cycles.iter().fold(0u64, |a, &c| a.saturating_add(c))
}

/// Packs chunks left to right, starting a new segment when the next chunk would pass `bound`.
/// Every chunk must be `<= bound`.
fn greedy_ranges(cycles: &[u64], bound: u64) -> Vec<Range<usize>> {
    let mut ranges = Vec::new();
    let mut start = 0;
    let mut acc = 0u64;
    for (i, &c) in cycles.iter().enumerate() {
        if i > start && acc.saturating_add(c) > bound {
            ranges.push(start..i);
            start = i;
            acc = 0;
        }
        acc = acc.saturating_add(c);
    }
    ranges.push(start..cycles.len());
    ranges
}

fn greedy_count(cycles: &[u64], bound: u64) -> usize {
    greedy_ranges(cycles, bound).len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GIB: u64 = 1 << 30;

    /// A linear model (no padding) with 1 byte per cycle, so memory reads as cycles.
    const UNIT: MemoryModel = MemoryModel {
        fixed_bytes: 0,
        bytes_per_cycle: 1,
        pad_to_power_of_two: false,
    };

    fn req<'a>(cycles: &'a [u64], memory: &'a [u64], target: usize) -> PlanRequest<'a> {
        PlanRequest {
            chunk_cycles: cycles,
            prover_memory: memory,
            memory: UNIT,
            target_segments: target,
            max_cycles_per_segment: u64::MAX,
        }
    }

    fn ranges(p: &Plan) -> Vec<Range<usize>> {
        p.segments.iter().map(|s| s.chunks.clone()).collect()
    }

    #[test]
    fn equal_chunks_split_evenly() {
        let cycles = [10; 8];
        let p = plan(&req(&cycles, &[1000; 4], 4)).unwrap();
        assert_eq!(ranges(&p), vec![0..2, 2..4, 4..6, 6..8]);
        assert!(p.segments.iter().all(|s| s.cycles == 20));
    }

    #[test]
    fn uneven_chunks_minimise_the_largest_segment() {
        let cycles = [50, 10, 10, 10, 10, 10];
        let p = plan(&req(&cycles, &[1000], 2)).unwrap();
        assert_eq!(ranges(&p), vec![0..1, 1..6]);
        assert_eq!(p.segments[0].cycles, 50);
        assert_eq!(p.segments[1].cycles, 50);
    }

    #[test]
    fn memory_forces_more_segments_than_the_target() {
        // A segment may hold 25 cycles, i.e. two 10-cycle chunks: 5 segments despite a target of 2.
        let cycles = [10; 10];
        let p = plan(&req(&cycles, &[25, 5], 2)).unwrap();
        assert_eq!(p.segments.len(), 5);
        assert!(p.segments.iter().all(|s| s.memory_bytes <= 25));
    }

    #[test]
    fn max_cycles_per_segment_is_a_hard_cap() {
        let cycles = [10; 10];
        let mut r = req(&cycles, &[1000], 1);
        r.max_cycles_per_segment = 30;
        let p = plan(&r).unwrap();
        assert!(p.segments.iter().all(|s| s.cycles <= 30));
        assert_eq!(p.segments.len(), 4);
    }

    #[test]
    fn fewer_chunks_than_target_gives_one_segment_per_chunk() {
        let p = plan(&req(&[7, 9], &[1000], 8)).unwrap();
        assert_eq!(ranges(&p), vec![0..1, 1..2]);
    }

    #[test]
    fn join_plan_is_a_chain_from_initial_to_claimed_output() {
        let p = plan(&req(&[1; 6], &[1000], 3)).unwrap();
        assert_eq!(
            p.join.state_in,
            vec![
                StateSource::Initial,
                StateSource::SegmentOutput(0),
                StateSource::SegmentOutput(1)
            ]
        );
        assert_eq!(p.join.claimed_output_from, 2);
    }

    #[test]
    fn planning_is_deterministic() {
        let cycles: Vec<u64> = (0..50).map(|i| (i * 7919) % 113 + 1).collect();
        let a = plan(&req(&cycles, &[500, 300], 4)).unwrap();
        let b = plan(&req(&cycles, &[300, 500], 4)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(plan(&req(&[], &[10], 1)), Err(PlanError::NoChunks));
        assert_eq!(plan(&req(&[1], &[], 1)), Err(PlanError::NoProvers));
        assert_eq!(plan(&req(&[1], &[10], 0)), Err(PlanError::ZeroTarget));
        assert_eq!(
            plan(&req(&[1, 11, 2], &[10, 4], 1)),
            Err(PlanError::ChunkTooLarge {
                chunk: 1,
                cycles: 11,
                limit_cycles: 10
            })
        );
    }

    #[test]
    fn miden_model_matches_the_measurements() {
        let m = MemoryModel::MIDEN;
        // ~90k cycles (padded to 131072 rows) in a few GiB; 900k cycles do not fit in 16 GiB.
        assert!(m.estimate(90_000) < 4 * GIB);
        assert!(m.estimate(900_000) > 16 * GIB);
        // max_cycles is the inverse of estimate at powers of two.
        let c = m.max_cycles(16 * GIB);
        assert!(c.is_power_of_two());
        assert!(m.estimate(c) <= 16 * GIB);
        assert!(m.estimate(c + 1) > 16 * GIB);
        assert_eq!(m.max_cycles(1), 0);
    }

    proptest! {
        #[test]
        fn plans_cover_every_chunk_once_in_order(
            cycles in prop::collection::vec(0u64..1_000, 1..60),
            memory in prop::collection::vec(1_000u64..5_000, 1..6),
            target in 1usize..10,
            cap in 1_000u64..3_000,
        ) {
            let r = PlanRequest {
                chunk_cycles: &cycles,
                prover_memory: &memory,
                memory: UNIT,
                target_segments: target,
                max_cycles_per_segment: cap,
            };
            let p = plan(&r).unwrap();
            let limit = cap.min(*memory.iter().max().unwrap());

            // Contiguous, in order, covering 0..n: every chunk in exactly one segment.
            let mut next = 0;
            for (i, s) in p.segments.iter().enumerate() {
                prop_assert_eq!(s.index, i);
                prop_assert_eq!(s.chunks.start, next);
                prop_assert!(s.chunks.end > s.chunks.start);
                prop_assert_eq!(s.cycles, cycles[s.chunks.clone()].iter().sum::<u64>());
                prop_assert!(s.cycles <= limit);
                next = s.chunks.end;
            }
            prop_assert_eq!(next, cycles.len());

            // No more segments than the target, unless the limit forces more.
            let forced = greedy_count(&cycles, limit);
            prop_assert!(p.segments.len() <= target.max(forced));
            prop_assert_eq!(p.join.state_in.len(), p.segments.len());
        }
    }
}
