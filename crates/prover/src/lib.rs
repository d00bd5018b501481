//! The prover agent: one per machine. It connects out to the pool (so it works behind NAT),
//! says what the machine is, and then, in `jobs` parallel loops, leases a task, fetches its
//! artifacts (cached by hash), proves it, and uploads the proof. A heartbeat loop keeps the
//! held leases alive. When the pool is away the agent says so and retries with backoff.
//! A [`Fault`] makes it misbehave on purpose, for rehearsals (`zkpool devnet`) and tests.
//!
//! ```text
//!  hello ──► [lease ─► fetch ─► prove ─► upload] × jobs
//!                 heartbeat every few seconds: extend leases, drop revoked ones
//! ```
//!
//! While a task proves, each loop leases the next one and fetches its artifacts shortly before
//! the proof is due to end (from this machine's measured pace, ms per unit of work), so that
//! the next proof starts as soon as the last one is uploaded, without holding a task idle for
//! long that another machine could be proving ([`look_ahead`]).

mod hardware;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;
use zkpool_backend::{Artifacts, BackendError, Backends, Blob};
use zkpool_client::{Client, ClientError};
use zkpool_types::api::{Hello, LeaseGrant, ReportKind, Welcome};
use zkpool_types::{BlobHash, LeaseId, ProverId, TaskId};

pub use hardware::{default_name, detect_hardware};

/// A fault the agent injects on purpose, to rehearse how the pool copes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Fault {
    /// Behave.
    #[default]
    None,
    /// Upload proofs with a flipped byte (the node must refuse them and re-lease the task).
    InvalidProofs,
    /// Take a lease and go silent on it: no heartbeat for it, no result, no report. The lease
    /// expires one TTL after it was granted and the task moves on. The job waits two TTLs
    /// (by then the pool has taken the task back) and leases again, to be silent again.
    Stall,
    /// Report every task's artifacts as unprovable without trying (a prover in league with a
    /// requester: the node must ask another key, and penalise this one when it is
    /// contradicted).
    FalseReports,
    /// Prove and check the proof as an honest agent does, then hold it for `hold` while
    /// heartbeating the lease (so the pool keeps it, up to its max lease), and upload it only
    /// then, even when the pool has taken the lease back meanwhile. With `hold` longer than
    /// the task's liability window the window closes first, and the node refuses the upload
    /// (`stale_lease`: the claim at the window's close withdrew the lease).
    Late {
        /// How long the proof is held before it is uploaded.
        hold: Duration,
    },
    /// Die mid-proof: once a task's artifacts are fetched, [`run`] ends at once with
    /// [`AgentError::Crashed`] and every loop is dropped without a goodbye, as when the
    /// process is killed. Heartbeats stop, so the lease expires one TTL later.
    Crash,
    /// Per lease, one behaviour drawn from an RNG seeded with `seed` (the same seed gives the
    /// same sequence of draws): [`Fault::None`] half of the time, else [`Fault::InvalidProofs`],
    /// [`Fault::Stall`] or [`Fault::Crash`]. Never late, so that another prover can always
    /// rescue the task within its window.
    Flaky {
        /// The RNG's seed.
        seed: u64,
    },
}

impl Fault {
    /// The behaviour for one lease: itself, or for [`Fault::Flaky`] a draw from `rng`.
    fn draw(self, rng: &mut StdRng) -> Fault {
        match self {
            Fault::Flaky { .. } => match rng.gen_range(0..6) {
                0..=2 => Fault::None,
                3 => Fault::InvalidProofs,
                4 => Fault::Stall,
                _ => Fault::Crash,
            },
            other => other,
        }
    }
}

