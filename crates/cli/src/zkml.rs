//! The zkML task of `zkpool demo zkml`, the split benchmark and the split end-to-end tests: a
//! decision tree trained on Fisher's Iris data (CART, in Rust) classifies a batch of samples in
//! a Miden program, split into segments that different provers prove.
//!
//! ```text
//!   iris.csv ─► DecisionTree::train (depth 4) ─► step program (thresholds compiled in)
//!   samples  ─► chunks (4 features each)      ─► state_in = the model's commitment
//!   proved:   program hash, state_in ─► … ─► hash chain of every (sample, class) pair
//!   checked:  zkpool verify + the chain recomputed natively from the same tree and samples
//! ```

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context;
use zkpool_client::Client;
use zkpool_miden::iris::Dataset;
use zkpool_miden::tree::{DecisionTree, FEATURES};
use zkpool_miden::{ChainStatement, SegmentInput, State};
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec, TaskState};

use zkpool_ledger::Amount;

use crate::demo::LocalPool;
use crate::table::{ms, Table};

/// Most samples one zkML task may classify here (the data set is cycled past its 150 rows).
pub const MAX_SAMPLES: usize = 4096;

/// A batch classification, ready to submit and to check.
#[derive(Debug, Clone)]
pub struct ZkmlTask {
    /// The trained model.
    pub tree: DecisionTree,
    /// The samples classified, in order.
    pub samples: Vec<[u32; FEATURES]>,
    /// Their true classes, for the accuracy line.
    pub labels: Vec<u32>,
    /// Class names by index.
    pub class_names: Vec<String>,
    /// The Miden `step` program.
    pub step: String,
    /// The task's input: the model commitment as the initial state, one chunk per sample.
    pub input: SegmentInput,
}

impl ZkmlTask {
    /// A depth-`depth` tree trained on all 150 Iris samples, classifying `samples` of them in a
    /// fixed shuffled order (`i · 53 mod 150`, which visits every row once before repeating).
    pub fn iris(samples: usize, depth: u32) -> anyhow::Result<Self> {
        anyhow::ensure!(
            (1..=MAX_SAMPLES).contains(&samples),
            "samples must be 1 to {MAX_SAMPLES}"
        );
        anyhow::ensure!((1..=8).contains(&depth), "tree depth must be 1 to 8");
        let data: Dataset = zkpool_miden::iris::iris().context("the bundled Iris data")?;
        let tree = DecisionTree::train(&data.features, &data.labels, depth);
        let order: Vec<usize> = (0..samples).map(|i| i * 53 % data.len()).collect();
        let picked: Vec<[u32; FEATURES]> = order.iter().map(|&i| data.features[i]).collect();
        Ok(ZkmlTask {
            step: tree.step_source(),
            input: SegmentInput {
                state_in: tree.commitment(),
                chunks: DecisionTree::chunks(&picked),
            },
            labels: order.iter().map(|&i| data.labels[i]).collect(),
            class_names: data.class_names,
            samples: picked,
            tree,
        })
    }

    /// The classes the tree predicts, evaluated natively.
    pub fn predictions(&self) -> Vec<u32> {
        self.samples.iter().map(|s| self.tree.predict(s)).collect()
    }

    /// The output state a correct proof must claim.
    pub fn expected_output(&self) -> State {
        self.tree.commit(self.input.state_in, &self.samples)
    }

    /// The fraction of samples predicted as their label.
    pub fn accuracy(&self) -> f64 {
        self.tree.accuracy(&self.samples, &self.labels)
    }

    /// The chunks file (`--chunks`): JSON `{"state_in": …, "chunks": …}`.
    pub fn chunks_json(&self) -> Vec<u8> {
        serde_json::to_vec(&self.input).unwrap_or_default()
    }

    /// Uploads program and chunks; the spec asks for `segments` segments (`None`: one per
    /// online prover).
    pub async fn spec(&self, client: &Client, segments: Option<u32>) -> anyhow::Result<TaskSpec> {
        let mut spec = TaskSpec {
            system: ProofSystem::MidenVm,
            label: Some(format!("iris-tree-d{}", self.tree.depth())),
            artifacts: Default::default(),
            segments,
            strategy: None,
        };
        spec.artifacts.insert(
            ArtifactRole::Program,
            client.upload(self.step.clone().into_bytes()).await?,
        );
        spec.artifacts.insert(
            ArtifactRole::Chunks,
            client.upload(self.chunks_json()).await?,
        );
        Ok(spec)
    }

    /// Verifies a delivered result as a requester would (`zkpool verify --program --chunks`)
    /// and checks that its output is the chain of these samples and the tree's predictions.
    pub fn check(&self, result: &[u8]) -> anyhow::Result<ChainStatement> {
        let (st, _) = crate::verify_cmd::check(result, Some(&self.step), Some(&self.input))?;
        anyhow::ensure!(
            st.claimed_output == self.expected_output(),
            "the proved output {:?} is not the commitment of the native predictions {:?}",
            st.claimed_output,
            self.expected_output()
        );
        Ok(st)
    }

