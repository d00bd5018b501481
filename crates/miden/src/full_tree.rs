//! The decision tree in the fixed shape a circuit evaluates: every path exactly `depth` splits,
//! in heap order, so its parameters are three flat arrays (`fixtures/circuits/iris_tree.circom`
//! takes them as public signals, and `crate::claim` derives a Miden statement from them).

use crate::tree::{DecisionTree, Node, FEATURES};

/// The deepest [`FullTree`] accepted: `2^16` leaves, far beyond what a circuit batch proves,
/// and small enough that the arrays of a refused depth are never allocated.
pub const MAX_FULL_DEPTH: u32 = 16;

/// A decision tree in the fixed shape a circuit evaluates: every path exactly `depth` splits.
///
/// Heap order, as `fixtures/circuits/iris_tree.circom`: internal node `i` has children `2i+1`
/// (left) and `2i+2` (right), and node `2^depth - 1 + j` is leaf `j`. A well-formed tree has
/// `2^depth - 1` features (each `< FEATURES`) and thresholds, `2^depth` leaf classes, and every
/// threshold and class below 256, because the circuit range-checks them to a byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FullTree {
    /// Splits on every path, at most [`MAX_FULL_DEPTH`].
    pub depth: u32,
    /// The feature each internal node tests.
    pub feature: Vec<u32>,
    /// The threshold of each internal node: left when `sample[feature] < threshold`.
    pub threshold: Vec<u32>,
    /// The class of each leaf.
    pub leaf: Vec<u32>,
}

impl DecisionTree {
    /// The same predictions as a full tree of `depth`: a leaf above depth becomes a split that
    /// always goes right (feature 0, threshold 0) with both children the leaf's class. `None`
    /// if the tree is deeper than `depth`, `depth` exceeds [`MAX_FULL_DEPTH`], or a feature,
    /// threshold or class does not fit (thresholds and classes must be `< 256`).
    pub fn to_full(&self, depth: u32) -> Option<FullTree> {
        if depth > MAX_FULL_DEPTH {
            return None;
        }
        let internal = (1usize << depth) - 1;
        let mut full = FullTree {
            depth,
            feature: vec![0; internal],
            threshold: vec![0; internal],
            leaf: vec![0; internal + 1],
        };
        fill(&self.root, 0, &mut full)?;
        full.check().ok()?;
        Some(full)
    }

    /// The full tree as a `DecisionTree` of exactly that shape (no merging), so that its step
    /// program is a function of the parameters alone. Refuses a malformed tree (see
    /// [`FullTree`]).
    pub fn from_full(full: &FullTree) -> Result<DecisionTree, String> {
        fn build(full: &FullTree, node: usize) -> Node {
            let internal = full.feature.len();
            if node >= internal {
                return Node::Leaf {
                    class: full.leaf[node - internal],
                };
            }
            Node::Split {
                feature: full.feature[node] as usize,
                threshold: full.threshold[node],
                left: Box::new(build(full, 2 * node + 1)),
                right: Box::new(build(full, 2 * node + 2)),
            }
        }
        full.check()?;
        Ok(DecisionTree {
            root: build(full, 0),
        })
    }
}

impl FullTree {
    /// The class a sample reaches (heap order, left when `sample[feature] < threshold`). On a
    /// malformed tree a missing feature, threshold or class reads as `0`.
    pub fn predict(&self, sample: &[u32; FEATURES]) -> u32 {
        let internal = self.feature.len();
        let mut node = 0;
        while node < internal {
            let f = self.feature[node] as usize;
            let value = sample.get(f).copied().unwrap_or(0);
            let threshold = self.threshold.get(node).copied().unwrap_or(0);
            node = if value < threshold {
                2 * node + 1
            } else {
                2 * node + 2
            };
        }
        self.leaf.get(node - internal).copied().unwrap_or(0)
    }

    /// The claim's input values in circuit order: `feature ++ threshold ++ leaf` (then the
    /// caller appends the samples).
    pub fn params(&self) -> Vec<u64> {
        [&self.feature, &self.threshold, &self.leaf]
            .into_iter()
            .flatten()
            .map(|&v| u64::from(v))
            .collect()
    }