/// What the agent did with a lease, for an observer ([`run_observed`]): the devnet's log,
/// tests. The pool's API shows the task's side; these show the prover's.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentEvent {
    /// A lease was granted; `behaviour` is what the agent does with it (for
    /// [`Fault::Flaky`], this lease's draw).
    Leased {
        /// The leased task.
        task: TaskId,
        /// What the agent does with it.
        behaviour: Fault,
    },
    /// A task was leased, and its artifacts fetched, while the previous one proved.
    Prefetched {
        /// The task leased ahead.
        task: TaskId,
    },
    /// The pool accepted the uploaded proof.
    ProofAccepted {
        /// The proved task.
        task: TaskId,
    },
    /// The pool refused the uploaded proof.
    ProofRefused {
        /// The task.
        task: TaskId,
        /// The pool's stable error code (`invalid_proof`, `stale_lease`, `window_closed`…).
        code: String,
    },
    /// The agent crashed on purpose ([`Fault::Crash`]) holding this task's lease.
    Crashed {
        /// The task whose lease was held.
        task: TaskId,
    },
}

/// How the agent runs.
#[derive(Clone, Debug)]
pub struct AgentConfig {
    /// The pool's URL, or several replicas' URLs separated by commas (failover order).
    pub pool: String,
    /// The prover access key.
    pub key: String,
    /// The machine's name on the dashboard.
    pub name: String,
    /// Tasks proved at once.
    pub jobs: u32,
    /// How long one lease request waits on the node for work.
    pub lease_wait: Duration,
    /// Deliberate misbehaviour, for rehearsals and tests.
    pub fault: Fault,
    /// The Ethereum account a pool that settles on chain credits this machine's rewards to.
    pub payout: Option<String>,
}

/// Why the agent stopped.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The pool refused the key or the machine (not retryable).
    #[error("the pool refused this agent: {0}")]
    Refused(ClientError),
    /// A setting is wrong.
    #[error("invalid agent configuration: {0}")]
    Config(String),
    /// The agent died mid-proof on purpose ([`Fault::Crash`]).
    #[error("the agent crashed mid-proof (fault injection)")]
    Crashed,
}

struct Shared {
    client: Client,
    backends: Backends,
    config: AgentConfig,
    prover: ProverId,
    active: Mutex<HashSet<LeaseId>>,
    revoked: Mutex<HashSet<LeaseId>>,
    /// Artifact bytes by hash: a circuit's key is fetched once per agent, not once per task.
    cache: Mutex<Fetched>,
    /// This machine's proving pace, ms per unit of work (a moving average), once it has
    /// proved something: when to lease ahead ([`look_ahead`]).
    pace: Mutex<Option<f64>>,
    /// How long the last artifact fetch took: how early to lease ahead.
    last_fetch: Mutex<Duration>,
    /// Draws [`Fault::Flaky`]'s behaviour per lease.
    rng: Mutex<StdRng>,
    /// Cancelled by [`Fault::Crash`]: `run` ends at once, dropping every loop.
    crashed: CancellationToken,
    /// Where [`AgentEvent`]s go, when someone watches.
    events: Option<UnboundedSender<AgentEvent>>,
}

impl Shared {
    fn emit(&self, event: AgentEvent) {
        if let Some(tx) = &self.events {
            let _ = tx.send(event);
        }
    }
}

/// Runs the agent until `shutdown` is cancelled or the pool refuses it.
pub async fn run(
    config: AgentConfig,
    backends: Backends,
    shutdown: CancellationToken,
) -> Result<(), AgentError> {
    run_observed(config, backends, shutdown, None).await
}

