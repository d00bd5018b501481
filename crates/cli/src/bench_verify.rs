//! `zkpool bench --uploads`: the node's verification when many Groth16 proofs arrive at once.
//! `n` provers (keys of their own) each lease a task of one circuit and upload a valid proof,
//! all at the same moment; the wall time from the first upload to the last answer is measured
//! with the node's batching on (`NodeConfig::batch_verify`: uploads of one zkey that arrive
//! during a check are checked together with `verify_batch`) and off (one check per proof), on
//! fresh local pools, alternating, medians.

use std::time::{Duration, Instant};

use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_client::Client;
use zkpool_node::{ConnLimits, GuardConfig, NodeConfig, Rate};
use zkpool_types::api::{Hello, LeaseGrant};
use zkpool_types::{ArtifactRole, HardwareReport, ProofSystem};

use crate::demo::{circuit_spec, LocalPool};
use crate::fixtures::{Circuit, MULTIPLIER};
use crate::table::{ms, Table};

/// One round: `proofs` uploads at once on a fresh pool; the wall time in ms.
async fn round(c: &Circuit, proofs: &[Vec<u8>], batch: bool) -> anyhow::Result<u64> {
    let unlimited = Rate::new(1e6, 1_000_000);
    let config = NodeConfig {
        batch_verify: batch,
        guard: GuardConfig {
            requester: unlimited,
            prover: unlimited,
            ..GuardConfig::default()
        },
        // Every prover is a client of its own on loopback: one address, many connections.
        conn: ConnLimits {
            max_per_addr: 4 * proofs.len() + 64,
            ..ConnLimits::default()
        },
        ..NodeConfig::default()
    };
    let pool = LocalPool::with_config(None, config).await?;
    let spec = circuit_spec(&pool.requester, c, 0).await?;
    let mut held: Vec<(Client, LeaseGrant)> = Vec::with_capacity(proofs.len());
    for i in 0..proofs.len() {
        pool.requester.submit(spec.clone()).await?;
        let client = pool.prover_client(&format!("p{i}"), 0).await?;
        let id = client
            .hello(&Hello {
                hardware: HardwareReport {
                    name: format!("p{i}"),
                    os: "bench".into(),
                    cpu_cores: 1,
                    memory_bytes: 1 << 34,
                    gpus: vec![],
                    systems: vec![ProofSystem::Groth16],
                    jobs: 1,
                    agent_version: "bench".into(),
                },
                payout: None,
            })
            .await?
            .prover_id;
        let grant = client
            .lease(id, Duration::from_secs(1))
            .await?
            .ok_or_else(|| anyhow::anyhow!("prover p{i} got no task"))?;
        held.push((client, grant));
    }
    let started = Instant::now();
    let uploads = held.into_iter().zip(proofs).map(|((client, g), proof)| {
        let proof = proof.clone();
        tokio::spawn(async move { client.upload_result(g.lease_id, g.token, 1, proof).await })
    });
    for u in uploads.collect::<Vec<_>>() {
        u.await??;
    }
    let wall = started.elapsed().as_millis() as u64;
    pool.stop().await;
    Ok(wall)
}

/// Prints the table: proofs verified per second by the node, batching on and off.
pub async fn run(runs: usize, n: usize) -> anyhow::Result<()> {
    let c = &MULTIPLIER;
    let backend = zkpool_groth16::Groth16Backend::new();
    let mut a = Artifacts::default();
    a.insert(ArtifactRole::R1cs, Blob::new(c.r1cs.to_vec()));
    a.insert(ArtifactRole::Zkey, Blob::new(c.zkey.to_vec()));
    a.insert(ArtifactRole::Wtns, Blob::new(c.wtns.to_vec()));
    let proofs: Vec<Vec<u8>> = (0..n)
        .map(|_| backend.prove(&a).map(|p| p.0))
        .collect::<Result<_, _>>()?;
    let (mut on, mut off) = (Vec::new(), Vec::new());
    for r in 0..runs.max(1) {
        eprintln!(
            "round {}: {n} uploads at once, batching off then on…",
            r + 1
        );
        off.push(round(c, &proofs, false).await?);
        on.push(round(c, &proofs, true).await?);
    }
    on.sort_unstable();
    off.sort_unstable();
    let (on, off) = (on[on.len() / 2], off[off.len() / 2]);
    let rate = |ms: u64| n as f64 * 1000.0 / ms.max(1) as f64;
    let mut t = Table::new(&["node verification", "wall (median)", "proofs/s"]);
    t.row(vec![
        "one check per proof".into(),
        ms(off),
        format!("{:.0}", rate(off)),
    ]);
    t.row(vec![
        "proofs arriving together checked together".into(),
        ms(on),
        format!("{:.0}", rate(on)),
    ]);
    println!(
        "{n} {} proofs uploaded at once by {n} provers (HTTP, fence checks, verification, completion):\n{t}",
        c.name
    );
    Ok(())
}
