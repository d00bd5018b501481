//! The multi-prover task of `zkpool demo multiprover` and its end-to-end tests: the zkML
//! decision tree's claim ("this model classifies these samples into these classes") proved by
//! two proof systems at once — a Groth16 circuit and the Miden program, split into segments —
//! each leg on a prover of another key, delivered as one bundle with the pool's certificate.
//!
//! ```text
//!   iris.csv ─► DecisionTree::train (depth 4) ─► FullTree (15 splits, 16 leaves)
//!   claim   = zkml/decision-tree-d4(params ++ 16 samples) = 16 classes
//!   leg 0   = fixtures/iris_tree (circom): public signals = classes ++ params ++ samples
//!   leg 1   = step program of the full tree over the samples (Miden, split into segments)
//!   bundle  = claim + both proofs + certificate ─► zkpool verify bundle.json, snarkjs
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::Context;
use zkpool_miden::tree::{DecisionTree, FullTree, FEATURES};
use zkpool_miden::SegmentInput;
use zkpool_types::{ArtifactRole, Claim, ClaimRef, ProofSystem, TaskState};

use crate::demo::LocalPool;
use crate::fixtures::IRIS_TREE;
use crate::table::{ms, Table};
use crate::task_args::{LegFile, TaskFile};

/// Samples the circuit classifies in one batch (fixed by `iris_tree.circom`).
pub const BATCH: usize = 16;

/// The demo's claim and the two legs that prove it.
#[derive(Debug, Clone)]
pub struct MultiproverTask {
    /// The model in the circuit's shape.
    pub full: FullTree,
    /// The samples, in order.
    pub samples: Vec<[u32; FEATURES]>,
    /// What both legs prove.
    pub claim: Claim,
    /// Segments the Miden leg aims for.
    pub segments: u32,
}

impl MultiproverTask {
    /// The Iris tree of depth 4 over 16 samples spread over the three species (rows 4, 13,
    /// …, 139), the Miden leg cut into `segments`.
    pub fn iris(segments: u32) -> anyhow::Result<Self> {
        let data = zkpool_miden::iris::iris().context("the bundled Iris data")?;
        let tree = DecisionTree::train(&data.features, &data.labels, 4);
        let full = tree
            .to_full(4)
            .context("the Iris tree does not fit the circuit's depth-4 shape")?;
        let samples: Vec<[u32; FEATURES]> = (0..BATCH).map(|i| data.features[4 + 9 * i]).collect();
        let claim = zkpool_miden::claim::tree_claim(&full, &samples);
        Ok(Self {
            full,
            samples,
            claim,
            segments,
        })
    }

    /// The classes the claim states.
    pub fn classes(&self) -> Vec<u32> {
        self.samples.iter().map(|s| self.full.predict(s)).collect()
    }

    /// The circuit's `input.json`.
    pub fn groth16_input(&self) -> Vec<u8> {
        serde_json::json!({
            "feature": self.full.feature,
            "threshold": self.full.threshold,
            "leaf": self.full.leaf,
            "sample": self.samples,
        })
        .to_string()
        .into_bytes()
    }

    /// The Groth16 leg's public signals in the claim's terms: the classes, then the inputs.
    pub fn signals(&self) -> Vec<ClaimRef> {
        (0..self.claim.outputs.len() as u32)
            .map(ClaimRef::Output)
            .chain((0..self.claim.inputs.len() as u32).map(ClaimRef::Input))
            .collect()
    }

    /// The Miden leg's `step` program: the full tree compiled in, so its hash is the model's.
    pub fn program(&self) -> anyhow::Result<String> {
        Ok(DecisionTree::from_full(&self.full)
            .map_err(anyhow::Error::msg)?
            .step_source())
    }

    /// The Miden leg's input: the model's commitment, one chunk per sample.
    pub fn chunks(&self) -> anyhow::Result<Vec<u8>> {
        let tree = DecisionTree::from_full(&self.full).map_err(anyhow::Error::msg)?;
        Ok(serde_json::to_vec(&SegmentInput {
            state_in: tree.commitment(),
            chunks: DecisionTree::chunks(&self.samples),
        })?)
    }

