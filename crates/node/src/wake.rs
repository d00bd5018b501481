//! How a long-polling prover hears that a task became leasable: the seam for replicas.
//!
//! One node process wakes its own waiters through a tokio `Notify` ([`LocalWake`]). With
//! several replicas on one database, a task queued through replica A must wake a prover
//! waiting on replica B: an implementation over the database's notifications (PostgreSQL's
//! LISTEN/NOTIFY) plugs in here, behind the same two calls.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::Notify;

/// A wake-up the caller armed before it looked for work: a signal sent between the look and
/// the wait still ends the wait.
pub struct Armed(Pin<Box<dyn Future<Output = ()> + Send>>);

impl Future for Armed {
    type Output = ();

    fn poll(
        mut self: Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        self.0.as_mut().poll(cx)
    }
}

impl fmt::Debug for Armed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Armed")
    }
}

/// Where the node signals and awaits "work is ready".
pub trait WorkSignal: Send + Sync + fmt::Debug {
    /// Arms a wake-up for the next signal.
    fn arm(&self) -> Armed;
    /// Wakes every armed waiter (a task was queued or re-queued).
    fn wake_all(&self);
}

/// Wake-ups within one process.
#[derive(Debug, Default)]
pub struct LocalWake(Arc<Notify>);

impl WorkSignal for LocalWake {
    fn arm(&self) -> Armed {
        let mut notified = Box::pin(self.0.clone().notified_owned());
        notified.as_mut().enable();
        Armed(notified)
    }

    fn wake_all(&self) {
        self.0.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_signal_between_arming_and_waiting_is_not_lost() {
        let wake = LocalWake::default();
        let armed = wake.arm();
        wake.wake_all();
        tokio::time::timeout(std::time::Duration::from_secs(5), armed)
            .await
            .expect("the armed waiter woke");
    }

    #[tokio::test]
    async fn an_unarmed_signal_wakes_nobody_later() {
        let wake = LocalWake::default();
        wake.wake_all();
        let armed = wake.arm();
        assert!(
            tokio::time::timeout(std::time::Duration::from_millis(50), armed)
                .await
                .is_err()
        );
    }
}
