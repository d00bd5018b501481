//! zkML demo: a decision-tree classifier as a chunk program.
//!
//! Each chunk is one sample's four features; `step` classifies it and folds the sample and the
//! predicted class into the state,
//! `state' = hash([0, 0, 0, class], hash([f3, f2, f1, f0], state))` (Poseidon2, as `hmerge`),
//! so the final state commits to every sample and every prediction in order: a prover cannot
//! classify other samples than the requester's. The model is bound by the program hash (its
//! thresholds and classes are compiled into `step`); [`DecisionTree::commitment`] is a
//! commitment to its parameters that a task can use as its initial state.
//! [`DecisionTree::commit`] computes the chain natively, which is how a requester checks a
//! claimed output against its own samples and predictions.

use std::collections::BTreeMap;

use miden_core::crypto::hash::Poseidon2;
use miden_core::{Felt, Word};

use crate::State;

pub use crate::full_tree::{FullTree, MAX_FULL_DEPTH};

/// Features per sample: one Miden word.
pub const FEATURES: usize = 4;

/// A binary decision tree over [`FEATURES`] integer features.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    /// Predicts `class`.
    Leaf {
        /// The predicted class.
        class: u32,
    },
    /// Goes `left` when `features[feature] < threshold`, else `right`.
    Split {
        /// Which feature, `< FEATURES`.
        feature: usize,
        /// The threshold.
        threshold: u32,
        /// Subtree for smaller values.
        left: Box<Node>,
        /// Subtree for the others.
        right: Box<Node>,
    },
}

/// A classifier whose evaluation is proved chunk by chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionTree {
    /// The root node.
    pub root: Node,
}

impl DecisionTree {
    /// A full tree of `depth` splits on every path, thresholds and classes drawn from `seed`
    /// (deterministic, so tests and demos are reproducible). Features are expected in `0..256`.
    pub fn generate(depth: u32, seed: u64) -> Self {
        let mut rng = seed;
        DecisionTree {
            root: gen_node(depth, &mut rng),
        }
    }

    /// Learns a tree from labelled samples by CART: each node takes the split with the lowest
    /// weighted Gini impurity of its children, until a node is pure, cannot be improved, or
    /// sits `max_depth` splits below the root. Sample `i` is `features[i]` with class
    /// `labels[i]`; if the slices differ in length, the longer one's tail is ignored.
    ///
    /// Candidate thresholds lie between consecutive distinct values of a feature; since
    /// features are integers, the threshold is the upper value, so `f < threshold` sends the
    /// lower values left. Ties go to the lowest feature, then the lowest threshold, so training
    /// is deterministic. A leaf predicts its samples' majority class (ties to the smallest
    /// class; class `0` for no samples). Sibling leaves that predict the same class are merged,
    /// which changes no prediction and keeps the proved program small.
    pub fn train(features: &[[u32; FEATURES]], labels: &[u32], max_depth: u32) -> Self {
        let samples: Vec<usize> = (0..features.len().min(labels.len())).collect();
        DecisionTree {
            root: grow(features, labels, samples, max_depth),
        }
    }

    /// The most splits on any path from the root to a leaf.
    pub fn depth(&self) -> u32 {
        fn depth(node: &Node) -> u32 {
            match node {
                Node::Leaf { .. } => 0,
                Node::Split { left, right, .. } => 1 + depth(left).max(depth(right)),
            }
        }
        depth(&self.root)
    }

    /// The fraction of samples whose predicted class is their label, over the pairs of
    /// `features` and `labels`; `0.0` when there are none.
    pub fn accuracy(&self, features: &[[u32; FEATURES]], labels: &[u32]) -> f64 {
        let total = features.len().min(labels.len());
        if total == 0 {
            return 0.0;
        }
        let correct = features
            .iter()
            .zip(labels)
            .filter(|(f, &l)| self.predict(f) == l)
            .count();
        correct as f64 / total as f64
    }

