//! Split proving end to end: the real node and real prover agents on loopback, real Miden STARK
//! segment proofs of the zkML decision tree, joined and verified; and every kind of bad input
//! refused with the other segments' work kept.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use zkpool::demo::LocalPool;
use zkpool::zkml::ZkmlTask;
use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_client::{Client, ClientError};
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_prover::Fault;
use zkpool_types::api::{Hello, LeaseGrant, Role, TaskView};
use zkpool_types::{
    ArtifactRole, HardwareReport, ProofSystem, ProverId, TaskId, TaskSpec, TaskState,
};

fn fast_config() -> NodeConfig {
    NodeConfig {
        lease_ttl: Duration::from_secs(4),
        heartbeat: Duration::from_secs(1),
        reap_interval: Duration::from_millis(100),
        ..NodeConfig::default()
    }
}

async fn wait_final(client: &Client, id: TaskId, limit: Duration) -> TaskView {
    let deadline = Instant::now() + limit;
    loop {
        let v = client.task(id).await.unwrap();
        if v.state.is_final() {
            return v;
        }
        assert!(Instant::now() < deadline, "task {id} not final: {v:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn api_err<T: std::fmt::Debug>(r: Result<T, ClientError>) -> (u16, String, String) {
    match r {
        Err(ClientError::Api {
            status,
            code,
            message,
            ..
        }) => (status, code, message),
        other => panic!("expected an API error, got {other:?}"),
    }
}

fn provers_of(v: &TaskView) -> BTreeSet<String> {
    v.segments
        .iter()
        .filter_map(|s| s.prover_name.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_zkml_tree_is_split_over_four_provers_joined_verified_and_paid() {
    let pool = LocalPool::start(None, 4, Fault::None).await.unwrap();
    zkpool::demo::wait_online(&pool.requester, 4).await.unwrap();
    let task = ZkmlTask::iris(64, 4).unwrap();
    let spec = task.spec(&pool.requester, Some(4)).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 600_000).await.unwrap();
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let v = wait_final(&pool.requester, id, Duration::from_secs(300)).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert_eq!(v.segments.len(), 4);
    // Every agent was idle and long-polling, and a prover holding a segment is offered the
    // other segments last: four segments on four machines.
    assert_eq!(provers_of(&v).len(), 4, "{v:?}");
    for (i, s) in v.segments.iter().enumerate() {
        assert_eq!(s.segment, Some(i as u32));
        assert_eq!(s.parent, Some(id));
        assert_eq!((s.state, s.attempts), (TaskState::Done, 1), "{s:?}");
        assert!(s.prove_ms.is_some() && s.work > 0);
    }
    assert_eq!(v.work, v.segments.iter().map(|s| s.work).sum::<u64>());

    // The requester checks the result itself: every segment proof, the chain from the model
    // commitment, and an output equal to the natively computed (sample, class) chain.
    let result = pool.requester.proof(id).await.unwrap();
    let st = task.check(&result).unwrap();
    assert_eq!(st.chunks, 64);
    assert_eq!(st.initial_state, task.tree.commitment());

    // Paid: the escrowed reward went to the four machines by the rows each proved.
    let ledger = pool.admin.ledger().await.unwrap();
    let paid: Vec<u128> = ledger
        .accounts
        .iter()
        .filter(|(a, _)| a.starts_with("prover:"))
        .map(|(_, b)| b.0)
        .collect();
    assert_eq!(paid.len(), 4, "{:?}", ledger.accounts);
    assert!(paid.iter().all(|&b| b > 0), "{:?}", ledger.accounts);
    let balance = pool.requester.balance().await.unwrap();
    assert_eq!(balance.escrowed.0, 0);

    // The public dashboard shows the task with each segment's machine.
    let d = pool.requester.dashboard().await.unwrap();
    assert_eq!(d.splits.len(), 1);
    assert_eq!((d.splits[0].task, d.splits[0].state), (id, TaskState::Done));
    let machines: BTreeSet<_> = d.splits[0]
        .segments
        .iter()
        .filter_map(|s| s.prover.clone())
        .collect();
    assert_eq!(machines, provers_of(&v));
    assert_eq!(d.tasks_by_state.get("done"), Some(&1));

    pool.stop().await;
}

fn zkpool(args: &[&std::ffi::OsStr]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_zkpool"))
        .args(args)
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_submit_writes_a_result_that_zkpool_verify_checks() {
    let pool = LocalPool::start(None, 2, Fault::None).await.unwrap();
    zkpool::demo::wait_online(&pool.requester, 2).await.unwrap();
    let key = pool
        .store
        .create_key(Role::Requester, "cli", 0)
        .await
        .unwrap();
    let task = ZkmlTask::iris(16, 4).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // The demo exports the same task as files.
    let export = zkpool(&[
        "demo".as_ref(),
        "zkml".as_ref(),
        "--samples".as_ref(),
        "16".as_ref(),
        "--export".as_ref(),
        dir.path().as_os_str(),
    ]);
    assert!(export.status.success(), "{export:?}");
    let (step, chunks) = (dir.path().join("step.masm"), dir.path().join("chunks.json"));
    assert_eq!(std::fs::read_to_string(&step).unwrap(), task.step);
    assert_eq!(std::fs::read(&chunks).unwrap(), task.chunks_json());
    let url = pool.url();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_zkpool"))
        .args([
            "submit",
            "--pool",
            &url,
            "--key",
            &key.secret,
            "--segments",
            "2",
            "--wait",
        ])
        .arg("--out")
        .arg(dir.path())
        .arg("--program")
        .arg(&step)
        .arg("--chunks")
        .arg(&chunks)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "zkpool submit failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: TaskId = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    // The task is the CLI key's: another requester cannot see it, the operator can.
    assert_eq!(api_err(pool.requester.task(id).await).0, 404);
    let v = pool.admin.task(id).await.unwrap();
    assert_eq!((v.state, v.segments.len()), (TaskState::Done, 2));
    let result = dir.path().join("result.bin");
    assert_eq!(
        std::fs::read(&result).unwrap(),
        pool.admin.proof(id).await.unwrap()
    );

    let ok = zkpool(&[
        "verify".as_ref(),
        result.as_os_str(),
        "--program".as_ref(),
        step.as_os_str(),
        "--chunks".as_ref(),
        chunks.as_os_str(),
    ]);
    let said = String::from_utf8_lossy(&ok.stdout);
    assert!(
        ok.status.success() && said.starts_with("OK: 2 segment proofs"),
        "{said}"
    );
    // The same result for another model's program, or another input, is refused.
    let other = dir.path().join("other.masm");
    std::fs::write(&other, ZkmlTask::iris(16, 2).unwrap().step).unwrap();
    let refused = zkpool(&[
        "verify".as_ref(),
        result.as_os_str(),
        "--program".as_ref(),
        other.as_os_str(),
    ]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("not the given program"),
        "{said}"
    );
    let fewer = dir.path().join("fewer.json");
    std::fs::write(&fewer, ZkmlTask::iris(15, 4).unwrap().chunks_json()).unwrap();
    let refused = zkpool(&[
        "verify".as_ref(),
        result.as_os_str(),
        "--chunks".as_ref(),
        fewer.as_os_str(),
    ]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("the input has 15"),
        "{said}"
    );
    // A damaged result is an error, not a panic.
    let mut bytes = std::fs::read(&result).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&result, &bytes).unwrap();
    let refused = zkpool(&["verify".as_ref(), result.as_os_str()]);
    assert!(!refused.status.success());
    assert_eq!(refused.status.code(), Some(1), "{refused:?}");
    pool.stop().await;
}

async fn miden_spec(c: &Client, program: &str, chunks: &str, segments: Option<u32>) -> TaskSpec {
    let mut spec = TaskSpec {
        system: ProofSystem::MidenVm,
        label: None,
        artifacts: Default::default(),
        segments,
        strategy: None,
    };
    spec.artifacts.insert(
        ArtifactRole::Program,
        c.upload(program.as_bytes().to_vec()).await.unwrap(),
    );
    spec.artifacts.insert(
        ArtifactRole::Chunks,
        c.upload(chunks.as_bytes().to_vec()).await.unwrap(),
    );
    spec
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_split_tasks_are_refused_at_submit_and_nothing_is_queued() {
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    let c = &pool.requester;
    let chunks = r#"{"state_in": [1, 2, 3, 4], "chunks": [[5], [6], [7]]}"#;
    // Adds its chunk to the first state element; fails (assert) on a chunk of 7.
    let step = "proc step\n    adv_push dup neq.7 assert add\nend\n";

    let s = miden_spec(c, "proc step\n    no_such_instruction\nend\n", chunks, None).await;
    let (status, code, msg) = api_err(c.submit(s).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "malformed_artifact"),
        "{msg}"
    );
    assert!(msg.contains("program"), "{msg}");

    let s = miden_spec(c, step, chunks, None).await;
    let (status, code, msg) = api_err(c.submit(s).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "witness_unsatisfied"),
        "{msg}"
    );
    assert!(msg.contains("chunk 2"), "{msg}");

    // A step that ignores its chunk does not advance the state.
    let lazy = "proc step\n    adv_push drop\nend\n";
    let s = miden_spec(c, lazy, chunks, None).await;
    let (status, code, msg) = api_err(c.submit(s).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "witness_unsatisfied"),
        "{msg}"
    );
    assert!(msg.contains("did not change"), "{msg}");

    // A chunk that never ends is stopped at the per-chunk row cap, in well under a second.
    let forever =
        "proc step\n    adv_push drop push.1\n    while.true\n        push.1\n    end\nend\n";
    let s = miden_spec(c, forever, chunks, None).await;
    let started = Instant::now();
    let (status, code, msg) = api_err(c.submit(s).await);
    assert_eq!((status, code.as_str()), (422, "over_limit"), "{msg}");
    assert!(
        msg.contains("max_chunk_rows") && msg.contains("chunk 0"),
        "{msg}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    let s = miden_spec(c, step, r#"{"state_in": [1, 2, 3], "chunks": []}"#, None).await;
    let (status, code, msg) = api_err(c.submit(s).await);
    assert_eq!(
        (status, code.as_str()),
        (422, "malformed_artifact"),
        "{msg}"
    );

    let ok_chunks = r#"{"state_in": [1, 2, 3, 4], "chunks": [[5], [6]]}"#;
    for n in [0, 257] {
        let s = miden_spec(c, step, ok_chunks, Some(n)).await;
        let (status, code, msg) = api_err(c.submit(s).await);
        assert_eq!((status, code.as_str()), (400, "bad_spec"), "{msg}");
    }
    // Nothing was queued by any of them.
    assert!(c.status().await.unwrap().tasks.is_empty());
    pool.stop().await;
}

/// A prover driven by hand over the API, to misbehave precisely.
struct HandProver {
    client: Client,
    id: ProverId,
}

impl HandProver {
    async fn join(pool: &LocalPool, name: &str, memory_bytes: u64) -> Self {
        let key = pool.store.create_key(Role::Prover, name, 0).await.unwrap();
        let client = Client::new(&pool.url(), &key.secret).unwrap();
        let hardware = HardwareReport {
            name: name.into(),
            os: "linux".into(),
            cpu_cores: 1,
            memory_bytes,
            gpus: vec![],
            systems: vec![ProofSystem::MidenVm],
            jobs: 4,
            agent_version: "test".into(),
        };
        let id = client
            .hello(&Hello {
                hardware,
                payout: None,
            })
            .await
            .unwrap()
            .prover_id;
        HandProver { client, id }
    }

    async fn lease(&self) -> LeaseGrant {
        self.client
            .lease(self.id, Duration::from_secs(5))
            .await
            .unwrap()
            .expect("a segment to lease")
    }

    /// Proves a granted segment for real, from the artifacts the node serves.
    async fn prove(&self, g: &LeaseGrant) -> Vec<u8> {
        let mut a = Artifacts::default();
        for (role, hash) in &g.artifacts {
            a.insert(*role, Blob::new(self.client.download(hash).await.unwrap()));
        }
        tokio::task::spawn_blocking(move || zkpool_miden::MidenBackend::default().prove(&a))
            .await
            .unwrap()
            .unwrap()
            .0
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_segments_proof_is_refused_and_only_that_segment_is_proved_again() {
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    let task = ZkmlTask::iris(12, 4).unwrap();
    let hand = HandProver::join(&pool, "hand", 8 << 30).await;
    let spec = task.spec(&pool.requester, Some(3)).await.unwrap();
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    let g0 = hand.lease().await;
    let g1 = hand.lease().await;
    assert_ne!(g0.task_id, g1.task_id);
    let proof0 = hand.prove(&g0).await;

    // Another machine cannot upload for a lease it does not hold; the lease is untouched.
    let other = HandProver::join(&pool, "other", 8 << 30).await;
    let (status, code, msg) = api_err(
        other
            .client
            .upload_result(g0.lease_id, g0.token, 1, proof0.clone())
            .await,
    );
    assert!(status == 403 || status == 409, "{status} {code} {msg}");
    let v = pool.requester.task(id).await.unwrap();
    assert_eq!(v.segments[0].state, TaskState::Leased);

    // Segment 0's (valid) proof uploaded as segment 1's is refused: statements are bound.
    let (status, code, msg) = api_err(
        hand.client
            .upload_result(g1.lease_id, g1.token, 1, proof0.clone())
            .await,
    );
    assert_eq!((status, code.as_str()), (422, "invalid_proof"), "{msg}");
    // Segment 0's proof for segment 0 is accepted.
    hand.client
        .upload_result(g0.lease_id, g0.token, 1, proof0)
        .await
        .unwrap();
    let v = pool.requester.task(id).await.unwrap();
    assert_eq!(v.state, TaskState::Proving);
    assert_eq!(v.segments[0].state, TaskState::Done);
    assert_eq!(v.segments[1].state, TaskState::Queued);
    assert!(
        v.segments[1].failures[0].contains("refused"),
        "{:?}",
        v.segments[1]
    );

    // A real agent finishes: segments 1 and 2 are proved, segment 0 keeps the hand's proof.
    let agent = pool.spawn_prover("rig", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, id, Duration::from_secs(120)).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert_eq!(v.segments[0].prover_name.as_deref(), Some("hand"));
    assert_eq!(v.segments[0].attempts, 1);
    assert_eq!(v.segments[1].prover_name.as_deref(), Some("rig"));
    assert_eq!(v.segments[1].attempts, 2);
    assert_eq!(v.segments[2].attempts, 1);
    task.check(&pool.requester.proof(id).await.unwrap())
        .unwrap();
    agent.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_provers_segment_moves_to_another_and_the_rest_is_kept() {
    let clock = ManualClock::starting_now();
    let config = NodeConfig {
        clock: Arc::new(clock.clone()),
        reap_interval: Duration::from_secs(3_600),
        ..fast_config()
    };
    let pool = LocalPool::with_config(None, config).await.unwrap();
    let task = ZkmlTask::iris(16, 4).unwrap();
    let staller = pool.spawn_prover("staller", Fault::Stall).await.unwrap();
    zkpool::demo::wait_online(&pool.requester, 1).await.unwrap();
    let spec = task.spec(&pool.requester, Some(2)).await.unwrap();
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    // The staller takes one segment and hangs, then dies; one TTL later (by the node's
    // clock) the segment is back in the queue. A cheat uploads false proofs; an honest rig
    // finishes everything.
    let deadline = Instant::now() + Duration::from_secs(20);
    while pool.requester.task(id).await.unwrap().segments[0].state != TaskState::Leased {
        assert!(Instant::now() < deadline, "segment 0 was not leased");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    staller.abort();
    clock.advance(pool.node.config.lease_ttl + Duration::from_millis(1));
    pool.node.sweep().await;
    assert_eq!(
        pool.requester.task(id).await.unwrap().segments[0].state,
        TaskState::Queued
    );
    let cheat = pool
        .spawn_prover("cheat", Fault::InvalidProofs)
        .await
        .unwrap();
    let honest = pool.spawn_prover("honest", Fault::None).await.unwrap();
    let v = wait_final(&pool.requester, id, Duration::from_secs(180)).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert!(
        v.segments[0].failures[0].contains("expired"),
        "{:?}",
        v.segments[0]
    );
    for s in &v.segments {
        assert_eq!(s.prover_name.as_deref(), Some("honest"), "{s:?}");
    }
    task.check(&pool.requester.proof(id).await.unwrap())
        .unwrap();
    cheat.abort();
    honest.abort();
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_are_cut_to_fit_the_memory_of_small_machines() {
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    // 96 MiB under the Miden memory model (64 MiB + 16 KiB per padded row) is 2,048 rows; one
    // Iris sample costs about 110 rows, so 48 samples need at least three segments.
    let small = HandProver::join(&pool, "small", 96 << 20).await;
    let task = ZkmlTask::iris(48, 4).unwrap();
    let spec = task.spec(&pool.requester, None).await.unwrap();
    let id = pool.requester.submit(spec).await.unwrap().task_id;
    let v = pool.requester.task(id).await.unwrap();
    assert!(v.segments.len() >= 3, "{v:?}");
    for s in &v.segments {
        assert!(s.work.next_power_of_two() <= 2048, "{s:?}");
    }
    // The small machine can take every one of them.
    let g = small.lease().await;
    assert_eq!(g.task_id, v.segments[0].id);
    pool.stop().await;

    // A machine too small for even one chunk: the task cannot be planned, and says why.
    let pool = LocalPool::with_config(None, fast_config()).await.unwrap();
    let _tiny = HandProver::join(&pool, "tiny", 65 << 20).await;
    let spec = task.spec(&pool.requester, None).await.unwrap();
    let (status, code, msg) = api_err(pool.requester.submit(spec).await);
    assert_eq!((status, code.as_str()), (422, "chunk_too_large"), "{msg}");
    assert!(pool.requester.status().await.unwrap().tasks.is_empty());
    pool.stop().await;
}

/// A node that stopped after the last segment was verified but before the join (here: the
/// segments were completed straight in the database, as a crash would leave them) joins on
/// restart, from the reaper, exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_join_interrupted_by_a_crash_is_finished_on_restart() {
    use zkpool_store::{now_ms, NewSegment, NewTask, Store};
    let dir = tempfile::tempdir().unwrap();
    let task = ZkmlTask::iris(8, 4).unwrap();
    let backend = zkpool_miden::MidenBackend::default();
    let mut whole = Artifacts::default();
    whole.insert(
        ArtifactRole::Program,
        Blob::new(task.step.clone().into_bytes()),
    );
    whole.insert(ArtifactRole::Chunks, Blob::new(task.chunks_json()));
    let splitter = backend.splitter().unwrap();
    let trace = splitter.trace(&whole).unwrap();
    let segments = splitter.segments(&whole, &trace, &[0..3, 3..8]).unwrap();

    let store = Store::open(dir.path()).await.unwrap();
    let owner = store.create_key(Role::Requester, "owner", 0).await.unwrap();
    let mut spec = TaskSpec {
        system: ProofSystem::MidenVm,
        label: Some("crash".into()),
        artifacts: Default::default(),
        segments: Some(2),
        strategy: None,
    };
    for role in [ArtifactRole::Program, ArtifactRole::Chunks] {
        let bytes = &whole.get(role).unwrap().bytes;
        spec.artifacts
            .insert(role, store.put_blob(bytes, 0).await.unwrap().hash);
    }
    let mut new_segments = Vec::new();
    for s in &segments {
        let mut seg_spec = spec.clone();
        seg_spec.segments = None;
        for (role, bytes) in &s.artifacts {
            seg_spec
                .artifacts
                .insert(*role, store.put_blob(bytes, 0).await.unwrap().hash);
        }
        new_segments.push(NewSegment {
            spec: seg_spec,
            work: s.work,
            memory_bytes: s.prove_memory_bytes,
            statement: s.statement.clone(),
        });
    }
    let id = store
        .insert_task(
            &NewTask {
                requester: owner.id,
                spec,
                work: segments.iter().map(|s| s.work).sum(),
                memory_bytes: 1,
                statement: trace.statement.clone(),
                max_attempts: 3,
                segments: new_segments,
                group: None,
            },
            now_ms(),
        )
        .await
        .unwrap();
    let pk = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let hw = HardwareReport {
        name: "before-the-crash".into(),
        os: "linux".into(),
        cpu_cores: 1,
        memory_bytes: 8 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::MidenVm],
        jobs: 2,
        agent_version: "test".into(),
    };
    let prover = store.register_prover(pk.id, &hw, now_ms()).await.unwrap();
    for s in &segments {
        let g = store
            .lease_unpaid(&prover, now_ms(), 60_000)
            .await
            .unwrap()
            .unwrap();
        let mut a = Artifacts::default();
        a.insert(
            ArtifactRole::Program,
            Blob::new(task.step.clone().into_bytes()),
        );
        a.insert(ArtifactRole::Chunks, Blob::new(s.artifacts[0].1.clone()));
        let proof = backend.prove(&a).unwrap();
        let hash = store.put_blob(&proof.0, now_ms()).await.unwrap().hash;
        store
            .complete(
                &zkpool_store::Completion {
                    lease: g.lease,
                    token: g.token,
                    prover: prover.id,
                    proof: hash,
                    prove_ms: 10,
                    verify_ms: 1,
                },
                now_ms(),
            )
            .await
            .unwrap();
    }
    assert_eq!(store.splits_ready().await.unwrap(), vec![id]);
    store.close().await;

    // The node comes back; its reaper finds the finished segments and joins them.
    let pool = LocalPool::with_config(Some(dir.path().to_path_buf()), fast_config())
        .await
        .unwrap();
    let v = wait_final(&pool.admin, id, Duration::from_secs(30)).await;
    assert_eq!(v.state, TaskState::Done, "{v:?}");
    assert!(v
        .segments
        .iter()
        .all(|s| s.prover_name.as_deref() == Some("before-the-crash")));
    task.check(&pool.admin.proof(id).await.unwrap()).unwrap();
    assert!(pool.store.splits_ready().await.unwrap().is_empty());
    pool.stop().await;
}
