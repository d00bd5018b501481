//! What to prove, as `zkpool submit` and `zkpool quote` both take it: a Groth16 circuit or a
//! Miden program with its chunks.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{ArgGroup, Args};
use indicatif::{ProgressBar, ProgressStyle};
use zkpool_client::Client;
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec};

/// The task's files. Groth16: `--r1cs`, `--zkey` and a witness (`--witness`, or `--wasm` with
/// `--input`). Miden (split proving): `--program` and `--chunks`.
#[derive(Args, Debug, Clone)]
#[command(group(ArgGroup::new("what").required(true).args(["r1cs", "program"])))]
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
    /// A name for the task on the dashboard (default: the r1cs or program file name).
    #[arg(long)]
    pub label: Option<String>,
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