/// [`run`], sending what the agent does with each lease to `events`.
pub async fn run_observed(
    config: AgentConfig,
    backends: Backends,
    shutdown: CancellationToken,
    events: Option<UnboundedSender<AgentEvent>>,
) -> Result<(), AgentError> {
    if config.jobs == 0 {
        return Err(AgentError::Config("--jobs must be at least 1".into()));
    }
    let client =
        Client::new(&config.pool, &config.key).map_err(|e| AgentError::Config(e.to_string()))?;
    let mut hardware = detect_hardware(&config.name, backends.systems());
    hardware.jobs = config.jobs;
    let hello = Hello {
        hardware,
        payout: config.payout.clone(),
    };
    let Some(welcome) = connect(&client, &hello, &shutdown).await? else {
        return Ok(());
    };
    tracing::info!(prover = %welcome.prover_id, pool = %config.pool, name = %config.name,
        systems = ?backends.systems(), jobs = config.jobs, "connected to pool; waiting for work");
    let seed = match config.fault {
        Fault::Flaky { seed } => seed,
        _ => 0,
    };
    let shared = Arc::new(Shared {
        client,
        backends,
        prover: welcome.prover_id,
        config,
        active: Mutex::default(),
        revoked: Mutex::default(),
        cache: Mutex::new(Fetched::new(cache_budget(hello.hardware.memory_bytes))),
        pace: Mutex::new(None),
        last_fetch: Mutex::new(Duration::ZERO),
        rng: Mutex::new(StdRng::seed_from_u64(seed)),
        crashed: CancellationToken::new(),
        events,
    });
    let mut loops = tokio::task::JoinSet::new();
    loops.spawn(heartbeat_loop(
        shared.clone(),
        Duration::from_millis(welcome.heartbeat_ms.max(100)),
        shutdown.clone(),
    ));
    for _ in 0..shared.config.jobs {
        loops.spawn(work_loop(shared.clone(), shutdown.clone()));
    }
    tokio::select! {
        _ = async { while loops.join_next().await.is_some() {} } => {}
        // Returning drops the join set, which aborts every loop: no goodbye, no heartbeat.
        _ = shared.crashed.cancelled() => return Err(AgentError::Crashed),
    }
    tracing::info!(prover = %shared.prover, "agent stopped");
    Ok(())
}

/// Says hello until the pool answers; `None` when shut down first.
async fn connect(
    client: &Client,
    hello: &Hello,
    shutdown: &CancellationToken,
) -> Result<Option<Welcome>, AgentError> {
    let mut backoff = Backoff::default();
    loop {
        match client.hello(hello).await {
            Ok(w) => return Ok(Some(w)),
            Err(e) if e.is_retryable() => {
                let wait = backoff.after(&e);
                tracing::warn!(pool = client.base(), error = %e, retry_in_s = wait.as_secs_f32(), "pool unreachable; retrying");
                if sleep_or_shutdown(wait, shutdown).await {
                    return Ok(None);
                }
            }
            Err(e) => return Err(AgentError::Refused(e)),
        }
    }
}

