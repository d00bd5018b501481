use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_store::Store;
use zkpool_types::{ArtifactMap, ArtifactRole, BlobHash, ProofSystem};

use crate::ApiError;

/// Artifact bytes by hash, kept in memory up to a byte budget (oldest out first), so that
/// verifying many proofs of one circuit reads its artifacts from disk once; and the verifying
/// keys proofs are checked against (`ProofBackend::verifying_key`, by system and verifier
/// id), so that a backend with a verifier id (Groth16) never needs the artifacts again to
/// check a proof: at a million constraints its zkey is half a gigabyte, its verifying key a
/// kilobyte or so.
#[derive(Debug)]
pub struct ArtifactCache {
    store: Arc<Store>,
    budget: usize,
    inner: Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    blobs: HashMap<BlobHash, Arc<[u8]>>,
    order: VecDeque<BlobHash>,
    bytes: usize,
    keys: HashMap<(ProofSystem, BlobHash), Blob>,
    keys_order: VecDeque<(ProofSystem, BlobHash)>,
}

/// Verifying keys kept at most (oldest out first): a few megabytes, as a Groth16 key is a
/// kilobyte plus 64 bytes per public signal.
const KEYS: usize = 4096;

impl ArtifactCache {
    /// An empty cache holding at most `budget` bytes.
    pub fn new(store: Arc<Store>, budget: usize) -> Self {
        Self {
            store,
            budget,
            inner: Mutex::new(CacheInner::default()),
        }
    }

    /// Loads every artifact of a task.
    pub async fn load(&self, map: &ArtifactMap) -> Result<Artifacts, ApiError> {
        let mut out = Artifacts::default();
        for (role, hash) in map {
            let bytes = self
                .get(hash)
                .await?
                .ok_or_else(|| unknown_blob(*role, hash))?;
            out.insert(*role, Blob { hash: *hash, bytes });
        }
        Ok(out)
    }

    /// Loads the artifacts of a task that `roles` names (all of them for `None`): what a
    /// backend's verification reads ([`zkpool_backend::ProofBackend::verify_roles`]).
    pub async fn load_only(
        &self,
        map: &ArtifactMap,
        roles: Option<&[ArtifactRole]>,
    ) -> Result<Artifacts, ApiError> {
        match roles {
            None => self.load(map).await,
            Some(roles) => {
                let wanted: ArtifactMap = map
                    .iter()
                    .filter(|(role, _)| roles.contains(role))
                    .map(|(role, hash)| (*role, *hash))
                    .collect();
                self.load(&wanted).await
            }
        }
    }

    /// The verifying key of verifier `id` (`ProofBackend::verifier_id` of the task's
    /// artifacts `map`) in `backend`'s system: the one kept, or one made from the artifacts
    /// its verification reads (`ProofBackend::verify_roles`) and kept.
    pub async fn verifying_key(
        &self,
        backend: &Arc<dyn ProofBackend>,
        id: BlobHash,
        map: &ArtifactMap,
    ) -> Result<Blob, ApiError> {
        let system = backend.system();
        if let Some(key) = self.lock().keys.get(&(system, id)) {
            return Ok(key.clone());
        }
        let artifacts = self.load_only(map, backend.verify_roles()).await?;
        let b = backend.clone();
        let bytes = tokio::task::spawn_blocking(move || b.verifying_key(&artifacts))
            .await
            .map_err(ApiError::internal)??;
        let key = Blob::new(bytes);
        self.keep_verifying_key(system, id, key.clone());
        Ok(key)
    }

    /// Keeps `key` as the verifying key of verifier `id` in `system`. Only ever the node's
    /// own `ProofBackend::verifying_key` of artifacts intake accepted.
    pub fn keep_verifying_key(&self, system: ProofSystem, id: BlobHash, key: Blob) {
        let mut inner = self.lock();
        if inner.keys.insert((system, id), key).is_none() {
            inner.keys_order.push_back((system, id));
            while inner.keys.len() > KEYS {
                let Some(old) = inner.keys_order.pop_front() else {
                    break;
                };
                inner.keys.remove(&old);
            }
        }
    }

    async fn get(&self, hash: &BlobHash) -> Result<Option<Arc<[u8]>>, ApiError> {
        if let Some(b) = self.lock().blobs.get(hash) {
            return Ok(Some(b.clone()));
        }
        let Some(bytes) = self.store.read_blob(hash).await? else {
            return Ok(None);
        };
        let bytes: Arc<[u8]> = bytes.into();
        let mut inner = self.lock();
        if bytes.len() <= self.budget && !inner.blobs.contains_key(hash) {
            inner.bytes += bytes.len();
            inner.blobs.insert(*hash, bytes.clone());
            inner.order.push_back(*hash);
            while inner.bytes > self.budget {
                let Some(old) = inner.order.pop_front() else {
                    break;
                };
                if let Some(b) = inner.blobs.remove(&old) {
                    inner.bytes -= b.len();
                }
            }
        }
        Ok(Some(bytes))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, CacheInner> {
        // A poisoned lock only means another request panicked mid-insert; the map is still usable.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The refusal of an artifact the caller has not uploaded (or that is no longer stored): the
/// same words either way, so it never confirms that someone else stored the bytes.
pub(crate) fn unknown_blob(role: ArtifactRole, hash: &BlobHash) -> ApiError {
    ApiError::bad_request(
        "unknown_blob",
        format!(
            "{} artifact {hash} is not among your uploads; PUT /v1/blobs first",
            role.as_str()
        ),
    )
}
