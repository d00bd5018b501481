//! Requester commands: `submit` and `status`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use zkpool_client::Client;
use zkpool_types::api::TaskView;
use zkpool_types::{ProofSystem, TaskId, TaskState};

use crate::table::{ms, Table};
use crate::task_args::TaskArgs;

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
    /// What to prove.
    #[command(flatten)]
    task: TaskArgs,
    /// Wait for the proof and write proof.json and public.json.
    #[arg(long)]
    wait: bool,
    /// Where --wait writes proof.json and public.json (Groth16) or result.bin (Miden).
    #[arg(long, default_value = ".")]
    out: PathBuf,
    /// Accept this quote (from `zkpool quote`): escrow its reward and submit under its terms.
    #[arg(long, conflicts_with = "chain")]
    quote: Option<PathBuf>,
    /// Settlement on the pool's Ethereum contract.
    #[command(flatten)]
    chain: crate::chain_cmd::RequesterChainArgs,
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

/// Uploads the artifacts, submits (accepting `--quote` when given), and with `--wait`
/// follows the task to the end.
pub async fn submit(a: SubmitArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let spec = a.task.upload(&client).await?;
    if a.chain.chain {
        let id = crate::chain_cmd::submit(&client, spec, &a.chain, a.wait).await?;
        return finish(&client, &a, id).await;
    }
    if let Some(path) = &a.quote {
        let quote: zkpool_types::settlement::SignedQuote = serde_json::from_slice(
            &std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?,
        )
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
    if a.task.task.is_some() {
        return finish_multi(client, &a.out, id).await;
    }
    let view = if a.task.system() == ProofSystem::MidenVm {
        crate::split_progress::watch_split(client, id, Duration::from_secs(7 * 24 * 3600)).await?
    } else {
        follow(client, id).await?
    };
    ensure_done(&view)?;
    let bytes = client.proof(view.id).await?;
    std::fs::create_dir_all(&a.out)
        .with_context(|| format!("cannot create {}", a.out.display()))?;
    if view.system == ProofSystem::MidenVm {
        let path = a.out.join("result.bin");
        std::fs::write(&path, &bytes)
            .with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("{}; wrote {}", describe(&view), path.display());
        eprintln!("check it yourself: zkpool verify {}", path.display());
        return Ok(());
    }
    let (proof, public) = zkpool_groth16::split_proof_json(&zkpool_backend::ProofArtifact(bytes))?;
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

/// Follows a multi-prover task to its end; writes `bundle.json`, checks it here as
/// `zkpool verify` would, and writes each Groth16 leg's `proof.json` and `public.json` (the
/// first Groth16 leg's also without the `leg-N-` prefix) for snarkjs.
pub async fn finish_multi(client: &Client, out: &Path, id: TaskId) -> anyhow::Result<()> {
    let view = follow(client, id).await?;
    ensure_done(&view)?;
    let bytes = client.proof(view.id).await?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("bundle.json");
    std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
    let checked = crate::bundle::check(&bytes, None, &[])
        .context("the pool delivered a bundle that does not verify")?;
    let mut first = true;
    for leg in &checked.bundle.legs {
        if leg.system != ProofSystem::Groth16 {
            continue;
        }
        let (proof, public) = zkpool_groth16::split_proof_json(&zkpool_backend::ProofArtifact(
            leg.proof.to_string().into_bytes(),
        ))?;
        let mut names = vec![format!("leg-{}-", leg.index)];
        if first {
            names.push(String::new());
            first = false;
        }
        for prefix in names {
            std::fs::write(
                out.join(format!("{prefix}proof.json")),
                serde_json::to_vec_pretty(&proof)?,
            )?;
            std::fs::write(
                out.join(format!("{prefix}public.json")),
                serde_json::to_vec_pretty(&public)?,
            )?;
            std::fs::write(
                out.join(format!("{prefix}verification_key.json")),
                serde_json::to_vec_pretty(&leg.verifying_key)?,
            )?;
        }
    }
    eprintln!(
        "{}; wrote {} (verified here: {} legs, certificate signed by {})",
        describe(&view),
        path.display(),
        checked.bundle.legs.len(),
        checked.signer
    );
    eprintln!("check it yourself: zkpool verify {}", path.display());
    Ok(())
}

/// The task's end as an error unless it is done: its cause and why its attempts failed.
fn ensure_done(view: &TaskView) -> anyhow::Result<()> {
    if view.state != TaskState::Done {
        let cause = view.cause.map(|c| format!(" ({c})")).unwrap_or_default();
        anyhow::bail!(
            "task {} failed{cause}: {}",
            view.id,
            view.failures.join("; ")
        );
    }
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
        // The node answers as soon as the task ends; the spinner's line is refreshed each second.
        let v = client.task_wait(id, Duration::from_secs(1)).await?;
        bar.set_message(describe(&v));
        if v.state.is_final() {
            bar.finish_and_clear();
            return Ok(v);
        }
    }
}

/// One line about a task's progress.
pub fn describe(v: &TaskView) -> String {
    let label = v.label.as_deref().unwrap_or("-");
    if let Some(c) = v.composition {
        return describe_group(v, c, label);
    }
    if !v.segments.is_empty() {
        return describe_split(v, label);
    }
    match v.state {
        TaskState::Queued if v.attempts > 0 => format!(
            "{} {label}: queued again (attempt {} failed)",
            v.id, v.attempts
        ),
        TaskState::Queued => format!("{} {label}: queued", v.id),
        TaskState::Unpaid => format!(
            "{} {label}: quoted for the pool contract, waiting for submitTask on chain",
            v.id
        ),
        TaskState::Proving => format!("{} {label}: proving", v.id),
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

fn describe_split(v: &TaskView, label: &str) -> String {
    let n = v.segments.len();
    let count = |s: TaskState| v.segments.iter().filter(|x| x.state == s).count();
    let provers: std::collections::BTreeSet<&str> = v
        .segments
        .iter()
        .filter_map(|s| s.prover_name.as_deref())
        .collect();
    match v.state {
        TaskState::Done => format!(
            "{} {label}: done — {n} segments proved on {} provers, joined and verified in {}",
            v.id,
            provers.len(),
            v.verify_ms.map(ms).unwrap_or_default()
        ),
        TaskState::Failed => format!(
            "{} {label}: failed — {}",
            v.id,
            v.failures.last().map(String::as_str).unwrap_or("?")
        ),
        _ => format!(
            "{} {label}: {n} segments — {} proved, {} proving, {} queued",
            v.id,
            count(TaskState::Done),
            count(TaskState::Leased),
            count(TaskState::Queued)
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
        "task", "circuit", "state", "cause", "work", "prover", "prove", "attempts",
    ]);
    for t in &s.tasks {
        let provers: std::collections::BTreeSet<&str> = t
            .segments
            .iter()
            .filter_map(|s| s.prover_name.as_deref())
            .collect();
        let prover = if t.segments.is_empty() {
            t.prover_name.clone().unwrap_or_default()
        } else {
            format!("{} segments on {}", t.segments.len(), provers.len())
        };
        tasks.row(vec![
            t.id.to_string(),
            t.label.clone().unwrap_or_default(),
            t.state.to_string(),
            t.cause.map(|c| c.to_string()).unwrap_or_default(),
            t.work.to_string(),
            prover,
            t.prove_ms.map(ms).unwrap_or_default(),
            format!("{}/{}", t.attempts, t.max_attempts),
        ]);
    }
    let provers = crate::table::provers_table(&s.provers);
    println!(
        "tasks ({}):\n{tasks}\nprovers ({}):\n{provers}",
        s.tasks.len(),
        s.provers.len()
    );
    Ok(())
}

/// A multi-prover or racing task: its legs, each with its state and prover.
fn describe_group(v: &TaskView, c: zkpool_types::Composition, label: &str) -> String {
    let done = v
        .segments
        .iter()
        .filter(|l| l.state == TaskState::Done)
        .count();
    let head = match c {
        zkpool_types::Composition::AllOf { k, n } => {
            format!("{} {label}: {done} of {k} legs verified ({n} legs)", v.id)
        }
        zkpool_types::Composition::Race { m } => format!("{} {label}: race of {m}", v.id),
    };
    let legs: Vec<String> = v
        .segments
        .iter()
        .map(|l| {
            let who = l.prover_name.as_deref().unwrap_or("");
            let parts = if l.segments.is_empty() {
                String::new()
            } else {
                let d = l
                    .segments
                    .iter()
                    .filter(|s| s.state == TaskState::Done)
                    .count();
                format!(" {d}/{} segments", l.segments.len())
            };
            format!("{} {}{parts} {who}", l.system, l.state)
        })
        .collect();
    format!("{head} — {}", legs.join("; "))
}
