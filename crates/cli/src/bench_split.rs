//! `zkpool bench --split`: what split proving buys.
//!
//! - speed-up: wall time of one zkML task (the Iris tree over a batch, always cut into the
//!   same segments) through a local pool with 1, 2, … provers of one proving thread each;
//!   N = 4 is measured only where the machine has ≥ 4 cores, else modelled as the makespan of
//!   the measured per-segment times on four machines;
//! - overhead: execution + planning (the submit call) plus the join, against proving time;
//! - per-segment prove time and peak memory against segment size, which ground the planner's
//!   memory model.

use std::time::{Duration, Instant};

use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_miden::tree::DecisionTree;
use zkpool_miden::SegmentInput;
use zkpool_prover::Fault;
use zkpool_types::api::TaskView;
use zkpool_types::{ArtifactRole, TaskState};

use crate::demo::{wait_online, LocalPool};
use crate::table::{ms, Table};
use crate::zkml::ZkmlTask;

/// One measured run of the task.
struct Run {
    provers: usize,
    /// Submit call: execution, planning, segment blobs, the insert.
    plan_ms: u64,
    /// Submit to done, including the plan and the join.
    wall_ms: u64,
    /// Node-side join (every segment proof verified again, the chain checked).
    join_ms: u64,
    /// Each segment's reported prove time, in chain order.
    segment_ms: Vec<u64>,
}

