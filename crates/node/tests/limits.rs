//! Hostile load against a real node on loopback: request budgets (429), the inspection cap
//! (503), storage quotas (413), the blob collector against a task in flight, and the
//! listener's timeouts and per-address connection cap.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use common::{code, fixture, hello, spec, TestNode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zkpool_backend::{Artifacts, BackendError, Backends, ProofArtifact, ProofBackend, TaskShape};
use zkpool_client::{Client, ClientError};
use zkpool_node::{ConnLimits, GuardConfig, ManualClock, NodeConfig, Rate};
use zkpool_types::api::Role;
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec};

fn retry_after<T: std::fmt::Debug>(r: &Result<T, ClientError>) -> Option<Duration> {
    match r {
        Err(e) => e.retry_after(),
        Ok(v) => panic!("expected an error, got {v:?}"),
    }
}

/// One key past its budget gets 429 with Retry-After; other keys, provers included, go on;
/// the budget comes back with time.
#[tokio::test]
async fn a_key_past_its_budget_is_told_to_wait_and_nobody_else_is() {
    let clock = ManualClock::starting_now();
    let n = TestNode::start(NodeConfig {
        guard: GuardConfig {
            requester: Rate::new(1.0, 5),
            ..GuardConfig::default()
        },
        clock: Arc::new(clock.clone()),
        ..NodeConfig::default()
    })
    .await;
    let abuser = n.client(Role::Requester, "abuser").await;
    let polite = n.client(Role::Requester, "polite").await;
    let rig = n.client(Role::Prover, "rig").await;
    for _ in 0..5 {
        abuser.upload_raw(b"bytes".to_vec()).await.unwrap();
    }
    let refused = abuser.upload_raw(b"bytes".to_vec()).await;
    assert_eq!(retry_after(&refused), Some(Duration::from_secs(1)));
    assert_eq!(code(refused), (429, "rate_limited".into()));
    assert!(abuser
        .upload(b"more".to_vec())
        .await
        .unwrap_err()
        .is_retryable());
    // the others' budgets are their own
    polite.upload(b"mine".to_vec()).await.unwrap();
    let p = hello(&rig, "rig").await;
    assert!(rig.lease(p, Duration::ZERO).await.unwrap().is_none());
    // a second later one request is allowed again, and only one
    clock.advance(Duration::from_secs(1));
    abuser.upload_raw(b"bytes".to_vec()).await.unwrap();
    assert_eq!(
        code(abuser.upload_raw(b"bytes".to_vec()).await),
        (429, "rate_limited".into())
    );
}

/// Requests without a valid key, and the public dashboard, are budgeted by address: a flood
/// of bad keys turns from 401 into 429, while keyed callers are not affected.
#[tokio::test]
async fn callers_without_a_key_are_budgeted_by_address() {
    let n = TestNode::start(NodeConfig {
        guard: GuardConfig {
            anonymous: Rate::new(0.01, 3),
            ..GuardConfig::default()
        },
        ..NodeConfig::default()
    })
    .await;
    let nobody = Client::new(&n.url, "zkp_requester_not_a_key").unwrap();
    for _ in 0..3 {
        assert_eq!(code(nobody.status().await), (401, "unknown_key".into()));
    }
    let r = nobody.status().await;
    assert!(retry_after(&r).unwrap() >= Duration::from_secs(1));
    assert_eq!(code(r), (429, "rate_limited".into()));
    let page = reqwest::get(format!("{}/", n.url)).await.unwrap();
    assert_eq!(page.status(), 429);
    assert!(page.headers().contains_key("retry-after"));
    let admin = n.client(Role::Admin, "ops").await;
    admin.status().await.unwrap();
}

/// A Groth16 stand-in whose inspections wait until the test opens the gate.
#[derive(Debug, Default)]
struct GatedBackend {
    open: Mutex<bool>,
    opened: Condvar,
    entered: Mutex<usize>,
}

impl GatedBackend {
    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.opened.notify_all();
    }
}

