//! `zkpool devnet`: a local pool for requesters to rehearse against. A real node on a socket
//! of your choice, honest prover agents, and beside them (or alone) provers that misbehave on
//! purpose, chosen by a [`Preset`]. It funds a requester key and an admin key, prints them once
//! with the URLs and an example command line, then runs until Ctrl-C, logging what happens to
//! each task (leases, refusals, re-leases, claims, payouts).
//!
//! ```text
//!  start(DevnetConfig) ─► LocalPool (node, funded keys) ─► faulty agents, then honest agents
//!                              │                               └─ crashed ones restart
//!                              └─ watcher: task transitions ─► tracing
//! ```
//!
//! The timings are short (a 3 s lease TTL, a 10 s max lease) so that every fault shows within a
//! liability window of about 20 s; the tests in `tests/devnet.rs` use shorter ones still.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use zkpool_client::Client;
use zkpool_node::NodeConfig;
use zkpool_prover::{AgentConfig, AgentError, AgentEvent, Fault};
use zkpool_types::{KeyId, TaskId, TaskState};

use crate::demo::{LocalPool, FUND_PROVER_STAKE};

/// How the devnet's faulty provers misbehave.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Every prover is honest: tasks are proved and paid (80 % to the prover, 20 % fee).
    None,
    /// Leases a task and goes silent (no heartbeat, no proof): the lease expires after its TTL
    /// and the task moves to an honest prover, which proves it and is paid; alone, it takes
    /// the task again and again until the window closes: `pool_fault`, and the automatic
    /// claim pays the requester its refund and the bond.
    Silent,
    /// Proves, then holds the proof (heartbeating) past the window: beside honest provers the
    /// pool takes the lease back at the max lease and an honest prover proves the task; alone,
    /// the window closes first (`pool_fault`, refund and bond paid). Either way the late
    /// upload is refused (`stale_lease`).
    Late,
    /// Uploads false proofs: each is refused, the liar's collateral is slashed and it never
    /// gets that task again; an honest prover proves it. Alone: the window closes,
    /// `pool_fault`, refund and bond paid.
    Invalid,
    /// Dies mid-proof holding the lease (and restarts, as a supervised process would): the
    /// lease expires after its TTL and an honest prover proves the task. Alone: the window
    /// closes, `pool_fault`, refund and bond paid.
    Crash,
    /// Each lease draws one behaviour from a seeded RNG (`--seed`): honest half of the time,
    /// else invalid, silent or crash. Beside an honest prover every task is proved.
    Flaky,
}

impl Preset {
    /// The fault of the `index`-th faulty prover (flaky ones get different seeds).
    pub fn fault(self, timing: &Timing, index: u64) -> Fault {
        match self {
            Preset::None => Fault::None,
            Preset::Silent => Fault::Stall,
            Preset::Late => Fault::Late {
                hold: timing.late_hold,
            },
            Preset::Invalid => Fault::InvalidProofs,
            Preset::Crash => Fault::Crash,
            Preset::Flaky => Fault::Flaky {
                seed: timing.seed.wrapping_add(index),
            },
        }
    }

