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
use zkpool_prover::Fault;
use zkpool_types::{Strategy, TaskSpec, TaskState};

use crate::demo::{circuit_spec, wait_online, LocalPool};
use crate::fixtures::POSEIDON_CHAIN;
use crate::multiprover::MultiproverTask;
use crate::table::{ms, Table};

/// How long the slowed prover holds each proof.
const SLOW_HOLD: Duration = Duration::from_millis(1500);

/// Wall time of one submit of `spec`, to its end, in ms.
async fn once(client: &Client, spec: &TaskSpec) -> anyhow::Result<u64> {
    let started = Instant::now();
    let id = client.submit(spec.clone()).await?.task_id;
    loop {
        let v = client.task(id).await?;
        match v.state {
            TaskState::Done => return Ok(started.elapsed().as_millis() as u64),
            TaskState::Failed => anyhow::bail!("bench task {id} failed: {:?}", v.failures),
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
}

/// Median of `runs` runs of `spec` (after one warm-up run that fills the provers' caches).
async fn median_ms(client: &Client, spec: &TaskSpec, runs: usize) -> anyhow::Result<u64> {
    once(client, spec).await?;
    let mut t = Vec::with_capacity(runs);
    for _ in 0..runs {
        t.push(once(client, spec).await?);
    }
    t.sort_unstable();
    Ok(t[t.len() / 2])
}

/// Both benchmarks; prints their tables.
pub async fn run(runs: usize) -> anyhow::Result<()> {
    let runs = runs.max(1);
    let task = MultiproverTask::iris(2)?;
    let pool = LocalPool::start(None, 3, Fault::None).await?;
    wait_online(&pool.requester, 3).await?;
    let dir = tempfile::tempdir()?;
    task.export(dir.path())?;
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

    let pool = LocalPool::with_config(None, Default::default()).await?;
    pool.spawn_prover("fast", Fault::None).await?;
    pool.spawn_prover("slowed", Fault::Late { hold: SLOW_HOLD })
        .await?;
    wait_online(&pool.requester, 2).await?;
    let single = circuit_spec(&pool.requester, &POSEIDON_CHAIN, 0).await?;
    let race = TaskSpec {
        strategy: Some(Strategy::Race { m: 2 }),
        ..single.clone()
    };
    let runs = runs.max(5);
    eprintln!("race: {runs} runs each, one prover holding its proofs {SLOW_HOLD:?}…");
    let one = median_ms(&pool.requester, &single, runs).await?;
    let raced = median_ms(&pool.requester, &race, runs).await?;
    let mut t = Table::new(&["strategy", "median wall", "paid"]);
    t.row(vec![
        "one prover per task (default)".into(),
        ms(one),
        "the prover that proved it".into(),
    ]);
    t.row(vec![
        "race of 2".into(),
        ms(raced),
        "the first valid proof only".into(),
    ]);
    println!(
        "poseidon_chain (4,320 constraints) on a fast and a slowed prover (+{} per proof):\n{t}",
        ms(SLOW_HOLD.as_millis() as u64)
    );
    pool.stop().await;
    Ok(())
}