impl ProofBackend for GatedBackend {
    fn system(&self) -> ProofSystem {
        ProofSystem::Groth16
    }
    fn inspect(&self, _: &Artifacts) -> Result<TaskShape, BackendError> {
        *self.entered.lock().unwrap() += 1;
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        Ok(TaskShape {
            work: 1,
            prove_memory_bytes: 1,
            statement: b"[]".to_vec(),
        })
    }
    fn prove(&self, _: &Artifacts) -> Result<ProofArtifact, BackendError> {
        Err(BackendError::Internal("not in this test".into()))
    }
    fn verify(&self, _: &Artifacts, _: &[u8], _: &ProofArtifact) -> Result<(), BackendError> {
        Err(BackendError::Internal("not in this test".into()))
    }
}

fn wtns_spec(hash: zkpool_types::BlobHash) -> TaskSpec {
    TaskSpec {
        system: ProofSystem::Groth16,
        label: None,
        artifacts: [(ArtifactRole::Wtns, hash)].into(),
        segments: None,
        strategy: None,
    }
}

/// Past `max_inspections` running at once, a submit gets 503 `busy` with Retry-After, and is
/// not queued; once the running one ends, submits go through again.
#[tokio::test]
async fn inspections_past_the_cap_are_refused_busy() {
    let gate = Arc::new(GatedBackend::default());
    let backends = Backends::default().with(gate.clone());
    let n = TestNode::start_with(
        NodeConfig {
            guard: GuardConfig {
                max_inspections: 1,
                ..GuardConfig::default()
            },
            ..NodeConfig::default()
        },
        backends,
    )
    .await;
    let app = n.client(Role::Requester, "app").await;
    let a = app.upload(b"first".to_vec()).await.unwrap();
    let b = app.upload(b"second".to_vec()).await.unwrap();
    let slow = tokio::spawn({
        let app = app.clone();
        async move { app.submit(wtns_spec(a)).await }
    });
    while *gate.entered.lock().unwrap() == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let busy = app.submit(wtns_spec(b)).await;
    assert_eq!(retry_after(&busy), Some(Duration::from_secs(1)));
    assert_eq!(code(busy), (503, "busy".into()));
    assert_eq!(n.task_count().await, 0);
    gate.open();
    slow.await.unwrap().unwrap();
    app.submit(wtns_spec(b)).await.unwrap();
    assert_eq!(n.task_count().await, 2);
}

/// A requester's uploads stay within its quota: refused from the declared length, or at the
/// end of a chunked upload, with 413 `quota_exceeded`, and nothing of them kept.
#[tokio::test]
async fn uploads_past_the_quota_are_refused() {
    let n = TestNode::start(NodeConfig {
        requester_quota_bytes: 1000,
        ..NodeConfig::default()
    })
    .await;
    let key = n.store.create_key(Role::Requester, "app", 0).await.unwrap();
    let app = Client::new(&n.url, &key.secret).unwrap();
    app.upload(vec![1; 600]).await.unwrap();
    assert_eq!(
        code(app.upload(vec![2; 600]).await),
        (413, "quota_exceeded".into())
    );
    // chunked, no length declared: counted exactly when the upload ends
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..3).map(|_| Ok(vec![3u8; 200])).collect();
    let r = reqwest::Client::new()
        .put(format!("{}/v1/blobs", n.url))
        .bearer_auth(&key.secret)
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert!(r.text().await.unwrap().contains("quota_exceeded"));
    assert_eq!(n.store.stored_bytes(key.id).await.unwrap(), 600);
    let tmp = std::fs::read_dir(n.dir.path().join("blobs/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no refused upload may remain");
    // bytes the key has are not sent again (the client asks first); another key has its own
    // quota
    app.upload(vec![1; 600]).await.unwrap();
    n.client(Role::Requester, "other")
        .await
        .upload(vec![2; 600])
        .await
        .unwrap();
}

