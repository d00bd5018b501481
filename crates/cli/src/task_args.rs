//! What to prove, as `zkpool submit` and `zkpool quote` both take it: a Groth16 circuit, a
//! Miden program with its chunks, or a multi-prover task file (`--task task.json`: one claim
//! and its legs, each a Groth16 circuit or a Miden program); `--race M` races a task.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args};
use indicatif::{ProgressBar, ProgressStyle};
use zkpool_client::Client;
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec};

/// The task's files. Groth16: `--r1cs`, `--zkey` and a witness (`--witness`, or `--wasm` with
/// `--input`). Miden (split proving): `--program` and `--chunks`.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("what").required(true).args(["r1cs", "program", "task"])))]
pub struct TaskArgs {
    /// Groth16: the circuit's constraint system (circom `--r1cs`).
    #[arg(long, requires = "zkey", conflicts_with_all = ["program", "chunks"])]
    pub r1cs: Option<PathBuf>,
    /// Groth16: the snarkjs proving key.
    #[arg(long, requires = "r1cs")]
    pub zkey: Option<PathBuf>,
    /// Groth16: a witness computed beforehand (`snarkjs wtns calculate`).
    #[arg(long, conflicts_with_all = ["wasm", "input"])]
    pub witness: Option<PathBuf>,
    /// Groth16: the circuit's witness generator (circom `--wasm`); needs --input.
    #[arg(long, requires = "input")]
    pub wasm: Option<PathBuf>,
    /// Groth16: the circuit's inputs as JSON; used with --wasm.
    #[arg(long, requires = "wasm")]
    pub input: Option<PathBuf>,
    /// Miden: assembly defining `proc step`, which turns the state word on the stack into the
    /// next one, reading one chunk from the advice stack.
    #[arg(long, requires = "chunks")]
    pub program: Option<PathBuf>,
    /// Miden: the input as JSON, `{"state_in": [a, b, c, d], "chunks": [[...], ...]}`.
    #[arg(long, requires = "program")]
    pub chunks: Option<PathBuf>,
    /// Miden: segments to aim for (default: one per online prover).
    #[arg(long, requires = "program")]
    pub segments: Option<u32>,
    /// A multi-prover task: JSON with the claim, `k` and the legs (each a Groth16 circuit or
    /// a Miden program; paths relative to the file). `zkpool demo multiprover --export DIR`
    /// writes one.
    #[arg(long, conflicts_with_all = ["r1cs", "program", "race"])]
    pub task: Option<PathBuf>,
    /// Race the task: lease it to M provers of different keys at once; the first valid proof
    /// wins and is the only one paid. Lower latency, when provers' speed varies, for the same
    /// price (the losers' work is theirs).
    #[arg(long, value_name = "M")]
    pub race: Option<u32>,
    /// A name for the task on the dashboard (default: the r1cs or program file name).
    #[arg(long)]
    pub label: Option<String>,
}

/// `--task task.json`: a multi-prover task as a requester writes it.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct TaskFile {
    /// A name for the dashboard.
    #[serde(default)]
    pub label: Option<String>,
    /// What every leg proves.
    pub claim: zkpool_types::Claim,
    /// How many legs must verify.
    pub k: u32,
    /// The legs.
    pub legs: Vec<LegFile>,
}

/// One leg of a [`TaskFile`]: its system, its files by role (paths relative to the task
/// file), Groth16's public-signal map, Miden's segment count.
#[derive(serde::Serialize, serde::Deserialize, Debug, Clone)]
pub struct LegFile {
    /// `groth16` or `miden`.
    pub system: ProofSystem,
    /// Files by role: r1cs, zkey, wtns | wasm + input (Groth16); program, chunks (Miden).
    pub files: std::collections::BTreeMap<ArtifactRole, PathBuf>,
    /// Groth16: the claim value each public signal is (`"out:0"`, `"in:3"`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub signals: Vec<zkpool_types::ClaimRef>,
    /// Miden: segments to aim for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u32>,
    /// A name for the leg.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
}

