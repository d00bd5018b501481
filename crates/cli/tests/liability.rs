//! Liability end to end: a real node and real prover agents on loopback, real Groth16 proofs.
//! Only the pool's own failure pays a requester the bond; a requester's unprovable key is
//! refused at quote or ends as the requester's fault after two independent reports; a
//! colluding reporter is contradicted and loses its collateral; a key that cheated never gets
//! the task again; a key without stake gets only free-tier work; the node's own downtime
//! costs nobody; free-tier and repeated work earns no epoch reward.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use zkpool::demo::{circuit_spec, LocalPool, FUND_POOL_STAKE, FUND_PROVER_STAKE, FUND_REQUESTER};
use zkpool::fixtures::MULTIPLIER;
use zkpool_backend::{Artifacts, BackendError, Blob, ProofBackend};
use zkpool_client::{Client, ClientError};
use zkpool_groth16::tamper;
use zkpool_ledger::Amount;
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_prover::Fault;
use zkpool_types::api::{Hello, TaskView};
use zkpool_types::{
    ArtifactRole, HardwareReport, ProofSystem, TaskCause, TaskId, TaskSpec, TaskState,
};

fn config() -> NodeConfig {
    let mut c = NodeConfig {
        lease_ttl: Duration::from_secs(10),
        heartbeat: Duration::from_secs(1),
        reap_interval: Duration::from_millis(100),
        ..NodeConfig::default()
    };
    c.settlement.pricing.overhead_ms = 0;
    c
}

fn tokens(n: u64) -> u128 {
    Amount::from_tokens(n).base_units()
}

async fn wait_final(client: &Client, id: TaskId) -> TaskView {
    zkpool::demo::wait_final(client, id, Duration::from_secs(120))
        .await
        .unwrap()
}