async fn measure(task: &ZkmlTask, segments: u32, provers: usize) -> anyhow::Result<Run> {
    let pool = LocalPool::start(None, provers as u32, Fault::None).await?;
    wait_online(&pool.requester, provers).await?;
    let spec = task.spec(&pool.requester, Some(segments)).await?;
    let started = Instant::now();
    let id = pool.requester.submit(spec).await?.task_id;
    let plan_ms = started.elapsed().as_millis() as u64;
    let view: TaskView = loop {
        let v = pool.requester.task(id).await?;
        if v.state.is_final() {
            break v;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let wall_ms = started.elapsed().as_millis() as u64;
    anyhow::ensure!(
        view.state == TaskState::Done,
        "bench task failed: {:?}",
        view.failures
    );
    task.check(&pool.requester.proof(id).await?)?;
    pool.stop().await;
    Ok(Run {
        provers,
        plan_ms,
        wall_ms,
        join_ms: view.verify_ms.unwrap_or(0),
        segment_ms: view
            .segments
            .iter()
            .map(|s| s.prove_ms.unwrap_or(0))
            .collect(),
    })
}

/// The makespan of `segment_ms` on `n` machines, longest segment first onto the least-loaded
/// machine (what idle long-polling agents do), plus the measured plan and join.
fn modelled_wall_ms(base: &Run, n: usize) -> u64 {
    let mut times = base.segment_ms.clone();
    times.sort_unstable_by(|a, b| b.cmp(a));
    let mut load = vec![0u64; n.max(1)];
    for t in times {
        if let Some(m) = load.iter_mut().min() {
            *m += t;
        }
    }
    base.plan_ms + load.into_iter().max().unwrap_or(0) + base.join_ms
}

/// Resets this process's peak RSS (VmHWM) to its current RSS (Linux: `5` into `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's memory line `field`, MiB; 0 where `/proc` is not there.
fn status_mib(field: &str) -> f64 {
    crate::bench::proc_status_mib("self", field).unwrap_or(0.0)
}

/// Prove time and peak memory of one segment of `n` samples, proved directly.
fn segment_size_row(task: &ZkmlTask, n: usize, table: &mut Table) -> anyhow::Result<()> {
    let backend = zkpool_miden::MidenBackend::default();
    let samples = &task.samples[..n.min(task.samples.len())];
    let input = SegmentInput {
        state_in: task.input.state_in,
        chunks: DecisionTree::chunks(samples),
    };
    let mut a = Artifacts::default();
    a.insert(
        ArtifactRole::Program,
        Blob::new(task.step.clone().into_bytes()),
    );
    a.insert(ArtifactRole::Chunks, Blob::new(serde_json::to_vec(&input)?));
    let shape = backend.inspect(&a)?;
    let base = status_mib("VmRSS:");
    reset_peak();
    let started = Instant::now();
    let proof = backend.prove(&a)?;
    let prove_ms = started.elapsed().as_millis() as u64;
    let peak = status_mib("VmHWM:");
    let started = Instant::now();
    backend.verify(&a, &shape.statement, &proof)?;
    let verify_ms = started.elapsed().as_millis() as u64;
    table.row(vec![
        samples.len().to_string(),
        shape.work.to_string(),
        shape.work.next_power_of_two().to_string(),
        ms(prove_ms),
        format!(
            "{:.3}",
            prove_ms as f64 / shape.work.next_power_of_two() as f64
        ),
        ms(verify_ms),
        format!("{} KiB", proof.0.len() / 1024),
        format!("{:.0} MiB", peak - base),
        format!("{} MiB", backend.memory.estimate(shape.work) >> 20),
    ]);
    Ok(())
}

/// Runs the split benchmarks and prints two tables.
pub async fn run(samples: usize, segments: u32, max_provers: usize) -> anyhow::Result<()> {
    let task = ZkmlTask::iris(samples, 4)?;
    eprintln!("per-segment prove time and peak memory against segment size…");
    let mut sizes = Table::new(&[
        "samples",
        "rows",
        "padded",
        "prove",
        "ms / padded row",
        "verify",
        "proof",
        "peak RSS − before",
        "planner estimate",
    ]);
    let mut n = 16;
    while n <= samples {
        segment_size_row(&task, n, &mut sizes)?;
        n *= 4;
    }
    println!("one segment proved directly, one thread (fresh process, sizes ascending):\n{sizes}");
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut counts = vec![1usize];
    let mut n = 2;
    while n <= max_provers && n <= cores {
        counts.push(n);
        n *= 2;
    }
    let mut runs = Vec::new();
    for &n in &counts {
        eprintln!(
            "split: {samples} samples in {segments} segments on {n} prover(s) of one thread each…"
        );
        runs.push(measure(&task, segments, n).await?);
    }
    let base = &runs[0];
    let proving: u64 = base.segment_ms.iter().sum();
    let mut t = Table::new(&[
        "provers",
        "wall",
        "speed-up",
        "target",
        "plan (execute + cut)",
        "join",
        "plan + join / proving",
    ]);
    for r in &runs {
        let speedup = base.wall_ms as f64 / r.wall_ms.max(1) as f64;
        t.row(vec![
            format!("{} measured", r.provers),
            ms(r.wall_ms),
            format!("{speedup:.2}×"),
            format!("≥ {:.2}×", 0.85 * r.provers as f64),
            ms(r.plan_ms),
            ms(r.join_ms),
            format!(
                "{:.1} %",
                100.0 * (r.plan_ms + r.join_ms) as f64 / proving.max(1) as f64
            ),
        ]);
    }
    let mut n = counts.last().copied().unwrap_or(1) * 2;
    while n <= max_provers {
        let wall = modelled_wall_ms(base, n);
        t.row(vec![
            format!("{n} modelled ({cores} cores here)"),
            ms(wall),
            format!("{:.2}×", base.wall_ms as f64 / wall.max(1) as f64),
            format!("≥ {:.2}×", 0.85 * n as f64),
            ms(base.plan_ms),
            ms(base.join_ms),
            String::new(),
        ]);
        n *= 2;
    }
    let per: Vec<String> = base.segment_ms.iter().map(|&m| ms(m)).collect();
    println!(
        "split proving: iris tree (depth {}) over {samples} samples, {segments} segments \
         (measured one-prover segment times {})\n{t}",
        task.tree.depth(),
        per.join(", ")
    );

    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_makespan_model_packs_longest_first() {
        let base = Run {
            provers: 1,
            plan_ms: 10,
            wall_ms: 0,
            join_ms: 5,
            segment_ms: vec![4, 4, 3, 3, 2],
        };
        // Two machines: [4, 3, 2] and [4, 3] → 9.
        assert_eq!(modelled_wall_ms(&base, 2), 10 + 9 + 5);
        assert_eq!(modelled_wall_ms(&base, 8), 10 + 4 + 5);
        assert_eq!(modelled_wall_ms(&base, 1), 10 + 16 + 5);
    }
}
