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
//! in `settlement_api.rs`.
//!
//! A service is `run(listener, node, shutdown)`; tests bind port 0 and run the real thing.

mod admin;
mod artifacts;
mod auth;
mod clock;
mod dashboard;
mod epochs;
mod error;
mod extract;
mod liability;
mod prover_api;
mod requester_api;
mod scheduler;
pub mod settlement;
mod settlement_api;
mod split;
mod verify;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::routing::{get, post, put};
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use zkpool_backend::Backends;
use zkpool_store::Store;

pub use artifacts::ArtifactCache;
pub use auth::Caller;
pub use clock::{Clock, ManualClock, SystemClock};
pub use error::ApiError;
pub use extract::{ApiJson, ApiQuery};
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
    work_ready: Notify,
    /// Cancelled at shutdown: ends long-polls and the reaper.
    shutdown: CancellationToken,
    artifacts: ArtifactCache,
    /// The ledger, quote nonces and epochs.
    settlement: settlement::Settlement,
}

impl Node {
    /// A node over `store` verifying with `backends`.
    pub fn new(store: Arc<Store>, backends: Backends, config: NodeConfig) -> Arc<Self> {
        Arc::new(Self {
            artifacts: ArtifactCache::new(store.clone(), 512 * 1024 * 1024),
            store,
            backends,
            config,
            work_ready: Notify::new(),
            shutdown: CancellationToken::new(),
            settlement: settlement::Settlement::default(),
        })
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
}

/// The HTTP routes.
pub fn router(node: Arc<Node>) -> Router {
    let uploads = Router::new()
        .route("/v1/blobs", put(requester_api::upload_blob))
        .layer(axum::extract::DefaultBodyLimit::disable());
    Router::new()
        .route("/", get(dashboard::page))
        .route("/healthz", get(|| async { "ok" }))
        .route("/v1/dashboard", get(dashboard::data))
        .route("/v1/keys", post(admin::create_key).get(admin::list_keys))
        .route("/v1/keys/{id}/revoke", post(admin::revoke_key))
        .route(
            "/v1/blobs/{hash}",
            get(requester_api::get_blob).head(requester_api::head_blob),
        )
        .route("/v1/tasks", post(requester_api::submit))
        .route("/v1/tasks/{id}", get(requester_api::task))
        .route("/v1/tasks/{id}/proof", get(requester_api::proof))
        .route("/v1/status", get(admin::status))
        .route("/v1/provers/hello", post(prover_api::hello))
        .route("/v1/provers/{id}/heartbeat", post(prover_api::heartbeat))
        .route("/v1/provers/{id}/lease", post(prover_api::lease))
        .route("/v1/leases/{id}/result", post(prover_api::result))
        .route("/v1/leases/{id}/failure", post(prover_api::failure))
        .route("/v1/quotes", post(settlement_api::quote))
        .route("/v1/tasks/quoted", post(settlement_api::submit_quoted))
        .route("/v1/tasks/{id}/claim", post(settlement_api::claim))
        .route("/v1/balance", get(settlement_api::balance))
        .route("/v1/rewards", get(settlement_api::rewards))
        .route("/v1/withdraw", post(settlement_api::withdraw))
        .route("/v1/stake", post(settlement_api::stake))
        .route("/v1/unstake", post(settlement_api::unstake))
        .route("/v1/ledger", get(settlement_api::summary))
        .route("/v1/ledger/deposit", post(settlement_api::deposit))
        .route("/v1/epochs", get(settlement_api::epochs))
        .route("/v1/epochs/close", post(settlement_api::close_epoch))
        .merge(uploads)
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(node)
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
    let cancel = node.shutdown.clone();
    let app = router(node.clone());
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing in-flight requests");
            cancel.cancel();
        })
        .await;
    node.shutdown.cancel();
    let _ = reaper.await;
    result
}