    /// What a requester should see, in a sentence or two.
    pub fn expect(self, alone: bool) -> &'static str {
        match (self, alone) {
            (Preset::None, _) => "every task is proved and paid: 80 % to the prover, 20 % fee",
            (Preset::Silent, false) => {
                "the silent prover takes a task and says nothing: its lease expires after the \
                 TTL, the task is re-leased to an honest prover, proved and paid"
            }
            (Preset::Silent, true) => {
                "the silent prover takes the task again and again; the window closes: \
                 pool_fault, and the automatic claim pays your refund and the bond"
            }
            (Preset::Late, false) => {
                "the late prover holds its proof past the max lease: the pool takes the lease \
                 back, an honest prover proves the task; the late upload is refused (stale_lease)"
            }
            (Preset::Late, true) => {
                "the late prover holds its proof past the window: the window closes first \
                 (pool_fault, refund and bond paid) and the late upload is refused (stale_lease)"
            }
            (Preset::Invalid, false) => {
                "the false proof is refused, the liar's collateral slashed; an honest prover \
                 proves the task and is paid"
            }
            (Preset::Invalid, true) => {
                "the false proof is refused and the liar never gets the task again; the window \
                 closes: pool_fault, refund and bond paid"
            }
            (Preset::Crash, false) => {
                "the crashing prover dies holding the lease: it expires after the TTL and an \
                 honest prover proves the task"
            }
            (Preset::Crash, true) => {
                "the crashing prover dies on every lease (and restarts); the window closes: \
                 pool_fault, refund and bond paid"
            }
            (Preset::Flaky, false) => {
                "some leases are refused, expire or crash; every task is still proved, some \
                 after a re-lease"
            }
            (Preset::Flaky, true) => {
                "some tasks are proved at once, others after retries; a task the flaky prover \
                 keeps failing ends pool_fault when its window closes (refund and bond paid)"
            }
        }
    }
}

/// The devnet's timings: short, so that faults show within a window of about 20 s.
#[derive(Clone, Debug)]
pub struct Timing {
    /// How long a lease lives without a heartbeat (silent and crashed provers lose it then).
    pub lease_ttl: Duration,
    /// How often agents heartbeat.
    pub heartbeat: Duration,
    /// The longest a lease lives however often it heartbeats (the late prover loses it then).
    pub max_lease: Duration,
    /// How often the node sweeps expired leases and closed windows.
    pub reap_interval: Duration,
    /// How long the late prover holds its proof before uploading it.
    pub late_hold: Duration,
    /// How long a crashed prover stays down before it restarts.
    pub restart_after: Duration,
    /// Leases a task may have: many, so that a faulty prover alone lets the window close
    /// (the requester's claim) rather than use up the attempts (the pool concedes).
    pub max_attempts: u32,
    /// The flaky provers' RNG seed.
    pub seed: u64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            lease_ttl: Duration::from_secs(3),
            heartbeat: Duration::from_secs(1),
            max_lease: Duration::from_secs(10),
            reap_interval: Duration::from_millis(250),
            late_hold: Duration::from_secs(30),
            restart_after: Duration::from_secs(2),
            max_attempts: 20,
            seed: 1,
        }
    }
}

/// What [`start`] runs.
#[derive(Clone, Debug)]
pub struct DevnetConfig {
    /// How the faulty provers misbehave.
    pub preset: Preset,
    /// Honest provers beside them.
    pub honest: u32,
    /// Faulty provers (none with [`Preset::None`]).
    pub faulty: u32,
    /// Where the node listens.
    pub listen: SocketAddr,
    /// The node's data; a temporary directory when `None`.
    pub data_dir: Option<PathBuf>,
    /// Lease, heartbeat and fault timings.
    pub timing: Timing,
}

