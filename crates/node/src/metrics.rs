//! Prometheus metrics (`GET /metrics`, admin key): what the node did since it started, and what
//! the database holds now.
//!
//! Two kinds, one registry per node (tests run several nodes in one process, so nothing is
//! global):
//! - **events**, counted as they happen in this process: HTTP requests by route and status,
//!   the wait of every lease request, enqueue-to-lease latency, prove and verify time per proof
//!   system, proofs verified and refused, quotes issued and refused;
//! - **state**, read from the store at each scrape, so it is the pool's truth whichever
//!   replica answers: tasks by state and by cause, queue depth, provers online, ledger totals
//!   by kind of account.
//!
//! Admin only: refusal counts by code and per-route traffic tell an attacker whether a probe
//! is being noticed, and the ledger totals are the pool's books. Prometheus sends the admin key
//! as a bearer token (`authorization: { credentials_file: … }`).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use zkpool_types::api::Role;
use zkpool_types::{ProofSystem, TaskCause, TaskState};

use crate::admin::online_window;
use crate::{ApiError, Caller, Node};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SystemLabels {
    system: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProofLabels {
    system: &'static str,
    verdict: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct QuoteLabels {
    settlement: &'static str,
    outcome: &'static str,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WaitLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CauseLabels {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AccountLabels {
    kind: String,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Seconds from 1 ms to about 9 hours, doubling.
fn seconds() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 25))
}

/// The node's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    http: Family<HttpLabels, Counter>,
    lease_wait: Histograms<WaitLabels>,
    enqueue_to_lease: Histogram,
    prove: Histograms<SystemLabels>,
    verify: Histograms<SystemLabels>,
    proofs: Family<ProofLabels, Counter>,
    quotes: Family<QuoteLabels, Counter>,
    tasks: Family<StateLabels, Gauge>,
    ended: Family<CauseLabels, Gauge>,
    queue_depth: Gauge,
    provers_online: Gauge,
    provers_known: Gauge,
    balances: Family<AccountLabels, Gauge>,
    deposited: Gauge,
    withdrawn: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every metric, registered under the `zkpool_` prefix.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("zkpool");
        let m = Metrics {
            http: Family::default(),
            lease_wait: Family::new_with_constructor(seconds),
            enqueue_to_lease: seconds(),
            prove: Family::new_with_constructor(seconds),
            verify: Family::new_with_constructor(seconds),
            proofs: Family::default(),
            quotes: Family::default(),
            tasks: Family::default(),
            ended: Family::default(),
            queue_depth: Gauge::default(),
            provers_online: Gauge::default(),
            provers_known: Gauge::default(),
            balances: Family::default(),
            deposited: Gauge::default(),
            withdrawn: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            m.http.clone(),
        );
        registry.register(
            "lease_wait_seconds",
            "How long a prover's lease request waited: granted a task, or none came",
            m.lease_wait.clone(),
        );
        registry.register(
            "enqueue_to_lease_seconds",
            "From a task being queued (or re-queued) to its lease",
            m.enqueue_to_lease.clone(),
        );
        registry.register(
            "prove_seconds",
            "Prove time of verified proofs as the prover reported it, by proof system",
            m.prove.clone(),
        );
        registry.register(
            "verify_seconds",
            "The node's verification of uploaded proofs, by proof system",
            m.verify.clone(),
        );
        registry.register(
            "proofs",
            "Uploaded proofs by proof system and verdict (verified or refused)",
            m.proofs.clone(),
        );
        registry.register(
            "quotes",
            "Quote requests by settlement and outcome (issued, or refused with its code)",
            m.quotes.clone(),
        );
        registry.register("tasks", "Tasks by state, now", m.tasks.clone());
        registry.register(
            "tasks_ended",
            "Ended tasks by cause of their end, now",
            m.ended.clone(),
        );
        registry.register(
            "queue_depth",
            "Tasks and segments queued and waiting for a prover, now",
            m.queue_depth.clone(),
        );
        registry.register(
            "provers_online",
            "Prover machines that heartbeated within three intervals, now",
            m.provers_online.clone(),
        );
        registry.register(
            "provers_known",
            "Prover machines that ever said hello",
            m.provers_known.clone(),
        );
        registry.register(
            "ledger_balance_units",
            "Embedded-ledger balances summed by kind of account, in base units (6 decimals)",
            m.balances.clone(),
        );
        registry.register(
            "ledger_deposited_units",
            "Everything deposited into the embedded ledger, in base units",
            m.deposited.clone(),
        );
        registry.register(
            "ledger_withdrawn_units",
            "Everything withdrawn from the embedded ledger, in base units",
            m.withdrawn.clone(),
        );
        Metrics { registry, ..m }
    }

    /// A lease request that waited `waited` and got a task (or not).
    pub(crate) fn lease_waited(&self, waited: Duration, granted: bool) {
        let outcome = if granted { "granted" } else { "empty" };
        self.lease_wait
            .get_or_create(&WaitLabels { outcome })
            .observe(waited.as_secs_f64());
    }

    /// A task leased `ms` after it was queued.
    pub(crate) fn leased_after(&self, ms: i64) {
        self.enqueue_to_lease.observe(ms.max(0) as f64 / 1_000.0);
    }

    /// An uploaded proof checked in `verify_ms`: `prove_ms` is counted for valid ones only.
    pub(crate) fn proof_checked(
        &self,
        system: ProofSystem,
        valid: bool,
        prove_ms: u64,
        verify_ms: u64,
    ) {
        let system = system.as_str();
        let verdict = if valid { "verified" } else { "refused" };
        self.proofs
            .get_or_create(&ProofLabels { system, verdict })
            .inc();
        self.verify
            .get_or_create(&SystemLabels { system })
            .observe(verify_ms as f64 / 1_000.0);
        if valid {
            self.prove
                .get_or_create(&SystemLabels { system })
                .observe(prove_ms as f64 / 1_000.0);
        }
    }

    /// A quote request's outcome: `Ok` issued, `Err` refused with the error's code.
    pub(crate) fn quoted<T>(&self, settlement: &'static str, r: &Result<T, ApiError>) {
        let (outcome, code) = match r {
            Ok(_) => ("issued", String::new()),
            Err(e) => ("refused", e.code().to_string()),
        };
        self.quotes
            .get_or_create(&QuoteLabels {
                settlement,
                outcome,
                code,
            })
            .inc();
    }

    fn request(&self, route: String, method: String, status: StatusCode) {
        self.http
            .get_or_create(&HttpLabels {
                route,
                method,
                status: status.as_u16(),
            })
            .inc();
    }
}