impl TaskFile {
    /// Reads a task file.
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let bytes =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{} is not a multi-prover task file ({{\"claim\", \"k\", \"legs\"}})",
                path.display()
            )
        })
    }

    /// Uploads every leg's files and returns the multi-prover spec.
    pub async fn upload(&self, dir: &Path, client: &Client) -> anyhow::Result<TaskSpec> {
        let first = self
            .legs
            .first()
            .context("the task file has no legs")?
            .system;
        let mut legs = Vec::with_capacity(self.legs.len());
        for (i, leg) in self.legs.iter().enumerate() {
            let mut spec = TaskSpec {
                system: leg.system,
                label: leg.label.clone().or_else(|| {
                    Some(format!(
                        "{} leg {i}",
                        self.label.as_deref().unwrap_or("task")
                    ))
                }),
                artifacts: Default::default(),
                segments: leg.segments,
                strategy: None,
            };
            for (role, file) in &leg.files {
                let path = dir.join(file);
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("leg {i}: cannot read {}", path.display()))?;
                let hash = client
                    .upload(bytes)
                    .await
                    .with_context(|| format!("uploading {}", path.display()))?;
                spec.artifacts.insert(*role, hash);
            }
            legs.push(zkpool_types::Leg {
                spec,
                signals: leg.signals.clone(),
            });
        }
        Ok(TaskSpec {
            system: first,
            label: self.label.clone(),
            artifacts: Default::default(),
            segments: None,
            strategy: Some(zkpool_types::Strategy::MultiProver {
                claim: self.claim.clone(),
                k: self.k,
                legs,
            }),
        })
    }
}

impl TaskArgs {
    /// The proof system the files are for.
    pub fn system(&self) -> ProofSystem {
        if self.program.is_some() {
            ProofSystem::MidenVm
        } else {
            ProofSystem::Groth16
        }
    }

    /// The files by role, or what is missing.
    fn files(&self) -> anyhow::Result<Vec<(ArtifactRole, PathBuf)>> {
        if let (Some(program), Some(chunks)) = (&self.program, &self.chunks) {
            return Ok(vec![
                (ArtifactRole::Program, program.clone()),
                (ArtifactRole::Chunks, chunks.clone()),
            ]);
        }
        let (Some(r1cs), Some(zkey)) = (&self.r1cs, &self.zkey) else {
            anyhow::bail!("give --r1cs and --zkey (Groth16), or --program and --chunks (Miden)");
        };
        let mut files = vec![
            (ArtifactRole::R1cs, r1cs.clone()),
            (ArtifactRole::Zkey, zkey.clone()),
        ];
        match (&self.witness, &self.wasm, &self.input) {
            (Some(w), _, _) => files.push((ArtifactRole::Wtns, w.clone())),
            (None, Some(w), Some(i)) => {
                files.push((ArtifactRole::Wasm, w.clone()));
                files.push((ArtifactRole::Input, i.clone()));
            }
            _ => anyhow::bail!(
                "a Groth16 task needs a witness: --witness FILE.wtns, or --wasm FILE.wasm with --input input.json"
            ),
        }
        Ok(files)
    }

    /// Uploads the files (the pool skips those it has) and returns the task's spec.
    pub async fn upload(&self, client: &Client) -> anyhow::Result<TaskSpec> {
        if let Some(path) = &self.task {
            let mut spec = TaskFile::read(path)?
                .upload(path.parent().unwrap_or(Path::new(".")), client)
                .await?;
            if self.label.is_some() {
                spec.label = self.label.clone();
            }
            return Ok(spec);
        }
        let files = self.files()?;
        let bar = ProgressBar::new(files.len() as u64).with_style(
            ProgressStyle::with_template("{spinner} uploading {msg} [{pos}/{len}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let named = self.r1cs.as_deref().or(self.program.as_deref());
        let mut spec = TaskSpec {
            system: self.system(),
            label: self.label.clone().or_else(|| {
                named
                    .and_then(Path::file_stem)
                    .map(|s| s.to_string_lossy().into_owned())
            }),
            artifacts: Default::default(),
            segments: self.segments,
            strategy: self.race.map(|m| zkpool_types::Strategy::Race { m }),
        };
        for (role, path) in &files {
            bar.set_message(path.display().to_string());
            let bytes =
                std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
            let hash = client
                .upload(bytes)
                .await
                .with_context(|| format!("uploading {}", path.display()))?;
            spec.artifacts.insert(*role, hash);
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(spec)
    }
}