    /// The class the tree predicts, evaluated natively.
    pub fn predict(&self, features: &[u32; FEATURES]) -> u32 {
        let mut node = &self.root;
        loop {
            match node {
                Node::Leaf { class } => return *class,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    let f = features.get(*feature).copied().unwrap_or(0);
                    node = if f < *threshold { left } else { right };
                }
            }
        }
    }

    /// The Miden assembly `step` procedure: reads four features from the advice stack,
    /// classifies them and folds the sample and its class into the state.
    pub fn step_source(&self) -> String {
        let mut body = String::new();
        emit(&self.root, 2, &mut body);
        format!(
            "# [STATE] -> [hash([0, 0, 0, class], hash([f3, f2, f1, f0], STATE))]
proc step
    adv_push adv_push adv_push adv_push
    # => [f3, f2, f1, f0, STATE]
{body}    # => [class, f3, f2, f1, f0, STATE]
    movdn.8 hmerge
    # => [hash(SAMPLE, STATE), class]
    movup.4 push.0 push.0 push.0
    # => [0, 0, 0, class, H]
    hmerge
end
"
        )
    }

    /// A commitment to the model's parameters: Poseidon2 over the tree in pre-order, a split as
    /// `[1, feature, threshold]` and a leaf as `[0, class]`.
    pub fn commitment(&self) -> State {
        fn flatten(node: &Node, out: &mut Vec<Felt>) {
            match node {
                Node::Leaf { class } => out.extend([
                    Felt::new_unchecked(0),
                    Felt::new_unchecked(u64::from(*class)),
                ]),
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                } => {
                    out.extend([
                        Felt::new_unchecked(1),
                        Felt::new_unchecked(*feature as u64),
                        Felt::new_unchecked(u64::from(*threshold)),
                    ]);
                    flatten(left, out);
                    flatten(right, out);
                }
            }
        }
        let mut elements = Vec::new();
        flatten(&self.root, &mut elements);
        state_of(Poseidon2::hash_elements(&elements))
    }

    /// The chunks for `samples`, in the order `step` reads them.
    pub fn chunks(samples: &[[u32; FEATURES]]) -> Vec<crate::Chunk> {
        samples
            .iter()
            .map(|s| s.iter().map(|&f| u64::from(f)).collect())
            .collect()
    }

    /// The state after classifying `samples` from `initial`, natively.
    pub fn commit(&self, initial: State, samples: &[[u32; FEATURES]]) -> State {
        samples.iter().fold(initial, |state, s| {
            fold_sample(state, s, u64::from(self.predict(s)))
        })
    }
}

/// `hash([0, 0, 0, class], hash([f3, f2, f1, f0], state))`: what `step` does after
/// classifying `sample` as `class`.
pub fn fold_sample(state: State, sample: &[u32; FEATURES], class: u64) -> State {
    let word = |v: [u64; 4]| Word::new(v.map(Felt::new_unchecked));
    let [f0, f1, f2, f3] = sample.map(u64::from);
    let absorbed = Poseidon2::merge(&[word([f3, f2, f1, f0]), word(state)]);
    state_of(Poseidon2::merge(&[word([0, 0, 0, class]), absorbed]))
}

fn state_of(word: Word) -> State {
    let mut s = [0u64; 4];
    for (d, f) in s.iter_mut().zip(word.as_elements()) {
        *d = f.as_canonical_u64();
    }
    s
}

/// The CART subtree for `samples` (indices into `features` and `labels`).
fn grow(features: &[[u32; FEATURES]], labels: &[u32], samples: Vec<usize>, depth: u32) -> Node {
    let counts = class_counts(labels, &samples);
    let leaf = Node::Leaf {
        class: majority(&counts),
    };
    if depth == 0 || counts.len() < 2 {
        return leaf;
    }
    let Some((feature, threshold)) = best_split(features, labels, &samples, &counts) else {
        return leaf;
    };
    let value = |i: usize| features.get(i).and_then(|f| f.get(feature)).copied();
    let (lo, hi): (Vec<usize>, Vec<usize>) = samples
        .into_iter()
        .partition(|&i| value(i).is_some_and(|v| v < threshold));
    let left = grow(features, labels, lo, depth - 1);
    let right = grow(features, labels, hi, depth - 1);
    match (&left, &right) {
        (Node::Leaf { class: a }, Node::Leaf { class: b }) if a == b => left,
        _ => Node::Split {
            feature,
            threshold,
            left: Box::new(left),
            right: Box::new(right),
        },
    }
}

/// How many of `samples` are in each class.
fn class_counts(labels: &[u32], samples: &[usize]) -> BTreeMap<u32, u64> {
    let mut counts = BTreeMap::new();
    for l in samples.iter().filter_map(|&i| labels.get(i)) {
        *counts.entry(*l).or_insert(0) += 1;
    }
    counts
}

/// The most frequent class, the smallest among equals; `0` for none.
fn majority(counts: &BTreeMap<u32, u64>) -> u32 {
    let mut best = (0, 0);
    for (&class, &n) in counts {
        if n > best.1 {
            best = (class, n);
        }
    }
    best.0
}

