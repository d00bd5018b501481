//! `zkpool bench --store`: the store alone, without HTTP or proofs — how many tasks per second
//! it queues, and leases and completes, the transactions every proof goes through.
//!
//! ```text
//!   queue:  N × insert_task                         (one writer)
//!   lease:  P provers, each: lease → complete, until the queue is empty; as in the node,
//!           requests that arrive together are gathered (zkpool_node::gather) into one
//!           lease_batch / complete_batch transaction
//! ```
//!
//! With one prover every call is a transaction of its own; with many, calls that arrive
//! while a batch runs share the next one. Nothing here is a pass/fail assertion.

use std::sync::Arc;
use std::time::Instant;

use zkpool_node::gather::{each_or_all, Gather};
use zkpool_store::{Completion, Grant, LeaseAsk, LeaseLimits, NewTask, ProverRecord, Store};
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
    replica_rows(table, vec![store], backend, &[1, 4, 64]).await
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
        // The provers are registered before the clock starts: their keys and records are
        // two transactions each, none of them a lease or a completion.
        let mut fleet = Vec::with_capacity(provers);
        for p in 0..provers {
            fleet.push(bench_prover(&store, &format!("r{n}-p{provers}-{p}")).await?);
        }
        let mut workers = Vec::new();
        let started = Instant::now();
        let desks: Vec<Arc<Desk>> = replicas.iter().map(|r| Arc::new(Desk::new(r))).collect();
        for (p, prover) in fleet.into_iter().enumerate() {
            let desk = desks[p % n].clone();
            workers.push(tokio::spawn(async move {
                let mut done = 0u64;
                while let Some(g) = desk.lease(&prover).await? {
                    desk.complete(completion(&g, prover.id)).await?;
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

/// A replica's front as the node has it: lease requests and completions gathered into
/// batches, one transaction each, one batch of each kind at a time (as `Node::new`).
struct Desk {
    store: Arc<Store>,
    leases: Gather<ProverRecord, Result<Option<Grant>, String>>,
    completions: Gather<Completion, Result<(), String>>,
}

impl Desk {
    fn new(store: &Arc<Store>) -> Self {
        Self {
            store: store.clone(),
            leases: Gather::new(1, 64),
            completions: Gather::new(1, 64),
        }
    }

    async fn lease(&self, prover: &ProverRecord) -> anyhow::Result<Option<Grant>> {
        let store = self.store.clone();
        let run = move |provers: Vec<ProverRecord>| {
            let store = store.clone();
            async move {
                let asks: Vec<LeaseAsk> = provers
                    .into_iter()
                    .map(|prover| LeaseAsk {
                        prover,
                        limits: LeaseLimits {
                            stake_available: 0,
                            ttl_ms: 60_000,
                            max_lease_ms: 3_600_000,
                            speed_wps: 0,
                        },
                    })
                    .collect();
                let none = |_: &zkpool_store::Pick| Ok::<_, String>(Vec::new());
                let batch = store.lease_batch(&asks, 10, none).await;
                each_or_all(asks.len(), batch.map_err(|e| e.to_string()))
            }
        };
        let answer = self.leases.call(prover.clone(), run).await;
        answer
            .unwrap_or_else(|| Err("the lease batch panicked".into()))
            .map_err(anyhow::Error::msg)
    }

    async fn complete(&self, c: Completion) -> anyhow::Result<()> {
        let store = self.store.clone();
        let run = move |cs: Vec<Completion>| {
            let store = store.clone();
            async move {
                let batch = store.complete_batch(&cs, 11, |_| Vec::new()).await;
                let batch = batch.map(|answers| {
                    answers
                        .into_iter()
                        .map(|a| a.map(|_| ()).map_err(|e| e.to_string()))
                        .collect()
                });
                each_or_all(cs.len(), batch.map_err(|e| e.to_string()))
            }
        };
        let answer = self.completions.call(c, run).await;
        answer
            .unwrap_or_else(|| Err("the completion batch panicked".into()))
            .map_err(anyhow::Error::msg)
    }
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