async fn wait_until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The multiplier task with `zkey` in place of the circuit's own key.
async fn spec_with_zkey(client: &Client, zkey: Vec<u8>) -> TaskSpec {
    let mut spec = circuit_spec(client, &MULTIPLIER, 0).await.unwrap();
    spec.artifacts
        .insert(ArtifactRole::Zkey, client.upload(zkey).await.unwrap());
    spec
}

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Err(e) => e.code().unwrap_or("none").to_string(),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bond_drain_key_is_refused_or_ends_as_the_requesters_fault() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let mut provers = Vec::new();
    for name in ["honest-1", "honest-2"] {
        provers.push(pool.spawn_prover(name, Fault::None).await.unwrap());
    }
    zkpool::demo::wait_online(&pool.requester, 2).await.unwrap();
    let zkey = MULTIPLIER.zkey;
    // Everything intake can tell is refused before a quote is signed: no bond is ever staked.
    let refused: [(&str, Vec<u8>); 6] = [
        (
            "sections 1-3 only",
            tamper::keep_sections(zkey, &[1, 2, 3]).unwrap(),
        ),
        (
            "a section-4 coefficient altered",
            tamper::alter_coefficient(zkey).unwrap(),
        ),
        (
            "a B2 point outside G2",
            tamper::b2_outside_subgroup(zkey).unwrap(),
        ),
        (
            "a B2 point that is not B1's",
            tamper::skew_b2(zkey).unwrap(),
        ),
        ("δ the identity", tamper::degenerate_delta(zkey).unwrap()),
        (
            "δ₁ and δ₂ that disagree",
            tamper::mismatched_delta(zkey).unwrap(),
        ),
    ];
    for (what, bad) in refused {
        let spec = spec_with_zkey(&pool.requester, bad).await;
        let c = code(pool.requester.quote(spec, 60_000).await);
        assert!(
            c == "malformed_artifact" || c == "artifacts_mismatch",
            "{what}: {c}"
        );
    }
    // Swapped H points are valid points: only proving shows them wrong. Both honest provers
    // prove, see their own proof fail, and report; two reports from different keys make it
    // the requester's fault.
    let before = pool.admin.ledger().await.unwrap();
    let spec = spec_with_zkey(&pool.requester, tamper::swap_h_points(zkey).unwrap()).await;
    let issued = pool.requester.quote(spec.clone(), 60_000).await.unwrap();
    let (reward, bond) = (issued.signed.quote.reward.0, issued.signed.quote.bond.0);
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let v = wait_final(&pool.requester, id).await;
    assert_eq!(v.state, TaskState::Failed, "{v:?}");
    assert_eq!(v.cause, Some(TaskCause::RequesterFault), "{v:?}");
    let reports = v
        .failures
        .iter()
        .filter(|f| f.starts_with("artifact_report"))
        .count();
    assert_eq!(reports, 2, "{:?}", v.failures);
    // The claim after the window finds nothing: the task is settled.
    assert_eq!(code(pool.requester.claim(id).await), "already_settled");
    let after = pool.admin.ledger().await.unwrap();
    assert_eq!(
        after.balance("pool_stake"),
        before.balance("pool_stake"),
        "the bond went back to the pool"
    );
    let req = format!("requester:{}", pool.requester_key);
    let paid_out = reward * 2_000 / 10_000;
    assert_eq!(
        after.balance(&req),
        before.balance(&req) - paid_out,
        "refund less the provers' time"
    );
    assert!(after.balance(&req) <= tokens(FUND_REQUESTER));
    assert!(bond > 0);
    // Nobody was penalised: every honest stake is whole, nothing locked.
    for (account, b) in &after.accounts {
        if account.starts_with("prover_stake:") {
            assert_eq!(b.0, tokens(FUND_PROVER_STAKE), "{account}");
        }
        if account.starts_with("collateral:") {
            assert_eq!(b.0, 0, "{account}");
        }
    }
    assert_eq!(after.balance("pool_stake"), tokens(FUND_POOL_STAKE));
    for p in provers {
        p.abort();
    }
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colluding_reporter_is_contradicted_and_loses_its_collateral() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let colluder = pool
        .spawn_prover("colluder", Fault::FalseReports)
        .await
        .unwrap();
    zkpool::demo::wait_online(&pool.requester, 1).await.unwrap();
    let before = pool.admin.ledger().await.unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 60_000).await.unwrap();
    let reward = issued.signed.quote.reward.0;
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    // One non-retryable report never fails a paid task by itself: it waits for another key.
    wait_until("the colluder's report", async || {
        let v = pool.requester.task(id).await.unwrap();
        v.failures.iter().any(|f| f.starts_with("artifact_report"))
    })
    .await;
    assert_eq!(
        pool.requester.task(id).await.unwrap().state,
        TaskState::Queued
    );
    let honest = pool.spawn_prover("honest", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, id).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert_eq!(v.cause, Some(TaskCause::Proved));
    assert_eq!(v.prover_name.as_deref(), Some("honest"));
    let after = pool.admin.ledger().await.unwrap();
    let stakes: Vec<(String, u128)> = after
        .accounts
        .iter()
        .filter(|(a, _)| a.starts_with("prover_stake:"))
        .map(|(a, b)| (a.clone(), b.0))
        .collect();
    let slashed = tokens(FUND_PROVER_STAKE) - stakes.iter().map(|(_, b)| *b).min().unwrap();
    assert!(slashed > 0, "the colluder lost collateral: {stakes:?}");
    assert_eq!(
        stakes
            .iter()
            .filter(|(_, b)| *b == tokens(FUND_PROVER_STAKE))
            .count(),
        1,
        "the honest prover's stake is whole: {stakes:?}"
    );
    // The pool's stake gained the slashed collateral; no bond left it.
    assert_eq!(
        after.balance("pool_stake"),
        before.balance("pool_stake") + slashed
    );
    let req = format!("requester:{}", pool.requester_key);
    assert_eq!(after.balance(&req), before.balance(&req) - reward);
    colluder.abort();
    honest.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_stake_gets_only_free_tier_work() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let unstaked = pool
        .spawn_prover_staked("no-stake", Fault::None, 0)
        .await
        .unwrap();
    zkpool::demo::wait_online(&pool.requester, 1).await.unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 60_000).await.unwrap();
    let paid = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let free = zkpool::demo::submit_circuit(&pool.requester, &MULTIPLIER, 1)
        .await
        .unwrap();
    let v = wait_final(&pool.requester, free).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    let p = pool.requester.task(paid).await.unwrap();
    assert_eq!((p.state, p.attempts), (TaskState::Queued, 0), "{p:?}");
    // A staked key takes it.
    let staked = pool.spawn_prover("staked", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, paid).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert_eq!(v.prover_name.as_deref(), Some("staked"));
    unstaked.abort();
    staked.abort();
    pool.stop().await;
}

