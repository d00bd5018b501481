//! A small most-recently-used cache of parsed artifacts, keyed by content hash.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use zkpool_backend::{BackendError, Blob};
use zkpool_types::BlobHash;

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
}