    /// The predicted classes as a compact line per class: `Iris-setosa ×22`.
    pub fn class_counts(&self) -> String {
        let mut counts = vec![0usize; self.class_names.len()];
        for c in self.predictions() {
            if let Some(n) = counts.get_mut(c as usize) {
                *n += 1;
            }
        }
        self.class_names
            .iter()
            .zip(counts)
            .map(|(name, n)| format!("{name} ×{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Writes the task's `step.masm` and `chunks.json` into `dir` and says how to submit them.
pub fn export(task: &ZkmlTask, dir: &std::path::Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let step = dir.join("step.masm");
    let chunks = dir.join("chunks.json");
    std::fs::write(&step, &task.step)
        .with_context(|| format!("cannot write {}", step.display()))?;
    std::fs::write(&chunks, task.chunks_json())
        .with_context(|| format!("cannot write {}", chunks.display()))?;
    println!(
        "wrote {} and {} ({} samples, model commitment {:?})",
        step.display(),
        chunks.display(),
        task.samples.len(),
        task.input.state_in
    );
    println!(
        "submit: zkpool submit --pool URL --key KEY --program {} --chunks {} --segments 4 --wait",
        step.display(),
        chunks.display()
    );
    Ok(())
}

/// The zkML part of `zkpool demo`: quotes and submits the task split into `segments`, follows
/// every segment, verifies the joined result as the requester and prints the predicted
/// classes, the segments and each prover's share; whether everything verified.
pub async fn demo(
    pool: &LocalPool,
    task: &ZkmlTask,
    segments: u32,
    window: Duration,
) -> anyhow::Result<bool> {
    println!(
        "zkML: a depth-{} decision tree trained on Fisher's Iris data (150 samples, CART) \
         classifies {} samples in a Miden VM program, split into {segments} segments",
        task.tree.depth(),
        task.samples.len(),
    );
    let spec = task.spec(&pool.requester, Some(segments)).await?;
    let submitted = Instant::now();
    let issued = pool
        .requester
        .quote(spec.clone(), window.as_millis() as u64)
        .await
        .context("quoting the zkML task")?;
    let (reward, bond) = (issued.signed.quote.reward.0, issued.signed.quote.bond.0);
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .context("submitting the zkML task")?
        .task_id;
    println!(
        "quoted ({}, bond {}), escrowed and submitted as {id}: executed once, cut into segments\n",
        Amount::from_base_units(reward),
        Amount::from_base_units(bond),
    );
    let view =
        crate::split_progress::watch_split(&pool.requester, id, Duration::from_secs(900)).await?;
    let wall = submitted.elapsed();
    let mut segs = Table::new(&["segment", "rows", "prover", "prove", "verify", "attempts"]);
    let mut per_prover: BTreeMap<String, (usize, u64, u64)> = BTreeMap::new();
    for s in &view.segments {
        let name = s.prover_name.clone().unwrap_or_default();
        segs.row(vec![
            s.segment.map_or(0, |i| i + 1).to_string(),
            s.work.to_string(),
            name.clone(),
            s.prove_ms.map(ms).unwrap_or_default(),
            s.verify_ms.map(ms).unwrap_or_default(),
            format!("{}/{}", s.attempts, s.max_attempts),
        ]);
        if s.state == TaskState::Done {
            let e = per_prover.entry(name).or_default();
            e.0 += 1;
            e.1 += s.work;
            e.2 += s.prove_ms.unwrap_or(0);
        }
    }
    println!("segments of {id}:\n{segs}");
    let mut provers = Table::new(&["prover", "segments", "rows proved", "prove time"]);
    for (name, (n, rows, t)) in &per_prover {
        provers.row(vec![name.clone(), n.to_string(), rows.to_string(), ms(*t)]);
    }
    println!("work per prover on {id}:\n{provers}");
    if view.state != TaskState::Done {
        println!(
            "zkML task {id} {}: {}\n",
            view.state,
            view.failures.join("; ")
        );
        return Ok(false);
    }
    let result = pool.requester.proof(id).await?;
    let verified = Instant::now();
    let checked = task.check(&result);
    let verify_ms = verified.elapsed().as_millis() as u64;
    let predictions = task.predictions();
    println!(
        "predicted classes ({}; {:.1} % match the data set's labels):",
        task.class_counts(),
        task.accuracy() * 100.0
    );
    for row in predictions.chunks(32) {
        let line: Vec<String> = row.iter().map(u32::to_string).collect();
        println!("  {}", line.join(" "));
    }
    let legend: Vec<String> = task
        .class_names
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{i} = {n}"))
        .collect();
    println!("  ({})", legend.join(", "));
    match &checked {
        Ok(st) => println!(
            "joined result: {} segment proofs on {} provers, verified by the node in {} and again \
             here in {} (zkpool verify): program {}…, model commitment → output {:?} = the chain \
             of these {} samples and predictions; {} end to end\n",
            view.segments.len(),
            per_prover.len(),
            view.verify_ms.map(ms).unwrap_or_default(),
            ms(verify_ms),
            &st.program_hash[..st.program_hash.len().min(16)],
            st.claimed_output,
            task.samples.len(),
            ms(wall.as_millis() as u64),
        ),
        Err(e) => println!("joined result REFUSED by the requester: {e:#}\n"),
    }
    Ok(checked.is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_batch_covers_every_class_and_checks_against_native_predictions() {
        let t = ZkmlTask::iris(64, 4).unwrap();
        assert_eq!(t.samples.len(), 64);
        assert_eq!(t.input.chunks.len(), 64);
        let classes: std::collections::BTreeSet<u32> = t.predictions().into_iter().collect();
        assert_eq!(classes.len(), 3, "{classes:?}");
        assert!(t.accuracy() > 0.9, "{}", t.accuracy());
        // The initial state is the model's commitment: another model starts elsewhere.
        let other = ZkmlTask::iris(64, 2).unwrap();
        assert_ne!(t.input.state_in, other.input.state_in);
        assert!(ZkmlTask::iris(0, 4).is_err());
        assert!(ZkmlTask::iris(MAX_SAMPLES + 1, 4).is_err());
    }

    #[test]
    fn a_result_that_is_not_a_chain_proof_is_refused() {
        let t = ZkmlTask::iris(8, 4).unwrap();
        let e = t.check(b"{\"statement\": 1}").unwrap_err();
        assert!(
            format!("{e:#}").contains("not a zkpool split-proof result"),
            "{e:#}"
        );
    }
}
