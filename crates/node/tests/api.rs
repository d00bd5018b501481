//! The node's HTTP API against bad input: each case gets a clear error with a stable code, and
//! nothing is stored half-way. A real node on a loopback socket, the real Groth16 backend.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{code, fixture, hello, multiplier_proof, spec, TestNode};
use zkpool_client::{Client, ClientError};
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_types::api::{Hello, Role};
use zkpool_types::{
    ArtifactRole, BlobHash, FencingToken, ProofSystem, TaskId, TaskSpec, TaskState,
};

#[tokio::test]
async fn keys_are_required_and_roles_enforced() {
    let n = TestNode::start(NodeConfig::default()).await;
    let nobody = Client::new(&n.url, "zkp_requester_not_a_key").unwrap();
    assert_eq!(code(nobody.status().await), (401, "unknown_key".into()));
    let raw = reqwest::get(format!("{}/v1/status", n.url)).await.unwrap();
    assert_eq!(raw.status(), 401);
    assert!(raw.text().await.unwrap().contains("missing_key"));

    let prover = n.client(Role::Prover, "rig").await;
    let requester = n.client(Role::Requester, "app").await;
    let s = TaskSpec {
        system: ProofSystem::Groth16,
        label: None,
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    assert_eq!(code(prover.submit(s).await), (403, "forbidden".into()));
    assert_eq!(
        code(requester.create_key(Role::Admin, "x").await),
        (403, "forbidden".into())
    );
    let hw = zkpool_types::HardwareReport {
        name: "m".into(),
        os: "linux".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "t".into(),
    };
    assert_eq!(
        code(
            requester
                .hello(&Hello {
                    hardware: hw,
                    payout: None
                })
                .await
        ),
        (403, "forbidden".into())
    );
}

#[tokio::test]
async fn unknown_and_foreign_tasks_are_not_found() {
    let n = TestNode::start(NodeConfig::default()).await;
    let a = n.client(Role::Requester, "a").await;
    let b = n.client(Role::Requester, "b").await;
    assert_eq!(code(a.task(TaskId(999)).await), (404, "not_found".into()));
    let s = spec(
        &a,
        "multiplier",
        "multiplier",
        "multiplier",
        fixture("multiplier", "multiplier.wtns"),
    )
    .await;
    let id = a.submit(s).await.unwrap().task_id;
    assert_eq!(a.task(id).await.unwrap().state, TaskState::Queued);
    // Another requester cannot see it, not even that it exists.
    assert_eq!(code(b.task(id).await), (404, "not_found".into()));
    assert_eq!(code(a.proof(id).await), (409, "not_done".into()));
}

#[tokio::test]
async fn oversized_uploads_are_refused_and_leave_nothing() {
    let n = TestNode::start(NodeConfig {
        max_upload_bytes: 1000,
        ..NodeConfig::default()
    })
    .await;
    let c = n.client(Role::Requester, "app").await;
    // Declared too large: refused from the header.
    assert_eq!(
        code(c.upload(vec![7u8; 5000]).await),
        (413, "upload_too_large".into())
    );
    // No length declared (chunked): refused once it passes the limit.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..10).map(|_| Ok(vec![1u8; 400])).collect();
    let resp = reqwest::Client::new()
        .put(format!("{}/v1/blobs", n.url))
        .bearer_auth(raw_secret(&n).await)
        .body(reqwest::Body::wrap_stream(futures_stream(chunks)))
        .send()
        .await;
    if let Ok(r) = resp {
        assert_eq!(r.status(), 413);
    }
    assert!(!n.store.has_blob(&BlobHash::of(&[7u8; 5000])).await.unwrap());
    let tmp = std::fs::read_dir(n.dir.path().join("blobs/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "no partial upload may remain");
    // Within the limit works, and an empty upload is refused.
    c.upload(vec![1u8; 999]).await.unwrap();
    assert_eq!(code(c.upload(vec![]).await), (400, "empty_upload".into()));
}

fn futures_stream(
    chunks: Vec<Result<Vec<u8>, std::io::Error>>,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    futures::stream::iter(chunks)
}

#[tokio::test]
async fn bad_artifacts_are_refused_at_submit_and_store_no_task() {
    let n = TestNode::start(NodeConfig::default()).await;
    let c = n.client(Role::Requester, "app").await;
    let wtns = fixture("multiplier", "multiplier.wtns");

    // A truncated zkey.
    let mut s = spec(&c, "multiplier", "multiplier", "multiplier", wtns.clone()).await;
    let zkey = fixture("multiplier", "multiplier.zkey");
    s.artifacts.insert(
        ArtifactRole::Zkey,
        c.upload(zkey[..zkey.len() / 2].to_vec()).await.unwrap(),
    );
    assert_eq!(code(c.submit(s).await), (422, "malformed_artifact".into()));

    // Garbage in place of the r1cs.
    let mut s = spec(&c, "multiplier", "multiplier", "multiplier", wtns.clone()).await;
    s.artifacts.insert(
        ArtifactRole::R1cs,
        c.upload(b"not an r1cs file at all".to_vec()).await.unwrap(),
    );
    assert_eq!(code(c.submit(s).await), (422, "malformed_artifact".into()));

    // A witness that does not satisfy the constraints (one value changed).
    let mut bad = wtns.clone();
    let at = bad.len() - 32;
    bad[at] ^= 1;
    let s = spec(&c, "multiplier", "multiplier", "multiplier", bad).await;
    let (status, code_) = code(c.submit(s).await);
    assert_eq!((status, code_.as_str()), (422, "witness_unsatisfied"));

    // A zkey of another circuit.
    let s = spec(
        &c,
        "multiplier",
        "multiplier",
        "poseidon_chain",
        wtns.clone(),
    )
    .await;
    assert_eq!(code(c.submit(s).await), (422, "artifacts_mismatch".into()));

    // Artifacts never uploaded, and a spec with no witness.
    let mut s = spec(&c, "multiplier", "multiplier", "multiplier", wtns.clone()).await;
    s.artifacts
        .insert(ArtifactRole::Wtns, BlobHash::of(b"never uploaded"));
    assert_eq!(code(c.submit(s).await), (400, "unknown_blob".into()));
    let mut s = spec(&c, "multiplier", "multiplier", "multiplier", wtns).await;
    s.artifacts.remove(&ArtifactRole::Wtns);
    assert_eq!(code(c.submit(s).await), (400, "bad_spec".into()));

    assert_eq!(n.task_count().await, 0, "no refused task may be stored");
}

#[tokio::test]
async fn results_need_the_current_lease_and_a_valid_proof() {
    let clock = ManualClock::starting_now();
    let config = NodeConfig {
        lease_ttl: Duration::from_millis(600),
        reap_interval: Duration::from_secs(3600),
        clock: Arc::new(clock.clone()),
        ..NodeConfig::default()
    };
    let n = TestNode::start(config).await;
    let req = n.client(Role::Requester, "app").await;
    let rig1 = n.client(Role::Prover, "rig-1").await;
    let rig2 = n.client(Role::Prover, "rig-2").await;
    let p1 = hello(&rig1, "rig-1").await;
    let p2 = hello(&rig2, "rig-2").await;
    let s = spec(
        &req,
        "multiplier",
        "multiplier",
        "multiplier",
        fixture("multiplier", "multiplier.wtns"),
    )
    .await;
    let id = req.submit(s).await.unwrap().task_id;

    let g = rig1
        .lease(p1, Duration::from_millis(100))
        .await
        .unwrap()
        .expect("a lease");
    assert_eq!(g.task_id, id);
    // Someone else's prover id, and someone else's lease.
    assert_eq!(
        code(rig2.lease(p1, Duration::from_millis(10)).await),
        (403, "forbidden".into())
    );
    assert_eq!(
        code(
            rig2.upload_result(g.lease_id, g.token, 1, b"{}".to_vec())
                .await
        ),
        (409, "stale_lease".into())
    );
    // The wrong fencing token.
    assert_eq!(
        code(
            rig1.upload_result(g.lease_id, FencingToken(g.token.0 + 7), 1, b"{}".to_vec())
                .await
        ),
        (409, "stale_lease".into())
    );
    // Garbage bytes: refused as a malformed proof, and the task goes back to the queue.
    assert_eq!(
        code(
            rig1.upload_result(g.lease_id, g.token, 1, b"garbage".to_vec())
                .await
        ),
        (422, "malformed_proof".into())
    );
    assert_eq!(req.task(id).await.unwrap().state, TaskState::Queued);
    // rig-1 sent an invalid proof for this task, so it never gets it again; rig-2 does.
    assert!(rig1
        .lease(p1, Duration::from_millis(50))
        .await
        .unwrap()
        .is_none());
    let g2 = rig2
        .lease(p2, Duration::from_millis(100))
        .await
        .unwrap()
        .expect("a second lease");
    assert!(g2.token > g.token, "fencing tokens grow");
    // The old lease is dead for good.
    assert_eq!(
        code(
            rig1.upload_result(g.lease_id, g.token, 1, b"{}".to_vec())
                .await
        ),
        (409, "stale_lease".into())
    );
    // Let g2 expire (no heartbeat), then a proper proof on it is refused too.
    clock.advance(Duration::from_millis(800));
    let proof = multiplier_proof();
    assert_eq!(
        code(
            rig2.upload_result(g2.lease_id, g2.token, 1, proof.clone())
                .await
        ),
        (409, "stale_lease".into())
    );
    // A heartbeat reports the lease as revoked.
    let ack = rig2.heartbeat(p2, vec![g2.lease_id]).await.unwrap();
    assert_eq!(ack.revoked, vec![g2.lease_id]);
    assert_ne!(req.task(id).await.unwrap().state, TaskState::Done);
}

/// Every route that takes a body or a query answers a malformed one in the API's error shape
/// (`{"code", "message"}`) with a stable code, never axum's plain text.
#[tokio::test]
async fn every_route_answers_malformed_input_with_the_json_error_shape() {
    let n = TestNode::start(NodeConfig::default()).await;
    let keys = [
        (
            Role::Admin,
            n.store.create_key(Role::Admin, "a", 0).await.unwrap(),
        ),
        (
            Role::Requester,
            n.store.create_key(Role::Requester, "r", 0).await.unwrap(),
        ),
        (
            Role::Prover,
            n.store.create_key(Role::Prover, "p", 0).await.unwrap(),
        ),
    ];
    let secret = |role: Role| {
        keys.iter()
            .find(|(r, _)| *r == role)
            .unwrap()
            .1
            .secret
            .clone()
    };
    let http = reqwest::Client::new();
    let json_routes = [
        (Role::Admin, "/v1/keys"),
        (Role::Admin, "/v1/ledger/deposit"),
        (Role::Requester, "/v1/tasks"),
        (Role::Requester, "/v1/quotes"),
        (Role::Requester, "/v1/tasks/quoted"),
        (Role::Requester, "/v1/withdraw"),
        (Role::Prover, "/v1/provers/hello"),
        (Role::Prover, "/v1/provers/1/heartbeat"),
        (Role::Prover, "/v1/provers/1/lease"),
        (Role::Prover, "/v1/leases/1/failure"),
    ];
    for (role, path) in json_routes {
        let url = format!("{}{path}", n.url);
        let cases: [(&str, &str, u16, &str); 3] = [
            ("application/json", "{not json", 400, "bad_json"),
            (
                "application/json",
                "\"a string, not an object\"",
                422,
                "bad_json",
            ),
            ("text/plain", "{}", 415, "bad_content_type"),
        ];
        for (content_type, body, status, code) in cases {
            let r = http
                .post(&url)
                .bearer_auth(secret(role))
                .header("content-type", content_type)
                .body(body)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), status, "{path} with {body:?}");
            let v: serde_json::Value = r
                .json()
                .await
                .unwrap_or_else(|e| panic!("{path} with {body:?}: not a JSON error body: {e}"));
            assert_eq!(v["code"], code, "{path} with {body:?}: {v}");
            assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        }
    }
    // The one query-string route.
    let r = http
        .post(format!("{}/v1/leases/1/result?token=abc", n.url))
        .bearer_auth(secret(Role::Prover))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["code"], "bad_query", "{v}");
    assert_eq!(n.task_count().await, 0, "nothing was queued");
}

