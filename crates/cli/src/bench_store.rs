//! `zkpool bench --store`: the store alone, without HTTP or proofs — how many tasks per second
//! it queues, and leases and completes, the transactions every proof goes through.
//!
//! ```text
//!   queue:  N × insert_task                         (one writer)
//!   lease:  P provers, each: lease_unpaid → complete, until the queue is empty
//! ```
//!
//! Each figure is one transaction per call, so on SQLite it is bound by the single writer and
//! its WAL commit; nothing here is a pass/fail assertion.

use std::sync::Arc;
use std::time::Instant;

use zkpool_store::{Completion, NewTask, Store};
use zkpool_types::api::Role;
use zkpool_types::{BlobHash, HardwareReport, ProofSystem};

use crate::table::Table;

/// Tasks queued, then leased and completed, per run: `ZKPOOL_BENCH_TASKS`, or 2,000. (The
/// lease query looks at the queue, so how its rate depends on the queue's length shows by
/// running with a few lengths.)
fn tasks() -> usize {
    std::env::var("ZKPOOL_BENCH_TASKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n > 0)
        .unwrap_or(2_000)
}

/// Adds the store rows for `store` (named `backend` in the table) to `table`.
pub async fn rows(table: &mut Table, store: Store, backend: &str) -> anyhow::Result<()> {
    replica_rows(table, vec![store], backend, &[1, 4]).await
}

/// The store rows with the provers spread over `replicas` (stores on one database, each with
/// its own connection pool, as separate node processes have): tasks are queued through the
/// first, each prover leases and completes through replica `p % replicas.len()`.
pub async fn replica_rows(
    table: &mut Table,
    replicas: Vec<Store>,
    backend: &str,
    prover_counts: &[usize],
) -> anyhow::Result<()> {
    let replicas: Vec<Arc<Store>> = replicas.into_iter().map(Arc::new).collect();
    let n = replicas.len();
    let store = replicas[0].clone();
    let where_ = if n == 1 {
        backend.to_string()
    } else {
        format!("{backend}, {n} replicas")
    };
    let req = store.create_key(Role::Requester, "bench", 0).await?;
    let task = NewTask {
        statement: vec![0; 32],
        ..NewTask::unit(req.id)
    };
    let tasks = tasks();
    for &provers in prover_counts {
        let started = Instant::now();
        for i in 0..tasks {
            store.insert_task(&task, i as i64).await?;
        }
        let queued_s = tasks as f64 / started.elapsed().as_secs_f64();
        let mut workers = Vec::new();
        let started = Instant::now();
        for p in 0..provers {
            let name = format!("r{n}-p{provers}-{p}");
            let prover = bench_prover(&store, &name).await?;
            let store = replicas[p % n].clone();
            workers.push(tokio::spawn(async move {
                let mut done = 0u64;
                while let Some(g) = store.lease_unpaid(&prover, 10, 60_000).await? {
                    store.complete(&completion(&g, prover.id), 11).await?;
                    done += 1;
                }
                anyhow::Ok(done)
            }));
        }
        let mut done = 0;
        for w in workers {
            done += w.await??;
        }
        anyhow::ensure!(done == tasks as u64, "{done} of {tasks} tasks completed");
        let leased_s = done as f64 / started.elapsed().as_secs_f64();
        table.row(vec![
            format!("queue a task ({where_}, {tasks} tasks)"),
            format!("{queued_s:.0} /s"),
            String::new(),
        ]);
        table.row(vec![
            format!("lease + complete ({where_}, {provers} prover(s))"),
            format!("{leased_s:.0} /s"),
            if backend == "SQLite" {
                "≥ 2,000 /s".into()
            } else if n == 3 {
                "≥ 5,000 /s".into()
            } else {
                String::new()
            },
        ]);
    }
    // Enqueue to lease: one task at a time queued through the first replica while a prover
    // on the last one asks for work back to back (the floor under a woken long-poll, which
    // adds the NOTIFY hop).
    let prover = bench_prover(&store, &format!("r{n}-latency")).await?;
    let far = replicas[n - 1].clone();
    let mut samples = Vec::with_capacity(LATENCY_SAMPLES);
    for i in 0..LATENCY_SAMPLES {
        let queued = Instant::now();
        store.insert_task(&task, i as i64).await?;
        let g = loop {
            if let Some(g) = far.lease_unpaid(&prover, 10, 60_000).await? {
                break g;
            }
        };
        samples.push(queued.elapsed().as_secs_f64() * 1e3);
        far.complete(&completion(&g, prover.id), 11).await?;
    }
    samples.sort_by(f64::total_cmp);
    let pct = |q| crate::bench_flood::percentile(&samples, q);
    table.row(vec![
        format!("enqueue → lease ({where_}, polling prover)"),
        format!("p50 {:.2} ms, p99 {:.2} ms", pct(0.5), pct(0.99)),
        "p99 ≤ 20 ms".into(),
    ]);
    for r in &replicas {
        r.close().await;
    }
    Ok(())
}

/// Enqueue-to-lease samples per run.
const LATENCY_SAMPLES: usize = 200;

async fn bench_prover(store: &Store, name: &str) -> anyhow::Result<zkpool_store::ProverRecord> {
    let key = store.create_key(Role::Prover, name, 0).await?;
    let hw = HardwareReport {
        name: name.into(),
        os: "bench".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "bench".into(),
    };
    Ok(store.register_prover(key.id, &hw, 0).await?)
}

fn completion(g: &zkpool_store::Grant, prover: zkpool_types::ProverId) -> Completion {
    Completion {
        lease: g.lease,
        token: g.token,
        prover,
        proof: BlobHash::of(b"proof"),
        prove_ms: 1,
        verify_ms: 1,
    }
}
