//! Requester commands: `submit` and `status`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use zkpool_client::Client;
use zkpool_types::api::TaskView;
use zkpool_types::{ArtifactRole, ProofSystem, TaskId, TaskSpec, TaskState};

use crate::table::{ms, Table};

/// Which pool and key to talk to.
#[derive(Args, Debug)]
pub struct PoolArgs {
    /// The pool's URL.
    #[arg(long, env = "ZKPOOL_POOL", default_value = "http://127.0.0.1:7070")]
    pub pool: String,
    /// Your access key (a requester key; the admin key also works for `status`).
    #[arg(long, env = "ZKPOOL_KEY")]
    pub key: String,
}

/// `zkpool submit`.
#[derive(Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// The circuit's constraint system (circom `--r1cs`).
    #[arg(long)]
    r1cs: PathBuf,
    /// The snarkjs Groth16 proving key.
    #[arg(long)]
    zkey: PathBuf,
    /// A witness computed beforehand (`snarkjs wtns calculate`).
    #[arg(long, conflicts_with_all = ["wasm", "input"], required_unless_present = "wasm")]
    witness: Option<PathBuf>,
    /// The circuit's witness generator (circom `--wasm`); needs --input.
    #[arg(long, requires = "input")]
    wasm: Option<PathBuf>,
    /// The circuit's inputs as JSON; used with --wasm.
    #[arg(long, requires = "wasm")]
    input: Option<PathBuf>,
    /// A name for the circuit on the dashboard (default: the r1cs file name).
    #[arg(long)]
    label: Option<String>,
    /// Wait for the proof and write proof.json and public.json.
    #[arg(long)]
    wait: bool,
    /// Where --wait writes proof.json and public.json.
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Accept this quote (from `zkpool quote`): escrow its reward and submit under its terms.
    #[arg(long)]
    quote: Option<PathBuf>,
}

/// `zkpool status`.
#[derive(Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// Show one task in detail.
    #[arg(long)]
    task: Option<TaskId>,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Uploads a Groth16 task's files (skipping those the pool has) and returns its spec.
pub async fn upload_spec(
    client: &Client,
    r1cs: &Path,
    zkey: &Path,
    witness: Option<&Path>,
    wasm_input: Option<(&Path, &Path)>,
    label: Option<String>,
) -> anyhow::Result<TaskSpec> {
    let mut files = vec![
        (ArtifactRole::R1cs, r1cs.to_path_buf()),
        (ArtifactRole::Zkey, zkey.to_path_buf()),
    ];
    match (witness, wasm_input) {
        (Some(w), _) => files.push((ArtifactRole::Wtns, w.to_path_buf())),
        (None, Some((w, i))) => {
            files.push((ArtifactRole::Wasm, w.to_path_buf()));
            files.push((ArtifactRole::Input, i.to_path_buf()));
        }
        _ => anyhow::bail!("give --witness FILE.wtns, or --wasm FILE.wasm with --input input.json"),
    }
    let bar = ProgressBar::new(files.len() as u64).with_style(
        ProgressStyle::with_template("{spinner} uploading {msg} [{pos}/{len}]")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: label.or_else(|| r1cs.file_stem().map(|s| s.to_string_lossy().into_owned())),
        artifacts: Default::default(),
    };
    for (role, path) in &files {
        bar.set_message(path.display().to_string());
        let hash = client
            .upload(read(path)?)
            .await
            .with_context(|| format!("uploading {}", path.display()))?;
        spec.artifacts.insert(*role, hash);
        bar.inc(1);
    }
    bar.finish_and_clear();
    Ok(spec)
}

/// Uploads the artifacts, submits (accepting `--quote` when given), and with `--wait`
/// follows the task to the end.
pub async fn submit(a: SubmitArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let wasm_input = a.wasm.as_deref().zip(a.input.as_deref());
    let spec = upload_spec(
        &client,
        &a.r1cs,
        &a.zkey,
        a.witness.as_deref(),
        wasm_input,
        a.label.clone(),
    )
    .await?;
    if let Some(path) = &a.quote {
        let quote: zkpool_types::settlement::SignedQuote = serde_json::from_slice(&read(path)?)
            .with_context(|| {
                format!(
                    "{} is not a quote written by `zkpool quote`",
                    path.display()
                )
            })?;
        let submitted = client
            .submit_quoted(spec, quote)
            .await
            .context("the pool refused the quoted task")?;
        eprintln!(
            "submitted {} ({} constraints); reward escrowed, the pool's bond staked",
            submitted.task_id, submitted.work
        );
        println!("{}", submitted.task_id);
        return finish(&client, &a, submitted.task_id).await;
    }
    let submitted = client
        .submit(spec)
        .await
        .context("the pool refused the task")?;
    eprintln!(
        "submitted {} ({} constraints)",
        submitted.task_id, submitted.work
    );
    println!("{}", submitted.task_id);
    finish(&client, &a, submitted.task_id).await
}

