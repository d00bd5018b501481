//! What keeps one caller from taking the node from everyone else:
//!
//! ```text
//!   every keyed request ──► the key's token bucket (rate and burst by role) ──empty──► 429
//!   failed auth, public pages ──► the source address's bucket ───────────────empty──► 429
//!   submits and quotes ──► a permit of `max_inspections` ──────────────none left──► 503
//! ```
//!
//! Both refusals carry `Retry-After` (seconds): when the bucket holds a token again, or one
//! second for a busy node. A 429 is held for `tarpit` before it is sent, so a client retrying
//! in a loop waits instead of spinning the node. One key may hold half the inspection permits. Buckets run on the node's clock, so tests move a `ManualClock`
//! instead of sleeping. Connection limits (idle and header timeouts, connections per address)
//! are the listener's, in `serve.rs`.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::{ConnectInfo, Request, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use zkpool_types::api::Role;
use zkpool_types::KeyId;

use crate::{ApiError, Node};

/// A token bucket's shape: `per_second` tokens flow in, at most `burst` are kept.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rate {
    /// Sustained requests per second.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

impl Rate {
    /// `per_second` sustained, `burst` at once.
    pub const fn new(per_second: f64, burst: u32) -> Self {
        Self { per_second, burst }
    }
}

/// The request budgets and the inspection cap.
#[derive(Clone, Debug)]
pub struct GuardConfig {
    /// Per requester key. Submits, quotes, polls of a task and uploads each take one token.
    pub requester: Rate,
    /// Per prover key: hello, heartbeats, lease polls, results, artifact downloads.
    pub prover: Rate,
    /// Per admin key.
    pub admin: Rate,
    /// Per source address, for requests whose key is missing or unknown, and the public
    /// dashboard.
    pub anonymous: Rate,
    /// Inspections (the backend checks behind submits and quotes) running at once; past it
    /// the node answers 503. One key may hold at most half of them (at least one), so one
    /// requester cannot take them all.
    pub max_inspections: usize,
    /// How long a 429 is held before it is sent: a client that retries in a tight loop then
    /// costs the node a sleeping task per connection instead of a core.
    pub tarpit: std::time::Duration,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            requester: Rate::new(20.0, 200),
            prover: Rate::new(50.0, 500),
            admin: Rate::new(100.0, 1000),
            anonymous: Rate::new(10.0, 50),
            max_inspections: 4,
            tarpit: std::time::Duration::from_secs(1),
        }
    }
}

impl GuardConfig {
    /// The budget of a key of `role`.
    pub fn rate(&self, role: Role) -> Rate {
        match role {
            Role::Requester => self.requester,
            Role::Prover => self.prover,
            Role::Admin => self.admin,
        }
    }
}

/// Who a bucket belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Who {
    Key(KeyId),
    Addr(IpAddr),
}

#[derive(Clone, Copy, Debug)]
struct Bucket {
    tokens: f64,
    at_ms: i64,
}

/// Buckets kept before full ones (the same as none) are dropped.
const BUCKETS: usize = 10_000;

/// The node's buckets and inspection permits.
#[derive(Debug)]
pub(crate) struct Guard {
    config: GuardConfig,
    buckets: Mutex<HashMap<Who, Bucket>>,
    inspections: Arc<Semaphore>,
    /// Inspections running per key.
    running: Arc<Mutex<HashMap<KeyId, usize>>>,
}

/// A running inspection: its node-wide permit and its place in the key's share, both given
/// back when it is dropped.
#[derive(Debug)]
pub(crate) struct Inspection {
    _permit: OwnedSemaphorePermit,
    key: KeyId,
    running: Arc<Mutex<HashMap<KeyId, usize>>>,
}

impl Drop for Inspection {
    fn drop(&mut self) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = running.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                running.remove(&self.key);
            }
        }
    }
}