/// The collector removes an orphan past the retention period and keeps, however old, the
/// artifacts of a task a prover is proving; the prover still downloads them.
#[tokio::test]
async fn the_collector_keeps_a_leased_tasks_artifacts_and_removes_orphans() {
    let clock = ManualClock::starting_now();
    let hour = Duration::from_secs(3600);
    let n = TestNode::start(NodeConfig {
        lease_ttl: 100 * hour,
        max_lease: 100 * hour,
        blob_retention: hour,
        reap_interval: hour,
        clock: Arc::new(clock.clone()),
        ..NodeConfig::default()
    })
    .await;
    let app = n.client(Role::Requester, "app").await;
    let rig = n.client(Role::Prover, "rig").await;
    let wtns = fixture("multiplier", "multiplier.wtns");
    let s = spec(&app, "multiplier", "multiplier", "multiplier", wtns.clone()).await;
    let orphan = app.upload(b"never used".to_vec()).await.unwrap();
    app.submit(s.clone()).await.unwrap();
    let p = hello(&rig, "rig").await;
    rig.lease(p, Duration::from_millis(500))
        .await
        .unwrap()
        .expect("a lease");
    clock.advance(2 * hour);
    let collected = n.node.collect_blobs().await.unwrap();
    assert_eq!(collected.blobs, 1, "{collected:?}");
    assert_eq!(code(app.download(&orphan).await), (404, "not_found".into()));
    let w = s.artifacts[&ArtifactRole::Wtns];
    assert_eq!(rig.download(&w).await.unwrap(), wtns);
    assert_eq!(app.download(&w).await.unwrap(), wtns);
    // a task naming the collected blob is refused, not queued to fail later
    assert_eq!(
        code(app.submit(wtns_spec(orphan)).await),
        (400, "unknown_blob".into())
    );
}

/// A requester cannot name another requester's artifacts in a task (that would prove the
/// other's witness for it), and the refusal is the same as for bytes never uploaded.
#[tokio::test]
async fn a_task_may_name_only_its_requesters_uploads() {
    let n = TestNode::start(NodeConfig::default()).await;
    let alice = n.client(Role::Requester, "alice").await;
    let bob = n.client(Role::Requester, "bob").await;
    let s = spec(
        &alice,
        "multiplier",
        "multiplier",
        "multiplier",
        fixture("multiplier", "multiplier.wtns"),
    )
    .await;
    let (status, taken) = code(bob.submit(s.clone()).await);
    let never = wtns_spec(zkpool_types::BlobHash::of(b"never uploaded"));
    assert_eq!((status, taken.clone()), code(bob.submit(never).await));
    assert_eq!((status, taken.as_str()), (400, "unknown_blob"));
    assert_eq!(n.task_count().await, 0);
    alice.submit(s).await.unwrap();
}

async fn closed_within(stream: &mut tokio::net::TcpStream, limit: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let read = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(limit, read).await.is_ok()
}

/// Slow or idle connections are cut after the idle timeout: headers that never end, a body
/// that stalls, a keep-alive connection left open; and one address may hold only so many
/// connections.
#[tokio::test]
async fn slow_idle_and_excess_connections_are_cut() {
    let n = TestNode::start(NodeConfig {
        conn: ConnLimits {
            idle_timeout: Duration::from_secs(2),
            max_per_addr: 3,
        },
        ..NodeConfig::default()
    })
    .await;
    let addr = n.url.trim_start_matches("http://").to_string();
    let connect = || tokio::net::TcpStream::connect(addr.clone());
    // headers that never end
    let mut slow = connect().await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // a body that stalls after 10 of 100 bytes
    let key = n.store.create_key(Role::Requester, "app", 0).await.unwrap();
    let mut stalled = connect().await.unwrap();
    let head = format!(
        "PUT /v1/blobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Length: 100\r\n\r\n0123456789",
        key.secret
    );
    stalled.write_all(head.as_bytes()).await.unwrap();
    // a finished request on a keep-alive connection, then silence
    let mut idle = connect().await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();
    // a fourth connection from this address is closed at once, well before any timeout
    let mut excess = connect().await.unwrap();
    assert!(closed_within(&mut excess, Duration::from_secs(1)).await);
    for (name, s) in [
        ("slow", &mut slow),
        ("stalled", &mut stalled),
        ("idle", &mut idle),
    ] {
        assert!(
            closed_within(s, Duration::from_secs(10)).await,
            "{name} was not cut"
        );
    }
    assert!(!n
        .store
        .has_blob(&zkpool_types::BlobHash::of(b"0123456789"))
        .await
        .unwrap());
    // with those gone, new connections are served
    let ok = reqwest::get(format!("{}/healthz", n.url)).await.unwrap();
    assert_eq!(ok.status(), 200);
}
