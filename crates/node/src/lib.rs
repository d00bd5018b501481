//! The pool node: requesters submit tasks, prover agents lease and prove them, the node
//! verifies every proof before a task is done.
//!
//! ```text
//!  requester ──PUT /v1/blobs──► blobs (sha256-addressed)
//!            ──POST /v1/tasks─► backend.inspect ──► tasks: queued
//!  prover    ──POST …/lease───► scheduler: oldest task it can take ──► leased(token n)
//!            ──POST …/heartbeat► lease extended (or revoked)
//!            ──POST …/result──► fence check ─► backend.verify ─► fence check + done (one tx)
//!                                                     └─invalid─► failure counted, re-queued
//!  reaper    every second: expired leases ──► re-queued (or failed when out of attempts)
//!            windows closed without a proof ──► claim; epoch ran its length ──► settle
//! ```
//!
//! A splittable task (Miden) is executed at submit, cut into segments that are tasks of their
//! own, and joined when the last segment is verified: see `split.rs`.
//!
//! Settlement (quotes, escrow, release, claims, epochs) is in `settlement.rs`; its endpoints
//! in `settlement_api.rs`. With `--settlement ethereum` the pool contract holds the money and
//! `onchain.rs` follows it and sends the fulfils.
//!
//! A service is `run(listener, node, shutdown)`; tests bind port 0 and run the real thing.

mod admin;
mod artifacts;
mod auth;
mod batcher;
mod clock;
mod compose;
mod dashboard;
mod epochs;
mod error;
mod extract;
pub mod gather;
mod guard;
mod install;
mod liability;
mod metrics;
pub mod onchain;
mod openapi;
mod prover_api;
mod requester_api;
mod scheduler;
mod serve;
pub mod settlement;
mod settlement_api;
mod shapes;
mod split;
mod verify;
pub mod wake;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use zkpool_backend::Backends;
use zkpool_store::{Completion, Grant, ProverRecord, Store};
use zkpool_types::TaskId;

pub use artifacts::ArtifactCache;
pub use auth::Caller;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery};
pub use guard::{GuardConfig, Rate};
pub use serve::ConnLimits;
pub use settlement::SettlementConfig;

/// The node's tunables. Defaults suit a single machine; every one is a `zkpool node` flag.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// How long a lease lives without a heartbeat.
    pub lease_ttl: Duration,
    /// The longest a lease can be kept alive by heartbeats; past it the task moves on even if
    /// the prover still heartbeats (a hung machine).
    pub max_lease: Duration,
    /// How often agents heartbeat (told to them at hello).
    pub heartbeat: Duration,
    /// Largest artifact upload accepted, bytes; larger ones are refused before buffering.
    pub max_upload_bytes: u64,
    /// Leases a task may have before it fails.
    pub max_attempts: u32,
    /// Longest a lease request may wait for work.
    pub max_long_poll: Duration,
    /// How often expired leases are swept (also: automatic claims, the epoch timer).
    pub reap_interval: Duration,
    /// Quotes, fees, bonds, penalties and epochs.
    pub settlement: SettlementConfig,
    /// Most trace rows in one segment of a split task, whatever the provers' memory.
    pub max_segment_rows: u64,
    /// Memory assumed for planning segments when no prover for the system is online, bytes.
    pub default_prover_memory: u64,
    /// Where the node reads the time: the system clock, or a test's [`ManualClock`].
    pub clock: Arc<dyn Clock>,
    /// Request budgets per key and address, and the cap on inspections at once.
    pub guard: GuardConfig,
    /// The listener's timeouts and connections per address.
    pub conn: ConnLimits,
    /// Most bytes the blobs one requester key uploaded may take together.
    pub requester_quota_bytes: u64,
    /// How long a blob no live task needs is kept after its last use.
    pub blob_retention: Duration,
    /// How often the collector looks for such blobs.
    pub gc_interval: Duration,
    /// Settle on the pool contract instead of the embedded ledger (`--settlement ethereum`).
    pub chain: Option<onchain::ChainConfig>,
    /// How long-polling provers hear that work is ready: this process's own wake-ups by
    /// default; replicas on one database share theirs through it.
    pub work_signal: Arc<dyn wake::WorkSignal>,
    /// The `zkpool` binary served to provers by `GET /v1/agent/zkpool` and `/install.sh`
    /// (`zkpool node` serves itself); `None`: not served.
    pub agent_binary: Option<std::path::PathBuf>,
    /// The URL provers reach this node at, written into `/install.sh` (`--public-url`);
    /// `None`: the host the installer was fetched from.
    pub public_url: Option<String>,
    /// Verify proofs of one verifier that arrive together in one batch (`batcher.rs`); off:
    /// each on its own (a benchmark's baseline).
    pub batch_verify: bool,
}

