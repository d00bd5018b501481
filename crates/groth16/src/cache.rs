//! Caches keyed by content hash: a small most-recently-used one of parsed artifacts, and a
//! large first-in-first-out one of intake verdicts.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use zkpool_backend::{BackendError, Blob};
use zkpool_types::{ArtifactRole, BlobHash};

/// Keeps the last `capacity` parsed values. A parsed zkey is several times the file's size in
/// memory, so the cache is small; provers mostly see the same few circuits again and again.
#[derive(Debug)]
pub(crate) struct Cache<T> {
    entries: Mutex<VecDeque<(BlobHash, Arc<T>)>>,
    capacity: usize,
}

impl<T> Cache<T> {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            capacity,
        }
    }

    /// The cached value for `blob`, or `parse(blob)`, cached on success. Parsing happens
    /// outside the lock, so a slow parse does not hold up hits on other keys; two threads
    /// missing on one key at once may both parse it, which only costs time.
    pub fn get_or_parse(
        &self,
        blob: &Blob,
        parse: impl FnOnce(&[u8]) -> Result<T, BackendError>,
    ) -> Result<Arc<T>, BackendError> {
        if let Some(hit) = self.lookup(&blob.hash) {
            return Ok(hit);
        }
        let value = Arc::new(parse(&blob.bytes)?);
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if !entries.iter().any(|(h, _)| *h == blob.hash) {
            entries.push_front((blob.hash, value.clone()));
            entries.truncate(self.capacity);
        }
        Ok(value)
    }

    fn lookup(&self, hash: &BlobHash) -> Option<Arc<T>> {
        // A panic elsewhere while holding the lock leaves the deque intact: keep using it.
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let i = entries.iter().position(|(h, _)| h == hash)?;
        let entry = entries.remove(i)?;
        let value = entry.1.clone();
        entries.push_front(entry);
        Some(value)
    }

    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

/// The intake check's outcome for an (r1cs hash, zkey hash) pair. Only outcomes that follow
/// from the files are verdicts: an internal error is not one and is not kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    Accepted,
    Malformed { role: ArtifactRole, reason: String },
    Mismatch(String),
}

impl Verdict {
    /// The verdict `result` gives, if it is one.
    pub fn of<T>(result: &Result<T, BackendError>) -> Option<Self> {
        match result {
            Ok(_) => Some(Verdict::Accepted),
            Err(BackendError::Malformed { role, reason }) => Some(Verdict::Malformed {
                role: *role,
                reason: reason.clone(),
            }),
            Err(BackendError::Mismatch(reason)) => Some(Verdict::Mismatch(reason.clone())),
            Err(_) => None,
        }
    }

    /// The verdict as the check's result.
    pub fn to_result(&self) -> Result<(), BackendError> {
        match self {
            Verdict::Accepted => Ok(()),
            Verdict::Malformed { role, reason } => Err(BackendError::malformed(*role, reason)),
            Verdict::Mismatch(reason) => Err(BackendError::Mismatch(reason.clone())),
        }
    }
}

/// Which artifact pair a verdict is about.
pub(crate) type PairKey = (BlobHash, BlobHash);

/// Verdicts by artifact pair. A verdict is a few dozen bytes, so thousands fit where a single
/// parsed key would not; the oldest is dropped first, since a pair seen again is re-checked at
/// worst.
#[derive(Debug)]
pub(crate) struct Verdicts {
    entries: Mutex<VerdictMap>,
    capacity: usize,
}

#[derive(Debug, Default)]
struct VerdictMap {
    by_pair: HashMap<PairKey, Verdict>,
    order: VecDeque<PairKey>,
}

impl Verdicts {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VerdictMap::default()),
            capacity,
        }
    }

    pub fn get(&self, pair: &PairKey) -> Option<Verdict> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.by_pair.get(pair).cloned()
    }

    pub fn insert(&self, pair: PairKey, verdict: Verdict) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.by_pair.insert(pair, verdict).is_none() {
            entries.order.push_back(pair);
        }
        while entries.order.len() > self.capacity {
            if let Some(old) = entries.order.pop_front() {
                entries.by_pair.remove(&old);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_most_recent_and_skips_reparsing() {
        let cache = Cache::new(2);
        let blobs: Vec<Blob> = (0u8..3).map(|i| Blob::new(vec![i])).collect();
        let parse = |b: &[u8]| Ok(b[0]);
        for b in &blobs {
            cache.get_or_parse(b, parse).unwrap();
        }
        assert_eq!(cache.len(), 2);
        let hit = cache
            .get_or_parse(&blobs[2], |_| panic!("must be cached"))
            .unwrap();
        assert_eq!(*hit, 2);
        let evicted = cache.get_or_parse(&blobs[0], |_| Ok(9)).unwrap();
        assert_eq!(*evicted, 9);
    }

    #[test]
    fn errors_are_not_cached() {
        let cache: Cache<u8> = Cache::new(2);
        let blob = Blob::new(vec![1]);
        assert!(cache
            .get_or_parse(&blob, |_| Err(BackendError::Internal("x".into())))
            .is_err());
        assert_eq!(*cache.get_or_parse(&blob, |_| Ok(1)).unwrap(), 1);
    }

    #[test]
    fn verdicts_are_bounded_and_keep_refusals() {
        let verdicts = Verdicts::new(2);
        let pair = |i: u8| (BlobHash([i; 32]), BlobHash([0; 32]));
        let refused = BackendError::Mismatch("constraint 3".into());
        let message = refused.to_string();
        verdicts.insert(pair(1), Verdict::of::<()>(&Err(refused)).unwrap());
        verdicts.insert(pair(2), Verdict::Accepted);
        verdicts.insert(pair(2), Verdict::Accepted);
        let back = verdicts.get(&pair(1)).unwrap().to_result().unwrap_err();
        assert_eq!(back.to_string(), message);
        verdicts.insert(pair(3), Verdict::Accepted);
        assert_eq!(verdicts.get(&pair(1)), None, "the oldest went first");
        assert_eq!(verdicts.get(&pair(2)), Some(Verdict::Accepted));
        assert_eq!(
            Verdict::of::<()>(&Err(BackendError::Internal("oom".into()))),
            None
        );
    }
}