async fn heartbeat_loop(s: Arc<Shared>, every: Duration, shutdown: CancellationToken) {
    loop {
        if sleep_or_shutdown(every, &shutdown).await {
            return;
        }
        let leases: Vec<LeaseId> = lock(&s.active).iter().copied().collect();
        match s.client.heartbeat(s.prover, leases).await {
            Ok(ack) => {
                for l in ack.revoked {
                    if lock(&s.active).contains(&l) {
                        tracing::warn!(lease = %l, "pool revoked a lease we hold; its result will be discarded");
                        lock(&s.revoked).insert(l);
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "heartbeat failed; pool unreachable?"),
        }
    }
}

/// A task leased while the previous one proved, its artifacts fetched (or the error).
struct Ahead {
    grant: LeaseGrant,
    artifacts: Result<Artifacts, ClientError>,
}

async fn work_loop(s: Arc<Shared>, shutdown: CancellationToken) {
    let mut backoff = Backoff::default();
    let mut ahead: Option<Ahead> = None;
    while !shutdown.is_cancelled() {
        let (g, fetched) = match ahead.take() {
            Some(a) => (a.grant, Some(a.artifacts)),
            None => {
                let grant = tokio::select! {
                    r = s.client.lease(s.prover, s.config.lease_wait) => r,
                    _ = shutdown.cancelled() => return,
                };
                match grant {
                    Ok(Some(g)) => {
                        backoff = Backoff::default();
                        lock(&s.active).insert(g.lease_id);
                        (g, None)
                    }
                    Ok(None) => continue,
                    Err(e) if e.is_retryable() => {
                        let wait = backoff.after(&e);
                        tracing::warn!(error = %e, retry_in_s = wait.as_secs_f32(), "cannot lease from the pool; retrying");
                        if sleep_or_shutdown(wait, &shutdown).await {
                            return;
                        }
                        continue;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "the pool refused a lease request; stopping this job loop");
                        return;
                    }
                }
            }
        };
        let proved = CancellationToken::new();
        let work = async {
            work_one(&s, &g, fetched).await;
            proved.cancel();
        };
        tokio::select! {
            ((), next) = async { tokio::join!(work, look_ahead(&s, &g, &proved)) } => ahead = next,
            _ = shutdown.cancelled() => {
                tracing::warn!(task = %g.task_id, "shutting down mid-task; the lease will expire and the task move on");
                return;
            }
        }
        lock(&s.active).remove(&g.lease_id);
        lock(&s.revoked).remove(&g.lease_id);
    }
    if let Some(a) = ahead {
        // Leased ahead but never started: give it back now rather than let it expire.
        lock(&s.active).remove(&a.grant.lease_id);
        let _ = s
            .client
            .report_failure(
                a.grant.lease_id,
                a.grant.token,
                "the agent shut down before proving it",
                ReportKind::ProverError,
            )
            .await;
    }
}

/// How long before the current proof is due to end the next task is leased, besides the
/// time the last fetch took: a lease round trip with room to spare.
const LEAD: Duration = Duration::from_millis(250);

/// Leases the next task while `g` proves, when the proof is due to end within [`LEAD`] plus
/// the last fetch's time (at once for tasks shorter than that), and fetches its artifacts; `None`
/// when `proved` comes first, when the pool has nothing queued right now (the loop then
/// long-polls as usual), before this machine has a pace, and in rehearsals with a fault.
/// A lease request once sent is always awaited: dropping it could lose a granted lease.
async fn look_ahead(s: &Shared, g: &LeaseGrant, proved: &CancellationToken) -> Option<Ahead> {
    if s.config.fault != Fault::None {
        return None;
    }
    let pace = (*lock(&s.pace))?;
    let expected = Duration::from_secs_f64(pace * g.work.max(1) as f64 / 1e3);
    let due = expected.saturating_sub(LEAD + *lock(&s.last_fetch));
    tokio::select! {
        _ = tokio::time::sleep(due) => {}
        _ = proved.cancelled() => return None,
    }
    if proved.is_cancelled() {
        return None;
    }
    let grant = match s.client.lease(s.prover, Duration::ZERO).await {
        Ok(Some(grant)) => grant,
        Ok(None) => return None,
        Err(e) => {
            tracing::debug!(error = %e, "could not lease ahead; the loop leases after this task");
            return None;
        }
    };
    lock(&s.active).insert(grant.lease_id);
    let artifacts = fetch_artifacts(s, &grant).await;
    tracing::info!(task = %grant.task_id, while_proving = %g.task_id, "leased the next task ahead; artifacts fetched");
    s.emit(AgentEvent::Prefetched {
        task: grant.task_id,
    });
    Some(Ahead { grant, artifacts })
}

/// Proves leased task `g` and uploads its proof; `fetched`: its artifacts, when they were
/// fetched ahead.
async fn work_one(s: &Shared, g: &LeaseGrant, fetched: Option<Result<Artifacts, ClientError>>) {
    let behaviour = s.config.fault.draw(&mut lock(&s.rng));
    s.emit(AgentEvent::Leased {
        task: g.task_id,
        behaviour,
    });
    tracing::info!(task = %g.task_id, label = ?g.label, system = %g.system, work = g.work, "leased task; proving");
    if behaviour == Fault::Stall {
        // Out of the heartbeats: the pool hears nothing more of this lease.
        lock(&s.active).remove(&g.lease_id);
        tracing::warn!(task = %g.task_id, "fault injection: silent on this lease (no heartbeat, no result)");
        tokio::time::sleep(Duration::from_millis(g.ttl_ms.saturating_mul(2))).await;
        return;
    }
    if behaviour == Fault::FalseReports {
        tracing::warn!(task = %g.task_id, "fault injection: reporting good artifacts as unprovable");
        let _ = s
            .client
            .report_failure(
                g.lease_id,
                g.token,
                "fault injection: artifacts called unprovable without trying",
                ReportKind::ArtifactFault,
            )
            .await;
        return;
    }
    let fetched = match fetched {
        Some(f) => f,
        None => fetch_artifacts(s, g).await,
    };
    let artifacts = match fetched {
        Ok(a) => a,
        Err(e) => {
            tracing::warn!(task = %g.task_id, error = %e, "could not fetch artifacts");
            let _ = s
                .client
                .report_failure(
                    g.lease_id,
                    g.token,
                    &format!("artifact download failed: {e}"),
                    ReportKind::ProverError,
                )
                .await;
            return;
        }
    };
    if behaviour == Fault::Crash {
        tracing::error!(task = %g.task_id, "fault injection: crashing mid-proof");
        s.emit(AgentEvent::Crashed { task: g.task_id });
        s.crashed.cancel();
        return std::future::pending().await;
    }
    let Some(backend) = s.backends.get(g.system).cloned() else {
        let _ = s
            .client
            .report_failure(
                g.lease_id,
                g.token,
                &format!("no {} backend on this agent", g.system),
                ReportKind::ProverError,
            )
            .await;
        return;
    };
    let started = Instant::now();
    // Prove, then check the proof against the task's statement before uploading: an honest
    // agent never uploads a proof it knows is false (that would cost its collateral). When
    // its own proof of valid-looking artifacts does not verify, the artifacts are at fault
    // (a proving key with wrong points, say), and it says so instead.
    let statement = g.statement.clone();
    let proved = tokio::task::spawn_blocking(move || {
        let proof = backend.prove(&artifacts)?;
        let checked = if statement.is_empty() {
            Ok(())
        } else {
            backend.verify(&artifacts, &statement, &proof)
        };
        Ok::<_, BackendError>((proof, checked))
    })
    .await;
    let prove_ms = started.elapsed().as_millis() as u64;
    let proof = match proved {
        Ok(Ok((p, Ok(())))) => {
            let this = started.elapsed().as_secs_f64() * 1e3 / g.work.max(1) as f64;
            let mut pace = lock(&s.pace);
            *pace = Some(pace.map_or(this, |p| (p + this) / 2.0));
            p
        }
        Ok(Ok((_, Err(e)))) => {
            let e = BackendError::Mismatch(format!(
                "the proof made from these artifacts does not verify against the task's \
                 statement ({e}): the artifacts cannot be proved as given"
            ));
            return give_back(s, g, &e).await;
        }
        Ok(Err(e)) => return give_back(s, g, &e).await,
        Err(join) => {
            return give_back(
                s,
                g,
                &BackendError::Internal(format!("prover thread died: {join}")),
            )
            .await
        }
    };
    if let Fault::Late { hold } = behaviour {
        tracing::warn!(task = %g.task_id, hold_s = hold.as_secs_f32(), "fault injection: holding the proof before uploading it, whatever the pool says");
        tokio::time::sleep(hold).await;
    } else if lock(&s.revoked).contains(&g.lease_id) {
        tracing::warn!(task = %g.task_id, "lease was revoked while proving; not uploading");
        return;
    }
    let mut bytes = proof.0;
    if behaviour == Fault::InvalidProofs {
        tamper(&mut bytes);
    }
    upload(s, g, prove_ms, bytes).await;
}

/// Gives the task back with a report: an error of this machine (another prover should try),
/// or, for an error that no prover could avoid, an artifact fault.
async fn give_back(s: &Shared, g: &LeaseGrant, e: &BackendError) {
    let kind = if e.is_retryable() {
        ReportKind::ProverError
    } else {
        ReportKind::ArtifactFault
    };
    tracing::warn!(task = %g.task_id, error = %e, ?kind, "proving failed; giving the task back");
    if let Err(err) = s
        .client
        .report_failure(g.lease_id, g.token, &e.to_string(), kind)
        .await
    {
        tracing::warn!(task = %g.task_id, error = %err, "could not report the failure; the lease will expire");
    }
}

async fn upload(s: &Shared, g: &LeaseGrant, prove_ms: u64, bytes: Vec<u8>) {
    let mut backoff = Backoff::default();
    for _ in 0..6 {
        match s
            .client
            .upload_result(g.lease_id, g.token, prove_ms, bytes.clone())
            .await
        {
            Ok(ok) => {
                tracing::info!(task = %g.task_id, prove_ms, verify_ms = ok.verify_ms, "proof accepted");
                s.emit(AgentEvent::ProofAccepted { task: g.task_id });
                return;
            }
            Err(e) if e.is_retryable() => {
                let wait = backoff.after(&e);
                tracing::warn!(task = %g.task_id, error = %e, retry_in_s = wait.as_secs_f32(), "upload failed; retrying");
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                tracing::warn!(task = %g.task_id, error = %e, "proof not accepted");
                s.emit(AgentEvent::ProofRefused {
                    task: g.task_id,
                    code: e.code().unwrap_or("none").to_string(),
                });
                return;
            }
        }
    }
    tracing::warn!(task = %g.task_id, "giving up on this upload; the lease will expire and the task move on");
}

async fn fetch_artifacts(s: &Shared, g: &LeaseGrant) -> Result<Artifacts, ClientError> {
    let started = Instant::now();
    let out = fetch_each(s, g).await;
    *lock(&s.last_fetch) = started.elapsed();
    out
}

async fn fetch_each(s: &Shared, g: &LeaseGrant) -> Result<Artifacts, ClientError> {
    let mut out = Artifacts::default();
    for (role, hash) in &g.artifacts {
        let cached = lock(&s.cache).get(hash);
        let bytes = match cached {
            Some(b) => b,
            None => {
                let b: Arc<[u8]> = s.client.download(hash).await?.into();
                lock(&s.cache).keep(*hash, b.clone());
                b
            }
        };
        out.insert(*role, Blob { hash: *hash, bytes });
    }
    Ok(out)
}

/// The artifact cache's budget: a quarter of the machine's memory, at least 256 MiB. A zkey
/// of a million constraints is half a gigabyte, so a machine that can prove one keeps it.
fn cache_budget(memory_bytes: u64) -> usize {
    usize::try_from(memory_bytes / 4)
        .unwrap_or(usize::MAX)
        .max(256 << 20)
}

/// Downloaded artifacts by hash, bounded in bytes, least recently used out first.
struct Fetched {
    blobs: HashMap<BlobHash, (Arc<[u8]>, u64)>,
    bytes: usize,
    budget: usize,
    clock: u64,
}

impl Fetched {
    fn new(budget: usize) -> Self {
        Self {
            blobs: HashMap::new(),
            bytes: 0,
            budget,
            clock: 0,
        }
    }

    fn get(&mut self, hash: &BlobHash) -> Option<Arc<[u8]>> {
        self.clock += 1;
        let clock = self.clock;
        self.blobs.get_mut(hash).map(|(b, used)| {
            *used = clock;
            b.clone()
        })
    }

    /// Keeps `bytes` unless they alone exceed the budget, dropping the least recently used
    /// until they fit.
    fn keep(&mut self, hash: BlobHash, bytes: Arc<[u8]>) {
        if bytes.len() > self.budget || self.blobs.contains_key(&hash) {
            return;
        }
        while self.bytes + bytes.len() > self.budget {
            let Some(oldest) = self
                .blobs
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(h, _)| *h)
            else {
                break;
            };
            if let Some((b, _)) = self.blobs.remove(&oldest) {
                self.bytes -= b.len();
            }
        }
        self.clock += 1;
        self.bytes += bytes.len();
        self.blobs.insert(hash, (bytes, self.clock));
    }
}