impl Default for NodeConfig {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(30),
            max_lease: Duration::from_secs(3600),
            heartbeat: Duration::from_secs(5),
            max_upload_bytes: 256 * 1024 * 1024,
            max_attempts: 3,
            max_long_poll: Duration::from_secs(20),
            reap_interval: Duration::from_secs(1),
            settlement: SettlementConfig::default(),
            max_segment_rows: 1 << 17,
            default_prover_memory: 4 << 30,
            clock: Arc::new(SystemClock),
            guard: GuardConfig::default(),
            conn: ConnLimits::default(),
            requester_quota_bytes: 4 << 30,
            blob_retention: Duration::from_secs(7 * 24 * 3600),
            gc_interval: Duration::from_secs(60),
            chain: None,
            agent_binary: None,
            public_url: None,
            batch_verify: true,
            work_signal: Arc::new(wake::LocalWake::default()),
        }
    }
}

/// The node's shared state.
#[derive(Debug)]
pub struct Node {
    /// Durable state.
    pub store: Arc<Store>,
    /// Proof systems the node can verify.
    pub backends: Backends,
    /// Tunables.
    pub config: NodeConfig,
    /// Woken when a task becomes leasable, so long-polling provers take it at once.
    work_ready: Arc<dyn wake::WorkSignal>,
    /// Woken when a task of this replica may have ended, so requesters long-polling it hear at
    /// once (a task another replica ended is seen at the next recheck).
    task_ended: wake::LocalWake,
    /// Cancelled at shutdown: ends long-polls and the reaper.
    shutdown: CancellationToken,
    artifacts: ArtifactCache,
    /// The ledger, quote nonces and epochs.
    settlement: settlement::Settlement,
    /// Request budgets and inspection permits.
    guard: guard::Guard,
    /// Shapes of tasks already inspected (a quote, then its submit).
    shapes: shapes::Shapes,
    /// When the blob collector last ran, by the node's clock (ms).
    last_gc_ms: std::sync::atomic::AtomicI64,
    /// Counters and histograms for `GET /metrics`.
    metrics: metrics::Metrics,
    /// The agent binary served to provers.
    agent: install::Agent,
    /// Queue depth sampled once a minute for the dashboard: (minute start, depth), an hour.
    queue_samples: std::sync::Mutex<std::collections::VecDeque<(i64, u64)>>,
    /// Verifies uploaded proofs, those of one verifier that arrive together in one batch.
    verifier: Arc<batcher::Batcher>,
    /// Lease requests that arrive together, leased in one transaction (`gather.rs`).
    leases: gather::Gather<ProverRecord, Result<Option<Grant>, ApiError>>,
    /// Verified proofs that arrive together, their tasks completed in one transaction.
    completions: gather::Gather<Completion, Result<TaskId, ApiError>>,
}

/// The most lease requests, or verified proofs, one transaction takes (`gather.rs`).
const GATHER_MAX: usize = 64;

/// Batches of one kind running at once. One: what arrives while a batch runs waits for the
/// next, so batches grow with the load. With more lanes they were smaller, not faster
/// (`zkpool bench --store`, PostgreSQL, 3 replicas, 64 provers: 4 lanes 932 /s, 2 lanes
/// 1,396 /s, 1 lane 1,520–2,061 /s); other replicas' batches run beside these anyway.
const GATHER_LANES: usize = 1;

impl Node {
    /// A node over `store` verifying with `backends`.
    pub fn new(store: Arc<Store>, backends: Backends, config: NodeConfig) -> Arc<Self> {
        Arc::new(Self {
            artifacts: ArtifactCache::new(store.clone(), 512 * 1024 * 1024),
            store,
            backends,
            work_ready: config.work_signal.clone(),
            task_ended: wake::LocalWake::default(),
            shutdown: CancellationToken::new(),
            settlement: settlement::Settlement::default(),
            guard: guard::Guard::new(config.guard.clone()),
            shapes: shapes::Shapes::new(16 << 20),
            last_gc_ms: std::sync::atomic::AtomicI64::new(i64::MIN),
            metrics: metrics::Metrics::new(),
            agent: install::Agent::default(),
            queue_samples: std::sync::Mutex::new(std::collections::VecDeque::new()),
            verifier: Arc::new(batcher::Batcher::new(config.batch_verify)),
            leases: gather::Gather::new(GATHER_LANES, GATHER_MAX),
            completions: gather::Gather::new(GATHER_LANES, GATHER_MAX),
            config,
        })
    }
}