    /// The task file and its legs' files, written to `dir` (`task.json` names the others).
    pub fn export(&self, dir: &Path) -> anyhow::Result<()> {
        self.write_files(dir)?;
        let path = dir.join("task.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&self.task_file())?)
            .with_context(|| format!("cannot write {}", path.display()))?;
        println!(
            "wrote {} (claim {} over {} samples, k = 2 of a Groth16 and a Miden leg) and its legs' files",
            path.display(),
            self.claim.function,
            self.samples.len()
        );
        println!(
            "submit it: zkpool submit --pool URL --key KEY --task {} --wait",
            path.display()
        );
        Ok(())
    }

    /// The task file [`MultiproverTask::export`] writes.
    pub fn task_file(&self) -> TaskFile {
        let files = |pairs: &[(ArtifactRole, &str)]| {
            pairs
                .iter()
                .map(|(r, f)| (*r, std::path::PathBuf::from(f)))
                .collect()
        };
        TaskFile {
            label: Some("iris tree, two proof systems".into()),
            claim: self.claim.clone(),
            k: 2,
            legs: vec![
                LegFile {
                    system: ProofSystem::Groth16,
                    files: files(&[
                        (ArtifactRole::R1cs, "iris_tree.r1cs"),
                        (ArtifactRole::Zkey, "iris_tree.zkey"),
                        (ArtifactRole::Wasm, "iris_tree.wasm"),
                        (ArtifactRole::Input, "input.json"),
                    ]),
                    signals: self.signals(),
                    segments: None,
                    label: Some("iris tree (groth16)".into()),
                },
                LegFile {
                    system: ProofSystem::MidenVm,
                    files: files(&[
                        (ArtifactRole::Program, "step.masm"),
                        (ArtifactRole::Chunks, "chunks.json"),
                    ]),
                    signals: Vec::new(),
                    segments: Some(self.segments),
                    label: Some("iris tree (miden)".into()),
                },
            ],
        }
    }
}

/// Runs the demo on a local pool: quotes, escrows and submits the task, shows both legs'
/// progress, then checks the bundle as the requester would. Whether it was proved and
/// verified.
pub async fn demo(
    pool: &LocalPool,
    task: &MultiproverTask,
    window: Duration,
) -> anyhow::Result<bool> {
    println!(
        "multi-prover: the claim \"the Iris tree classifies these {} samples as {:?}\" proved \
         by two proof systems at once — Groth16 (circom, 4,405 constraints) and Miden (STARK, \
         {} segments) — each on a prover of another key",
        task.samples.len(),
        task.classes(),
        task.segments
    );
    let dir = tempfile::tempdir()?;
    task.write_files(dir.path())?;
    let spec = task.task_file().upload(dir.path(), &pool.requester).await?;
    let started = Instant::now();
    let issued = pool
        .requester
        .quote(spec.clone(), window.as_millis() as u64)
        .await
        .context("quoting the multi-prover task")?;
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .context("submitting the multi-prover task")?
        .task_id;
    println!("quoted, escrowed and submitted as {id}: each leg checked to prove the claim\n");
    let view = crate::requester_cmd::follow(&pool.requester, id).await?;
    let wall = started.elapsed();
    let mut legs = Table::new(&[
        "leg",
        "system",
        "state",
        "prover(s)",
        "work",
        "prove",
        "attempts",
    ]);
    for l in &view.segments {
        let provers = if l.segments.is_empty() {
            l.prover_name.clone().unwrap_or_default()
        } else {
            let mut names: Vec<String> = l
                .segments
                .iter()
                .filter_map(|s| s.prover_name.clone())
                .collect();
            names.sort();
            names.dedup();
            format!("{} ({} segments)", names.join(", "), l.segments.len())
        };
        legs.row(vec![
            l.segment.unwrap_or(0).to_string(),
            l.system.to_string(),
            l.cause.map_or(l.state.to_string(), |c| c.to_string()),
            provers,
            l.work.to_string(),
            l.prove_ms.map(ms).unwrap_or_default(),
            format!("{}/{}", l.attempts, l.max_attempts),
        ]);
    }
    println!("legs of {id}:\n{legs}");
    if view.state != TaskState::Done {
        println!(
            "multi-prover task {id} ended {}: {}",
            view.state,
            view.failures.join("; ")
        );
        return Ok(false);
    }
    let bytes = pool.requester.proof(id).await?;
    let checked_at = Instant::now();
    let checked = crate::bundle::check(
        &bytes,
        Some(pool.node.config.settlement.signer.address()),
        &[],
    )?;
    println!(
        "bundle of {id}: {} legs, certificate {}… signed by the pool ({}), verified here in {} \
         (every leg's proof again, each against the claim, the signature over exactly these legs); \
         task wall time {}",
        checked.bundle.legs.len(),
        &checked.bundle.certificate.signature[..18],
        checked.signer,
        ms(checked_at.elapsed().as_millis() as u64),
        ms(wall.as_millis() as u64)
    );
    Ok(true)
}

impl MultiproverTask {
    /// The legs' files (not `task.json`), written to `dir`.
    pub fn write_files(&self, dir: &Path) -> anyhow::Result<()> {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let files: [(&str, Vec<u8>); 7] = [
            ("iris_tree.r1cs", IRIS_TREE.r1cs.to_vec()),
            ("iris_tree.zkey", IRIS_TREE.zkey.to_vec()),
            ("iris_tree.wasm", IRIS_TREE.wasm.to_vec()),
            ("input.json", self.groth16_input()),
            ("step.masm", self.program()?.into_bytes()),
            ("chunks.json", self.chunks()?),
            (
                "verification_key.json",
                zkpool_groth16::verification_key_json(IRIS_TREE.zkey)?
                    .to_string()
                    .into_bytes(),
            ),
        ];
        for (name, bytes) in &files {
            let path = dir.join(name);
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }
}
