//! The node's clock, handed to it rather than read from the system, so tests control time.
//!
//! Every deadline the node keeps (lease expiry, liability windows, quote expiry, epoch
//! length) is compared against [`Clock::now_ms`]. Production uses [`SystemClock`]; tests use a
//! [`ManualClock`] they move forward, then run one reaper sweep
//! ([`crate::Node::sweep`]) instead of sleeping until a deadline passes.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Milliseconds since the Unix epoch, as this node sees them.
pub trait Clock: Send + Sync + Debug + 'static {
    /// The current time.
    fn now_ms(&self) -> i64;
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        zkpool_store::now_ms()
    }
}

/// A clock that moves only when told to; clones share one time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at the system's current time (so stored timestamps look real).
    pub fn starting_now() -> Self {
        Self::at(zkpool_store::now_ms())
    }

    /// A clock standing at `ms`.
    pub fn at(ms: i64) -> Self {
        Self(Arc::new(AtomicI64::new(ms)))
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let c = ManualClock::at(1_000);
        let d = c.clone();
        assert_eq!(c.now_ms(), 1_000);
        d.advance(Duration::from_millis(250));
        assert_eq!(c.now_ms(), 1_250);
    }
}