async fn finish(client: &Client, a: &SubmitArgs, id: TaskId) -> anyhow::Result<()> {
    if !a.wait {
        return Ok(());
    }
    let view = follow(client, id).await?;
    if view.state != TaskState::Done {
        anyhow::bail!("task {} failed: {}", view.id, view.failures.join("; "));
    }
    let bytes = client.proof(view.id).await?;
    let (proof, public) = zkpool_groth16::split_proof_json(&zkpool_backend::ProofArtifact(bytes))?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    let proof_path = a.out.join("proof.json");
    let public_path = a.out.join("public.json");
    std::fs::write(&proof_path, serde_json::to_vec_pretty(&proof)?)?;
    std::fs::write(&public_path, serde_json::to_vec_pretty(&public)?)?;
    eprintln!(
        "proved by {} in {}, verified by the pool; wrote {} and {}",
        view.prover_name.as_deref().unwrap_or("?"),
        view.prove_ms.map(ms).unwrap_or_default(),
        proof_path.display(),
        public_path.display()
    );
    eprintln!(
        "check it yourself: snarkjs groth16 verify verification_key.json {} {}",
        public_path.display(),
        proof_path.display()
    );
    Ok(())
}

/// Shows a spinner with the task's state until it is done or failed.
pub async fn follow(client: &Client, id: TaskId) -> anyhow::Result<TaskView> {
    let bar = ProgressBar::new_spinner().with_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    loop {
        let v = client.task(id).await?;
        bar.set_message(describe(&v));
        if v.state.is_final() {
            bar.finish_and_clear();
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// One line about a task's progress.
pub fn describe(v: &TaskView) -> String {
    let label = v.label.as_deref().unwrap_or("-");
    match v.state {
        TaskState::Queued if v.attempts > 0 => format!(
            "{} {label}: queued again (attempt {} failed)",
            v.id, v.attempts
        ),
        TaskState::Queued => format!("{} {label}: queued", v.id),
        TaskState::Leased => format!(
            "{} {label}: proving on {} (attempt {}/{})",
            v.id,
            v.prover_name.as_deref().unwrap_or("?"),
            v.attempts,
            v.max_attempts
        ),
        TaskState::Done => format!(
            "{} {label}: done — proved on {} in {}, verified",
            v.id,
            v.prover_name.as_deref().unwrap_or("?"),
            v.prove_ms.map(ms).unwrap_or_default()
        ),
        TaskState::Failed => format!(
            "{} {label}: failed — {}",
            v.id,
            v.failures.last().map(String::as_str).unwrap_or("?")
        ),
    }
}

/// Prints tasks and provers.
pub async fn status(a: StatusArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    if let Some(id) = a.task {
        let v = client.task(id).await?;
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    let s = client.status().await?;
    let mut tasks = Table::new(&[
        "task",
        "circuit",
        "state",
        "constraints",
        "prover",
        "prove",
        "attempts",
    ]);
    for t in &s.tasks {
        tasks.row(vec![
            t.id.to_string(),
            t.label.clone().unwrap_or_default(),
            t.state.to_string(),
            t.work.to_string(),
            t.prover_name.clone().unwrap_or_default(),
            t.prove_ms.map(ms).unwrap_or_default(),
            format!("{}/{}", t.attempts, t.max_attempts),
        ]);
    }
    let mut provers = Table::new(&[
        "prover",
        "name",
        "online",
        "cores",
        "memory",
        "current",
        "done",
        "constraints",
        "busy",
        "failures",
    ]);
    for p in &s.provers {
        provers.row(vec![
            p.id.to_string(),
            p.name.clone(),
            if p.online { "yes" } else { "no" }.into(),
            p.hardware.cpu_cores.to_string(),
            format!(
                "{:.1} GiB",
                p.hardware.memory_bytes as f64 / (1u64 << 30) as f64
            ),
            p.current_tasks
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(","),
            p.tasks_done.to_string(),
            p.work_done.to_string(),
            ms(p.busy_ms),
            p.failures.to_string(),
        ]);
    }
    println!(
        "tasks ({}):\n{tasks}\nprovers ({}):\n{provers}",
        s.tasks.len(),
        s.provers.len()
    );
    Ok(())
}
