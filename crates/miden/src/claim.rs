//! Multi-prover claims a Miden task can state: for a function this backend knows, the chain
//! statement (program hash, initial state, chunk count ↦ output) is derived from the claim's
//! plain values, so a Miden leg proves exactly the claim or is refused at submit.
//!
//! ```text
//!   zkml/decision-tree-d4   inputs  = feature[15] ++ threshold[15] ++ leaf[16]   (a FullTree)
//!                                     ++ samples, 4 features each
//!                           outputs = one class per sample
//!   ─► program  = step of DecisionTree::from_full(params)   (its hash: the model)
//!      initial  = the model's commitment
//!      chunks   = the number of samples
//!      output   = fold of (sample, claimed class) over the samples
//! ```
//!
//! The same values are the public signals of `fixtures/circuits/iris_tree.circom`, so one
//! claim binds a Groth16 leg and a Miden leg to the same model, samples and predictions.

use zkpool_backend::BackendError;
use zkpool_types::Claim;

use crate::tree::{fold_sample, DecisionTree, FullTree, FEATURES};
use crate::ChainStatement;

/// The depth-4 decision tree over four features: the zkML demo's function.
pub const DECISION_TREE_D4: &str = "zkml/decision-tree-d4";

/// Parameters of a depth-4 full tree: 15 features, 15 thresholds, 16 classes.
const TREE_PARAMS: usize = 46;

fn mismatch(m: impl Into<String>) -> BackendError {
    BackendError::Mismatch(m.into())
}

/// The chain statement a Miden task must have to prove `claim`, for a function this backend
/// knows; `Err(Mismatch)` for another function or values that do not fit it.
pub fn statement_of(claim: &Claim) -> Result<ChainStatement, BackendError> {
    if claim.function != DECISION_TREE_D4 {
        return Err(mismatch(format!(
            "the Miden backend states no claim of function {:?} (it knows {DECISION_TREE_D4})",
            claim.function
        )));
    }
    let inputs = numbers(&claim.inputs, "input")?;
    let outputs = numbers(&claim.outputs, "output")?;
    if inputs.len() <= TREE_PARAMS || !(inputs.len() - TREE_PARAMS).is_multiple_of(FEATURES) {
        return Err(mismatch(format!(
            "{DECISION_TREE_D4} takes {TREE_PARAMS} tree parameters and then 4 features per \
             sample; the claim has {} inputs",
            inputs.len()
        )));
    }
    let full = FullTree::from_params(4, &inputs[..TREE_PARAMS]).map_err(mismatch)?;
    let tree = DecisionTree::from_full(&full).map_err(mismatch)?;
    let mut samples = Vec::new();
    for s in inputs[TREE_PARAMS..].chunks(FEATURES) {
        let mut sample = [0u32; FEATURES];
        for (f, v) in sample.iter_mut().zip(s) {
            *f = u32::try_from(*v)
                .ok()
                .filter(|v| *v < 256)
                .ok_or_else(|| mismatch(format!("feature value {v} is not below 256")))?;
        }
        samples.push(sample);
    }
    if outputs.len() != samples.len() {
        return Err(mismatch(format!(
            "{} samples but {} classes",
            samples.len(),
            outputs.len()
        )));
    }
    let program = crate::assemble(&tree.step_source())?;
    let initial = tree.commitment();
    let output = samples
        .iter()
        .zip(&outputs)
        .fold(initial, |state, (s, class)| fold_sample(state, s, *class));
    Ok(ChainStatement {
        program_hash: program.hash().to_hex(),
        initial_state: initial,
        claimed_output: output,
        chunks: samples.len() as u64,
    })
}

fn numbers(values: &[String], what: &str) -> Result<Vec<u64>, BackendError> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            v.parse::<u64>()
                .map_err(|_| mismatch(format!("claim {what} {i} ({v}) does not fit 64 bits")))
        })
        .collect()
}

/// The claim that a Miden task of `tree` over `samples` states, with the classes the tree
/// predicts: what a requester puts in its task file.
pub fn tree_claim(full: &FullTree, samples: &[[u32; FEATURES]]) -> Claim {
    let mut inputs: Vec<String> = full.params().iter().map(u64::to_string).collect();
    inputs.extend(samples.iter().flatten().map(u32::to_string));
    Claim {
        function: DECISION_TREE_D4.into(),
        inputs,
        outputs: samples
            .iter()
            .map(|s| full.predict(s).to_string())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::iris;

    fn iris_full() -> FullTree {
        let d = iris::iris().unwrap();
        DecisionTree::train(&d.features, &d.labels, 4)
            .to_full(4)
            .unwrap()
    }

    #[test]
    fn the_statement_commits_to_model_samples_and_classes() {
        let full = iris_full();
        let samples: Vec<_> = iris::iris()
            .unwrap()
            .features
            .into_iter()
            .step_by(9)
            .take(8)
            .collect();
        let claim = tree_claim(&full, &samples);
        let st = statement_of(&claim).unwrap();
        let tree = DecisionTree::from_full(&full).unwrap();
        assert_eq!(st.chunks, 8);
        assert_eq!(st.initial_state, tree.commitment());
        assert_eq!(st.claimed_output, tree.commit(tree.commitment(), &samples));
        // Another class, another sample, another model: another statement.
        let mut wrong = claim.clone();
        wrong.outputs[3] = if wrong.outputs[3] == "1" { "2" } else { "1" }.into();
        assert_ne!(statement_of(&wrong).unwrap(), st);
        let mut other = claim.clone();
        other.inputs[TREE_PARAMS] = "1".into();
        assert_ne!(statement_of(&other).unwrap(), st);
        let mut model = claim.clone();
        model.inputs[15] = (full.threshold[0] + 1).to_string();
        assert_ne!(statement_of(&model).unwrap().program_hash, st.program_hash);
    }

    #[test]
    fn malformed_claims_are_refused_not_panicked_on() {
        let full = iris_full();
        let samples: Vec<_> = iris::iris().unwrap().features.into_iter().take(2).collect();
        let good = tree_claim(&full, &samples);
        let mut cases = Vec::new();
        let mut c = good.clone();
        c.function = "other".into();
        cases.push(c);
        let mut c = good.clone();
        c.inputs.pop();
        cases.push(c);
        let mut c = good.clone();
        c.outputs.pop();
        cases.push(c);
        let mut c = good.clone();
        c.inputs[TREE_PARAMS] = "256".into();
        cases.push(c);
        let mut c = good.clone();
        c.inputs[0] = "7".into();
        cases.push(c);
        let mut c = good;
        c.inputs[1] = "99999999999999999999999".into();
        cases.push(c);
        for c in cases {
            assert!(matches!(statement_of(&c), Err(BackendError::Mismatch(_))));
        }
    }
}
