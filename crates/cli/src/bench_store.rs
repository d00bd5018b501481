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

/// Tasks queued, then leased and completed, per run.
const TASKS: usize = 2_000;

/// Adds the store rows for `store` (named `backend` in the table) to `table`.
pub async fn rows(table: &mut Table, store: Store, backend: &str) -> anyhow::Result<()> {
    let store = Arc::new(store);
    let req = store.create_key(Role::Requester, "bench", 0).await?;
    let task = NewTask {
        statement: vec![0; 32],
        ..NewTask::unit(req.id)
    };
    for provers in [1usize, 4] {
        let started = Instant::now();
        for i in 0..TASKS {
            store.insert_task(&task, i as i64).await?;
        }
        let queued_s = TASKS as f64 / started.elapsed().as_secs_f64();
        let mut workers = Vec::new();
        let started = Instant::now();
        for p in 0..provers {
            let key = store
                .create_key(Role::Prover, &format!("p{provers}-{p}"), 0)
                .await?;
            let hw = HardwareReport {
                name: format!("p{provers}-{p}"),
                os: "bench".into(),
                cpu_cores: 1,
                memory_bytes: 1 << 30,
                gpus: vec![],
                systems: vec![ProofSystem::Groth16],
                jobs: 1,
                agent_version: "bench".into(),
            };
            let prover = store.register_prover(key.id, &hw, 0).await?;
            let store = store.clone();
            workers.push(tokio::spawn(async move {
                let mut done = 0u64;
                let proof = BlobHash::of(b"proof");
                while let Some(g) = store.lease_unpaid(&prover, 10, 60_000).await? {
                    let c = Completion {
                        lease: g.lease,
                        token: g.token,
                        prover: prover.id,
                        proof,
                        prove_ms: 1,
                        verify_ms: 1,
                    };
                    store.complete(&c, 11).await?;
                    done += 1;
                }
                anyhow::Ok(done)
            }));
        }
        let mut done = 0;
        for w in workers {
            done += w.await??;
        }
        anyhow::ensure!(done == TASKS as u64, "{done} of {TASKS} tasks completed");
        let leased_s = done as f64 / started.elapsed().as_secs_f64();
        table.row(vec![
            format!("queue a task ({backend}, {TASKS} tasks)"),
            format!("{queued_s:.0} /s"),
            String::new(),
        ]);
        table.row(vec![
            format!("lease + complete ({backend}, {provers} prover(s))"),
            format!("{leased_s:.0} /s"),
            "≥ 2,000 /s on SQLite".into(),
        ]);
    }
    store.close().await;
    Ok(())
}
