//! Three `zkpool node` replicas on one PostgreSQL database serve one pool: four provers, each
//! given every replica's URL (`--pool A,B,C`, starting at a different one), prove 30 tasks —
//! Groth16, quoted and free, and a split Miden task — quoted through one replica and
//! submitted and fetched through another. The replicas share the database and nothing else:
//! each has a data directory of its own, so every artifact, segment input and proof one
//! stores is served to the others' provers from the database. One replica is killed (`kill -9`) mid-run: its
//! provers fail over, and every task still ends done exactly once, each paid task released
//! once, the ledger conserved.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use zkpool::demo::{submit_circuit, submit_circuit_quoted, wait_online};
use zkpool::fixtures::MULTIPLIER;
use zkpool::zkml::ZkmlTask;
use zkpool_client::Client;
use zkpool_ledger::{Amount, Ledger, LedgerConfig, Op};
use zkpool_store::testing::TestDatabase;
use zkpool_types::{TaskId, TaskState};

mod common;
use common::{assert_done_once, create_key_with, spawn_prover, start_node_with, zkpool, Child};

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

/// Starts a replica in `dir` and waits until it answers; its child and URL.
async fn start_replica(dir: &std::path::Path, flags: &[&str], key: &str) -> (Child, String) {
    let (child, port) = start_node_with(dir, 0, flags);
    let u = format!("http://127.0.0.1:{port}");
    let probe = Client::new(&u, key).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while probe.status().await.is_err() {
        assert!(Instant::now() < deadline, "replica {u} did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (child, u)
}

/// Retries `f` until it succeeds: while the database restarts, calls fail (503/500) and
/// the client is expected to try again.
async fn retried<T, E: std::fmt::Debug, F: std::future::Future<Output = Result<T, E>>>(
    what: &str,
    mut f: impl FnMut() -> F,
) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match f().await {
            Ok(v) => return v,
            Err(e) if Instant::now() < deadline => {
                eprintln!("{what}: {e:?}; retrying");
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            Err(e) => panic!("{what} still failing after 60 s: {e:?}"),
        }
    }
}

/// PostgreSQL itself stops and starts again under two replicas and their provers (a private
/// cluster): the replicas reconnect, the provers carry on, and every task is proved once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_carry_on_when_postgres_restarts() {
    let Some(pg) = zkpool_store::testing::PrivateCluster::start() else {
        return;
    };
    let url = pg.url();
    let dir = tempfile::tempdir().unwrap();
    let flags = ["--database", url.as_str()];
    let requester_key = create_key_with(dir.path(), "requester", "req", &flags);
    let mut replicas = Vec::new();
    let mut urls = Vec::new();
    for _ in 0..2 {
        let (child, u) = start_replica(dir.path(), &flags, &requester_key).await;
        replicas.push(child);
        urls.push(u);
    }
    let _provers: Vec<Child> = (0..2)
        .map(|i| {
            let key = create_key_with(dir.path(), "prover", &format!("rig-{i}"), &flags);
            let order = [urls[i].as_str(), urls[1 - i].as_str()];
            spawn_prover(&order, &key, &format!("rig-{i}"), 1)
        })
        .collect();
    let req: Vec<Client> = urls
        .iter()
        .map(|u| Client::new(u, &requester_key).unwrap())
        .collect();
    wait_online(&req[0], 2).await.unwrap();
    let all = [&req[0], &req[1]];
    let mut ids = Vec::new();
    for i in 0..4u64 {
        ids.push(
            submit_circuit(&req[(i % 2) as usize], &MULTIPLIER, i + 1)
                .await
                .unwrap(),
        );
    }
    for id in &ids {
        assert_eq!(
            wait_final(&all, *id, Duration::from_secs(60)).await,
            TaskState::Done
        );
    }

    pg.stop();
    tokio::time::sleep(Duration::from_secs(2)).await;
    pg.start_server();

    let admin_key = std::fs::read_to_string(dir.path().join("admin.key")).unwrap();
    let admin = Client::new(&urls[1], admin_key.trim()).unwrap();
    retried("deposit", || admin.deposit("treasury", 1_000)).await;
    for i in 4..10u64 {
        let c = &req[(i % 2) as usize];
        ids.push(retried("submit", || submit_circuit(c, &MULTIPLIER, i + 1)).await);
    }
    for id in &ids {
        assert_eq!(
            wait_final(&all, *id, Duration::from_secs(120)).await,
            TaskState::Done
        );
    }
    drop(replicas);
    let store = zkpool_store::Store::open_postgres(&url, dir.path())
        .await
        .unwrap();
    assert_done_once(&store, &ids).await;
    store.close().await;
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
    // Each replica has a data directory of its own, as on machines that share no disk: the
    // first writes the pool's signing key, the others get a copy of it before they start.
    // A replica with another key is refused (it would sign quotes the others refuse).
    let others: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let stranger = tempfile::tempdir().unwrap();
    let mut replicas = Vec::new();
    let mut urls = Vec::new();
    for i in 0..3 {
        let here = if i == 0 {
            dir.path()
        } else {
            others[i - 1].path()
        };
        if i == 1 {
            let refused = zkpool(&["node", "--listen", "127.0.0.1:0"])
                .args(node_flags)
                .arg("--data-dir")
                .arg(stranger.path())
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&refused.stderr);
            assert!(!refused.status.success(), "{err}");
            assert!(err.contains("copy pool.key"), "{err}");
        }
        if i > 0 {
            std::fs::copy(dir.path().join("pool.key"), here.join("pool.key")).unwrap();
        }
        let (child, u) = start_replica(here, &node_flags, &requester_key).await;
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
            spawn_prover(&order, key, &format!("rig-{i}"), 2)
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
    let whole: Vec<TaskId> = ids.iter().copied().filter(|id| *id != split).collect();
    assert_done_once(&store, &whole).await;
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
