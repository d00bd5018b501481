//! Calls that arrive together run together: lease requests and verified proofs are gathered
//! into batches, each batch one database transaction (`Store::lease_batch`,
//! `Store::complete_batch`), so the pool's throughput is not one transaction per proof.
//!
//! ```text
//!   call(req) ─► pending ◄─ push (req, reply)
//!                 fewer than `lanes` drainers? ─► spawn one:
//!                   loop { take ≤ max pending (callers that gave up are dropped)
//!                          ─► run(batch) ─► replies }   until pending is empty
//! ```
//!
//! Nobody waits for a batch to fill: a call that finds a lane free runs at once, alone. Only
//! calls that arrive while every lane is busy wait, and then run together in the next batch,
//! so gathering costs nothing when the node is idle and saves most of the per-transaction
//! work when it is busy. Several lanes let batches overlap (on PostgreSQL they run side by
//! side; on SQLite one writes while the next gathers).

use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::oneshot;

/// One kind of call, gathered into batches.
#[derive(Debug)]
pub struct Gather<Req, Resp> {
    inner: Arc<Mutex<Inner<Req, Resp>>>,
    lanes: usize,
    max: usize,
}

#[derive(Debug)]
struct Inner<Req, Resp> {
    pending: Vec<(Req, oneshot::Sender<Resp>)>,
    running: usize,
}

impl<Req: Send + 'static, Resp: Send + 'static> Gather<Req, Resp> {
    /// Batches of at most `max` calls, at most `lanes` of them running at once.
    pub fn new(lanes: usize, max: usize) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner {
                pending: Vec::new(),
                running: 0,
            })),
            lanes: lanes.max(1),
            max: max.max(1),
        }
    }

    /// Runs `req` in the next batch and answers its reply. `run` takes a batch and answers
    /// one reply per call, in order; a drainer this call starts runs its batches with it
    /// (every caller passes the same `run`). `None` only if the batch's drainer ended without
    /// answering (it panicked).
    pub async fn call<F, Fut>(&self, req: Req, run: F) -> Option<Resp>
    where
        F: Fn(Vec<Req>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Vec<Resp>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let start = {
            let mut inner = lock(&self.inner);
            inner.pending.push((req, reply));
            let start = inner.running < self.lanes;
            if start {
                inner.running += 1;
            }
            start
        };
        if start {
            tokio::spawn(drain(self.inner.clone(), self.max, run));
        }
        answer.await.ok()
    }
}

/// A batch's answers, or, when the batch as a whole failed, its error as the answer to each
/// of its `n` calls.
pub fn each_or_all<T, E: Clone>(
    n: usize,
    batch: Result<Vec<Result<T, E>>, E>,
) -> Vec<Result<T, E>> {
    match batch {
        Ok(answers) => answers,
        Err(e) => (0..n).map(|_| Err(e.clone())).collect(),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs batches until nothing is pending, then ends its lane.
async fn drain<Req, Resp, F, Fut>(inner: Arc<Mutex<Inner<Req, Resp>>>, max: usize, run: F)
where
    F: Fn(Vec<Req>) -> Fut,
    Fut: Future<Output = Vec<Resp>>,
{
    // Ends the lane however the loop ends (a panic in `run` included), so calls that come
    // later start a new drainer instead of waiting on this one.
    struct Lane<'a, Req, Resp>(&'a Mutex<Inner<Req, Resp>>);
    impl<Req, Resp> Drop for Lane<'_, Req, Resp> {
        fn drop(&mut self) {
            lock(self.0).running -= 1;
        }
    }
    let lane = Lane(&inner);
    loop {
        let batch: Vec<(Req, oneshot::Sender<Resp>)> = {
            let mut inner = lock(lane.0);
            // A caller that stopped waiting (its client went away) is not served: a lease
            // nobody receives would only expire as its prover's fault.
            inner.pending.retain(|(_, reply)| !reply.is_closed());
            if inner.pending.is_empty() {
                inner.running -= 1;
                std::mem::forget(lane);
                return;
            }
            let n = inner.pending.len().min(max);
            inner.pending.drain(..n).collect()
        };
        let (reqs, replies): (Vec<Req>, Vec<_>) = batch.into_iter().unzip();
        let answers = run(reqs).await;
        for (reply, answer) in replies.into_iter().zip(answers) {
            let _ = reply.send(answer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn calls_that_arrive_while_a_batch_runs_run_together_and_each_gets_its_answer() {
        let gather = Arc::new(Gather::<u32, u32>::new(1, 64));
        let batches = Arc::new(Mutex::new(Vec::new()));
        let run = {
            let batches = batches.clone();
            move |reqs: Vec<u32>| {
                let batches = batches.clone();
                async move {
                    batches.lock().unwrap().push(reqs.len());
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    reqs.into_iter().map(|r| r * 10).collect()
                }
            }
        };
        let mut calls = Vec::new();
        for i in 0..50 {
            let (gather, run) = (gather.clone(), run.clone());
            calls.push(tokio::spawn(async move { gather.call(i, run).await }));
        }
        for (i, c) in calls.into_iter().enumerate() {
            assert_eq!(c.await.unwrap(), Some(i as u32 * 10));
        }
        let batches = batches.lock().unwrap().clone();
        assert_eq!(batches.iter().sum::<usize>(), 50);
        assert!(batches.len() < 50, "no call was gathered: {batches:?}");
        assert_eq!(lock(&gather.inner).running, 0);
    }

    #[tokio::test]
    async fn a_lone_call_runs_at_once_and_a_batch_never_exceeds_max() {
        let gather = Arc::new(Gather::<u32, u32>::new(2, 3));
        let most = Arc::new(AtomicUsize::new(0));
        let run = {
            let most = most.clone();
            move |reqs: Vec<u32>| {
                let most = most.clone();
                async move {
                    most.fetch_max(reqs.len(), Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(5)).await;
                    reqs
                }
            }
        };
        assert_eq!(gather.call(7, run.clone()).await, Some(7));
        let calls: Vec<_> = (0..30)
            .map(|i| {
                let (gather, run) = (gather.clone(), run.clone());
                tokio::spawn(async move { gather.call(i, run).await })
            })
            .collect();
        for (i, c) in calls.into_iter().enumerate() {
            assert_eq!(c.await.unwrap(), Some(i as u32));
        }
        assert!(most.load(Ordering::SeqCst) <= 3);
    }

    #[tokio::test]
    async fn a_batch_that_panics_ends_its_lane_and_later_calls_still_run() {
        let gather = Gather::<u32, u32>::new(1, 8);
        let boom = |_: Vec<u32>| async move {
            if true {
                panic!("the batch failed");
            }
            Vec::new()
        };
        assert_eq!(gather.call(1, boom).await, None);
        let ok = |reqs: Vec<u32>| async move { reqs };
        assert_eq!(gather.call(2, ok).await, Some(2));
    }
}
