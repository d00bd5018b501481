//! Proofs that arrive together are verified together: uploads whose tasks share a verifier
//! (`ProofBackend::verifier_id`: for Groth16 the zkey) are checked against its verifying key
//! (`ProofBackend::verifying_key`, a kilobyte or so, kept by the node per verifier: see
//! `artifacts::VerifyingKeys`), never against the artifacts, and queue behind the batch being
//! checked to be checked in the next one with `verify_with_key` (Groth16: one random linear
//! combination, one multi-pairing, ~3–4× the proofs per second of one by one). Nobody waits
//! for a batch to fill: an upload that finds no batch running is checked at once, alone; only
//! uploads that arrive while one runs are coalesced, so batching costs nothing when the node
//! is idle and saves most of the verification work when it is busy.
//!
//! ```text
//!  upload ─► Check::Artifacts ─► backend.verify on a blocking thread (no verifier id)
//!            Check::Key(id, vk)
//!              ▼
//!  queue[(system, id)] ◄─ push (statement, proof, reply)
//!     no drainer running? ─► spawn one: loop { take ≤ MAX_BATCH ─► verify_with_key ─► replies }
//!                                       until the queue is empty
//! ```

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use zkpool_backend::{Artifacts, BackendError, Blob, ProofArtifact, ProofBackend};
use zkpool_types::{BlobHash, ProofSystem};

use crate::ApiError;

/// The most proofs one `verify_many` call takes: a batch's Miller loops run in parallel and a
/// failed batch is bisected, so larger batches add little and delay their first replies.
pub(crate) const MAX_BATCH: usize = 256;

type Key = (ProofSystem, BlobHash);

/// What a proof is checked against.
#[derive(Clone, Debug)]
pub(crate) enum Check {
    /// The task's artifacts: a backend without a verifier id.
    Artifacts(Artifacts),
    /// The verifying key of verifier `id` (`ProofBackend::verifying_key`).
    Key {
        /// The verifier id (`ProofBackend::verifier_id`).
        id: BlobHash,
        /// Its verifying key's bytes.
        key: Blob,
    },
}

/// The node's verifier front: queues by verifier id, one drainer per queue.
#[derive(Debug, Default)]
pub(crate) struct Batcher {
    queues: Mutex<HashMap<Key, Queue>>,
    /// Off: every proof is verified on its own (`NodeConfig::batch_verify`).
    enabled: bool,
}

#[derive(Debug, Default)]
struct Queue {
    /// Pending uploads, oldest first.
    pending: Vec<Pending>,
    /// A drainer is checking this queue's batches. It removes the queue, under the lock, when
    /// it finds it empty, so an upload either joins a running drainer or starts a new one.
    running: bool,
}

#[derive(Debug)]
struct Pending {
    key: Blob,
    statement: Vec<u8>,
    proof: ProofArtifact,
    reply: tokio::sync::oneshot::Sender<Result<(), BackendError>>,
}

impl Batcher {
    /// A batcher, or with `enabled` false a pass-through to `verify`.
    pub(crate) fn new(enabled: bool) -> Self {
        Self {
            queues: Mutex::default(),
            enabled,
        }
    }