impl Node {
    /// Leases a task to `prover` if there is one it may take now, in one transaction with
    /// the lease requests that arrive meanwhile (`liability::lease_many`).
    pub(crate) async fn lease_now(
        self: &Arc<Self>,
        prover: &ProverRecord,
    ) -> Result<Option<Grant>, ApiError> {
        let node = self.clone();
        let run = move |provers: Vec<ProverRecord>| {
            let node = node.clone();
            async move { liability::lease_many(&node, &provers).await }
        };
        self.leases
            .call(prover.clone(), run)
            .await
            .unwrap_or_else(|| Err(ApiError::internal("a batch of leases failed")))
    }

    /// Completes a task with its verified proof, in one transaction with the proofs verified
    /// meanwhile (`settlement::complete_many`).
    pub(crate) async fn complete(self: &Arc<Self>, c: Completion) -> Result<TaskId, ApiError> {
        let node = self.clone();
        let run = move |cs: Vec<Completion>| {
            let node = node.clone();
            async move { settlement::complete_many(&node, &cs).await }
        };
        self.completions
            .call(c, run)
            .await
            .unwrap_or_else(|| Err(ApiError::internal("a batch of completions failed")))
    }
}

impl Node {
    /// The current time by the node's clock.
    pub fn now_ms(&self) -> i64 {
        self.config.clock.now_ms()
    }

    /// One sweep of the reaper, as it runs every `reap_interval`: expired leases, split
    /// joins, automatic claims, the epoch timer. Tests that move a [`ManualClock`] call it
    /// instead of waiting for the next tick.
    pub async fn sweep(&self) {
        scheduler::sweep(self).await;
    }

    /// Removes the blobs no task needs any more (see [`Store::collect_blobs`]), in batches,
    /// now. The reaper runs it every `gc_interval`.
    pub async fn collect_blobs(&self) -> Result<zkpool_store::Collected, zkpool_store::StoreError> {
        let now = self.now_ms();
        self.last_gc_ms
            .store(now, std::sync::atomic::Ordering::Relaxed);
        let retention = i64::try_from(self.config.blob_retention.as_millis()).unwrap_or(i64::MAX);
        let mut total = zkpool_store::Collected::default();
        loop {
            let batch = self.store.collect_blobs(now, retention, 500).await?;
            total.blobs += batch.blobs;
            total.bytes += batch.bytes;
            if batch.blobs < 500 {
                break;
            }
        }
        if total.blobs > 0 {
            tracing::info!(
                blobs = total.blobs,
                bytes = total.bytes,
                "collected blobs no task needs"
            );
        }
        Ok(total)
    }

    /// Samples the queue depth when this minute has no sample yet (the reaper calls it).
    pub(crate) async fn sample_queue(&self) -> Result<(), zkpool_store::StoreError> {
        let minute = self.now_ms() / 60_000 * 60_000;
        let due = self
            .queue_samples
            .lock()
            .map(|q| q.back().is_none_or(|(m, _)| *m < minute))
            .unwrap_or(false);
        if due {
            let depth = self.store.queued_count().await?;
            if let Ok(mut q) = self.queue_samples.lock() {
                q.push_back((minute, depth));
                while q.front().is_some_and(|(m, _)| *m <= minute - 3_600_000) {
                    q.pop_front();
                }
            }
        }
        Ok(())
    }

