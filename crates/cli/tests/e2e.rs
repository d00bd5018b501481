//! End-to-end tests: the real node and real prover agents on loopback sockets, real Groth16
//! proofs. Some start the `zkpool` binary itself, to kill it like an operator's crash would.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use zkpool::demo::{submit_circuit, LocalPool};
use zkpool::fixtures::{MULTIPLIER, POSEIDON_CHAIN};
use zkpool_client::Client;
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_prover::Fault;
use zkpool_types::api::TaskView;
use zkpool_types::{TaskId, TaskState};

mod common;
use common::{
    assert_done_once, create_key, create_key_with, spawn_prover, start_node, start_node_with, Child,
};
use zkpool_store::testing::TestDatabase;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn snarkjs() -> PathBuf {
    let p = repo_root().join("node_modules/.bin/snarkjs");
    assert!(
        p.exists(),
        "snarkjs is missing at {}: run `npm ci` in the repository root",
        p.display()
    );
    p
}

/// Polls a task until it is final; transport errors (node restarting) are retried.
async fn wait_final(client: &Client, id: TaskId, limit: Duration) -> TaskView {
    let deadline = Instant::now() + limit;
    loop {
        match client.task(id).await {
            Ok(v) if v.state.is_final() => return v,
            Ok(_) => {}
            Err(e) if e.is_retryable() => {}
            Err(e) => panic!("task {id}: {e}"),
        }
        assert!(
            Instant::now() < deadline,
            "task {id} not final within {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn wait_for(what: &str, limit: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn fast_config() -> NodeConfig {
    NodeConfig {
        lease_ttl: Duration::from_secs(2),
        heartbeat: Duration::from_millis(500),
        reap_interval: Duration::from_millis(100),
        ..NodeConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_provers_prove_both_circuits_and_share_the_work() {
    let pool = LocalPool::start(None, 2, Fault::None).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(
            submit_circuit(&pool.requester, &MULTIPLIER, i)
                .await
                .unwrap(),
        );
        ids.push(
            submit_circuit(&pool.requester, &POSEIDON_CHAIN, i)
                .await
                .unwrap(),
        );
    }
    for id in &ids {
        let v = wait_final(&pool.requester, *id, Duration::from_secs(120)).await;
        assert_eq!(v.state, TaskState::Done, "{v:?}");
        assert_eq!(v.attempts, 1);
        assert!(v.prove_ms.is_some() && v.verify_ms.is_some());
        let proof = pool.requester.proof(*id).await.unwrap();
        let (_, public) =
            zkpool_groth16::split_proof_json(&zkpool_backend::ProofArtifact(proof)).unwrap();
        assert_eq!(public.as_array().unwrap().len(), 2);
    }
    let status = pool.requester.status().await.unwrap();
    assert_eq!(status.provers.len(), 2);
    let done: u64 = status.provers.iter().map(|p| p.tasks_done).sum();
    assert_eq!(done, 6);
    let work: u64 = status.provers.iter().map(|p| p.work_done).sum();
    assert_eq!(work, 3 * (100 + 4320));
    pool.stop().await;
}

/// With several tasks queued, an agent leases the next one and fetches its artifacts while the
/// current one proves (once it knows its pace), so the next proof starts as soon as the last
/// is uploaded; every task is still proved once, by the one agent, in one attempt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_leases_the_next_task_while_the_current_one_proves() {
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    let (_, secret) = pool.prover_key("ahead", 0).await.unwrap();
    let config = zkpool_prover::AgentConfig {
        pool: pool.url(),
        key: secret,
        name: "ahead".into(),
        jobs: 1,
        lease_wait: Duration::from_secs(2),
        fault: Fault::None,
        payout: None,
    };
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(
            submit_circuit(&pool.requester, &POSEIDON_CHAIN, i)
                .await
                .unwrap(),
        );
    }
    let (events, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let stop = tokio_util::sync::CancellationToken::new();
    let agent = tokio::spawn(zkpool_prover::run_observed(
        config,
        zkpool::backends(),
        stop.clone(),
        Some(events),
    ));
    for id in &ids {
        let v = wait_final(&pool.requester, *id, Duration::from_secs(120)).await;
        assert_eq!(v.state, TaskState::Done, "{v:?}");
        assert_eq!(v.attempts, 1, "{v:?}");
    }
    stop.cancel();
    agent.await.unwrap().unwrap();
    let mut seen = Vec::new();
    while let Ok(e) = heard.try_recv() {
        seen.push(e);
    }
    // A task leased ahead is fetched while the task before it is still unproved: between
    // that task's Leased and its ProofAccepted; it is proved (Leased) only afterwards.
    use zkpool_prover::AgentEvent::{Leased, Prefetched, ProofAccepted};
    let mut ahead = 0;
    for (i, e) in seen.iter().enumerate() {
        let Prefetched { task: next } = e else {
            continue;
        };
        ahead += 1;
        let current = seen[..i]
            .iter()
            .rev()
            .find_map(|e| match e {
                Leased { task, .. } => Some(*task),
                _ => None,
            })
            .expect("a task was proving");
        assert!(
            !seen[..i]
                .iter()
                .any(|e| matches!(e, ProofAccepted { task } if *task == current)),
            "{next} was leased after {current} was proved: {seen:?}"
        );
        let accepted = seen[i..]
            .iter()
            .position(|e| matches!(e, ProofAccepted { task } if *task == current))
            .expect("the current task was proved");
        let proving = seen[i..]
            .iter()
            .position(|e| matches!(e, Leased { task, .. } if task == next))
            .expect("the task leased ahead was proved");
        assert!(accepted < proving, "{seen:?}");
    }
    assert!(ahead > 0, "no task was leased ahead: {seen:?}");
    assert_done_once(&pool.store, &ids).await;
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_submit_writes_files_that_snarkjs_verifies() {
    let snarkjs = snarkjs();
    let pool = LocalPool::start(None, 1, Fault::None).await.unwrap();
    let key = pool
        .store
        .create_key(zkpool_types::api::Role::Requester, "cli", 0)
        .await
        .unwrap();
    let out = tempfile::tempdir().unwrap();
    let fx = repo_root().join("fixtures/poseidon_chain");
    let run = tokio::process::Command::new(env!("CARGO_BIN_EXE_zkpool"))
        .args([
            "submit",
            "--pool",
            &pool.url(),
            "--key",
            &key.secret,
            "--wait",
            "--out",
        ])
        .arg(out.path())
        .arg("--r1cs")
        .arg(fx.join("poseidon_chain.r1cs"))
        .arg("--zkey")
        .arg(fx.join("poseidon_chain.zkey"))
        .arg("--wasm")
        .arg(fx.join("poseidon_chain.wasm"))
        .arg("--input")
        .arg(fx.join("input.json"))
        .output()
        .await
        .unwrap();
    assert!(
        run.status.success(),
        "zkpool submit failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(String::from_utf8_lossy(&run.stdout)
        .trim()
        .starts_with("t-"));
    let verify = std::process::Command::new(snarkjs)
        .args(["groth16", "verify"])
        .arg(fx.join("verification_key.json"))
        .arg(out.path().join("public.json"))
        .arg(out.path().join("proof.json"))
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.contains("OK"),
        "snarkjs said: {said}"
    );
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_provers_task_is_released_and_finished_by_another() {
    let clock = ManualClock::starting_now();
    let config = NodeConfig {
        clock: Arc::new(clock.clone()),
        reap_interval: Duration::from_secs(3_600),
        ..fast_config()
    };
    let pool = LocalPool::with_config(None, config).await.unwrap();
    // The doomed prover takes the task and hangs on it; then its machine dies.
    let doomed = pool.spawn_prover("doomed", Fault::Stall).await.unwrap();
    let id = submit_circuit(&pool.requester, &MULTIPLIER, 1)
        .await
        .unwrap();
    wait_for(
        "the task to be leased",
        Duration::from_secs(20),
        async || pool.requester.task(id).await.unwrap().state == TaskState::Leased,
    )
    .await;
    doomed.abort();
    // Its heartbeats stopped: one TTL later (by the node's clock) the sweep takes it back.
    clock.advance(pool.node.config.lease_ttl + Duration::from_millis(1));
    pool.node.sweep().await;
    assert_eq!(
        pool.requester.task(id).await.unwrap().state,
        TaskState::Queued
    );
    let rescuer = pool.spawn_prover("rescuer", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, id, Duration::from_secs(60)).await;
    assert_eq!(v.state, TaskState::Done);
    assert_eq!(v.prover_name.as_deref(), Some("rescuer"));
    assert_eq!(v.attempts, 2);
    assert!(v.failures[0].contains("expired"), "{:?}", v.failures);
    rescuer.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_proofs_are_refused_counted_and_the_task_moves_on() {
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    let cheat = pool
        .spawn_prover("cheat", Fault::InvalidProofs)
        .await
        .unwrap();
    let id = submit_circuit(&pool.requester, &MULTIPLIER, 0)
        .await
        .unwrap();
    wait_for(
        "an invalid proof to be refused",
        Duration::from_secs(30),
        async || !pool.requester.task(id).await.unwrap().failures.is_empty(),
    )
    .await;
    cheat.abort();
    let honest = pool.spawn_prover("honest", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, id, Duration::from_secs(60)).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert_eq!(v.prover_name.as_deref(), Some("honest"));
    assert!(v.failures[0].contains("invalid proof"), "{:?}", v.failures);
    assert_eq!(v.attempts, 2, "the cheat must not burn the task's attempts");
    let status = pool.requester.status().await.unwrap();
    let cheat = status.provers.iter().find(|p| p.name == "cheat").unwrap();
    assert!(cheat.invalid_proofs >= 1 && cheat.tasks_done == 0);
    honest.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_killed_mid_run_restarts_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let requester_key = create_key(dir.path(), "requester", "req");
    let prover_keys = [
        create_key(dir.path(), "prover", "rig-1"),
        create_key(dir.path(), "prover", "rig-2"),
    ];
    // The node binds port 0 itself and says where; the restart takes the same port back.
    let (mut node, port) = start_node(dir.path(), 0);
    let url = format!("http://127.0.0.1:{port}");
    let client = Client::new(&url, &requester_key).unwrap();
    wait_for("the node to listen", Duration::from_secs(30), async || {
        client.status().await.is_ok()
    })
    .await;
    let _provers: Vec<Child> = prover_keys
        .iter()
        .enumerate()
        .map(|(i, k)| spawn_prover(&[&url], k, &format!("rig-{}", i + 1), 1))
        .collect();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(submit_circuit(&client, &POSEIDON_CHAIN, i).await.unwrap());
        ids.push(submit_circuit(&client, &MULTIPLIER, i).await.unwrap());
    }
    wait_for("a first proof", Duration::from_secs(60), async || {
        client
            .status()
            .await
            .unwrap()
            .tasks
            .iter()
            .any(|t| t.state == TaskState::Done)
    })
    .await;
    // kill -9, mid-run, then start again on the same data directory and port.
    node.0.kill().unwrap();
    node.0.wait().unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    node = start_node(dir.path(), port).0;
    for id in &ids {
        let v = wait_final(&client, *id, Duration::from_secs(180)).await;
        assert_eq!(v.state, TaskState::Done, "{v:?}");
    }
    drop(node);
    let store = zkpool_store::Store::open(dir.path()).await.unwrap();
    assert_done_once(&store, &ids).await;
}

/// `zkpool node --database postgres://…`: keys created in the database, a prover proves
/// through the node, the node is killed (`kill -9`) and started again on the same database, and
/// every task ends done with exactly one done lease; nothing is written to SQLite.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_postgres_proves_survives_a_kill_and_keeps_its_state() {
    let Some(db) = TestDatabase::create().await else {
        return;
    };
    let url = db.url();
    let dir = tempfile::tempdir().unwrap();
    let database = ["--database", url.as_str()];
    let requester_key = create_key_with(dir.path(), "requester", "req", &database);
    let prover_key = create_key_with(dir.path(), "prover", "rig-1", &database);
    let (mut node, port) = start_node_with(dir.path(), 0, &["--database", &url]);
    let pool = format!("http://127.0.0.1:{port}");
    let client = Client::new(&pool, &requester_key).unwrap();
    wait_for("the node to listen", Duration::from_secs(30), async || {
        client.status().await.is_ok()
    })
    .await;
    let _prover = spawn_prover(&[&pool], &prover_key, "rig-1", 1);
    let mut ids = Vec::new();
    for i in 0..3 {
        ids.push(submit_circuit(&client, &MULTIPLIER, i).await.unwrap());
    }
    wait_final(&client, ids[0], Duration::from_secs(60)).await;
    node.0.kill().unwrap();
    node.0.wait().unwrap();
    node = start_node_with(dir.path(), port, &["--database", &url]).0;
    ids.push(submit_circuit(&client, &MULTIPLIER, 3).await.unwrap());
    for id in &ids {
        let v = wait_final(&client, *id, Duration::from_secs(120)).await;
        assert_eq!(v.state, TaskState::Done, "{v:?}");
    }
    drop(node);
    let store = zkpool_store::Store::open_postgres(&url, dir.path())
        .await
        .unwrap();
    assert_done_once(&store, &ids).await;
    store.close().await;
    assert!(
        !dir.path().join("zkpool.db").exists(),
        "with --database the node must not write SQLite"
    );
}

/// The wasm module and `input.json` of a committed fuzz seed (`u16` input length, `input.json`,
/// module).
fn seed_wasm(name: &str) -> (Vec<u8>, Vec<u8>) {
    let path = repo_root().join("fuzz/corpus/g16_wasm_witness").join(name);
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let len = usize::from(u16::from_le_bytes([data[0], data[1]]));
    (data[2 + len..].to_vec(), data[2..2 + len].to_vec())
}

/// The multiplier's r1cs with its header claiming `constraints` constraints, the file unchanged
/// otherwise: far more than its bytes hold.
fn r1cs_claiming(constraints: u32) -> Vec<u8> {
    let mut r1cs = MULTIPLIER.r1cs.to_vec();
    let u32_at = |b: &[u8], i: usize| u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
    let mut at = 12;
    for _ in 0..u32_at(&r1cs, 8) {
        let id = u32_at(&r1cs, at);
        let size = u64::from_le_bytes(r1cs[at + 4..at + 12].try_into().unwrap()) as usize;
        if id == 1 {
            // n8, the prime (n8 bytes), wires, outputs, public inputs, private inputs, labels (u64)
            let n8 = u32_at(&r1cs, at + 12) as usize;
            let m = at + 12 + 4 + n8 + 16 + 8;
            r1cs[m..m + 4].copy_from_slice(&constraints.to_le_bytes());
            return r1cs;
        }
        at += 12 + size;
    }
    panic!("no header section");
}

/// Hostile artifacts against a real node process: a witness generator that grows its memory
/// without end, one that declares 4 GiB, one that announces 2^30 witness values, an r1cs whose
/// header promises 2^30 constraints in a few hundred bytes, a Miden step that never ends. Each is refused with its code,
/// nothing is queued, the node still proves an honest task, and its peak memory stays small.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_artifacts_are_refused_and_the_node_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let key = create_key(dir.path(), "requester", "app");
    let (node, port) = start_node_with(dir.path(), 0, &["--wasm-memory", "64M"]);
    let pid = node.0.id();
    let c = Client::new(&format!("http://127.0.0.1:{port}"), &key).unwrap();
    let spec = |r1cs: &[u8], wasm: Option<(Vec<u8>, Vec<u8>)>| {
        let c = c.clone();
        let r1cs = r1cs.to_vec();
        async move {
            let mut s = zkpool_types::TaskSpec {
                system: zkpool_types::ProofSystem::Groth16,
                label: None,
                artifacts: Default::default(),
                segments: None,
                strategy: None,
            };
            use zkpool_types::ArtifactRole as R;
            s.artifacts.insert(R::R1cs, c.upload(r1cs).await.unwrap());
            s.artifacts
                .insert(R::Zkey, c.upload(MULTIPLIER.zkey.to_vec()).await.unwrap());
            match wasm {
                Some((wasm, input)) => {
                    s.artifacts.insert(R::Wasm, c.upload(wasm).await.unwrap());
                    s.artifacts.insert(R::Input, c.upload(input).await.unwrap());
                }
                None => {
                    s.artifacts
                        .insert(R::Wtns, c.upload(MULTIPLIER.wtns.to_vec()).await.unwrap());
                }
            }
            s
        }
    };
    let refused = |r: Result<zkpool_types::api::Submitted, zkpool_client::ClientError>| match r {
        Err(zkpool_client::ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected a refusal, got {other:?}"),
    };
    for (seed, want) in [
        ("seed-grows-forever.bin", "over_limit"),
        ("seed-declares-4gib.bin", "over_limit"),
        ("seed-huge-witness.bin", "over_limit"),
    ] {
        let s = spec(MULTIPLIER.r1cs, Some(seed_wasm(seed))).await;
        assert_eq!(
            refused(c.submit(s).await),
            (422, want.to_string()),
            "{seed}"
        );
    }
    let s = spec(&r1cs_claiming(1 << 30), None).await;
    assert_eq!(
        refused(c.submit(s).await),
        (422, "malformed_artifact".to_string())
    );
    // a Miden step that never ends: its execution at submit stops at the row cap
    let mut s = zkpool_types::TaskSpec {
        system: zkpool_types::ProofSystem::MidenVm,
        label: None,
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    let forever = "proc step\n    adv_pushw\n    hmerge\n    push.1\n    while.true\n        push.1\n    end\nend\n";
    s.artifacts.insert(
        zkpool_types::ArtifactRole::Program,
        c.upload(forever.as_bytes().to_vec()).await.unwrap(),
    );
    s.artifacts.insert(
        zkpool_types::ArtifactRole::Chunks,
        c.upload(br#"{"state_in": [1, 2, 3, 4], "chunks": [[5, 6, 7, 8]]}"#.to_vec())
            .await
            .unwrap(),
    );
    assert_eq!(refused(c.submit(s).await), (422, "over_limit".to_string()));
    let status = c.status().await.unwrap();
    assert!(
        status.tasks.is_empty(),
        "nothing may be queued: {:?}",
        status.tasks
    );
    // the node is fine: an honest task is accepted
    c.submit(spec(MULTIPLIER.r1cs, None).await).await.unwrap();
    let peak = zkpool::bench::proc_status_mib(&pid.to_string(), "VmHWM:").unwrap();
    assert!(peak < 512.0, "the node's peak RSS was {peak:.0} MiB");
}

/// `zkpool bench groth16` on a given circuit runs each tool it names on the same zkey and
/// witness (snarkjs here; rapidsnark is not built on test machines) and the end to end through
/// a real pool, and prints a row for each; no timing is asserted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bench_groth16_runs_our_prover_snarkjs_and_the_pool_on_one_circuit() {
    let fixture = |ext: &str| repo_root().join(format!("fixtures/multiplier/multiplier.{ext}"));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_zkpool"))
        .current_dir(repo_root())
        .args(["bench", "groth16", "--runs", "1", "--r1cs"])
        .arg(fixture("r1cs"))
        .arg("--zkey")
        .arg(fixture("zkey"))
        .arg("--witness")
        .arg(fixture("wtns"))
        .arg("--snarkjs")
        .arg(snarkjs())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for row in [
        "multiplier (100 constraints, 2^7)",
        "zkpool prove (key cached",
        "the five MSMs",
        "arkworks prover, same key",
        "snarkjs groth16 prove",
        "zkpool end to end",
        "end to end ÷ prove",
    ] {
        assert!(stdout.contains(row), "no row {row:?} in\n{stdout}");
    }
}
