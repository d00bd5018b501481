//! zkML demo: a decision-tree classifier as a chunk program.
//!
//! Each chunk is one sample's four features; `step` classifies it and folds the predicted
//! class into the state, `state' = hash([0, 0, 0, class], state)` (Poseidon2, as `hmerge`), so
//! the final state commits to every prediction in order. [`DecisionTree::commit`] computes the
//! same chain natively, which is how a requester checks a claimed output against its own
//! predictions.

use miden_core::crypto::hash::Poseidon2;
use miden_core::{Felt, Word};

use crate::State;

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
    /// classifies them and folds the class into the state.
    pub fn step_source(&self) -> String {
        let mut body = String::new();
        emit(&self.root, 2, &mut body);
        format!(
            "# [STATE] -> [hash([0, 0, 0, class], STATE)]
proc step
    adv_push adv_push adv_push adv_push
    # => [f3, f2, f1, f0, STATE]
{body}    # => [class, f3, f2, f1, f0, STATE]
    movdn.4 dropw
    push.0 push.0 push.0
    # => [0, 0, 0, class, STATE]
    hmerge
end
"
        )
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
            fold_class(state, u64::from(self.predict(s)))
        })
    }
}

/// `hash([0, 0, 0, class], state)`: what `step` does after classifying.
pub fn fold_class(state: State, class: u64) -> State {
    let word = |v: [u64; 4]| Word::new(v.map(Felt::new_unchecked));
    let out = Poseidon2::merge(&[word([0, 0, 0, class]), word(state)]);
    let mut s = [0u64; 4];
    for (d, f) in s.iter_mut().zip(out.as_elements()) {
        *d = f.as_canonical_u64();
    }
    s
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
mod tests {
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
}