/// Middleware: counts every response by its route template (never the raw path, which
/// would give every task id its own series).
pub(crate) async fn count_requests(
    State(node): State<Arc<Node>>,
    req: Request,
    next: Next,
) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let res = next.run(req).await;
    node.metrics.request(route, method, res.status());
    res
}

/// Reads the state gauges from the store.
async fn refresh(node: &Node) -> Result<(), ApiError> {
    let m = &node.metrics;
    let by_state = node.store.count_tasks_by_state().await?;
    for state in TaskState::ALL {
        let n = by_state.get(state.as_str()).copied().unwrap_or(0);
        m.tasks
            .get_or_create(&StateLabels {
                state: state.as_str(),
            })
            .set(n as i64);
    }
    m.queue_depth.set(node.store.queued_count().await? as i64);
    let by_cause = node.store.count_tasks_by_cause().await?;
    for cause in TaskCause::ALL {
        let n = by_cause.get(cause.code()).copied().unwrap_or(0);
        m.ended
            .get_or_create(&CauseLabels {
                cause: cause.code(),
            })
            .set(n as i64);
    }
    let provers = node
        .store
        .list_provers(node.now_ms(), online_window(node))
        .await?;
    m.provers_known.set(provers.len() as i64);
    m.provers_online
        .set(provers.iter().filter(|p| p.online).count() as i64);
    if node.config.chain.is_none() {
        let books = node
            .settlement
            .books(&node.store, &node.config.settlement)
            .await?;
        let mut kinds: BTreeMap<String, u128> = BTreeMap::new();
        for (account, balance) in books.ledger.balances() {
            let name = account.to_string();
            let kind = name.split(':').next().unwrap_or("other").to_string();
            *kinds.entry(kind).or_default() += balance.base_units();
        }
        m.balances.clear();
        for (kind, units) in kinds {
            m.balances
                .get_or_create(&AccountLabels { kind })
                .set(gauge(units));
        }
        m.deposited
            .set(gauge(books.ledger.deposited().base_units()));
        m.withdrawn
            .set(gauge(books.ledger.withdrawn().base_units()));
    }
    Ok(())
}

fn gauge(units: u128) -> i64 {
    i64::try_from(units).unwrap_or(i64::MAX)
}

/// `GET /metrics` (admin): the OpenMetrics text exposition.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "admin",
    security(("key" = [])),
    responses(
        (status = 200, description = "Prometheus metrics in the OpenMetrics text format", content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8", body = String),
    )
)]
pub async fn scrape(State(node): State<Arc<Node>>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin])?;
    refresh(&node).await?;
    let mut body = String::new();
    prometheus_client::encoding::text::encode(&mut body, &node.metrics.registry)
        .map_err(ApiError::internal)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response())
}
