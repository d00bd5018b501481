//! Caches keyed by content hash: one least-recently-used cache of parsed artifacts bounded in
//! bytes, and a large first-in-first-out one of intake verdicts bounded in count.

use std::any::{Any, TypeId};
use std::collections::{HashMap, VecDeque};
use std::mem::size_of;
use std::sync::{Arc, Mutex};

use ark_bn254::{Bn254, Fq2, Fr, G1Affine, G2Affine};
use ark_groth16::PreparedVerifyingKey;
use zkpool_backend::{BackendError, Blob};
use zkpool_types::{ArtifactRole, BlobHash};

use crate::r1cs::R1cs;
use crate::zkey::ZkeyProvingKey;
use crate::{PreparedKey, VerifierKey};

/// Memory a parsed value holds, for the cache's byte budget: an honest estimate of its heap
/// allocations (capacities, not lengths) plus the value itself.
pub(crate) trait Weigh {
    fn heap_bytes(&self) -> usize;
}

/// Parsed values of any kind, keyed by kind and content hash, bounded by the bytes they hold
/// ([`Weigh`]). The least recently used go first; a value larger than the whole budget is
/// returned to its caller and not kept. A parsed zkey is several times the file's size, so
/// a few keys fill the budget; provers mostly see the same few circuits again and again.
#[derive(Debug)]
pub(crate) struct Cache {
    inner: Mutex<Entries>,
    budget: usize,
}

#[derive(Debug, Default)]
struct Entries {
    by_key: HashMap<(TypeId, BlobHash), Entry>,
    /// Sum of the entries' weights, at most the budget.
    bytes: usize,
    /// Bumped on every use; the entry with the lowest `used` is the least recently used.
    clock: u64,
}

#[derive(Debug)]
struct Entry {
    value: Arc<dyn Any + Send + Sync>,
    bytes: usize,
    used: u64,
}

impl Cache {
    pub fn new(budget: usize) -> Self {
        Self {
            inner: Mutex::new(Entries::default()),
            budget,
        }
    }

    /// The cached value for `blob`, or `parse(blob)`, cached on success. Parsing happens
    /// outside the lock, so a slow parse does not hold up hits on other keys; two threads
    /// missing on one key at once may both parse it, which only costs time.
    pub fn get_or_parse<T: Weigh + Send + Sync + 'static>(
        &self,
        blob: &Blob,
        parse: impl FnOnce(&[u8]) -> Result<T, BackendError>,
    ) -> Result<Arc<T>, BackendError> {
        let key = (TypeId::of::<T>(), blob.hash);
        if let Some(hit) = self.lookup(&key) {
            return Ok(hit);
        }
        let value = Arc::new(parse(&blob.bytes)?);
        let bytes = value.heap_bytes();
        if bytes > self.budget {
            return Ok(value);
        }
        let mut entries = self.lock();
        if !entries.by_key.contains_key(&key) {
            while entries.bytes + bytes > self.budget && entries.evict_oldest() {}
            entries.clock += 1;
            let entry = Entry {
                value: value.clone(),
                bytes,
                used: entries.clock,
            };
            entries.by_key.insert(key, entry);
            entries.bytes += bytes;
        }
        Ok(value)
    }

    fn lookup<T: Send + Sync + 'static>(&self, key: &(TypeId, BlobHash)) -> Option<Arc<T>> {
        let mut entries = self.lock();
        entries.clock += 1;
        let clock = entries.clock;
        let entry = entries.by_key.get_mut(key)?;
        entry.used = clock;
        // The key's TypeId is T's, so the downcast cannot fail.
        entry.value.clone().downcast().ok()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // A panic elsewhere while holding the lock leaves the map intact: keep using it.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    pub fn len_and_bytes(&self) -> (usize, usize) {
        let entries = self.lock();
        (entries.by_key.len(), entries.bytes)
    }
}

impl Entries {
    /// Drops the least recently used entry; `false` if there was none. A linear scan: the
    /// cache holds parsed circuits, a handful to hundreds, and only a miss evicts.
    fn evict_oldest(&mut self) -> bool {
        let Some(key) = self
            .by_key
            .iter()
            .min_by_key(|(_, e)| e.used)
            .map(|(k, _)| *k)
        else {
            return false;
        };
        if let Some(old) = self.by_key.remove(&key) {
            self.bytes -= old.bytes;
        }
        true
    }
}

fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * size_of::<T>()
}

impl Weigh for R1cs {
    fn heap_bytes(&self) -> usize {
        let terms: usize = self.constraints.iter().flatten().map(vec_bytes).sum();
        size_of::<Self>() + vec_bytes(&self.constraints) + terms
    }
}

impl Weigh for ZkeyProvingKey {
    fn heap_bytes(&self) -> usize {
        let pk = &self.pk;
        let g1s = [
            &pk.vk.gamma_abc_g1,
            &pk.a_query,
            &pk.b_g1_query,
            &pk.h_query,
            &pk.l_query,
        ];
        let rows =
            |m: &Vec<Vec<(Fr, usize)>>| vec_bytes(m) + m.iter().map(vec_bytes).sum::<usize>();
        size_of::<Self>()
            + g1s.into_iter().map(vec_bytes).sum::<usize>()
            + vec_bytes(&pk.b_g2_query)
            + rows(&self.matrices.a)
            + rows(&self.matrices.b)
            + rows(&self.matrices.c)
    }
}

