//! Settlement on Ethereum end to end: anvil, the pool contract, a real node in
//! `--settlement ethereum` mode on loopback, real prover agents and a requester with its own
//! account. A task fulfilled in its window with the proof checked on chain by the snarkjs
//! verifier (through the `zkpool submit --chain` binary, too); a missed window claimed; a
//! proof too late for its window reported and never sent; a node restarted while a task was
//! published resumes from the chain and fulfils once, and a replay of every event after a
//! second restart fulfils nothing twice; every refusal of bad input, with no state change.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use zkpool::chain_demo::ChainPool;
use zkpool::demo::{circuit_spec, wait_online};
use zkpool::fixtures::MULTIPLIER;
use zkpool_chain::{Anvil, TaskStatus};
use zkpool_client::{Client, ClientError};
use zkpool_types::api::{Hello, Role};
use zkpool_types::settlement::ChainTaskRequest;
use zkpool_types::{HardwareReport, ProofSystem, TaskState};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn anvil() -> Anvil {
    Anvil::spawn(&Anvil::bin_in(&repo()), 31_337).await.unwrap()
}

fn code(e: ClientError) -> String {
    e.code().unwrap_or("none").to_string()
}

const MINUTE: Duration = Duration::from_secs(60);

/// The task's state as its requester sees it.
async fn task_state(world: &ChainPool, id: zkpool_types::TaskId) -> TaskState {
    world.pool.requester.task(id).await.unwrap().state
}