impl Guard {
    pub fn new(config: GuardConfig) -> Self {
        Self {
            inspections: Arc::new(Semaphore::new(config.max_inspections.max(1))),
            config,
            buckets: Mutex::new(HashMap::new()),
            running: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Takes one token from key `key`'s bucket, or says when there will be one.
    pub fn charge_key(&self, key: KeyId, role: Role, now_ms: i64) -> Result<(), ApiError> {
        self.take(Who::Key(key), self.config.rate(role), now_ms)
            .map_err(|wait| too_many(wait, "this key"))
    }

    /// Takes one token from the bucket of the address a request came from.
    pub fn charge_addr(&self, addr: IpAddr, now_ms: i64) -> Result<(), ApiError> {
        self.take(Who::Addr(addr), self.config.anonymous, now_ms)
            .map_err(|wait| too_many(wait, "this address"))
    }

    /// A permit for `key` to run one inspection, held until it is dropped; 503 when all are
    /// taken, or when the key holds its share already.
    pub fn inspection(&self, key: KeyId) -> Result<Inspection, ApiError> {
        let busy = |why: String| {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "busy", why).retry_after(1)
        };
        let share = (self.config.max_inspections / 2).max(1);
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        let mine = running.entry(key).or_insert(0);
        if *mine >= share {
            return Err(busy(format!(
                "this key has {share} task checks running already; retry shortly"
            )));
        }
        let permit = self.inspections.clone().try_acquire_owned().map_err(|_| {
            busy(format!(
                "the node is checking {} tasks already; retry shortly (node flag --max-inspections)",
                self.config.max_inspections
            ))
        })?;
        *mine += 1;
        Ok(Inspection {
            _permit: permit,
            key,
            running: self.running.clone(),
        })
    }

    /// Holds a refusal for the tarpit time, then returns it.
    pub async fn tarpit(&self, refused: ApiError) -> ApiError {
        if !self.config.tarpit.is_zero() {
            tokio::time::sleep(self.config.tarpit).await;
        }
        refused
    }

    /// `Ok` after taking a token, or `Err(seconds until one is there)`.
    fn take(&self, who: Who, rate: Rate, now_ms: i64) -> Result<(), u64> {
        let burst = f64::from(rate.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= BUCKETS && !buckets.contains_key(&who) {
            buckets.retain(|_, b| refill(*b, rate, burst, now_ms) < burst);
        }
        let b = buckets.entry(who).or_insert(Bucket {
            tokens: burst,
            at_ms: now_ms,
        });
        let tokens = refill(*b, rate, burst, now_ms);
        *b = Bucket {
            tokens,
            at_ms: now_ms.max(b.at_ms),
        };
        if tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let wait = if rate.per_second > 0.0 {
            ((1.0 - tokens) / rate.per_second).ceil().max(1.0)
        } else {
            3600.0
        };
        Err(wait as u64)
    }
}

/// The tokens of `b` at `now_ms`.
fn refill(b: Bucket, rate: Rate, burst: f64, now_ms: i64) -> f64 {
    let elapsed = now_ms.saturating_sub(b.at_ms).max(0) as f64 / 1000.0;
    (b.tokens + elapsed * rate.per_second.max(0.0)).min(burst)
}

fn too_many(wait: u64, whose: &str) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
        format!("too many requests from {whose}; retry in {wait} s"),
    )
    .retry_after(wait)
}

/// The address a request came from, as the listener recorded it; unspecified for a router
/// driven directly (tests), which then share one bucket.
pub(crate) fn peer(parts: &Parts) -> IpAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip())
}

/// Middleware for the public routes (the dashboard): the source address's budget.
pub(crate) async fn anonymous(
    State(node): State<Arc<Node>>,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    if let Err(refused) = node.guard.charge_addr(peer(&parts), node.now_ms()) {
        return Err(node.guard.tarpit(refused).await);
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_lends_its_burst_then_its_rate() {
        let g = Guard::new(GuardConfig {
            requester: Rate::new(2.0, 3),
            ..GuardConfig::default()
        });
        let k = KeyId(7);
        for _ in 0..3 {
            g.charge_key(k, Role::Requester, 0).unwrap();
        }
        let e = g.charge_key(k, Role::Requester, 0).unwrap_err();
        assert_eq!(e.code(), "rate_limited");
        assert_eq!(e.retry_after_secs(), Some(1));
        // another key is untouched
        g.charge_key(KeyId(8), Role::Requester, 0).unwrap();
        // half a second later one token has flowed back in, and only one
        g.charge_key(k, Role::Requester, 500).unwrap();
        assert!(g.charge_key(k, Role::Requester, 500).is_err());
        // a long quiet spell refills to the burst, not beyond
        for _ in 0..3 {
            g.charge_key(k, Role::Requester, 60_000).unwrap();
        }
        assert!(g.charge_key(k, Role::Requester, 60_000).is_err());
    }

    #[test]
    fn a_clock_going_backwards_gives_no_tokens() {
        let g = Guard::new(GuardConfig {
            anonymous: Rate::new(1.0, 1),
            ..GuardConfig::default()
        });
        let a = IpAddr::V4(Ipv4Addr::LOCALHOST);
        g.charge_addr(a, 10_000).unwrap();
        assert!(g.charge_addr(a, 0).is_err());
        assert!(g.charge_addr(a, 10_500).is_err());
        g.charge_addr(a, 11_000).unwrap();
    }

    #[test]
    fn inspections_past_the_cap_are_busy() {
        let g = Guard::new(GuardConfig {
            max_inspections: 4,
            ..GuardConfig::default()
        });
        let (k, other) = (KeyId(1), KeyId(2));
        let a = g.inspection(k).unwrap();
        let _b = g.inspection(k).unwrap();
        // one key holds at most half of the permits
        let e = g.inspection(k).unwrap_err();
        assert_eq!(e.code(), "busy");
        assert_eq!(e.retry_after_secs(), Some(1));
        let _c = g.inspection(other).unwrap();
        let _d = g.inspection(other).unwrap();
        // all taken
        assert!(g.inspection(KeyId(3)).is_err());
        drop(a);
        let _again = g.inspection(k).unwrap();
    }
}