    /// Parses [`params`](Self::params) back: `2^depth - 1` features, `2^depth - 1`
    /// thresholds, then `2^depth` classes, nothing more; the tree must be well formed.
    pub fn from_params(depth: u32, values: &[u64]) -> Result<FullTree, String> {
        if depth > MAX_FULL_DEPTH {
            return Err(format!("depth {depth} exceeds {MAX_FULL_DEPTH}"));
        }
        let internal = (1usize << depth) - 1;
        let expected = 3 * internal + 1;
        if values.len() != expected {
            return Err(format!(
                "{} parameters, a depth-{depth} tree has {expected}",
                values.len()
            ));
        }
        let narrow = |vs: &[u64]| -> Result<Vec<u32>, String> {
            vs.iter()
                .map(|&v| u32::try_from(v).map_err(|_| format!("parameter {v} exceeds u32")))
                .collect()
        };
        let full = FullTree {
            depth,
            feature: narrow(&values[..internal])?,
            threshold: narrow(&values[internal..2 * internal])?,
            leaf: narrow(&values[2 * internal..])?,
        };
        full.check()?;
        Ok(full)
    }

    /// Whether the tree is well formed (see [`FullTree`]), and if not why.
    fn check(&self) -> Result<(), String> {
        if self.depth > MAX_FULL_DEPTH {
            return Err(format!("depth {} exceeds {MAX_FULL_DEPTH}", self.depth));
        }
        let internal = (1usize << self.depth) - 1;
        let lengths = [self.feature.len(), self.threshold.len(), self.leaf.len()];
        if lengths != [internal, internal, internal + 1] {
            return Err(format!(
                "depth {} needs {internal} features, {internal} thresholds and {} leaves, \
                 got {lengths:?}",
                self.depth,
                internal + 1
            ));
        }
        if let Some(f) = self.feature.iter().find(|&&f| f as usize >= FEATURES) {
            return Err(format!("feature {f} is not below {FEATURES}"));
        }
        if let Some(v) = self.threshold.iter().chain(&self.leaf).find(|&&v| v > 255) {
            return Err(format!("threshold or class {v} does not fit a byte"));
        }
        Ok(())
    }
}