impl Weigh for VerifierKey {
    fn heap_bytes(&self) -> usize {
        // IC is held twice, in the header and in the prepared key.
        size_of::<Self>() + vec_bytes(&self.header.vk.gamma_abc_g1) + prepared_bytes(&self.pvk)
    }
}

impl Weigh for PreparedKey {
    fn heap_bytes(&self) -> usize {
        size_of::<Self>() + prepared_bytes(&self.0)
    }
}

/// The heap a prepared verifying key holds: its IC, and for each prepared G2 point its line
/// coefficients, three Fq2 elements per step of the Miller loop.
fn prepared_bytes(pvk: &PreparedVerifyingKey<Bn254>) -> usize {
    let line = size_of::<(Fq2, Fq2, Fq2)>();
    let prepared =
        pvk.gamma_g2_neg_pc.ell_coeffs.capacity() + pvk.delta_g2_neg_pc.ell_coeffs.capacity();
    vec_bytes(&pvk.vk.gamma_abc_g1) + prepared * line
}

// G1 and G2 points are the bulk of a key; a change in their size changes the estimates.
const _: () = assert!(size_of::<G1Affine>() >= 64 && size_of::<G2Affine>() >= 128);

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

    /// A value weighing what it says.
    struct Sized(u8, usize);

    impl Weigh for Sized {
        fn heap_bytes(&self) -> usize {
            self.1
        }
    }

    fn blobs(n: u8) -> Vec<Blob> {
        (0..n).map(|i| Blob::new(vec![i])).collect()
    }

    #[test]
    fn evicts_the_least_recently_used_by_bytes() {
        let cache = Cache::new(100);
        let blobs = blobs(4);
        let weigh = |w: usize| move |b: &[u8]| Ok(Sized(b[0], w));
        cache.get_or_parse(&blobs[0], weigh(40)).unwrap();
        cache.get_or_parse(&blobs[1], weigh(40)).unwrap();
        assert_eq!(cache.len_and_bytes(), (2, 80));
        // A hit makes 0 the most recently used, so 1 goes when 2 needs room.
        let hit = cache
            .get_or_parse(&blobs[0], |_| -> Result<Sized, _> {
                panic!("must be cached")
            })
            .unwrap();
        assert_eq!(hit.0, 0);
        cache.get_or_parse(&blobs[2], weigh(50)).unwrap();
        assert_eq!(cache.len_and_bytes(), (2, 90));
        let reparsed = cache.get_or_parse(&blobs[1], weigh(10)).unwrap();
        assert_eq!(reparsed.1, 10, "1 was evicted and parsed again");
        assert_eq!(cache.len_and_bytes(), (3, 100));
        // Room for 60 takes both older entries.
        cache.get_or_parse(&blobs[3], weigh(60)).unwrap();
        assert_eq!(cache.len_and_bytes(), (2, 70));
    }

    #[test]
    fn a_value_over_the_budget_is_returned_not_kept() {
        let cache = Cache::new(100);
        let blobs = blobs(2);
        cache.get_or_parse(&blobs[0], |_| Ok(Sized(0, 30))).unwrap();
        let big = cache
            .get_or_parse(&blobs[1], |_| Ok(Sized(1, 101)))
            .unwrap();
        assert_eq!(big.1, 101);
        assert_eq!(cache.len_and_bytes(), (1, 30), "nothing evicted for it");
        let again = cache.get_or_parse(&blobs[1], |_| Ok(Sized(1, 7))).unwrap();
        assert_eq!(again.1, 7, "parsed again");
    }

    impl Weigh for u8 {
        fn heap_bytes(&self) -> usize {
            1
        }
    }

    #[test]
    fn kinds_of_one_blob_are_separate_entries() {
        let cache = Cache::new(100);
        let blob = Blob::new(vec![5]);
        assert_eq!(
            cache.get_or_parse(&blob, |b| Ok(Sized(b[0], 2))).unwrap().0,
            5
        );
        assert_eq!(*cache.get_or_parse(&blob, |_| Ok(9u8)).unwrap(), 9);
        assert_eq!(cache.len_and_bytes(), (2, 3));
    }

    #[test]
    fn errors_are_not_cached() {
        let cache = Cache::new(100);
        let blob = Blob::new(vec![1]);
        assert!(cache
            .get_or_parse::<Sized>(&blob, |_| Err(BackendError::Internal("x".into())))
            .is_err());
        assert_eq!(cache.get_or_parse(&blob, |_| Ok(Sized(1, 1))).unwrap().0, 1);
    }

    #[test]
    fn weights_follow_the_parsed_sizes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/multiplier/");
        let read = |f: &str| std::fs::read(format!("{dir}{f}")).unwrap();
        let r1cs_file = read("multiplier.r1cs");
        let r1cs = R1cs::parse(&r1cs_file).unwrap();
        // Decoded terms take 40 bytes for 36 in the file, plus 72 per constraint.
        let w = r1cs.heap_bytes();
        assert!(w > r1cs_file.len() && w < 4 * r1cs_file.len(), "{w}");
        let zkey_file = read("multiplier.zkey");
        let key = crate::parse_proving_key(&zkey_file).unwrap();
        let w = key.heap_bytes();
        assert!(w > zkey_file.len() && w < 3 * zkey_file.len(), "{w}");
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