/// Artifacts are private: another requester, or a prover without a lease on a task that uses
/// them, is told they do not exist; the uploader, the admin and the prover holding the lease
/// read them.
#[tokio::test]
async fn artifacts_are_readable_only_by_those_who_need_them() {
    let n = TestNode::start(NodeConfig::default()).await;
    let alice = n.client(Role::Requester, "alice").await;
    let bob = n.client(Role::Requester, "bob").await;
    let admin = n.client(Role::Admin, "ops").await;
    let rig = n.client(Role::Prover, "rig").await;
    let stranger = n.client(Role::Prover, "stranger").await;
    let wtns = fixture("multiplier", "multiplier.wtns");
    let spec = spec(
        &alice,
        "multiplier",
        "multiplier",
        "multiplier",
        wtns.clone(),
    )
    .await;
    let hash = spec.artifacts[&ArtifactRole::Wtns];
    let not_found = |r: Result<Vec<u8>, ClientError>| code(r) == (404, "not_found".into());
    assert!(not_found(bob.download(&hash).await), "another requester");
    assert!(
        !bob.has_blob(&hash).await.unwrap(),
        "HEAD says nothing either"
    );
    assert!(
        not_found(rig.download(&hash).await),
        "a prover without a lease"
    );
    assert_eq!(alice.download(&hash).await.unwrap(), wtns);
    assert_eq!(admin.download(&hash).await.unwrap(), wtns);
    // Bob uploading the same bytes is not told that someone else has them.
    assert!(!bob.upload_raw(wtns.clone()).await.unwrap().existed);
    assert_eq!(bob.download(&hash).await.unwrap(), wtns, "now his too");
    // A prover reads what its lease needs, and only while it holds the lease.
    alice.submit(spec).await.unwrap();
    let p = hello(&rig, "rig").await;
    let g = rig
        .lease(p, Duration::from_millis(500))
        .await
        .unwrap()
        .expect("a lease");
    assert_eq!(rig.download(&hash).await.unwrap(), wtns);
    assert!(
        not_found(stranger.download(&hash).await),
        "an unrelated prover"
    );
    let _ = rig
        .upload_result(g.lease_id, g.token, 1, b"garbage".to_vec())
        .await;
    assert!(not_found(rig.download(&hash).await), "the lease is over");
}