/// `zkpool devnet`.
#[derive(Args, Debug)]
pub struct DevnetArgs {
    /// How the faulty provers misbehave: none (all honest), silent (lease, then say nothing),
    /// late (prove, hold the proof past the window), invalid (upload false proofs), crash
    /// (die mid-proof, restart), flaky (per lease: honest, invalid, silent or crash, seeded).
    #[arg(long, value_enum, default_value_t = Preset::None)]
    preset: Preset,
    /// Honest provers beside the faulty ones (0: the faulty ones alone).
    #[arg(long, default_value_t = 1)]
    honest: u32,
    /// Faulty provers (ignored with `--preset none`).
    #[arg(long, default_value_t = 1)]
    faulty: u32,
    /// Where the node listens; the dashboard is at `http://ADDR/`.
    #[arg(long, default_value = "127.0.0.1:7070")]
    listen: SocketAddr,
    /// Keep the pool's data here (default: a temporary directory, removed at exit).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Lease TTL, seconds: a silent or crashed prover loses its lease this long after its last
    /// heartbeat.
    #[arg(long, default_value_t = 3)]
    lease_ttl: u64,
    /// Max lease, seconds: a lease that heartbeats without a proof is taken back after this.
    #[arg(long, default_value_t = 10)]
    max_lease: u64,
    /// Seconds the late prover holds its proof; quote windows shorter than this to see the
    /// window close first.
    #[arg(long, default_value_t = 30)]
    late_hold: u64,
    /// The flaky provers' RNG seed (the same seed, the same sequence of behaviours).
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

impl DevnetArgs {
    /// The configuration these flags describe.
    pub fn config(&self) -> DevnetConfig {
        let timing = Timing {
            lease_ttl: Duration::from_secs(self.lease_ttl.max(1)),
            heartbeat: Duration::from_secs(self.lease_ttl.max(1)) / 3,
            max_lease: Duration::from_secs(self.max_lease.max(1)),
            late_hold: Duration::from_secs(self.late_hold),
            seed: self.seed,
            ..Timing::default()
        };
        DevnetConfig {
            preset: self.preset,
            honest: self.honest,
            faulty: self.faulty,
            listen: self.listen,
            data_dir: self.data_dir.clone(),
            timing,
        }
    }
}

/// What a devnet prover did with a lease: its name and the agent's event.
pub type ProverEvent = (String, AgentEvent);

/// A running devnet.
#[derive(Debug)]
pub struct Devnet {
    /// The node and its funded keys.
    pub pool: LocalPool,
    /// What it was started with.
    pub config: DevnetConfig,
    /// The data directory's path (also when temporary).
    pub data_dir: PathBuf,
    /// Stops the agents and the watcher.
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    events: Arc<Mutex<Vec<ProverEvent>>>,
    _tmp: Option<tempfile::TempDir>,
}

/// Starts the node, funds its keys, starts the faulty provers and then the honest ones, and
/// waits until all of them are online (so that quotes see their capacity).
pub async fn start(config: DevnetConfig) -> anyhow::Result<Devnet> {
    let faulty = if config.preset == Preset::None {
        0
    } else {
        config.faulty
    };
    anyhow::ensure!(
        config.honest + faulty >= 1,
        "no prover would run: use --honest 1 or more, or a preset with --faulty 1 or more"
    );
    anyhow::ensure!(
        config.honest <= 32 && faulty <= 32,
        "--honest and --faulty must be 0 to 32"
    );
    let (data_dir, tmp) = match &config.data_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::tempdir().context("cannot create a temporary data directory")?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let t = &config.timing;
    let node = NodeConfig {
        lease_ttl: t.lease_ttl,
        heartbeat: t.heartbeat,
        max_lease: t.max_lease,
        reap_interval: t.reap_interval,
        max_attempts: t.max_attempts,
        ..NodeConfig::default()
    };
    let pool = LocalPool::listening(Some(data_dir.clone()), node, config.listen).await?;
    let mut devnet = Devnet {
        pool,
        config,
        data_dir,
        stop: CancellationToken::new(),
        tasks: Vec::new(),
        events: Arc::default(),
        _tmp: tmp,
    };
    let preset = devnet.config.preset;
    for i in 0..faulty {
        let fault = preset.fault(&devnet.config.timing, u64::from(i));
        let name = format!("{}-{}", preset_name(preset), i + 1);
        devnet.add_prover(&name, fault).await?;
    }
    for i in 0..devnet.config.honest {
        devnet
            .add_prover(&format!("honest-{}", i + 1), Fault::None)
            .await?;
    }
    crate::demo::wait_online(
        &devnet.pool.requester,
        (devnet.config.honest + faulty) as usize,
    )
    .await?;
    let watcher = watch_tasks(devnet.pool.admin.clone(), devnet.stop.clone());
    devnet.tasks.push(tokio::spawn(watcher));
    Ok(devnet)
}

impl Devnet {
    /// Starts one more prover agent named `name` with its own key, staked with
    /// [`FUND_PROVER_STAKE`] tokens; returns the key. A crashed agent restarts after
    /// [`Timing::restart_after`] (a flaky one with the next seed, so it does not repeat the
    /// draws that crashed it).
    pub async fn add_prover(&mut self, name: &str, fault: Fault) -> anyhow::Result<KeyId> {
        let (key, secret) = self.pool.prover_key(name, FUND_PROVER_STAKE).await?;
        let mut config = AgentConfig {
            pool: self.pool.url(),
            key: secret,
            name: name.to_string(),
            jobs: 1,
            lease_wait: Duration::from_secs(5),
            fault,
            payout: None,
        };
        let (tx, mut rx) = mpsc::unbounded_channel();
        let events = self.events.clone();
        let who = name.to_string();
        self.tasks.push(tokio::spawn(async move {
            while let Some(e) = rx.recv().await {
                log_event(&who, &e);
                lock(&events).push((who.clone(), e));
            }
        }));
        let stop = self.stop.clone();
        let restart_after = self.config.timing.restart_after;
        self.tasks.push(tokio::spawn(async move {
            loop {
                let r = zkpool_prover::run_observed(
                    config.clone(),
                    crate::backends(),
                    stop.clone(),
                    Some(tx.clone()),
                )
                .await;
                match r {
                    Err(AgentError::Crashed) => {
                        tracing::warn!(prover = %config.name, restart_in_s = restart_after.as_secs_f32(),
                            "prover crashed mid-proof; restarting it");
                        if let Fault::Flaky { seed } = &mut config.fault {
                            *seed = seed.wrapping_add(1_000);
                        }
                        tokio::select! {
                            _ = tokio::time::sleep(restart_after) => {}
                            _ = stop.cancelled() => return,
                        }
                    }
                    Err(e) => {
                        tracing::error!(prover = %config.name, error = %e, "prover stopped");
                        return;
                    }
                    Ok(()) => return,
                }
            }
        }));
        Ok(key)
    }