/// A chain pool on `chain` with prover 0 online.
async fn with_prover(chain: &Anvil) -> (ChainPool, tokio::task::JoinHandle<()>) {
    let world = ChainPool::start(&chain.url, &chain.keys, None)
        .await
        .unwrap();
    let prover = world.spawn_prover(0).await.unwrap();
    wait_online(&world.pool.admin, 1).await.unwrap();
    (world, prover)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_task_is_proved_fulfilled_in_its_window_and_its_prover_paid_on_chain() {
    let chain = anvil().await;
    let (world, _prover) = with_prover(&chain).await;
    let issued = world.quote(0, Duration::from_secs(120)).await.unwrap();
    assert_eq!(
        task_state(&world, issued.task_id).await,
        TaskState::Unpaid,
        "nothing is proved before the requester pays on chain"
    );
    let (id, _) = world.publish(&issued).await.unwrap();
    assert_eq!(format!("{id}"), issued.chain_task);
    world
        .wait_chain(id, TaskStatus::Fulfilled, 2 * MINUTE)
        .await
        .unwrap();
    world
        .wait_node(issued.task_id, "fulfilled", MINUTE)
        .await
        .unwrap();

    let view = world.pool.admin.chain_task(issued.task_id).await.unwrap();
    assert!(
        view.fulfil_tx.is_some() && view.fulfil_gas.unwrap() > 100_000,
        "{view:?}"
    );
    let reward = u128::from(world.operator.task(id).await.unwrap().reward);
    let to_prover = reward * 8_000 / 10_000;
    assert_eq!(
        world.operator.credit(world.payouts[0]).await.unwrap(),
        to_prover
    );
    assert_eq!(
        world
            .operator
            .credit(world.operator.account())
            .await
            .unwrap(),
        reward - to_prover
    );
    // The bond is back in free stake.
    assert_eq!(
        world.operator.free_stake().await.unwrap(),
        zkpool::chain_demo::POOL_STAKE
    );
    world.pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_submit_chain_publishes_waits_for_the_fulfil_and_writes_the_proof() {
    let chain = anvil().await;
    let (world, _prover) = with_prover(&chain).await;
    let key = world
        .pool
        .store
        .create_key(Role::Requester, "cli", 0)
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let fx = repo().join("fixtures/multiplier");
    let requester_key = format!("0x{}", hex_key(&chain.keys[1]));
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_zkpool"))
        .args([
            "submit",
            "--pool",
            &world.pool.url(),
            "--key",
            &key.secret,
            "--wait",
            "--out",
        ])
        .arg(out.path())
        .arg("--r1cs")
        .arg(fx.join("multiplier.r1cs"))
        .arg("--zkey")
        .arg(fx.join("multiplier.zkey"))
        .arg("--witness")
        .arg(fx.join("multiplier.wtns"))
        .args([
            "--chain",
            "--rpc",
            &chain.url,
            "--eth-key",
            &requester_key,
            "--window",
            "120",
        ])
        .output()
        .await
        .unwrap();
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "zkpool submit --chain failed: {said}");
    assert!(said.contains("fulfilled on chain by the pool"), "{said}");
    assert!(out.path().join("proof.json").exists() && out.path().join("public.json").exists());
    world.pool.stop().await;
}

fn hex_key(k: &zkpool_chain::PrivateKeySigner) -> String {
    k.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missed_window_is_never_fulfilled_and_the_payer_claims_reward_and_bond_once() {
    let chain = anvil().await;
    // A prover that says hello and then dies: quotes see capacity, nobody proves.
    let (world, prover) = with_prover(&chain).await;
    prover.abort();
    let issued = world.quote(0, Duration::from_secs(4)).await.unwrap();
    let (id, _) = world.publish(&issued).await.unwrap();
    world
        .wait_node(issued.task_id, "missed", MINUTE)
        .await
        .unwrap();
    let node_view = world.pool.requester.task(issued.task_id).await.unwrap();
    assert_eq!(node_view.state, TaskState::Failed);
    assert_eq!(
        world.operator.task(id).await.unwrap().status,
        TaskStatus::Open
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = world
        .payer
        .token_balance(world.payer.account())
        .await
        .unwrap();
    let t = world.operator.task(id).await.unwrap();
    world.payer.claim(id).await.unwrap();
    let after = world
        .payer
        .token_balance(world.payer.account())
        .await
        .unwrap();
    assert_eq!(after - before, u128::from(t.reward) + u128::from(t.bond));
    let again = world.payer.claim(id).await.unwrap_err();
    assert!(again.to_string().contains("TaskNotOpen"), "{again}");
    world.pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_proof_too_late_for_the_window_is_reported_and_never_sent() {
    let chain = anvil().await;
    let world = ChainPool::start(&chain.url, &chain.keys, None)
        .await
        .unwrap();
    // Restart with a fulfil margin longer than the window: every proof is "too late".
    let world = world
        .restart_with(
            |c| c.chain.as_mut().unwrap().fulfil_margin = Duration::from_secs(3_600),
            async { Ok(()) },
        )
        .await
        .unwrap();
    let _prover = world.spawn_prover(0).await.unwrap();
    wait_online(&world.pool.admin, 1).await.unwrap();
    let issued = world.quote(0, Duration::from_secs(120)).await.unwrap();
    let (id, _) = world.publish(&issued).await.unwrap();
    world
        .wait_node(issued.task_id, "missed", MINUTE)
        .await
        .unwrap();
    let view = world.pool.admin.chain_task(issued.task_id).await.unwrap();
    assert!(view.fulfil_tx.is_none());
    assert!(view.note.unwrap().contains("--fulfil-margin"));
    assert_eq!(
        task_state(&world, issued.task_id).await,
        TaskState::Done,
        "the proof is the requester's to fetch; only the fulfil was not sent"
    );
    assert_eq!(
        world.operator.task(id).await.unwrap().status,
        TaskStatus::Open
    );
    world.pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_restarted_around_a_publish_resumes_from_the_chain_and_a_replay_fulfils_nothing_twice(
) {
    let chain = anvil().await;
    let (world, prover) = with_prover(&chain).await;
    prover.abort();
    let issued = world.quote(0, Duration::from_secs(120)).await.unwrap();
    // The node goes down; the requester publishes meanwhile.
    let payer = world.payer.clone();
    let published = std::sync::Mutex::new(None);
    let world = world
        .restart_with(|_| {}, async {
            let (id, _) = zkpool::chain_demo::publish(&payer, &issued).await?;
            *published.lock().unwrap() = Some(id);
            Ok(())
        })
        .await
        .unwrap();
    let id = published.lock().unwrap().unwrap();
    let _prover = world.spawn_prover(0).await.unwrap();
    world
        .wait_chain(id, TaskStatus::Fulfilled, 2 * MINUTE)
        .await
        .unwrap();
    world
        .wait_node(issued.task_id, "fulfilled", MINUTE)
        .await
        .unwrap();
    let tx = world
        .pool
        .admin
        .chain_task(issued.task_id)
        .await
        .unwrap()
        .fulfil_tx;
    let credit = world.operator.credit(world.payouts[0]).await.unwrap();
    assert!(credit > 0);

    // Replay every event from block 0 after another restart: nothing moves.
    world
        .pool
        .store
        .apply_chain_events(&[], 0, 0, 0)
        .await
        .unwrap();
    let world = world.restart().await.unwrap();
    world.pool.node.follow_chain().await.unwrap();
    world.pool.node.follow_chain().await.unwrap();
    assert_eq!(
        world
            .pool
            .store
            .chain_cursor()
            .await
            .unwrap()
            .map(|b| b > 0),
        Some(true)
    );
    let view = world.pool.admin.chain_task(issued.task_id).await.unwrap();
    assert_eq!((view.state.as_str(), view.fulfil_tx), ("fulfilled", tx));
    assert_eq!(
        world.operator.credit(world.payouts[0]).await.unwrap(),
        credit
    );
    world.pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_chain_requests_are_refused_with_their_codes_and_change_nothing() {
    let chain = anvil().await;
    let (world, _prover) = with_prover(&chain).await;
    let client = &world.pool.requester;
    let spec = circuit_spec(client, &MULTIPLIER, 0).await.unwrap();
    let req = |payer: &str, verifier: &str| ChainTaskRequest {
        spec: spec.clone(),
        window_ms: 60_000,
        payer: payer.to_string(),
        verifier: verifier.to_string(),
    };
    let payer = world.payer.account().to_string();
    let verifier = world.verifier.to_string();
    let before = world.pool.admin.status().await.unwrap().tasks.len();

    // A verifier the operator never vouched for (here: the token contract) could refuse every
    // honest proof and take the bond.
    let token = world.operator.deployment().token.to_string();
    let e = client.submit_chain(&req(&payer, &token)).await.unwrap_err();
    assert_eq!(code(e), "untrusted_verifier");
    for bad in ["0x12", "zz", "0x0000000000000000000000000000000000000000"] {
        let e = client.submit_chain(&req(bad, &verifier)).await.unwrap_err();
        assert_eq!(code(e), "bad_address", "payer {bad}");
    }
    let mut zero_window = req(&payer, &verifier);
    zero_window.window_ms = 0;
    assert_eq!(
        code(client.submit_chain(&zero_window).await.unwrap_err()),
        "bad_window"
    );
    // Embedded-ledger quotes on a node that settles on chain.
    let e = client.quote(spec.clone(), 60_000).await.unwrap_err();
    assert_eq!(code(e), "settles_on_chain");
    // A machine without a payout account.
    let rig = world
        .pool
        .admin
        .create_key(Role::Prover, "no-payout")
        .await
        .unwrap();
    let rig = Client::new(&world.pool.url(), &rig.secret).unwrap();
    let hw = HardwareReport {
        name: "no-payout".into(),
        os: "test".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "test".into(),
    };
    let e = rig
        .hello(&Hello {
            hardware: hw.clone(),
            payout: None,
        })
        .await
        .unwrap_err();
    assert_eq!(code(e), "payout_required");
    let e = rig
        .hello(&Hello {
            hardware: hw,
            payout: Some("0xnot".into()),
        })
        .await
        .unwrap_err();
    assert_eq!(code(e), "bad_address");
    assert_eq!(world.pool.admin.status().await.unwrap().tasks.len(), before);

    // A quote cannot be published by anyone but its payer, nor twice.
    let issued = world.quote(0, Duration::from_secs(60)).await.unwrap();
    let quote: zkpool_ledger::SignedQuote =
        serde_json::from_value(serde_json::to_value(&issued.signed).unwrap()).unwrap();
    let e = world.operator.submit_task(&quote).await.unwrap_err();
    assert!(e.to_string().contains("NotPayer"), "{e}");
    world.publish(&issued).await.unwrap();
    let e = world.payer.submit_task(&quote).await.unwrap_err();
    assert!(e.to_string().contains("NonceUsed"), "{e}");
    world.pool.stop().await;
}