/// Revoked keys get 401 on their next call; a revoked prover's lease goes back to the queue at
/// once, for another prover; the last admin key cannot be revoked.
#[tokio::test]
async fn revoked_keys_are_refused_and_a_revoked_provers_lease_goes_back() {
    let n = TestNode::start(NodeConfig::default()).await;
    let admin_key = n.store.create_key(Role::Admin, "ops", 0).await.unwrap();
    let admin = Client::new(&n.url, &admin_key.secret).unwrap();
    let app = n.client(Role::Requester, "app").await;
    let rig_key = n.store.create_key(Role::Prover, "rig", 0).await.unwrap();
    let rig = Client::new(&n.url, &rig_key.secret).unwrap();
    let other = n.client(Role::Prover, "other").await;
    let s = spec(
        &app,
        "multiplier",
        "multiplier",
        "multiplier",
        fixture("multiplier", "multiplier.wtns"),
    )
    .await;
    let id = app.submit(s).await.unwrap().task_id;
    let p = hello(&rig, "rig").await;
    let g = rig
        .lease(p, Duration::from_millis(500))
        .await
        .unwrap()
        .expect("a lease");
    assert_eq!(g.task_id, id);
    admin.revoke_key(rig_key.id).await.unwrap();
    assert_eq!(code(rig.status().await), (401, "unknown_key".into()));
    let v = app.task(id).await.unwrap();
    assert_eq!((v.state, v.attempts), (TaskState::Queued, 0), "{v:?}");
    let q = hello(&other, "other").await;
    let g2 = other
        .lease(q, Duration::from_millis(500))
        .await
        .unwrap()
        .expect("the task, re-queued");
    assert_eq!(g2.task_id, id);
    // A requester key too; and twice is not found.
    let app_id = n
        .store
        .list_keys()
        .await
        .unwrap()
        .into_iter()
        .find(|k| k.name == "app")
        .unwrap()
        .id;
    admin.revoke_key(app_id).await.unwrap();
    assert_eq!(code(app.task(id).await), (401, "unknown_key".into()));
    assert_eq!(
        code(admin.revoke_key(app_id).await),
        (404, "not_found".into())
    );
    // The pool keeps one operator.
    assert_eq!(
        code(admin.revoke_key(admin_key.id).await),
        (409, "last_admin".into())
    );
}