    /// Everything the provers did so far, in order.
    pub fn events(&self) -> Vec<ProverEvent> {
        lock(&self.events).clone()
    }

    /// The node's URL.
    pub fn url(&self) -> String {
        self.pool.url()
    }

    /// What to print once at start: URLs, keys, the preset and what to expect, and the
    /// command lines a requester runs against it.
    pub fn banner(&self) -> String {
        let c = &self.config;
        let url = self.url();
        let key = &self.pool.requester_secret;
        let alone = c.honest == 0;
        let faulty = if c.preset == Preset::None {
            0
        } else {
            c.faulty
        };
        let t = &c.timing;
        let fx = "fixtures/multiplier/multiplier";
        format!(
            "zkpool devnet: a local pool to rehearse against (Ctrl-C to stop)\n\
             \n  pool        {url}\
             \n  dashboard   {url}/\
             \n  requester   {key}   (funded; ZKPOOL_KEY for zkpool submit/quote/claim)\
             \n  admin       {admin}\
             \n  data dir    {dir}{tmp}\
             \n  provers     {honest} honest, {faulty} {preset}\
             \n  timings     lease TTL {ttl} s, max lease {max} s, late hold {hold} s, \
             {attempts} attempts per task\
             \n\n  preset {preset}: {expect}\n\
             \n  try it (from the repository root):\
             \n    export ZKPOOL_POOL={url} ZKPOOL_KEY={key}\
             \n    zkpool quote --r1cs {fx}.r1cs --zkey {fx}.zkey --witness {fx}.wtns \
             --deadline 20s --out quote.json\
             \n    zkpool submit --r1cs {fx}.r1cs --zkey {fx}.zkey --witness {fx}.wtns \
             --quote quote.json --wait\
             \n    zkpool balance        # refunds, bonds and claims\
             \n    zkpool claim TASK     # after a window closed without a proof \
             (the pool also claims for you)\n",
            admin = self.pool.admin_secret,
            dir = self.data_dir.display(),
            tmp = if c.data_dir.is_none() {
                " (temporary, removed at exit)"
            } else {
                ""
            },
            honest = c.honest,
            preset = preset_name(c.preset),
            ttl = t.lease_ttl.as_secs_f32(),
            max = t.max_lease.as_secs_f32(),
            hold = t.late_hold.as_secs_f32(),
            attempts = t.max_attempts,
            expect = c.preset.expect(alone),
        )
    }

