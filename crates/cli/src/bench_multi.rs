//! `zkpool bench --multiprover`: what proving a claim twice and racing provers cost.
//!
//! - the demo's 2-of-2 task (Groth16 leg + Miden leg in segments) through a local pool against
//!   each leg alone through the same pool: the legs run in parallel, so the task should take
//!   about as long as its slower leg (target ≤ 1.05×), the bundle adding nothing measurable;
//! - a race of 2 against the default single-prover strategy on a pool where one of two
//!   provers is slowed on purpose (it holds each proof before uploading it): the single
//!   strategy lands on the slow prover about half the time, the race never waits for it.
//!
//! Every run is one submit followed to the end; the tables print medians.

use std::time::{Duration, Instant};

use zkpool_client::Client;
use zkpool_node::{GuardConfig, NodeConfig, Rate};
use zkpool_prover::Fault;
use zkpool_types::{Strategy, TaskSpec, TaskState};

use crate::demo::{circuit_spec, wait_online, LocalPool};
use crate::fixtures::POSEIDON_CHAIN;
use crate::multiprover::MultiproverTask;
use crate::table::{ms, Table};

/// How long the slowed prover holds each proof.
const SLOW_HOLD: Duration = Duration::from_millis(1500);

/// A local pool whose requester may poll as fast as a benchmark needs (its default budget,
/// 20 calls a second, would make the polling the thing measured), with `provers` honest
/// agents of one job each.
async fn bench_pool(provers: u32) -> anyhow::Result<LocalPool> {
    let config = NodeConfig {
        lease_ttl: Duration::from_secs(10),
        heartbeat: Duration::from_secs(2),
        guard: GuardConfig {
            requester: Rate::new(10_000.0, 10_000),
            ..GuardConfig::default()
        },
        ..NodeConfig::default()
    };
    let pool = LocalPool::with_config(None, config).await?;
    for i in 1..=provers {
        pool.spawn_prover(&format!("rig-{i}"), Fault::None).await?;
    }
    Ok(pool)
}

/// Wall time of one submit of `spec`, to its end, in ms.
async fn once(client: &Client, spec: &TaskSpec) -> anyhow::Result<u64> {
    let started = Instant::now();
    let id = client.submit(spec.clone()).await?.task_id;
    loop {
        let v = client.task(id).await?;
        match v.state {
            TaskState::Done => return Ok(started.elapsed().as_millis() as u64),
            TaskState::Failed => anyhow::bail!("bench task {id} failed: {:?}", v.failures),
            _ => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    }
}

/// `runs` runs of `spec`, sorted (after one warm-up run that fills the provers' caches).
async fn times_ms(client: &Client, spec: &TaskSpec, runs: usize) -> anyhow::Result<Vec<u64>> {
    once(client, spec).await?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        t.push(once(client, spec).await?);
    }
    t.sort_unstable();
    Ok(t)
}

/// The median of `runs` runs of `spec`.
async fn median_ms(client: &Client, spec: &TaskSpec, runs: usize) -> anyhow::Result<u64> {
    let t = times_ms(client, spec, runs).await?;
    Ok(t[t.len() / 2])
}

/// Both benchmarks; prints their tables.
pub async fn run(runs: usize) -> anyhow::Result<()> {
    let runs = runs.max(1);
    let task = MultiproverTask::iris(2)?;
    let pool = bench_pool(3).await?;
    wait_online(&pool.requester, 3).await?;
    let dir = tempfile::tempdir()?;
    task.write_files(dir.path())?;
    let file = task.task_file();
    let multi = file.upload(dir.path(), &pool.requester).await?;
    let Some(Strategy::MultiProver { legs, .. }) = &multi.strategy else {
        anyhow::bail!("the demo's task has no legs");
    };
    eprintln!("multi-prover: {runs} runs each of the 2-of-2 task and of each leg alone…");
    let groth16 = median_ms(&pool.requester, &legs[0].spec, runs).await?;
    let miden = median_ms(&pool.requester, &legs[1].spec, runs).await?;
    let both = median_ms(&pool.requester, &multi, runs).await?;
    let slower = groth16.max(miden);
    let mut t = Table::new(&["measurement", "median wall", "vs slower leg", "target"]);
    t.row(vec![
        "Groth16 leg alone (iris_tree, 4,405 constraints)".into(),
        ms(groth16),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "Miden leg alone (16 samples, 2 segments)".into(),
        ms(miden),
        String::new(),
        String::new(),
    ]);
    t.row(vec![
        "2-of-2 task: both legs, bundle, certificate".into(),
        ms(both),
        format!("{:.2}×", both as f64 / slower.max(1) as f64),
        "≤ 1.05×".into(),
    ]);
    println!(
        "multi-prover, 3 provers of one job each, {} cores:\n{t}",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    pool.stop().await;

    let pool = bench_pool(1).await?;
    pool.spawn_prover("slowed", Fault::Late { hold: SLOW_HOLD })
        .await?;
    wait_online(&pool.requester, 2).await?;
    let single = circuit_spec(&pool.requester, &POSEIDON_CHAIN, 0).await?;
    let race = TaskSpec {
        strategy: Some(Strategy::Race { m: 2 }),
        ..single.clone()
    };
    let runs = runs.max(8);
    eprintln!("race: {runs} runs each, one prover holding its proofs {SLOW_HOLD:?}…");
    let mut t = Table::new(&["strategy", "median", "mean", "worst", "paid"]);
    for (name, spec, paid) in [
        (
            "one prover per task (default)",
            &single,
            "the prover that proved it",
        ),
        ("race of 2", &race, "the first valid proof only"),
    ] {
        let w = times_ms(&pool.requester, spec, runs).await?;
        let mean = w.iter().sum::<u64>() / w.len() as u64;
        t.row(vec![
            name.into(),
            ms(w[w.len() / 2]),
            ms(mean),
            ms(w[w.len() - 1]),
            paid.into(),
        ]);
    }
    println!(
        "poseidon_chain (4,320 constraints) on a fast and a slowed prover (+{} per proof):\n{t}",
        ms(SLOW_HOLD.as_millis() as u64)
    );
    pool.stop().await;
    Ok(())
}
