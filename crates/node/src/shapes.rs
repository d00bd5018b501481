//! Inspections already done: a quote and the submit that follows it name the same artifacts,
//! and a shape depends on nothing else, so the second inspection is a lookup. Only accepted
//! shapes are kept; the cache is bounded in bytes (a shape's statement is most of it) and
//! forgets the oldest first.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Mutex;

use zkpool_backend::TaskShape;
use zkpool_types::{ArtifactRole, BlobHash, ProofSystem};

type Key = (ProofSystem, BTreeMap<ArtifactRole, BlobHash>);

/// Bytes an entry costs beyond its statement (the key and the map's own overhead).
const OVERHEAD: usize = 256;

#[derive(Debug)]
pub(crate) struct Shapes {
    budget: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    map: HashMap<Key, TaskShape>,
    order: VecDeque<Key>,
    bytes: usize,
}

fn weight(shape: &TaskShape) -> usize {
    shape.statement.len() + OVERHEAD
}

impl Shapes {
    pub fn new(budget: usize) -> Self {
        Self {
            budget,
            inner: Mutex::new(Inner::default()),
        }
    }

    pub fn get(
        &self,
        system: ProofSystem,
        artifacts: &BTreeMap<ArtifactRole, BlobHash>,
    ) -> Option<TaskShape> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.map.get(&(system, artifacts.clone())).cloned()
    }

    pub fn insert(
        &self,
        system: ProofSystem,
        artifacts: &BTreeMap<ArtifactRole, BlobHash>,
        shape: &TaskShape,
    ) {
        let w = weight(shape);
        if w > self.budget {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = (system, artifacts.clone());
        if inner.map.contains_key(&key) {
            return;
        }
        while inner.bytes + w > self.budget {
            let Some(old) = inner.order.pop_front() else {
                break;
            };
            if let Some(s) = inner.map.remove(&old) {
                inner.bytes -= weight(&s);
            }
        }
        inner.bytes += w;
        inner.order.push_back(key.clone());
        inner.map.insert(key, shape.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(n: usize) -> TaskShape {
        TaskShape {
            work: 1,
            prove_memory_bytes: 1,
            statement: vec![0; n],
        }
    }

    fn arts(i: u8) -> BTreeMap<ArtifactRole, BlobHash> {
        BTreeMap::from([(ArtifactRole::Wtns, BlobHash::of(&[i]))])
    }

    #[test]
    fn the_oldest_shapes_go_when_the_bytes_run_out() {
        let c = Shapes::new(3 * (100 + OVERHEAD));
        for i in 0..4 {
            c.insert(ProofSystem::Groth16, &arts(i), &shape(100));
        }
        assert!(c.get(ProofSystem::Groth16, &arts(0)).is_none());
        for i in 1..4 {
            assert_eq!(c.get(ProofSystem::Groth16, &arts(i)), Some(shape(100)));
        }
        assert!(c.get(ProofSystem::MidenVm, &arts(1)).is_none());
        // a shape larger than the whole budget is not kept, and evicts nothing
        c.insert(ProofSystem::Groth16, &arts(9), &shape(10_000));
        assert!(c.get(ProofSystem::Groth16, &arts(9)).is_none());
        assert!(c.get(ProofSystem::Groth16, &arts(3)).is_some());
    }
}