    /// The queue samples of the last hour, oldest first.
    pub(crate) fn queue_history(&self) -> Vec<(i64, u64)> {
        self.queue_samples
            .lock()
            .map(|q| q.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Whether the collector is due.
    pub(crate) fn gc_due(&self) -> bool {
        let last = self.last_gc_ms.load(std::sync::atomic::Ordering::Relaxed);
        let every = i64::try_from(self.config.gc_interval.as_millis()).unwrap_or(i64::MAX);
        self.now_ms().saturating_sub(last) >= every
    }
}

/// Every route with its OpenAPI operation: `utoipa_axum::routes!` takes each path from the
/// handler's `#[utoipa::path]`, so the router and the document cannot disagree. Two parts: the
/// calls with a key (budgeted by key, see `auth.rs`) and the public pages (budgeted by
/// address, a layer `router` adds).
pub(crate) fn routes() -> (OpenApiRouter<Arc<Node>>, OpenApiRouter<Arc<Node>>) {
    use utoipa_axum::routes;
    let uploads = OpenApiRouter::new()
        .routes(routes!(requester_api::upload_blob))
        .layer(axum::extract::DefaultBodyLimit::disable());
    let mut public = OpenApiRouter::new()
        .routes(routes!(dashboard::page))
        .routes(routes!(dashboard::data))
        .routes(routes!(install::script))
        .routes(routes!(install::binary));
    openapi::anonymous(public.get_openapi_mut());
    let keyed = OpenApiRouter::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(healthz))
        .routes(routes!(metrics::scrape))
        .routes(routes!(admin::create_key, admin::list_keys))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(requester_api::get_blob, requester_api::head_blob))
        .routes(routes!(requester_api::submit))
        .routes(routes!(requester_api::task))
        .routes(routes!(requester_api::proof))
        .routes(routes!(admin::status))
        .routes(routes!(admin::me))
        .routes(routes!(prover_api::hello))
        .routes(routes!(prover_api::heartbeat))
        .routes(routes!(prover_api::lease))
        .routes(routes!(prover_api::result))
        .routes(routes!(prover_api::failure))
        .routes(routes!(settlement_api::quote))
        .routes(routes!(settlement_api::submit_quoted))
        .routes(routes!(settlement_api::claim))
        .routes(routes!(settlement_api::chain_info))
        .routes(routes!(settlement_api::submit_chain))
        .routes(routes!(settlement_api::chain_task))
        .routes(routes!(settlement_api::balance))
        .routes(routes!(settlement_api::rewards))
        .routes(routes!(settlement_api::withdraw))
        .routes(routes!(settlement_api::stake))
        .routes(routes!(settlement_api::unstake))
        .routes(routes!(settlement_api::summary))
        .routes(routes!(settlement_api::deposit))
        .routes(routes!(settlement_api::epochs))
        .routes(routes!(settlement_api::close_epoch))
        .merge(uploads);
    (keyed, public)
}

/// The HTTP routes, and `GET /openapi.json` describing them.
pub fn router(node: Arc<Node>) -> Router {
    let (keyed, public) = routes();
    let public = public.route_layer(axum::middleware::from_fn_with_state(
        node.clone(),
        guard::anonymous,
    ));
    let (api, mut doc) = keyed.merge(public).split_for_parts();
    openapi::complete(&mut doc);
    // Built once; each request shares the same bytes.
    let doc = bytes::Bytes::from(
        doc.to_json()
            .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}")),
    );
    let spec = move || {
        let doc = doc.clone();
        async move {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                doc,
            )
        }
    };
    let spec = Router::new().route("/openapi.json", get(spec)).route_layer(
        axum::middleware::from_fn_with_state(node.clone(), guard::anonymous),
    );
    api.merge(spec)
        .layer(axum::middleware::from_fn_with_state(
            node.clone(),
            metrics::count_requests,
        ))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(node)
}

/// `GET /healthz`: the process is up.
#[utoipa::path(get, path = "/healthz", tag = "public",
    responses((status = 200, description = "`ok`", content_type = "text/plain", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

/// Serves the node on `listener` until `shutdown` completes, with the lease reaper running
/// beside it. Returns once in-flight requests have finished.
pub async fn run(
    listener: TcpListener,
    node: Arc<Node>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: Option<SocketAddr> = listener.local_addr().ok();
    tracing::info!(?addr, "pool node listening");
    // Leases that ran out while this node was down get one TTL from now: the pool's own
    // downtime is nobody's fault, and no prover is penalised for it.
    let until = node.now_ms() + node.config.lease_ttl.as_millis() as i64;
    match node.store.grace_leases(until).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            leases = n,
            "open leases given one TTL of grace after the restart"
        ),
        Err(e) => tracing::error!(error = %e, "could not extend open leases after the restart"),
    }
    let reaper = tokio::spawn(scheduler::reap_forever(node.clone()));
    let follower = tokio::spawn(onchain::follow_forever(node.clone()));
    let cancel = node.shutdown.clone();
    let app = router(node.clone());
    let result = serve::serve(listener, app, node.config.conn, async move {
        shutdown.await;
        cancel.cancel();
    })
    .await;
    node.shutdown.cancel();
    let _ = reaper.await;
    let _ = follower.await;
    result
}
