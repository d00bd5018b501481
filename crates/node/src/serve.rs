//! The listener: HTTP/1.1 connections with the limits a public service needs.
//!
//! ```text
//!   accept ──► connections from this address < max_per_addr? ──no──► closed at once
//!          ──► a request's headers must arrive within idle_timeout (also: an idle
//!              keep-alive connection waiting for its next request is closed then)
//!          ──► a request body that sends nothing for idle_timeout is cut
//!          ──► the router, with the peer address for the per-address budgets
//! ```
//!
//! Shutdown is graceful: the listener stops, in-flight requests finish, idle connections close.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

/// The listener's limits.
#[derive(Clone, Copy, Debug)]
pub struct ConnLimits {
    /// Longest a client may take to send a request's headers, or leave a keep-alive
    /// connection idle; also the longest pause inside a request body.
    pub idle_timeout: Duration,
    /// Open connections one source address may hold.
    pub max_per_addr: usize,
}

impl Default for ConnLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(30),
            max_per_addr: 256,
        }
    }
}

/// Open connections by source address.
#[derive(Debug, Default)]
struct Open(Mutex<HashMap<IpAddr, usize>>);

/// One open connection, counted until it is dropped.
struct Slot {
    open: Arc<Open>,
    addr: IpAddr,
}

impl Open {
    fn take(self: &Arc<Self>, addr: IpAddr, max: usize) -> Option<Slot> {
        let mut open = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(addr).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            open: self.clone(),
            addr,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.open.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.addr) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.addr);
            }
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then waits for open requests.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.idle_timeout)
        .keep_alive(true);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Open::default());
    let mut refused: u64 = 0;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: keep going
                    // after a pause instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = open.take(peer.ip(), limits.max_per_addr) else {
            refused += 1;
            if refused.is_power_of_two() {
                tracing::warn!(%peer, refused, max = limits.max_per_addr,
                    "connection refused: too many open from this address");
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let idle = limits.idle_timeout;
        let app = app
            .clone()
            .map_request(move |r: hyper::Request<hyper::body::Incoming>| {
                let mut r = r.map(|body| axum::body::Body::new(TimeoutBody::new(idle, body)));
                r.extensions_mut().insert(ConnectInfo(peer));
                r
            });
        let conn = builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    tracing::info!("shutting down: finishing in-flight requests");
    graceful.shutdown().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_holds_at_most_its_connections() {
        let open = Arc::new(Open::default());
        let a: IpAddr = [10, 0, 0, 1].into();
        let s1 = open.take(a, 2).unwrap();
        let _s2 = open.take(a, 2).unwrap();
        assert!(open.take(a, 2).is_none());
        assert!(open.take([10, 0, 0, 2].into(), 2).is_some());
        drop(s1);
        assert!(open.take(a, 2).is_some());
    }
}
