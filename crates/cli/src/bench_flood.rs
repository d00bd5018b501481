//! `zkpool bench --flood`: a real `zkpool node` process on loopback, with its default limits,
//! under hostile load, against the same run without it.
//!
//! ```text
//!   baseline: one well-behaved requester (a submit every 100 ms) + four prover agents
//!   flood:    the same, plus N clients without a valid key and N clients of one abusive
//!             requester key submitting as fast as they can
//! ```
//!
//! Reported per run: responses per second the node answered, how many 401/429/503 it gave,
//! the well-behaved requester's submit latency (p50, p99) and the node's peak resident memory
//! (`VmHWM`). Bounded in clients and seconds; nothing here is a pass/fail assertion.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio_util::sync::CancellationToken;
use zkpool_client::{Client, ClientError};
use zkpool_prover::{AgentConfig, Fault};
use zkpool_types::api::Role;
use zkpool_types::TaskSpec;

use crate::bench::proc_status_mib;
use crate::demo::circuit_spec;
use crate::fixtures::MULTIPLIER;
use crate::table::Table;

/// Responses by class, counted by every client.
#[derive(Debug, Default)]
struct Counts {
    ok: AtomicU64,
    unauthorized: AtomicU64,
    limited: AtomicU64,
    busy: AtomicU64,
    other: AtomicU64,
}

impl Counts {
    fn add<T>(&self, r: &Result<T, ClientError>) {
        let slot = match r {
            Ok(_) => &self.ok,
            Err(ClientError::Api { status: 401, .. }) => &self.unauthorized,
            Err(ClientError::Api { status: 429, .. }) => &self.limited,
            Err(ClientError::Api { status: 503, .. }) => &self.busy,
            Err(_) => &self.other,
        };
        slot.fetch_add(1, Ordering::Relaxed);
    }

    fn total(&self) -> u64 {
        [
            &self.ok,
            &self.unauthorized,
            &self.limited,
            &self.busy,
            &self.other,
        ]
        .iter()
        .map(|c| c.load(Ordering::Relaxed))
        .sum()
    }
}

/// One run's numbers.
struct Outcome {
    counts: Arc<Counts>,
    seconds: f64,
    latencies_ms: Vec<f64>,
    polite_failed: usize,
    proved: usize,
    peak_rss_mib: f64,
}

/// The `p` quantile (0 to 1) of `sorted`, an ascending list; NaN when it is empty.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A `zkpool node` child process on a free loopback port, with a fresh data directory.
pub(crate) struct NodeProcess {
    pub child: tokio::process::Child,
    pub pid: u32,
    pub url: String,
    /// A client with the node's admin key (the first replica's only).
    pub admin: Client,
    pub dir: tempfile::TempDir,
}

/// Where the load must not run: on a machine of several cores (and with `taskset`), the node
/// gets core 0 and this process, clients and provers, the others, so that the clients' own
/// work does not count against the node. `None` when that cannot be arranged.
fn pin() -> Option<String> {
    let cores = std::thread::available_parallelism().ok()?.get();
    if cores < 2 {
        return None;
    }
    let ok = std::process::Command::new("taskset")
        .args(["-a", "-cp", &format!("1-{}", cores - 1)])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    ok.then(|| "0".to_string())
}

/// Starts `zkpool node` with `extra` flags (on core `core`, if given). The node binds a free
/// port itself and prints it; reading it back leaves no window in which another process could
/// take a port picked in advance.
pub(crate) async fn start_node(core: Option<&str>, extra: &[&str]) -> anyhow::Result<NodeProcess> {
    start_node_in(tempfile::tempdir()?, core, extra).await
}