fn hw(name: &str) -> HardwareReport {
    HardwareReport {
        name: name.into(),
        os: "test".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 34,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "test".into(),
    }
}

fn multiplier_artifacts() -> Artifacts {
    let mut a = Artifacts::default();
    a.insert(ArtifactRole::R1cs, Blob::new(MULTIPLIER.r1cs.to_vec()));
    a.insert(ArtifactRole::Zkey, Blob::new(MULTIPLIER.zkey.to_vec()));
    a.insert(ArtifactRole::Wtns, Blob::new(MULTIPLIER.wtns.to_vec()));
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_that_cheated_never_gets_the_task_again_on_any_machine() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let cheat = pool
        .prover_client("cheat", FUND_PROVER_STAKE)
        .await
        .unwrap();
    let first = cheat
        .hello(&Hello {
            hardware: hw("rig-a"),
            payout: None,
        })
        .await
        .unwrap();
    let id = zkpool::demo::submit_circuit(&pool.requester, &MULTIPLIER, 0)
        .await
        .unwrap();
    let g = cheat
        .lease(first.prover_id, Duration::from_millis(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.task_id, id);
    let refused = cheat
        .upload_result(
            g.lease_id,
            g.token,
            1,
            b"{\"proof\":{},\"public\":[]}".to_vec(),
        )
        .await;
    assert!(refused.is_err());
    // Same key, a new machine name: still never this task.
    let second = cheat
        .hello(&Hello {
            hardware: hw("rig-b"),
            payout: None,
        })
        .await
        .unwrap();
    assert_ne!(second.prover_id, first.prover_id);
    assert!(cheat
        .lease(second.prover_id, Duration::from_millis(300))
        .await
        .unwrap()
        .is_none());
    let other = pool
        .prover_client("other", FUND_PROVER_STAKE)
        .await
        .unwrap();
    let p = other
        .hello(&Hello {
            hardware: hw("rig-c"),
            payout: None,
        })
        .await
        .unwrap();
    let g2 = other
        .lease(p.prover_id, Duration::from_millis(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g2.task_id, id);
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nodes_own_downtime_costs_nobody() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::starting_now();
    let mut cfg = config();
    cfg.clock = Arc::new(clock.clone());
    cfg.reap_interval = Duration::from_secs(3_600);
    let pool = LocalPool::with_config(Some(dir.path().to_path_buf()), cfg.clone())
        .await
        .unwrap();
    let key_secret = pool.prover_key("rig", FUND_PROVER_STAKE).await.unwrap();
    let rig = Client::new(&pool.url(), &key_secret.1).unwrap();
    let me = rig
        .hello(&Hello {
            hardware: hw("rig"),
            payout: None,
        })
        .await
        .unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 600_000).await.unwrap();
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let g = rig
        .lease(me.prover_id, Duration::from_millis(500))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(g.task_id, id);
    assert!(g.collateral > 0);
    // The node goes away for three TTLs; the prover keeps proving meanwhile.
    pool.stop().await;
    clock.advance(cfg.lease_ttl * 3);
    let pool = LocalPool::with_config(Some(dir.path().to_path_buf()), cfg.clone())
        .await
        .unwrap();
    pool.node.sweep().await;
    let rig = Client::new(&pool.url(), &key_secret.1).unwrap();
    let proof = zkpool_groth16::Groth16Backend::new()
        .prove(&multiplier_artifacts())
        .map_err(|e: BackendError| e.to_string())
        .unwrap();
    rig.upload_result(g.lease_id, g.token, 5, proof.0)
        .await
        .unwrap();
    // (The restarted pool made itself a new requester key; the admin sees every task.)
    let v = pool.admin.task(id).await.unwrap();
    assert_eq!(
        (v.state, v.cause),
        (TaskState::Done, Some(TaskCause::Proved))
    );
    let ledger = pool.admin.ledger().await.unwrap();
    assert_eq!(
        ledger.balance(&format!("prover_stake:{}", key_secret.0)),
        tokens(FUND_PROVER_STAKE),
        "nobody penalised"
    );
    let status = pool.admin.status().await.unwrap();
    assert!(status.provers.iter().all(|p| p.failures == 0), "{status:?}");
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn free_tier_and_repeated_statements_earn_no_epoch_work() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let rig = pool.spawn_prover("rig", Fault::None).await.unwrap();
    zkpool::demo::wait_online(&pool.requester, 1).await.unwrap();
    let mut ids = Vec::new();
    // Two free-tier tasks and the same paid statement twice.
    for variant in [0, 1] {
        ids.push(
            zkpool::demo::submit_circuit(&pool.requester, &MULTIPLIER, variant)
                .await
                .unwrap(),
        );
    }
    for _ in 0..2 {
        ids.push(
            zkpool::demo::submit_circuit_quoted(
                &pool.requester,
                &MULTIPLIER,
                0,
                Duration::from_secs(120),
            )
            .await
            .unwrap(),
        );
    }
    for id in &ids {
        assert_eq!(
            wait_final(&pool.requester, *id).await.state,
            TaskState::Done
        );
    }
    let epoch = pool.admin.close_epoch().await.unwrap();
    let work: u64 = epoch.shares.iter().map(|s| s.work).sum();
    let alpha = zkpool_node::SettlementConfig::default()
        .factors
        .work("groth16", 100)
        .unwrap();
    assert_eq!(u128::from(work), alpha, "one paid multiplier: {epoch:?}");
    rig.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_padded_circuit_weighs_only_its_real_constraints() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let mut rng = rand::thread_rng();
    let padded = zkpool_groth16::synthetic::padded_multiplication_chain(10, 200, &mut rng).unwrap();
    let mut spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: Some("padded".into()),
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    for (role, bytes) in [
        (ArtifactRole::R1cs, padded.r1cs.clone()),
        (ArtifactRole::Zkey, padded.zkey.clone()),
        (ArtifactRole::Wtns, padded.wtns.clone()),
    ] {
        spec.artifacts
            .insert(role, pool.requester.upload(bytes).await.unwrap());
    }
    let submitted = pool.requester.submit(spec).await.unwrap();
    assert_eq!(submitted.work, 10, "200 empty constraints weigh nothing");
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_binds_its_requester_and_segment_count() {
    let pool = LocalPool::with_config(None, config()).await.unwrap();
    let rig = pool.spawn_prover("rig", Fault::None).await.unwrap();
    zkpool::demo::wait_online(&pool.requester, 1).await.unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 60_000).await.unwrap();
    let other = pool
        .store
        .create_key(zkpool_types::api::Role::Requester, "other", 0)
        .await
        .unwrap();
    pool.admin
        .deposit(&format!("requester:{}", other.id), tokens(100))
        .await
        .unwrap();
    let thief = Client::new(&pool.url(), &other.secret).unwrap();
    // The same artifacts, uploaded by the thief itself (a task names only its own uploads).
    assert_eq!(circuit_spec(&thief, &MULTIPLIER, 0).await.unwrap(), spec);
    let refused = thief
        .submit_quoted(spec.clone(), issued.signed.clone())
        .await;
    assert_eq!(code(refused), "wrong_requester");
    // The quote is still good for the requester it was made for.
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    assert_eq!(wait_final(&pool.requester, id).await.state, TaskState::Done);
    rig.abort();
    pool.stop().await;
}