/// Makes a well-formed but false proof: for snarkjs JSON, swaps the `pi_a` and `pi_c` points
/// (both valid curve points), so the node's pairing check, not its parser, refuses it. Other
/// formats get one byte flipped.
fn tamper(bytes: &mut Vec<u8>) {
    if let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(bytes) {
        if let Some(p) = v.get_mut("proof").and_then(|p| p.as_object_mut()) {
            if let (Some(a), Some(c)) = (p.remove("pi_a"), p.remove("pi_c")) {
                p.insert("pi_a".into(), c);
                p.insert("pi_c".into(), a);
                if let Ok(out) = serde_json::to_vec(&v) {
                    *bytes = out;
                    return;
                }
            }
        }
    }
    if let Some(b) = bytes.last_mut() {
        *b ^= 1;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Returns true when shut down during the sleep.
async fn sleep_or_shutdown(d: Duration, shutdown: &CancellationToken) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.cancelled() => true,
    }
}

/// Exponential backoff from 0.5 s to 30 s with jitter.
#[derive(Debug)]
struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(Duration::from_millis(500))
    }
}

impl Backoff {
    /// The wait before retrying after `e`: the next backoff step, or longer when the pool
    /// said how long (`Retry-After` on 429 and 503).
    fn after(&mut self, e: &ClientError) -> Duration {
        let step = self.next();
        e.retry_after().map_or(step, |asked| asked.max(step))
    }