/// A partition's score: `Σ_c n_c² / n`, as the fraction `(Σ_c n_c², n)`. The weighted Gini
/// impurity of a split is `n_total − Σ_sides score`, so the best split has the highest total
/// score. Kept as exact integers so that equal splits compare equal and ties break as
/// documented, not by rounding.
fn score(counts: &BTreeMap<u32, u64>) -> (u128, u128) {
    let squares = counts
        .values()
        .map(|&n| u128::from(n) * u128::from(n))
        .sum();
    (squares, u128::from(counts.values().sum::<u64>()))
}

/// The `(feature, threshold)` whose split most lowers the Gini impurity of `samples`, or none
/// when no split lowers it (every feature constant). Candidates are visited by feature, then
/// threshold, ascending, and only a strictly better one replaces the best so far.
fn best_split(
    features: &[[u32; FEATURES]],
    labels: &[u32],
    samples: &[usize],
    counts: &BTreeMap<u32, u64>,
) -> Option<(usize, u32)> {
    // The parent's score as `a / b`; a split must beat it.
    let (mut best_num, mut best_den) = score(counts);
    let mut best = None;
    let mut rows: Vec<(u32, u32)> = Vec::with_capacity(samples.len());
    for feature in 0..FEATURES {
        rows.clear();
        rows.extend(samples.iter().filter_map(|&i| {
            let v = features.get(i)?.get(feature)?;
            Some((*v, *labels.get(i)?))
        }));
        rows.sort_unstable();
        let mut left = BTreeMap::new();
        let mut right = counts.clone();
        for pair in rows.windows(2) {
            let &[(v, class), (next, _)] = pair else {
                continue;
            };
            *left.entry(class).or_insert(0) += 1;
            if let Some(n) = right.get_mut(&class) {
                *n = n.saturating_sub(1);
            }
            if v == next {
                continue;
            }
            // score(left) + score(right) = (sl·nr + sr·nl) / (nl·nr), compared with the best
            // by cross-multiplying; an overflow (over ~2^25 samples) counts as no better.
            let ((sl, nl), (sr, nr)) = (score(&left), score(&right));
            let better = || {
                let num = sl.checked_mul(nr)?.checked_add(sr.checked_mul(nl)?)?;
                let den = nl.checked_mul(nr)?;
                let gain = num.checked_mul(best_den)? > best_num.checked_mul(den)?;
                Some((gain, num, den))
            };
            if let Some((true, num, den)) = better() {
                (best_num, best_den) = (num, den);
                best = Some((feature, next));
            }
        }
    }
    best
}