    /// Verifies `proof` against `statement` as `check` says: from the task's artifacts, or
    /// against its verifier's key, possibly in one batch with proofs of other tasks of the
    /// same verifier. The outer error is the node's (a verifier that panicked), the inner one
    /// the proof's verdict.
    pub(crate) async fn verify(
        self: &Arc<Self>,
        backend: Arc<dyn ProofBackend>,
        check: Check,
        statement: Vec<u8>,
        proof: ProofArtifact,
    ) -> Result<Result<(), BackendError>, ApiError> {
        let (id, key) = match check {
            Check::Artifacts(artifacts) => {
                return tokio::task::spawn_blocking(move || {
                    backend.verify(&artifacts, &statement, &proof)
                })
                .await
                .map_err(ApiError::internal);
            }
            Check::Key { key, .. } if !self.enabled => {
                return tokio::task::spawn_blocking(move || {
                    let mut verdicts = backend.verify_with_key(&key, &[(statement, proof)]);
                    verdicts.pop().unwrap_or_else(|| {
                        Err(BackendError::Internal("no verdict for the proof".into()))
                    })
                })
                .await
                .map_err(ApiError::internal);
            }
            Check::Key { id, key } => (id, key),
        };
        let queue_key = (backend.system(), id);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let lead = {
            let mut queues = self.lock();
            let queue = queues.entry(queue_key).or_default();
            queue.pending.push(Pending {
                key,
                statement,
                proof,
                reply,
            });
            // The first upload of an idle queue starts its drainer; later ones join it.
            !std::mem::replace(&mut queue.running, true)
        };
        if lead {
            let me = self.clone();
            tokio::spawn(async move { me.drain(backend, queue_key).await });
        }
        answer
            .await
            .map_err(|_| ApiError::internal("the verifier stopped before answering"))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Key, Queue>> {
        self.queues
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Checks the queue of `key` batch by batch until it is empty, then removes it.
    async fn drain(&self, backend: Arc<dyn ProofBackend>, key: Key) {
        loop {
            let batch: Vec<Pending> = {
                let mut queues = self.lock();
                let Some(queue) = queues.get_mut(&key) else {
                    return;
                };
                if queue.pending.is_empty() {
                    queues.remove(&key);
                    return;
                }
                let n = queue.pending.len().min(MAX_BATCH);
                queue.pending.drain(..n).collect()
            };
            let vk = batch[0].key.clone();
            let items: Vec<(Vec<u8>, ProofArtifact)> = batch
                .iter()
                .map(|p| (p.statement.clone(), p.proof.clone()))
                .collect();
            let b = backend.clone();
            let verdicts =
                tokio::task::spawn_blocking(move || b.verify_with_key(&vk, &items)).await;
            match verdicts {
                Ok(verdicts) if verdicts.len() == batch.len() => {
                    for (p, v) in batch.into_iter().zip(verdicts) {
                        // The uploader may have gone; its verdict is then nobody's.
                        let _ = p.reply.send(v);
                    }
                }
                other => {
                    let why = match other {
                        Err(e) => format!("the verifier failed: {e}"),
                        Ok(v) => format!("{} verdicts for {} proofs", v.len(), batch.len()),
                    };
                    tracing::error!(error = %why, "batch verification failed");
                    for p in batch {
                        let _ = p.reply.send(Err(BackendError::Internal(why.clone())));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use zkpool_backend::TaskShape;
    use zkpool_types::{ArtifactMap, ArtifactRole};

    /// A backend whose proofs are valid when they equal their statement, that records the size
    /// of every batch and takes 100 ms per batch, so uploads pile up behind the first.
    #[derive(Default)]
    struct Slow {
        batches: Mutex<Vec<usize>>,
    }

    impl ProofBackend for Slow {
        fn system(&self) -> ProofSystem {
            ProofSystem::Groth16
        }
        fn inspect(&self, _: &Artifacts) -> Result<TaskShape, BackendError> {
            Err(BackendError::Internal("unused".into()))
        }
        fn prove(&self, _: &Artifacts) -> Result<ProofArtifact, BackendError> {
            Err(BackendError::Internal("unused".into()))
        }
        fn verify(&self, _: &Artifacts, _: &[u8], _: &ProofArtifact) -> Result<(), BackendError> {
            Err(BackendError::Internal(
                "checked against its key only".into(),
            ))
        }
        fn verifier_id(&self, a: &ArtifactMap) -> Option<BlobHash> {
            a.get(&ArtifactRole::Zkey).copied()
        }
        fn verify_with_key(
            &self,
            _: &Blob,
            items: &[(Vec<u8>, ProofArtifact)],
        ) -> Vec<Result<(), BackendError>> {
            self.batches.lock().unwrap().push(items.len());
            std::thread::sleep(Duration::from_millis(100));
            items
                .iter()
                .map(|(s, p)| {
                    if *s == p.0 {
                        Ok(())
                    } else {
                        Err(BackendError::InvalidProof("differs".into()))
                    }
                })
                .collect()
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn uploads_that_arrive_together_share_a_batch_and_keep_their_verdicts() {
        let slow = Arc::new(Slow::default());
        let backend: Arc<dyn ProofBackend> = slow.clone();
        let batcher = Arc::new(Batcher::new(true));
        let vk = Blob::new(b"vk".to_vec());
        let artifacts = Check::Key {
            id: vk.hash,
            key: vk,
        };
        let first = {
            let (b, be, a) = (batcher.clone(), backend.clone(), artifacts.clone());
            tokio::spawn(async move {
                b.verify(be, a, b"s".to_vec(), ProofArtifact(b"s".to_vec()))
                    .await
            })
        };
        tokio::time::sleep(Duration::from_millis(30)).await;
        // Nine more while the first is being checked: every third one false.
        let mut rest = Vec::new();
        for i in 0..9u8 {
            let (b, be, a) = (batcher.clone(), backend.clone(), artifacts.clone());
            let proof = if i % 3 == 0 { vec![i, 1] } else { vec![i] };
            rest.push(tokio::spawn(async move {
                b.verify(be, a, vec![i], ProofArtifact(proof)).await
            }));
        }
        assert!(first.await.unwrap().unwrap().is_ok());
        for (i, r) in rest.into_iter().enumerate() {
            let verdict = r.await.unwrap().unwrap();
            assert_eq!(verdict.is_ok(), i % 3 != 0, "{i}: {verdict:?}");
        }
        assert_eq!(*slow.batches.lock().unwrap(), vec![1, 9]);
        // The queue is gone once drained; a later upload is checked alone, at once.
        assert!(batcher.lock().is_empty());
        let late = batcher
            .verify(
                backend,
                artifacts,
                b"x".to_vec(),
                ProofArtifact(b"x".to_vec()),
            )
            .await
            .unwrap();
        assert!(late.is_ok());
        assert_eq!(*slow.batches.lock().unwrap(), vec![1, 9, 1]);
    }
}
