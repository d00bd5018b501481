//! Three `zkpool node` replicas on one PostgreSQL database serve one pool: four provers, each
//! given every replica's URL (`--pool A,B,C`, starting at a different one), prove 30 tasks —
//! Groth16, quoted and free, and a split Miden task — quoted through one replica and
//! submitted and fetched through another. One replica is killed (`kill -9`) mid-run: its
//! provers fail over, and every task still ends done exactly once, each paid task released
//! once, the ledger conserved.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use zkpool::demo::{submit_circuit, submit_circuit_quoted, wait_online};
use zkpool::fixtures::MULTIPLIER;
use zkpool::zkml::ZkmlTask;
use zkpool_client::Client;
use zkpool_ledger::{Amount, Ledger, LedgerConfig, Op};
use zkpool_store::testing::TestDatabase;
use zkpool_types::{TaskId, TaskState};

mod common;
use common::{create_key_with, start_node_with, zkpool, Child};

async fn wait_final(clients: &[&Client], id: TaskId, limit: Duration) -> TaskState {
    let deadline = Instant::now() + limit;
    loop {
        for c in clients {
            if let Ok(v) = c.task(id).await {
                if v.state.is_final() {
                    return v.state;
                }
            }
        }
        if Instant::now() >= deadline {
            let view = clients[0].task(id).await;
            panic!("{id} not final within {limit:?}: {view:?}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_serve_one_pool_and_carry_on_when_one_is_killed() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let database = ["--database", url.as_str()];
    // Epochs of a second, so that every replica's timer finds several due during the run.
    let node_flags = ["--database", url.as_str(), "--epoch-length", "1"];
    let requester_key = create_key_with(dir.path(), "requester", "req", &database);
    let prover_keys: Vec<String> = (0..4)
        .map(|i| create_key_with(dir.path(), "prover", &format!("rig-{i}"), &database))
        .collect();
    // The first replica writes the pool's signing key into the shared data directory; the
    // others start once it has, and sign quotes with the same key.
    let mut replicas = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..3 {
        let (child, port) = start_node_with(dir.path(), 0, &node_flags);
        let u = format!("http://127.0.0.1:{port}");
        let probe = Client::new(&u, &requester_key).unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while probe.status().await.is_err() {
            assert!(Instant::now() < deadline, "replica {u} did not come up");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        replicas.push(Some(child));
        urls.push(u);
    }
    let admin_key = std::fs::read_to_string(dir.path().join("admin.key")).unwrap();
    let admin = Client::new(&urls[1], admin_key.trim()).unwrap();
    admin
        .deposit("pool_stake", Amount::from_tokens(10_000).base_units())
        .await
        .unwrap();
    admin
        .deposit("treasury", Amount::from_tokens(10_000).base_units())
        .await
        .unwrap();
    let me = Client::new(&urls[1], &requester_key)
        .unwrap()
        .me()
        .await
        .unwrap();
    admin
        .deposit(
            &format!("requester:{}", me.key),
            Amount::from_tokens(10_000).base_units(),
        )
        .await
        .unwrap();
    // Leases of paid tasks lock collateral from the prover's stake.
    for key in &prover_keys {
        let me = Client::new(&urls[2], key).unwrap().me().await.unwrap();
        admin
            .deposit(
                &format!("prover_stake:{}", me.key),
                Amount::from_tokens(1_000).base_units(),
            )
            .await
            .unwrap();
    }
    let _provers: Vec<Child> = prover_keys
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let order: Vec<&str> = (0..3).map(|j| urls[(i + j) % 3].as_str()).collect();
            Child(
                zkpool(&[
                    "prover",
                    "--pool",
                    &order.join(","),
                    "--key",
                    key,
                    "--name",
                    &format!("rig-{i}"),
                    "--jobs",
                    "2",
                ])
                .stderr(if std::env::var_os("ZKPOOL_TEST_LOGS").is_some() {
                    Stdio::inherit()
                } else {
                    Stdio::null()
                })
                .spawn()
                .unwrap(),
            )
        })
        .collect();
    let req: Vec<Client> = urls
        .iter()
        .map(|u| Client::new(u, &requester_key).unwrap())
        .collect();
    wait_online(&req[1], 4).await.unwrap();

    // A split Miden task, quoted through replica 0 and submitted through replica 1.
    let zkml = ZkmlTask::iris(64, 4).unwrap();
    let spec = zkml.spec(&req[0], Some(4)).await.unwrap();
    let issued = req[0].quote(spec.clone(), 600_000).await.unwrap();
    let split = req[1]
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let mut paid = vec![split];
    let mut ids = vec![split];
    let window = Duration::from_secs(600);
    for i in 0..29u64 {
        // Once replica 0 is gone, requests go to the other two.
        let through = if i < 12 {
            (i % 3) as usize
        } else {
            1 + (i % 2) as usize
        };
        let c = &req[through];
        let id = if i % 4 == 0 {
            let id = submit_circuit_quoted(c, &MULTIPLIER, i + 1, window)
                .await
                .unwrap();
            paid.push(id);
            id
        } else {
            submit_circuit(c, &MULTIPLIER, i + 1).await.unwrap()
        };
        ids.push(id);
        if i == 11 {
            // Mid-run: provers hold leases through replica 0, the split task is proving.
            let mut r0 = replicas[0].take().unwrap();
            r0.0.kill().unwrap();
            r0.0.wait().unwrap();
        }
    }
    let live = [&req[1], &req[2]];
    let mut states = BTreeMap::new();
    for id in &ids {
        states.insert(*id, wait_final(&live, *id, Duration::from_secs(300)).await);
    }
    assert!(
        states.values().all(|s| *s == TaskState::Done),
        "every task done: {states:?}"
    );
    assert_eq!(
        req[2].proof(split).await.map(|p| !p.is_empty()).ok(),
        Some(true)
    );
    drop(replicas);

    let store = zkpool_store::Store::open_postgres(&url, dir.path())
        .await
        .unwrap();
    for id in &ids {
        if *id == split {
            continue;
        }
        let leases = store.leases_of(*id).await.unwrap();
        let done = leases
            .iter()
            .filter(|(_, o)| o.as_deref() == Some("done"))
            .count();
        assert_eq!(done, 1, "task {id} proved once: {leases:?}");
    }
    let journal = store.journal().await.unwrap();
    store.close().await;
    let ledger = Ledger::replay(LedgerConfig::default(), &journal).unwrap();
    assert_eq!(
        ledger.total_held().unwrap(),
        ledger.deposited().checked_sub(ledger.withdrawn()).unwrap()
    );
    let mut released: Vec<TaskId> = journal
        .iter()
        .filter_map(|e| match e.op {
            Op::Release { task, .. } => Some(task),
            _ => None,
        })
        .collect();
    released.sort();
    paid.sort();
    assert_eq!(released, paid, "each paid task released exactly once");
    let funded: Vec<_> = journal
        .iter()
        .filter_map(|e| match e.op {
            Op::FundEpoch { epoch, .. } => Some(epoch),
            _ => None,
        })
        .collect();
    assert!(
        funded.len() >= 2,
        "epochs closed during the run: {funded:?}"
    );
    assert!(
        funded.windows(2).all(|w| w[0] < w[1]),
        "each epoch funded once, in order: {funded:?}"
    );
}