    fn next(&mut self) -> Duration {
        let now = self.0;
        self.0 = (self.0 * 2).min(Duration::from_secs(30));
        let jitter = rand::random::<f64>() * 0.2 + 0.9;
        now.mul_f64(jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_artifact_cache_stays_within_its_bytes_dropping_the_least_recently_used() {
        let blob = |n: u8, len: usize| (BlobHash::of(&[n]), Arc::<[u8]>::from(vec![n; len]));
        let mut c = Fetched::new(100);
        let (a, b, d) = (blob(1, 40), blob(2, 40), blob(3, 40));
        c.keep(a.0, a.1.clone());
        c.keep(b.0, b.1.clone());
        assert!(c.get(&a.0).is_some(), "a used after b");
        c.keep(d.0, d.1.clone());
        assert!(
            c.get(&b.0).is_none(),
            "b, the least recently used, made room"
        );
        assert!(c.get(&a.0).is_some() && c.get(&d.0).is_some());
        assert_eq!(c.bytes, 80);
        let huge = blob(4, 101);
        c.keep(huge.0, huge.1);
        assert!(c.get(&huge.0).is_none(), "larger than the budget: not kept");
        assert_eq!(c.bytes, 80);
        assert_eq!(cache_budget(1 << 30), 256 << 20);
        assert_eq!(cache_budget(64 << 30), 16 << 30);
    }

    #[test]
    fn backoff_grows_and_caps() {
        let mut b = Backoff::default();
        let first = b.next();
        assert!(first >= Duration::from_millis(450) && first <= Duration::from_millis(550));
        for _ in 0..20 {
            b.next();
        }
        assert!(b.next() <= Duration::from_secs(33));
    }

    #[test]
    fn flaky_draws_repeat_with_the_seed_and_cover_every_behaviour() {
        let draws = |seed| {
            let mut rng = StdRng::seed_from_u64(seed);
            (0..64)
                .map(|_| Fault::Flaky { seed }.draw(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
        for f in [
            Fault::None,
            Fault::InvalidProofs,
            Fault::Stall,
            Fault::Crash,
        ] {
            assert!(draws(7).contains(&f), "{f:?} never drawn");
        }
        assert!(!draws(7)
            .iter()
            .any(|f| matches!(f, Fault::Late { .. } | Fault::Flaky { .. })));
        let mut rng = StdRng::seed_from_u64(0);
        assert_eq!(Fault::Stall.draw(&mut rng), Fault::Stall);
    }

    #[test]
    fn tamper_swaps_points_and_keeps_json() {
        let mut p =
            br#"{"proof":{"pi_a":["1","2","1"],"pi_c":["3","4","1"]},"public":["5"]}"#.to_vec();
        tamper(&mut p);
        let v: serde_json::Value = serde_json::from_slice(&p).unwrap();
        assert_eq!(v["proof"]["pi_a"][0], "3");
        assert_eq!(v["proof"]["pi_c"][0], "1");
        let mut raw = b"abc".to_vec();
        tamper(&mut raw);
        assert_eq!(raw, b"abb");
    }
}
