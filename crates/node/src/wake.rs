//! How a long-polling prover hears that a task became leasable: the seam for replicas.
//!
//! One node process wakes its own waiters through a tokio `Notify` ([`LocalWake`]). With
//! several replicas on one database, a task queued through replica A must wake a prover
//! waiting on replica B: [`SharedWake`] also tells the database (PostgreSQL's NOTIFY), and a
//! listener in every replica wakes that replica's waiters when it hears it (LISTEN).
//!
//! ```text
//!   replica A: task queued ─► wake_all ─► A's waiters, and pg_notify('zkpool_work')
//!   replica B: listener hears zkpool_work ─► B's waiters ─► lease query (SKIP LOCKED)
//! ```
//!
//! A notification can be lost (the listener's connection drops, the database restarts);
//! the listener then wakes everyone when it reconnects, and a long-poll ends within
//! `--max-long-poll` anyway, so a lost wake-up delays a lease, never loses a task.

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

/// Wake-ups shared by every replica on one PostgreSQL database.
#[derive(Debug)]
pub struct SharedWake {
    local: LocalWake,
    store: Arc<zkpool_store::Store>,
}

impl SharedWake {
    /// Listens on `store`'s database and wakes this process's waiters whenever any replica
    /// signals; `None` on a database only this process writes (SQLite), where
    /// [`LocalWake`] is all it takes. The listener runs until the process ends.
    pub async fn start(
        store: Arc<zkpool_store::Store>,
    ) -> Result<Option<Arc<Self>>, zkpool_store::StoreError> {
        let Some(mut listener) = store.listen_work().await? else {
            return Ok(None);
        };
        let wake = Arc::new(SharedWake {
            local: LocalWake::default(),
            store,
        });
        let local = wake.local.0.clone();
        tokio::spawn(async move {
            loop {
                match listener.next().await {
                    Ok(zkpool_store::Heard::Work) => local.notify_waiters(),
                    Ok(zkpool_store::Heard::Reconnecting) => {
                        tracing::warn!("lost the database's notifications; reconnecting");
                        local.notify_waiters();
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot listen for work notifications; retrying in 1 s");
                        local.notify_waiters();
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(wake))
    }
}

impl WorkSignal for SharedWake {
    fn arm(&self) -> Armed {
        self.local.arm()
    }

    fn wake_all(&self) {
        self.local.wake_all();
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.notify_work().await {
                // Other replicas' provers find the task at their next poll.
                tracing::warn!(error = %e, "cannot notify other replicas of new work");
            }
        });
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