    /// Stops the provers, the watcher and the node, and waits for them.
    pub async fn stop(self) {
        self.stop.cancel();
        for t in self.tasks {
            // The event forwarders end when their agent's sender is dropped.
            let _ = t.await;
        }
        self.pool.stop().await;
    }
}

/// Runs `zkpool devnet` until Ctrl-C.
pub async fn run(a: DevnetArgs) -> anyhow::Result<()> {
    let devnet = start(a.config()).await?;
    println!("{}", devnet.banner());
    crate::shutdown_signal().await;
    tracing::info!("stopping the devnet");
    devnet.stop().await;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn preset_name(p: Preset) -> &'static str {
    match p {
        Preset::None => "none",
        Preset::Silent => "silent",
        Preset::Late => "late",
        Preset::Invalid => "invalid",
        Preset::Crash => "crash",
        Preset::Flaky => "flaky",
    }
}

fn log_event(prover: &str, e: &AgentEvent) {
    match e {
        AgentEvent::Leased { task, behaviour } if *behaviour != Fault::None => {
            tracing::warn!(prover, %task, ?behaviour, "faulty prover leased a task");
        }
        AgentEvent::Leased { .. }
        | AgentEvent::Prefetched { .. }
        | AgentEvent::ProofAccepted { .. } => {}
        AgentEvent::ProofRefused { task, code } => {
            tracing::warn!(prover, %task, code, "the pool refused the prover's proof");
        }
        AgentEvent::Crashed { task } => {
            tracing::warn!(prover, %task, "prover crashed holding the lease");
        }
    }
}

/// Logs each task's transitions as the admin sees them: leased (again), back in the queue and
/// why, proved, or ended with its cause.
async fn watch_tasks(admin: Client, stop: CancellationToken) {
    let mut seen: HashMap<TaskId, (TaskState, u32)> = HashMap::new();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_millis(300)) => {}
            _ = stop.cancelled() => return,
        }
        let Ok(status) = admin.status().await else {
            continue;
        };
        for v in status.tasks.iter().filter(|v| v.parent.is_none()) {
            let now = (v.state, v.attempts);
            let before = seen.insert(v.id, now);
            if before == Some(now) {
                continue;
            }
            let prover = v.prover_name.as_deref().unwrap_or("-");
            match v.state {
                TaskState::Queued if before.is_none() => {
                    tracing::info!(task = %v.id, label = ?v.label, "task submitted")
                }
                TaskState::Queued => {
                    let why = v.failures.last().map_or("", String::as_str);
                    tracing::warn!(task = %v.id, attempts = v.attempts, why, "task back in the queue")
                }
                TaskState::Leased if v.attempts > 1 => {
                    tracing::warn!(task = %v.id, prover, attempt = v.attempts, of = v.max_attempts, "task re-leased")
                }
                TaskState::Leased => tracing::info!(task = %v.id, prover, "task leased"),
                TaskState::Done => {
                    tracing::info!(task = %v.id, prover, attempts = v.attempts, cause = ?v.cause, "task proved")
                }
                _ => {
                    tracing::warn!(task = %v.id, state = %v.state, cause = ?v.cause, failures = ?v.failures, "task ended")
                }
            }
        }
    }
}
