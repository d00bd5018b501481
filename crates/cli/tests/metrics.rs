//! `GET /metrics` against a run with known counts: a real node and real prover agents on
//! loopback, one of them uploading false proofs; the exposition parsed by the Prometheus
//! project's own OpenMetrics parser (Python `prometheus_client`, `scripts/parse-metrics.py`;
//! `pip install -r requirements-test.txt`) and every number checked against what happened.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

use zkpool::demo::{circuit_spec, submit_circuit, LocalPool};
use zkpool::fixtures::MULTIPLIER;
use zkpool_node::NodeConfig;
use zkpool_prover::Fault;
use zkpool_types::TaskState;

#[derive(serde::Deserialize, Debug)]
struct Sample {
    name: String,
    labels: HashMap<String, String>,
    value: f64,
}

/// One scrape, as samples by name and labels.
struct Scrape(Vec<Sample>);

/// Parses `text` with the reference parser.
fn parse(text: &str) -> Vec<Sample> {
    use std::io::Write;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/parse-metrics.py");
    let mut child = std::process::Command::new("python3")
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is needed for the metrics test");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused the exposition (or is not installed: \
         pip install -r requirements-test.txt): {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

impl Scrape {
    async fn of(pool: &LocalPool) -> Scrape {
        let text = pool.admin.metrics().await.unwrap();
        Scrape(parse(&text))
    }

    /// The value of the sample `name` whose labels include `labels` (0 when there is none).
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        let matching: Vec<f64> = self
            .0
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| {
                labels
                    .iter()
                    .all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .map(|s| s.value)
            .collect();
        assert!(matching.len() <= 1, "{name} {labels:?}: {matching:?}");
        matching.first().copied().unwrap_or(0.0)
    }

    /// Observations of histogram `name` with `labels` (its `_count`).
    fn count(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.value(&format!("{name}_count"), labels)
    }
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_what_the_pool_did() {
    let config = NodeConfig {
        heartbeat: Duration::from_millis(500),
        lease_ttl: Duration::from_secs(4),
        ..NodeConfig::default()
    };
    let pool = LocalPool::with_config(None, config).await.unwrap();

    // Only admins read the metrics.
    let denied = pool.requester.metrics().await.unwrap_err();
    assert_eq!(denied.code(), Some("forbidden"));

    // The requester's deposit (the pool's own stake is funded at start).
    pool.admin
        .deposit(&format!("requester:{}", pool.requester_key), 7_000_000)
        .await
        .unwrap();

    // A prover that uploads a false proof for the first task, then dies.
    let liar = pool
        .spawn_prover_staked("liar", Fault::InvalidProofs, 0)
        .await
        .unwrap();
    let first = submit_circuit(&pool.requester, &MULTIPLIER, 0)
        .await
        .unwrap();
    until("the false proof", async || {
        Scrape::of(&pool)
            .await
            .value("zkpool_proofs_total", &[("verdict", "refused")])
            >= 1.0
    })
    .await;
    liar.abort();

    // An honest prover proves it and two more.
    let _honest = pool
        .spawn_prover_staked("honest", Fault::None, 0)
        .await
        .unwrap();
    let mut ids = vec![first];
    for v in 1..=2 {
        ids.push(
            submit_circuit(&pool.requester, &MULTIPLIER, v)
                .await
                .unwrap(),
        );
    }
    for id in &ids {
        until("the tasks", async || {
            pool.requester.task(*id).await.unwrap().state == TaskState::Done
        })
        .await;
    }

    // A quote issued and one refused (a window no prover can meet).
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 9).await.unwrap();
    pool.requester.quote(spec.clone(), 600_000).await.unwrap();
    let refused = pool.requester.quote(spec, 1).await.unwrap_err();
    let refused_code = refused.code().unwrap().to_string();

    // The leases as the database recorded them: at least the false proof's and one per
    // task by the honest prover (the liar's last long-poll may have taken one more before
    // it died; that lease then ends expired or invalid, and is counted the same way).
    let mut leases = Vec::new();
    for id in &ids {
        leases.extend(pool.store.leases_of(*id).await.unwrap());
    }
    let ended = |o: &str| {
        leases
            .iter()
            .filter(|(_, e)| e.as_deref() == Some(o))
            .count() as f64
    };
    let (invalid, done) = (ended("invalid"), ended("done"));
    assert!(invalid >= 1.0 && done == 3.0, "{leases:?}");

    let m = Scrape::of(&pool).await;
    let groth16 = [("system", "groth16")];
    assert_eq!(
        m.value(
            "zkpool_proofs_total",
            &[("system", "groth16"), ("verdict", "refused")]
        ),
        invalid
    );
    assert_eq!(
        m.value(
            "zkpool_proofs_total",
            &[("system", "groth16"), ("verdict", "verified")]
        ),
        done
    );
    assert_eq!(m.count("zkpool_verify_seconds", &groth16), invalid + done);
    assert_eq!(m.count("zkpool_prove_seconds", &groth16), done);
    let granted = leases.len() as f64;
    assert_eq!(m.count("zkpool_enqueue_to_lease_seconds", &[]), granted);
    assert_eq!(
        m.count("zkpool_lease_wait_seconds", &[("outcome", "granted")]),
        granted
    );
    assert_eq!(m.value("zkpool_tasks", &[("state", "done")]), 3.0);
    assert_eq!(m.value("zkpool_tasks", &[("state", "queued")]), 0.0);
    assert_eq!(m.value("zkpool_queue_depth", &[]), 0.0);
    assert_eq!(m.value("zkpool_tasks_ended", &[("cause", "proved")]), 3.0);
    assert_eq!(
        m.value("zkpool_tasks_ended", &[("cause", "pool_fault")]),
        0.0
    );
    assert_eq!(m.value("zkpool_provers_known", &[]), 2.0);
    assert!(m.value("zkpool_provers_online", &[]) >= 1.0);
    assert_eq!(
        m.value(
            "zkpool_quotes_total",
            &[("settlement", "embedded"), ("outcome", "issued")]
        ),
        1.0
    );
    assert_eq!(
        m.value(
            "zkpool_quotes_total",
            &[("outcome", "refused"), ("code", refused_code.as_str())]
        ),
        1.0
    );
    // The ledger's totals as the admin API tells them.
    let books = pool.admin.ledger().await.unwrap();
    assert_eq!(
        m.value("zkpool_ledger_deposited_units", &[]),
        books.deposited.0 as f64
    );
    assert_eq!(
        m.value("zkpool_ledger_withdrawn_units", &[]),
        books.withdrawn.0 as f64
    );
    let mut by_kind: HashMap<&str, u128> = HashMap::new();
    for (account, units) in &books.accounts {
        *by_kind
            .entry(account.split(':').next().unwrap())
            .or_default() += units.0;
    }
    assert!(by_kind["requester"] >= 7_000_000);
    for (kind, units) in by_kind {
        assert_eq!(
            m.value("zkpool_ledger_balance_units", &[("kind", kind)]),
            units as f64,
            "{kind}"
        );
    }
    // Requests by route template, never by raw path.
    assert_eq!(
        m.value(
            "zkpool_http_requests_total",
            &[
                ("route", "/v1/tasks"),
                ("method", "POST"),
                ("status", "201")
            ]
        ),
        3.0
    );
    assert_eq!(
        m.value(
            "zkpool_http_requests_total",
            &[("route", "/metrics"), ("status", "403")]
        ),
        1.0
    );
    assert!(
        m.value(
            "zkpool_http_requests_total",
            &[
                ("route", "/v1/tasks/{id}"),
                ("method", "GET"),
                ("status", "200")
            ]
        ) >= 3.0
    );
    for route in m.0.iter().filter_map(|s| s.labels.get("route")) {
        assert!(
            route
                .split('/')
                .all(|seg| seg.is_empty() || !seg.bytes().all(|b| b.is_ascii_digit())),
            "a raw path leaked into the route label: {route}"
        );
    }
    pool.stop().await;
}