/// [`start_node`] in the data directory `dir` (one prepared with a pool key, for a replica).
pub(crate) async fn start_node_in(
    dir: tempfile::TempDir,
    core: Option<&str>,
    extra: &[&str],
) -> anyhow::Result<NodeProcess> {
    let exe = std::env::current_exe()?;
    let mut command = match core {
        Some(c) => {
            let mut t = tokio::process::Command::new("taskset");
            t.args(["-c", c]).arg(exe);
            t
        }
        None => tokio::process::Command::new(exe),
    };
    let mut child = command
        .args(["node", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .args(extra)
        .env("RUST_LOG", "warn")
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id().context("node has no pid")?;
    let mut lines = BufReader::new(child.stderr.take().context("no stderr")?).lines();
    let addr = loop {
        let line = lines
            .next_line()
            .await?
            .context("the node exited before it listened")?;
        if let Some(rest) = line.split("zkpool node on http://").nth(1) {
            break rest
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    let url = format!("http://{addr}");
    // A replica after the first finds the admin key in the database, not in its directory.
    let secret = std::fs::read_to_string(dir.path().join("admin.key")).unwrap_or_default();
    let admin = Client::new(&url, secret.trim())?;
    Ok(NodeProcess {
        child,
        pid,
        url,
        admin,
        dir,
    })
}

async fn key(node: &NodeProcess, role: Role, name: &str) -> anyhow::Result<Client> {
    let k = node.admin.create_key(role, name).await?;
    Ok(Client::new(&node.url, &k.secret)?)
}

async fn one_run(
    seconds: u64,
    flood: Option<usize>,
    core: Option<&str>,
) -> anyhow::Result<Outcome> {
    let node = start_node(core, &[]).await?;
    let stop = CancellationToken::new();
    let mut jobs = Vec::new();
    for i in 0..4 {
        let k = node
            .admin
            .create_key(Role::Prover, &format!("rig-{i}"))
            .await?;
        let config = AgentConfig {
            pool: node.url.clone(),
            key: k.secret,
            name: format!("rig-{i}"),
            jobs: 1,
            lease_wait: Duration::from_secs(5),
            fault: Fault::None,
            payout: None,
        };
        let s = stop.clone();
        jobs.push(tokio::spawn(async move {
            let _ = zkpool_prover::run(config, crate::prover_backends(), s).await;
        }));
    }
    let polite = key(&node, Role::Requester, "polite").await?;
    let spec = circuit_spec(&polite, &MULTIPLIER, 0).await?;
    let counts = Arc::new(Counts::default());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    if let Some(n) = flood {
        let abuser = key(&node, Role::Requester, "abuser").await?;
        let abusive_spec = circuit_spec(&abuser, &MULTIPLIER, 0).await?;
        let nobody = Client::new(&node.url, "zkp_requester_not_a_key_at_all")?;
        for i in 0..2 * n {
            let counts = counts.clone();
            let (c, spec) = if i % 2 == 0 {
                (nobody.clone(), None)
            } else {
                (abuser.clone(), Some(abusive_spec.clone()))
            };
            jobs.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    match &spec {
                        None => counts.add(&c.status().await),
                        Some(s) => counts.add(&c.submit(s.clone()).await),
                    }
                }
            }));
        }
    }
    let (latencies_ms, polite_failed, ids) =
        polite_requester(&polite, &spec, deadline, &counts).await;
    let elapsed = seconds as f64;
    // Let the provers finish what the polite requester queued (bounded).
    let settle = Instant::now() + Duration::from_secs(10);
    let mut proved = 0;
    for id in &ids {
        while Instant::now() < settle {
            match polite.task(*id).await {
                Ok(v) if v.state.is_final() => break,
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
        if polite
            .task(*id)
            .await
            .is_ok_and(|v| v.state == zkpool_types::TaskState::Done)
        {
            proved += 1;
        }
    }
    let peak_rss_mib = proc_status_mib(&node.pid.to_string(), "VmHWM:")?;
    stop.cancel();
    for j in jobs {
        j.abort();
    }
    let mut child = node.child;
    let _ = child.kill().await;
    Ok(Outcome {
        counts,
        seconds: elapsed,
        latencies_ms,
        polite_failed,
        proved,
        peak_rss_mib,
    })
}

/// Submits every 100 ms until `deadline`: latencies of accepted submits, failures, task ids.
async fn polite_requester(
    c: &Client,
    spec: &TaskSpec,
    deadline: Instant,
    counts: &Counts,
) -> (Vec<f64>, usize, Vec<zkpool_types::TaskId>) {
    let mut latencies = Vec::new();
    let mut failed = 0;
    let mut ids = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    while Instant::now() < deadline {
        tick.tick().await;
        let started = Instant::now();
        let r = c.submit(spec.clone()).await;
        counts.add(&r);
        match r {
            Ok(s) => {
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
                ids.push(s.task_id);
            }
            Err(e) => {
                failed += 1;
                tracing::warn!(error = %e, "the well-behaved requester's submit failed");
            }
        }
    }
    latencies.sort_by(|a, b| a.total_cmp(b));
    (latencies, failed, ids)
}

/// Runs the baseline and the flood and prints the table.
pub async fn run(seconds: u64, clients: usize) -> anyhow::Result<()> {
    anyhow::ensure!(
        (1..=600).contains(&seconds),
        "--flood-seconds must be 1 to 600"
    );
    anyhow::ensure!(
        (1..=200).contains(&clients),
        "--flood-clients must be 1 to 200"
    );
    let core = pin();
    match &core {
        Some(c) => eprintln!("the node runs on core {c}, the clients and provers on the others"),
        None => eprintln!("the node and the clients share the cores (no taskset, or one core)"),
    }
    eprintln!("baseline: one well-behaved requester and four provers for {seconds} s…");
    let base = one_run(seconds, None, core.as_deref()).await?;
    eprintln!(
        "flood: the same plus {clients} clients without a key and {clients} of one abusive requester…"
    );
    let flood = one_run(seconds, Some(clients), core.as_deref()).await?;
    let mut t = Table::new(&[
        "run",
        "responses/s",
        "200",
        "401",
        "429",
        "503",
        "submit p50",
        "submit p99",
        "polite ok/failed",
        "proved",
        "node peak RSS",
    ]);
    for (name, o) in [("baseline", &base), ("flood", &flood)] {
        let c = &o.counts;
        t.row(vec![
            name.to_string(),
            format!("{:.0}", c.total() as f64 / o.seconds),
            c.ok.load(Ordering::Relaxed).to_string(),
            c.unauthorized.load(Ordering::Relaxed).to_string(),
            c.limited.load(Ordering::Relaxed).to_string(),
            c.busy.load(Ordering::Relaxed).to_string(),
            format!("{:.1} ms", percentile(&o.latencies_ms, 0.5)),
            format!("{:.1} ms", percentile(&o.latencies_ms, 0.99)),
            format!("{}/{}", o.latencies_ms.len(), o.polite_failed),
            o.proved.to_string(),
            format!("{:.0} MiB", o.peak_rss_mib),
        ]);
    }
    println!("{t}");
    let p99 = |o: &Outcome| percentile(&o.latencies_ms, 0.99);
    println!(
        "well-behaved p99 under flood: {:.1} ms = {:.2}x baseline (target ≤ 2x); node peak RSS {:.0} MiB (target ≤ 512 MiB)",
        p99(&flood),
        p99(&flood) / p99(&base),
        flood.peak_rss_mib
    );
    Ok(())
}