/// `GET /v1/tasks/{id}?wait_ms=N` answers once the task ends, not at the end of the wait; a
/// task that does not end is answered when the wait (capped by the node) is over; another
/// requester's task is not found at once, and a wait that is not a number is a `bad_query`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_long_poll_answers_when_the_task_ends() {
    let n = TestNode::start(NodeConfig {
        max_long_poll: Duration::from_secs(3),
        reap_interval: Duration::from_secs(3600),
        ..NodeConfig::default()
    })
    .await;
    let req = n.client(Role::Requester, "app").await;
    let other = n.client(Role::Requester, "other").await;
    let rig = n.client(Role::Prover, "rig").await;
    let p = hello(&rig, "rig").await;
    let wtns = fixture("multiplier", "multiplier.wtns");
    let id = req
        .submit(spec(&req, "multiplier", "multiplier", "multiplier", wtns).await)
        .await
        .unwrap()
        .task_id;

    // Nobody proves it: the answer comes when the wait is over, capped at the node's 3 s.
    let started = std::time::Instant::now();
    let v = req.task_wait(id, Duration::from_secs(60)).await.unwrap();
    assert_eq!(v.state, TaskState::Queued);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(3) && waited < Duration::from_secs(30),
        "{waited:?}"
    );
    assert_eq!(
        code(other.task_wait(id, Duration::from_secs(60)).await),
        (404, "not_found".into())
    );
    let raw = reqwest::Client::new()
        .get(format!("{}/v1/tasks/{}?wait_ms=soon", n.url, id.0))
        .bearer_auth(raw_secret(&n).await)
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    assert!(raw.text().await.unwrap().contains("bad_query"));

    // A long-poll in flight hears the proof's acceptance, well before its wait is over.
    let waiting = {
        let req = req.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            let v = req.task_wait(id, Duration::from_secs(60)).await.unwrap();
            (v, started.elapsed())
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await; // the long-poll is waiting
    let g = rig
        .lease(p, Duration::from_millis(100))
        .await
        .unwrap()
        .expect("a lease");
    let proof = multiplier_proof();
    rig.upload_result(g.lease_id, g.token, 1, proof)
        .await
        .unwrap();
    let (v, waited) = waiting.await.unwrap();
    assert_eq!(v.state, TaskState::Done);
    assert!(
        waited < Duration::from_secs(3),
        "answered only at the wait's end: {waited:?}"
    );
}

/// A fresh requester key's secret, for calls made with reqwest by hand (bodies and queries the
/// client would not send).
async fn raw_secret(n: &TestNode) -> String {
    n.store
        .create_key(Role::Requester, "raw", 0)
        .await
        .unwrap()
        .secret
}