fn gen_node(depth: u32, rng: &mut u64) -> Node {
    // splitmix64: a dependency-free, well-mixed deterministic sequence.
    let mut next = || {
        *rng = rng.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *rng;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    if depth == 0 {
        return Node::Leaf {
            class: (next() % 4) as u32,
        };
    }
    let feature = (next() % FEATURES as u64) as usize;
    let threshold = (next() % 256) as u32;
    Node::Split {
        feature,
        threshold,
        left: Box::new(gen_node(depth - 1, rng)),
        right: Box::new(gen_node(depth - 1, rng)),
    }
}

/// Emits MASM that leaves the class on top of `[f3, f2, f1, f0, ...]`, which it keeps intact.
fn emit(node: &Node, indent: usize, out: &mut String) {
    let pad = "    ".repeat(indent);
    match node {
        Node::Leaf { class } => out.push_str(&format!("{pad}push.{class}\n")),
        Node::Split {
            feature,
            threshold,
            left,
            right,
        } => {
            // Feature i sits at depth 3 - i; `lt` pops [b, a] and pushes a < b.
            let depth = FEATURES - 1 - feature.min(&(FEATURES - 1));
            out.push_str(&format!(
                "{pad}dup.{depth} push.{threshold} lt\n{pad}if.true\n"
            ));
            emit(left, indent + 1, out);
            out.push_str(&format!("{pad}else\n"));
            emit(right, indent + 1, out);
            out.push_str(&format!("{pad}end\n"));
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn generation_is_deterministic_and_full() {
        let t = DecisionTree::generate(4, 7);
        assert_eq!(t, DecisionTree::generate(4, 7));
        fn leaves(n: &Node) -> usize {
            match n {
                Node::Leaf { .. } => 1,
                Node::Split { left, right, .. } => leaves(left) + leaves(right),
            }
        }
        assert_eq!(leaves(&t.root), 16);
    }

    #[test]
    fn step_source_has_one_branch_per_split() {
        let src = DecisionTree::generate(4, 1).step_source();
        assert_eq!(src.matches("if.true").count(), 15);
        assert!(src.contains("proc step"));
    }

    pub(crate) fn leaf(class: u32) -> Node {
        Node::Leaf { class }
    }

    pub(crate) fn split(feature: usize, threshold: u32, left: Node, right: Node) -> Node {
        Node::Split {
            feature,
            threshold,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    #[test]
    fn training_splits_at_the_upper_value_of_the_best_gap() {
        // Feature 1 separates the classes between 4 and 9; feature 0 is noise.
        let x = [[5, 1, 0, 0], [1, 4, 0, 0], [5, 9, 0, 0], [1, 12, 0, 0]];
        let t = DecisionTree::train(&x, &[3, 3, 7, 7], 4);
        assert_eq!(t.root, split(1, 9, leaf(3), leaf(7)));
        assert_eq!(t.depth(), 1);
        assert_eq!(t.accuracy(&x, &[3, 3, 7, 7]), 1.0);
    }

    #[test]
    fn equal_splits_go_to_the_lowest_feature_and_threshold() {
        // Features 2 and 3 separate equally well; so do thresholds 2 and 3 on feature 2.
        let x = [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3], [0, 0, 4, 4]];
        let t = DecisionTree::train(&x, &[0, 0, 1, 1], 3);
        assert_eq!(t.root, split(2, 3, leaf(0), leaf(1)));
        let x = [[0, 0, 1, 1], [0, 0, 2, 2], [0, 0, 3, 3]];
        let t = DecisionTree::train(&x, &[0, 1, 0], 2);
        // Either threshold splits off one `0`; the lower one wins.
        assert_eq!(t.root, split(2, 2, leaf(0), split(2, 3, leaf(1), leaf(0))));
    }

    #[test]
    fn leaves_take_the_majority_and_ties_the_smallest_class() {
        let x = [[1, 0, 0, 0]; 5];
        // Constant features: no split can help, whatever the depth.
        assert_eq!(DecisionTree::train(&x, &[4, 2, 4, 2, 9], 3).root, leaf(2));
        assert_eq!(DecisionTree::train(&x, &[4, 9, 4, 2, 9], 3).root, leaf(4));
        assert_eq!(DecisionTree::train(&[], &[], 3).root, leaf(0));
        // Depth 0 is a single majority leaf even where a split would be perfect.
        let x = [[1, 0, 0, 0], [2, 0, 0, 0], [3, 0, 0, 0]];
        assert_eq!(DecisionTree::train(&x, &[5, 6, 6], 0).root, leaf(6));
    }

    #[test]
    fn iris_depth_4_fits_the_training_set() {
        let d = crate::iris::iris().unwrap();
        let t = DecisionTree::train(&d.features, &d.labels, 4);
        assert_eq!(t, DecisionTree::train(&d.features, &d.labels, 4));
        assert!(t.depth() <= 4, "depth {}", t.depth());
        let acc = t.accuracy(&d.features, &d.labels);
        // CART reaches 149/150 here; the bar leaves room for other valid tie-breaks.
        assert!(acc >= 0.95, "training accuracy {acc}");
        // The root isolates setosa by petal length below 3.0 cm (1.9 cm is setosa's largest),
        // the textbook first split.
        assert!(
            matches!(
                &t.root,
                Node::Split { feature: 2, threshold: 30, left, .. } if **left == leaf(0)
            ),
            "{:?}",
            t.root
        );

        // A shallower tree is really shallower and worse: the depth limit is enforced.
        let stump = DecisionTree::train(&d.features, &d.labels, 1);
        assert_eq!(stump.depth(), 1);
        assert!(stump.accuracy(&d.features, &d.labels) < acc);
    }

    /// The trained tree's Miden program classifies every Iris sample as native evaluation does,
    /// so the thresholds in millimetres survive the translation to `lt`.
    #[test]
    fn iris_tree_program_agrees_with_native_predictions() {
        let d = crate::iris::iris().unwrap();
        let t = DecisionTree::train(&d.features, &d.labels, 4);
        let program = crate::assemble(&t.step_source()).unwrap();
        let initial = [1, 2, 3, 4];
        let traces =
            crate::execute_chunks(&program, initial, &DecisionTree::chunks(&d.features)).unwrap();
        assert_eq!(traces.len(), 150);
        for (i, trace) in traces.iter().enumerate() {
            assert_eq!(
                trace.state,
                t.commit(initial, &d.features[..=i]),
                "sample {i}"
            );
        }
    }
}
