//! Multi-prover tasks and races end to end: the real node and real prover agents on loopback,
//! the zkML tree's claim proved by a real Groth16 proof (circom circuit) and a real Miden
//! STARK split into segments, each leg on another key; the bundle checked by `zkpool verify`
//! and the Groth16 leg by snarkjs. Faults: a leg's prover dying mid-proof, a leg's prover
//! cheating, a slow racer.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use zkpool::demo::LocalPool;
use zkpool::multiprover::MultiproverTask;
use zkpool_client::Client;
use zkpool_node::NodeConfig;
use zkpool_prover::Fault;
use zkpool_types::api::TaskView;
use zkpool_types::{Composition, TaskCause, TaskId, TaskSpec, TaskState};

mod common;
use common::{create_key, spawn_prover, start_node, zkpool};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn wait_until(
    client: &Client,
    id: TaskId,
    limit: Duration,
    done: impl Fn(&TaskView) -> bool,
) -> TaskView {
    let deadline = Instant::now() + limit;
    loop {
        let v = client.task(id).await.unwrap();
        if done(&v) {
            return v;
        }
        assert!(Instant::now() < deadline, "task {id}: {v:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Prover names that proved each leg (a split leg: its segments').
fn provers_per_leg(v: &TaskView) -> Vec<BTreeSet<String>> {
    v.segments
        .iter()
        .map(|l| {
            if l.segments.is_empty() {
                l.prover_name.iter().cloned().collect()
            } else {
                l.segments
                    .iter()
                    .filter_map(|s| s.prover_name.clone())
                    .collect()
            }
        })
        .collect()
}

#[test]
fn two_proof_systems_prove_one_claim_through_the_cli() {
    let data = tempfile::tempdir().unwrap();
    let (_node, port) = start_node(data.path(), 0);
    let url = format!("http://127.0.0.1:{port}");
    let requester = create_key(data.path(), "requester", "rollup");
    let mut provers = Vec::new();
    for name in ["rig-a", "rig-b", "rig-c"] {
        let key = create_key(data.path(), "prover", name);
        provers.push(spawn_prover(&[&url], &key, name, 1));
    }
    let task = tempfile::tempdir().unwrap();
    let export = zkpool(&["demo", "multiprover", "--segments", "2", "--export"])
        .arg(task.path())
        .output()
        .unwrap();
    assert!(
        export.status.success(),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );
    let out = tempfile::tempdir().unwrap();
    let submit = zkpool(&[
        "submit", "--pool", &url, "--key", &requester, "--wait", "--out",
    ])
    .arg(out.path())
    .arg("--task")
    .arg(task.path().join("task.json"))
    .output()
    .unwrap();
    assert!(
        submit.status.success(),
        "zkpool submit failed: {}",
        String::from_utf8_lossy(&submit.stderr)
    );
    let id: TaskId = String::from_utf8_lossy(&submit.stdout)
        .trim()
        .parse()
        .unwrap();

    // Each leg on its own key: the Groth16 leg's prover proved no Miden segment.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let view = rt.block_on(async {
        Client::new(&url, &requester)
            .unwrap()
            .task(id)
            .await
            .unwrap()
    });
    assert_eq!(view.state, TaskState::Done);
    assert_eq!(view.composition, Some(Composition::AllOf { k: 2, n: 2 }));
    let legs = provers_per_leg(&view);
    assert!(legs.iter().all(|p| !p.is_empty()), "{legs:?}");
    assert!(legs[0].is_disjoint(&legs[1]), "{legs:?}");

    // The requester's own checks: the bundle with its own verification key pinned, and the
    // Groth16 leg with snarkjs.
    let bundle = out.path().join("bundle.json");
    let vkey = repo_root().join("fixtures/iris_tree/verification_key.json");
    let verify = zkpool(&["verify"])
        .arg(&bundle)
        .arg("--vkey")
        .arg(&vkey)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success(),
        "{said} {}",
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(said.contains("OK: 2 of 2 legs verified"), "{said}");
    let snarkjs = repo_root().join("node_modules/.bin/snarkjs");
    let ok = std::process::Command::new(snarkjs)
        .args(["groth16", "verify"])
        .arg(&vkey)
        .arg(out.path().join("public.json"))
        .arg(out.path().join("proof.json"))
        .output()
        .unwrap();
    assert!(
        ok.status.success() && String::from_utf8_lossy(&ok.stdout).contains("OK"),
        "snarkjs: {}",
        String::from_utf8_lossy(&ok.stdout)
    );

    // Tampered bundles are refused: a leg removed, a class changed, a leg's proof swapped.
    let original: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&bundle).unwrap()).unwrap();
    let mut cut = original.clone();
    cut["legs"].as_array_mut().unwrap().pop();
    let mut class = original.clone();
    let c0 = class["claim"]["outputs"][0].as_str().unwrap().to_string();
    class["claim"]["outputs"][0] = (if c0 == "1" { "2" } else { "1" }).into();
    let mut k = original.clone();
    k["k"] = 1.into();
    for (what, bad) in [
        ("a leg removed", cut),
        ("a class changed", class),
        ("k lowered", k),
    ] {
        let path = out.path().join("tampered.json");
        std::fs::write(&path, serde_json::to_vec(&bad).unwrap()).unwrap();
        let r = zkpool(&["verify"]).arg(&path).output().unwrap();
        assert!(!r.status.success(), "{what}: accepted");
    }
    drop(provers);
}