/// Writes `node`, sitting at heap index `at`, into `full`; `None` if it is too deep. Values
/// are copied unchecked (the caller checks the whole tree), except that a feature too large
/// for `u32` is refused here.
fn fill(node: &Node, at: usize, full: &mut FullTree) -> Option<()> {
    let internal = full.feature.len();
    match node {
        Node::Leaf { class } if at >= internal => full.leaf[at - internal] = *class,
        // A leaf above the bottom: `f < 0` never holds, so both sides predict `class`.
        Node::Leaf { .. } => {
            (full.feature[at], full.threshold[at]) = (0, 0);
            fill(node, 2 * at + 1, full)?;
            fill(node, 2 * at + 2, full)?;
        }
        Node::Split { .. } if at >= internal => return None,
        Node::Split {
            feature,
            threshold,
            left,
            right,
        } => {
            full.feature[at] = u32::try_from(*feature).ok()?;
            full.threshold[at] = *threshold;
            fill(left, 2 * at + 1, full)?;
            fill(right, 2 * at + 2, full)?;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::tests::{leaf, split};

    fn iris_tree() -> (crate::iris::Dataset, DecisionTree) {
        let d = crate::iris::iris().unwrap();
        let t = DecisionTree::train(&d.features, &d.labels, 4);
        (d, t)
    }

    #[test]
    fn iris_full_tree_predicts_as_the_trained_tree() {
        let (d, t) = iris_tree();
        assert_eq!(t.depth(), 4);
        assert_eq!(t.to_full(3), None, "a depth-4 tree does not fit depth 3");
        let full = t.to_full(4).unwrap();
        let rebuilt = DecisionTree::from_full(&full).unwrap();
        for (i, s) in d.features.iter().enumerate() {
            assert_eq!(full.predict(s), t.predict(s), "sample {i}");
            assert_eq!(rebuilt.predict(s), t.predict(s), "sample {i}");
        }
        // No merging: the program has one branch per internal node, whatever the classes.
        assert_eq!(rebuilt.step_source().matches("if.true").count(), 15);
        assert_eq!(rebuilt.to_full(4), Some(full.clone()));
        // A deeper shape predicts the same too.
        let deeper = t.to_full(6).unwrap();
        assert!(d.features.iter().all(|s| deeper.predict(s) == t.predict(s)));
    }

    #[test]
    fn leaves_above_depth_become_splits_that_go_right() {
        let t = DecisionTree {
            root: split(1, 9, leaf(3), leaf(7)),
        };
        let full = t.to_full(2).unwrap();
        assert_eq!(full.feature, [1, 0, 0]);
        assert_eq!(full.threshold, [9, 0, 0]);
        assert_eq!(full.leaf, [3, 3, 7, 7]);
        let single = DecisionTree { root: leaf(5) }.to_full(0).unwrap();
        assert_eq!((single.feature.len(), single.leaf.clone()), (0, vec![5]));
        assert_eq!(single.predict(&[1, 2, 3, 4]), 5);
    }

    #[test]
    fn to_full_refuses_values_the_circuit_cannot_range_check() {
        let full = |root: Node| DecisionTree { root }.to_full(1);
        assert!(full(split(3, 255, leaf(255), leaf(0))).is_some());
        assert_eq!(full(split(0, 256, leaf(0), leaf(1))), None);
        assert_eq!(full(split(0, 1, leaf(256), leaf(1))), None);
        assert_eq!(full(split(4, 1, leaf(0), leaf(1))), None);
        assert_eq!(
            DecisionTree { root: leaf(0) }.to_full(MAX_FULL_DEPTH + 1),
            None
        );
    }

    #[test]
    fn params_round_trip_and_malformed_ones_are_refused() {
        let full = iris_tree().1.to_full(4).unwrap();
        let params = full.params();
        assert_eq!(params.len(), 15 + 15 + 16);
        assert_eq!(
            params[..15],
            full.feature
                .iter()
                .map(|&v| u64::from(v))
                .collect::<Vec<_>>()
        );
        assert_eq!(FullTree::from_params(4, &params), Ok(full.clone()));

        assert!(FullTree::from_params(4, &params[..45]).is_err());
        assert!(FullTree::from_params(4, &[params.clone(), vec![0]].concat()).is_err());
        assert!(FullTree::from_params(3, &params).is_err());
        assert!(FullTree::from_params(40, &params).is_err());
        let mut bad = params.clone();
        bad[0] = 4;
        assert!(FullTree::from_params(4, &bad)
            .unwrap_err()
            .contains("feature 4"));
        bad[0] = u64::MAX;
        assert!(FullTree::from_params(4, &bad).unwrap_err().contains("u32"));
        let mut bad = params;
        bad[20] = 256;
        assert!(FullTree::from_params(4, &bad).is_err());

        let mut short = full.clone();
        short.leaf.pop();
        assert!(DecisionTree::from_full(&short).is_err());
        // Malformed but not refused by `predict`: missing entries read as 0, no panic.
        assert_eq!(short.predict(&[255; FEATURES]), 0);
        let mut wide = full;
        wide.feature[0] = 9;
        assert!(DecisionTree::from_full(&wide)
            .unwrap_err()
            .contains("feature 9"));
    }

    /// `fixtures/iris_tree/input.json` (written by `scripts/build-fixtures.sh`) is the trained
    /// Iris tree of depth 4 and the first 16 Iris samples, so the Groth16 fixture and this
    /// crate classify the same claim.
    #[test]
    fn iris_tree_fixture_input_is_the_trained_tree() {
        let (d, t) = iris_tree();
        let full = t.to_full(4).unwrap();
        let expected = serde_json::json!({
            "feature": full.feature,
            "threshold": full.threshold,
            "leaf": full.leaf,
            "sample": d.features[..16],
        });
        let committed: serde_json::Value =
            serde_json::from_str(include_str!("../../../fixtures/iris_tree/input.json")).unwrap();
        assert_eq!(committed, expected, "expected input.json: {expected}");
    }
}