fn fast() -> NodeConfig {
    NodeConfig {
        lease_ttl: Duration::from_secs(6),
        heartbeat: Duration::from_secs(1),
        reap_interval: Duration::from_millis(100),
        ..NodeConfig::default()
    }
}

/// The demo's task, with `extra` more Groth16 legs, as a spec uploaded by the pool's requester.
async fn multi_spec(pool: &LocalPool, k: u32, extra_groth16: usize) -> TaskSpec {
    let task = MultiproverTask::iris(2).unwrap();
    let dir = tempfile::tempdir().unwrap();
    task.export(dir.path()).unwrap();
    let mut file = task.task_file();
    file.k = k;
    for _ in 0..extra_groth16 {
        file.legs.push(file.legs[0].clone());
    }
    file.upload(dir.path(), &pool.requester).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_is_done_when_two_verify_and_the_third_is_stopped() {
    let pool = LocalPool::with_config(None, fast()).await.unwrap();
    // A prover that dies mid-proof takes a leg first (or a segment of the Miden leg).
    let _dying = pool.spawn_prover("dying", Fault::Crash).await.unwrap();
    let spec = multi_spec(&pool, 2, 1).await;
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    wait_until(&pool.requester, id, Duration::from_secs(30), |v| {
        provers_per_leg(v).iter().any(|p| p.contains("dying"))
            || v.segments
                .iter()
                .any(|l| l.prover_name.as_deref() == Some("dying"))
    })
    .await;
    let mut honest = Vec::new();
    for name in ["h1", "h2", "h3"] {
        honest.push(pool.spawn_prover(name, Fault::None).await.unwrap());
    }
    let v = wait_until(&pool.requester, id, Duration::from_secs(120), |v| {
        v.state.is_final()
    })
    .await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    let causes: Vec<_> = v.segments.iter().map(|l| l.cause).collect();
    assert_eq!(
        causes
            .iter()
            .filter(|c| **c == Some(TaskCause::Proved))
            .count(),
        2,
        "{causes:?}"
    );
    assert_eq!(
        causes
            .iter()
            .filter(|c| **c == Some(TaskCause::Stopped))
            .count(),
        1,
        "{causes:?}"
    );
    let proved: Vec<BTreeSet<String>> = v
        .segments
        .iter()
        .zip(provers_per_leg(&v))
        .filter(|(l, _)| l.cause == Some(TaskCause::Proved))
        .map(|(_, p)| p)
        .collect();
    assert!(proved[0].is_disjoint(&proved[1]), "{proved:?}");
    assert!(proved.iter().all(|p| !p.contains("dying")));
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cheating_legs_prover_costs_only_that_leg_a_retry() {
    let pool = LocalPool::with_config(None, fast()).await.unwrap();
    let _cheat = pool
        .spawn_prover("cheat", Fault::InvalidProofs)
        .await
        .unwrap();
    let spec = multi_spec(&pool, 2, 0).await;
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    // The cheater's false proof is refused before the honest provers arrive.
    let v = wait_until(&pool.requester, id, Duration::from_secs(60), |v| {
        v.segments
            .iter()
            .flat_map(|l| std::iter::once(l).chain(&l.segments))
            .any(|t| t.failures.iter().any(|f| f.contains("invalid_proof")))
    })
    .await;
    assert_eq!(v.state, TaskState::Proving);
    for name in ["h1", "h2", "h3"] {
        pool.spawn_prover(name, Fault::None).await.unwrap();
    }
    let v = wait_until(&pool.requester, id, Duration::from_secs(120), |v| {
        v.state.is_final()
    })
    .await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    // Only what the cheater touched was proved again (a whole leg, or one segment of the
    // Miden leg, never the leg's other segments), each time by an honest key.
    let units: Vec<&TaskView> = v
        .segments
        .iter()
        .flat_map(|l| {
            if l.segments.is_empty() {
                vec![l]
            } else {
                l.segments.iter().collect()
            }
        })
        .collect();
    assert!(units.iter().any(|u| u.attempts > 1), "{units:?}");
    for u in &units {
        assert_eq!(u.attempts as usize, u.failures.len() + 1, "{u:?}");
        assert!(
            u.failures.iter().all(|f| f.contains("invalid_proof")),
            "{u:?}"
        );
        assert!(u.prover_name.as_deref() != Some("cheat"), "{u:?}");
    }
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_pays_the_fastest_prover_once() {
    let pool = LocalPool::with_config(None, fast()).await.unwrap();
    let mut keys = Vec::new();
    for (name, fault) in [
        (
            "slow",
            Fault::Late {
                hold: Duration::from_secs(3),
            },
        ),
        ("fast-1", Fault::None),
        ("fast-2", Fault::None),
    ] {
        let (key, secret) = pool
            .prover_key(name, zkpool::demo::FUND_PROVER_STAKE)
            .await
            .unwrap();
        pool.spawn_agent(name, secret, fault, None);
        keys.push((name, key));
    }
    zkpool::demo::wait_online(&pool.requester, 3).await.unwrap();
    let mut spec =
        zkpool::demo::circuit_spec(&pool.requester, &zkpool::fixtures::POSEIDON_CHAIN, 0)
            .await
            .unwrap();
    spec.strategy = Some(zkpool_types::Strategy::Race { m: 3 });
    let issued = pool.requester.quote(spec.clone(), 120_000).await.unwrap();
    let reward = issued.signed.quote.reward.0;
    let before = pool.admin.ledger().await.unwrap();
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let v = wait_until(&pool.requester, id, Duration::from_secs(60), |v| {
        v.state.is_final()
    })
    .await;
    assert_eq!(v.state, TaskState::Done);
    let winner = v
        .segments
        .iter()
        .find(|l| l.cause == Some(TaskCause::Proved))
        .and_then(|l| l.prover_name.clone())
        .unwrap();
    assert_ne!(winner, "slow");
    // The slow racer's upload, 3 s later, changes nothing.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let after = pool.admin.ledger().await.unwrap();
    for (name, key) in &keys {
        let account = format!("prover:{key}");
        let gained = after.balance(&account) - before.balance(&account);
        let want = if *name == winner { reward * 8 / 10 } else { 0 };
        assert_eq!(gained, want, "{name}");
    }
    let done = pool.requester.task(id).await.unwrap();
    assert_eq!(
        done.segments
            .iter()
            .filter(|l| l.state == TaskState::Done)
            .count(),
        1
    );
    pool.stop().await;
}

/// A prover by hand: one key, one machine that runs both systems.
async fn hand_prover(pool: &LocalPool, name: &str) -> (Client, zkpool_types::ProverId) {
    let client = pool.prover_client(name, 0).await.unwrap();
    let hardware = zkpool_types::HardwareReport {
        name: name.into(),
        os: "linux".into(),
        cpu_cores: 1,
        memory_bytes: 8 << 30,
        gpus: vec![],
        systems: vec![
            zkpool_types::ProofSystem::Groth16,
            zkpool_types::ProofSystem::MidenVm,
        ],
        jobs: 4,
        agent_version: "test".into(),
    };
    let id = client
        .hello(&zkpool_types::api::Hello {
            hardware,
            payout: None,
        })
        .await
        .unwrap()
        .prover_id;
    (client, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_legs_proof_uploaded_on_another_legs_lease_is_refused() {
    let pool = LocalPool::with_config(None, fast()).await.unwrap();
    let spec = multi_spec(&pool, 2, 0).await;
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    let (g16, g16_id) = hand_prover(&pool, "groth16-holder").await;
    let (miden, miden_id) = hand_prover(&pool, "miden-holder").await;
    // The oldest unit is the Groth16 leg; the other key gets a Miden segment.
    let leg = g16
        .lease(g16_id, Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(leg.system, zkpool_types::ProofSystem::Groth16);
    let seg = miden
        .lease(miden_id, Duration::from_secs(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seg.system, zkpool_types::ProofSystem::MidenVm);
    // A real, valid proof of the Groth16 leg, uploaded on the Miden segment's lease: it does
    // not prove the segment's statement, so it is refused and the segment goes back alone.
    let mut a = zkpool_backend::Artifacts::default();
    for (role, hash) in &leg.artifacts {
        a.insert(
            *role,
            zkpool_backend::Blob::new(g16.download(hash).await.unwrap()),
        );
    }
    let groth16 =
        zkpool_backend::ProofBackend::prove(&zkpool_groth16::Groth16Backend::new(), &a).unwrap();
    let refused = miden
        .upload_result(seg.lease_id, seg.token, 1, groth16.0.clone())
        .await;
    match refused {
        Err(zkpool_client::ClientError::Api { status, .. }) => assert_eq!(status, 422),
        other => panic!("accepted a Groth16 proof for a Miden segment: {other:?}"),
    }
    // The same proof on its own leg's lease is accepted; the task is not done before the
    // Miden leg is.
    g16.upload_result(leg.lease_id, leg.token, 1, groth16.0)
        .await
        .unwrap();
    let v = pool.requester.task(id).await.unwrap();
    assert_eq!(v.state, TaskState::Proving);
    assert_eq!(v.segments[0].state, TaskState::Done);
    let miden_leg = &v.segments[1];
    assert_eq!(miden_leg.segments[0].state, TaskState::Queued);
    assert!(miden_leg.segments[0].failures[0].contains("invalid_proof"));
    pool.stop().await;
}
