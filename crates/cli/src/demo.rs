//! `zkpool demo`: a whole pool on this machine. A node on loopback with a fresh SQLite data
//! directory, four prover agents connecting over HTTP with their own access keys, and a
//! requester that quotes and submits Groth16 tasks of two bundled circuits, then a zkML task
//! (a decision tree over Iris samples in Miden) split into segments proved by different
//! provers; progress bars while it runs, a summary per task, per prover and of the settlement
//! at the end.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tokio_util::sync::CancellationToken;
use zkpool_backend::{Artifacts, Blob, ProofArtifact};
use zkpool_client::Client;
use zkpool_ledger::Amount;
use zkpool_node::{Node, NodeConfig};
use zkpool_prover::{AgentConfig, Fault};
use zkpool_store::{now_ms, Store};
use zkpool_types::api::{Role, TaskView};
use zkpool_types::{ArtifactRole, KeyId, ProofSystem, TaskId, TaskSpec, TaskState};

use crate::fixtures::{Circuit, MULTIPLIER, POSEIDON_CHAIN};
use crate::requester_cmd::describe;
use crate::table::{ms, Table};

/// What `zkpool demo` runs.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scenario {
    /// All three: the Groth16 tasks, the zkML split task, the multi-prover task.
    All,
    /// Groth16 tasks of two bundled circom circuits, one prover each.
    Groth16,
    /// A decision tree classifying Iris samples in Miden, split over several provers.
    Zkml,
    /// The same tree's claim proved by two proof systems (Groth16 and Miden), each leg on
    /// another prover's key, delivered as one bundle with the pool's certificate.
    Multiprover,
    /// Settlement on the pool contract on a local chain (anvil from `npm ci`, or `--rpc`).
    Ethereum,
}

/// `zkpool demo`.
#[derive(Args, Debug)]
pub struct DemoArgs {
    /// What to run.
    #[arg(value_enum, default_value_t = Scenario::All)]
    scenario: Scenario,
    /// Prover agents to start.
    #[arg(long, default_value_t = 4)]
    provers: u32,
    /// Groth16: tasks per circuit (two circuits).
    #[arg(long, default_value_t = 3)]
    tasks_per_circuit: u32,
    /// zkML: samples the tree classifies in the proved program.
    #[arg(long, default_value_t = 64)]
    samples: usize,
    /// zkML: segments the proof is split into (proved in parallel by different provers).
    #[arg(long, default_value_t = 4)]
    segments: u32,
    /// Keep the pool's data here instead of a temporary directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Make the last prover upload invalid proofs, to watch the pool refuse them and re-lease.
    #[arg(long)]
    faulty_prover: bool,
    /// zkML: write the task's files (step.masm, chunks.json) here and exit, to submit them to a
    /// real pool with `zkpool submit --program --chunks`; multiprover: task.json and its legs'
    /// files, for `zkpool submit --task DIR/task.json`.
    #[arg(long, value_name = "DIR")]
    export: Option<PathBuf>,
    /// ethereum: run against this chain (with anvil's development accounts funded) instead
    /// of starting anvil, so the chain can be inspected afterwards.
    #[arg(long)]
    rpc: Option<String>,
}

/// Tokens the local pool deposits into its requester's account.
pub const FUND_REQUESTER: u64 = 1_000;
/// Tokens the local pool deposits into its liability stake.
pub const FUND_POOL_STAKE: u64 = 10_000;
/// Tokens the local pool deposits into its treasury (epoch reward pools).
pub const FUND_TREASURY: u64 = 5_000;
/// Tokens the local pool stakes for each prover key it creates: leases of paid tasks lock
/// collateral from it.
pub const FUND_PROVER_STAKE: u64 = 100;

/// A running in-process pool: a real node on a loopback socket plus prover agents talking to
/// it over HTTP. The demo, the benchmarks and the end-to-end tests share it.
#[derive(Debug)]
pub struct LocalPool {
    /// The node's address.
    pub addr: SocketAddr,
    /// A requester key's client.
    pub requester: Client,
    /// The admin key's client.
    pub admin: Client,
    /// The store, for direct reads.
    pub store: Arc<Store>,
    /// The requester key's id (its ledger account is `requester:<id>`).
    pub requester_key: KeyId,
    /// The requester key's secret, for clients outside this process (`zkpool devnet`).
    pub requester_secret: String,
    /// The admin key's secret.
    pub admin_secret: String,
    /// The node itself, for tests that drive its clock and its reaper (`Node::sweep`).
    pub node: Arc<Node>,
    stop: CancellationToken,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    agents: Vec<tokio::task::JoinHandle<()>>,
    _tmp: Option<tempfile::TempDir>,
}

impl LocalPool {
    /// Starts a node on 127.0.0.1:0 and `provers` agents (the last one with `last_fault`).
    pub async fn start(
        data_dir: Option<PathBuf>,
        provers: u32,
        last_fault: Fault,
    ) -> anyhow::Result<Self> {
        let config = NodeConfig {
            lease_ttl: Duration::from_secs(10),
            heartbeat: Duration::from_secs(2),
            ..NodeConfig::default()
        };
        let mut pool = Self::with_config(data_dir, config).await?;
        for i in 1..=provers {
            let fault = if i == provers {
                last_fault
            } else {
                Fault::None
            };
            let handle = pool.spawn_prover(&format!("rig-{i}"), fault).await?;
            pool.agents.push(handle);
        }
        Ok(pool)
    }

    /// Starts a node with `config` and no provers.
    pub async fn with_config(
        data_dir: Option<PathBuf>,
        config: NodeConfig,
    ) -> anyhow::Result<Self> {
        Self::listening(data_dir, config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// [`LocalPool::with_config`] with the node listening on `listen`.
    pub async fn listening(
        data_dir: Option<PathBuf>,
        config: NodeConfig,
        listen: SocketAddr,
    ) -> anyhow::Result<Self> {
        let (dir, tmp) = match data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::tempdir().context("cannot create a temporary data directory")?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        let store = crate::node_cmd::open_store(&dir, None).await?;
        let mut config = config;
        config.settlement.signer = crate::settlement_cmd::load_pool_key(&dir)?;
        let node = Node::new(store.clone(), crate::backends(), config);
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = listener.local_addr()?;
        let stop = CancellationToken::new();
        let node_stop = stop.clone();
        let server = tokio::spawn(zkpool_node::run(listener, node.clone(), async move {
            node_stop.cancelled().await
        }));
        let url = format!("http://{addr}");
        let req = store
            .create_key(Role::Requester, "demo-requester", now_ms())
            .await?;
        let admin = store
            .create_key(Role::Admin, "demo-admin", now_ms())
            .await?;
        let admin_secret = admin.secret;
        let admin = Client::new(&url, &admin_secret)?;
        // Money for the settlement flows: the requester's account, the pool's liability
        // stake (bonds) and the treasury (epoch reward pools).
        for (account, tokens) in [
            (format!("requester:{}", req.id), FUND_REQUESTER),
            ("pool_stake".to_string(), FUND_POOL_STAKE),
            ("treasury".to_string(), FUND_TREASURY),
        ] {
            admin
                .deposit(&account, Amount::from_tokens(tokens).base_units())
                .await
                .with_context(|| format!("funding {account}"))?;
        }
        Ok(Self {
            addr,
            requester: Client::new(&url, &req.secret)?,
            admin,
            requester_key: req.id,
            requester_secret: req.secret,
            admin_secret,
            store,
            node,
            stop,
            server,
            agents: Vec::new(),
            _tmp: tmp,
        })
    }

    /// The node's URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts one prover agent with its own key; aborting the handle kills the agent the way a
    /// dying machine would (no goodbye, heartbeats stop).
    /// Its key is staked with [`FUND_PROVER_STAKE`] tokens.
    pub async fn spawn_prover(
        &self,
        name: &str,
        fault: Fault,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        self.spawn_prover_staked(name, fault, FUND_PROVER_STAKE)
            .await
    }

    /// [`LocalPool::spawn_prover`] with `stake` tokens staked (0: free-tier tasks only).
    pub async fn spawn_prover_staked(
        &self,
        name: &str,
        fault: Fault,
        stake: u64,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        self.spawn_prover_paying(name, fault, stake, None).await
    }

    /// [`LocalPool::spawn_prover_staked`] whose on-chain rewards go to `payout`.
    pub async fn spawn_prover_paying(
        &self,
        name: &str,
        fault: Fault,
        stake: u64,
        payout: Option<String>,
    ) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        let (_, secret) = self.prover_key(name, stake).await?;
        Ok(self.spawn_agent(name, secret, fault, payout))
    }

    /// Starts one prover agent named `name` with the prover key `secret`.
    pub fn spawn_agent(
        &self,
        name: &str,
        secret: String,
        fault: Fault,
        payout: Option<String>,
    ) -> tokio::task::JoinHandle<()> {
        let config = AgentConfig {
            pool: self.url(),
            key: secret,
            name: name.to_string(),
            jobs: 1,
            lease_wait: Duration::from_secs(5),
            fault,
            payout,
        };
        let stop = self.stop.clone();
        tokio::spawn(async move {
            if let Err(e) = zkpool_prover::run(config, crate::prover_backends(), stop).await {
                tracing::error!(error = %e, "agent stopped");
            }
        })
    }

    /// A new prover key named `name` with `stake` tokens staked: its id and secret.
    pub async fn prover_key(&self, name: &str, stake: u64) -> anyhow::Result<(KeyId, String)> {
        let key = self.store.create_key(Role::Prover, name, now_ms()).await?;
        if stake > 0 {
            self.admin
                .deposit(
                    &format!("prover_stake:{}", key.id),
                    Amount::from_tokens(stake).base_units(),
                )
                .await
                .with_context(|| format!("staking for prover key {}", key.id))?;
        }
        Ok((key.id, key.secret))
    }

    /// A client for a new prover key with `stake` tokens staked (for tests that drive the
    /// prover API by hand).
    pub async fn prover_client(&self, name: &str, stake: u64) -> anyhow::Result<Client> {
        let (_, secret) = self.prover_key(name, stake).await?;
        Ok(Client::new(&self.url(), &secret)?)
    }

    /// Stops agents and node and waits for them.
    pub async fn stop(self) {
        self.stop.cancel();
        for a in self.agents {
            let _ = a.await;
        }
        let _ = self.server.await;
        self.store.close().await;
    }
}

/// Uploads a circuit's artifacts and submits one task; `variant` 0 uses the bundled `.wtns`,
/// others compute the witness from the `.wasm` with shifted inputs.
pub async fn submit_circuit(client: &Client, c: &Circuit, variant: u64) -> anyhow::Result<TaskId> {
    let spec = circuit_spec(client, c, variant).await?;
    Ok(client.submit(spec).await?.task_id)
}

/// Asks for a quote with a `window` liability window and accepts it: the paid path.
pub async fn submit_circuit_quoted(
    client: &Client,
    c: &Circuit,
    variant: u64,
    window: Duration,
) -> anyhow::Result<TaskId> {
    let spec = circuit_spec(client, c, variant).await?;
    let issued = client
        .quote(spec.clone(), window.as_millis() as u64)
        .await?;
    Ok(client.submit_quoted(spec, issued.signed).await?.task_id)
}

/// Uploads a circuit's artifacts and returns the task spec.
pub async fn circuit_spec(client: &Client, c: &Circuit, variant: u64) -> anyhow::Result<TaskSpec> {
    let mut spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: Some(c.name.to_string()),
        artifacts: BTreeMap::new(),
        segments: None,
        strategy: None,
    };
    spec.artifacts
        .insert(ArtifactRole::R1cs, client.upload(c.r1cs.to_vec()).await?);
    spec.artifacts
        .insert(ArtifactRole::Zkey, client.upload(c.zkey.to_vec()).await?);
    if variant == 0 {
        spec.artifacts
            .insert(ArtifactRole::Wtns, client.upload(c.wtns.to_vec()).await?);
    } else {
        spec.artifacts
            .insert(ArtifactRole::Wasm, client.upload(c.wasm.to_vec()).await?);
        spec.artifacts.insert(
            ArtifactRole::Input,
            client.upload(c.input_variant(variant)?).await?,
        );
    }
    Ok(spec)
}

/// Waits until `n` provers have said hello and are online (quotes need measured capacity).
pub async fn wait_online(client: &Client, n: usize) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let online = client
            .status()
            .await?
            .provers
            .iter()
            .filter(|p| p.online)
            .count();
        if online >= n {
            return Ok(());
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "only {online} of {n} provers came online"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Polls task `id` until it is final (done or failed), for at most `limit`.
pub async fn wait_final(client: &Client, id: TaskId, limit: Duration) -> anyhow::Result<TaskView> {
    let deadline = Instant::now() + limit;
    loop {
        let v = client.task(id).await?;
        if v.state.is_final() {
            return Ok(v);
        }
        anyhow::ensure!(Instant::now() < deadline, "task {id} not final: {v:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Runs the demo.
pub async fn run(a: DemoArgs) -> anyhow::Result<()> {
    if a.scenario == Scenario::Ethereum {
        return crate::chain_demo::run(a.rpc, a.data_dir).await;
    }
    anyhow::ensure!(
        a.provers >= 1 && a.provers <= 32,
        "--provers must be 1 to 32"
    );
    anyhow::ensure!(
        a.tasks_per_circuit >= 1 && a.tasks_per_circuit <= 50,
        "--tasks-per-circuit must be 1 to 50"
    );
    anyhow::ensure!(
        a.segments >= 1 && a.segments <= 64,
        "--segments must be 1 to 64"
    );
    let multi = match a.scenario {
        Scenario::All | Scenario::Multiprover => {
            Some(crate::multiprover::MultiproverTask::iris(a.segments)?)
        }
        _ => None,
    };
    if let (Some(dir), Some(task), Scenario::Multiprover) = (&a.export, &multi, a.scenario) {
        return task.export(dir);
    }
    let zkml = match a.scenario {
        Scenario::All | Scenario::Zkml => Some(crate::zkml::ZkmlTask::iris(a.samples, 4)?),
        _ => None,
    };
    if let (Some(dir), Some(task)) = (&a.export, &zkml) {
        return crate::zkml::export(task, dir);
    }
    let started = Instant::now();
    let fault = if a.faulty_prover {
        Fault::InvalidProofs
    } else {
        Fault::None
    };
    let pool = LocalPool::start(a.data_dir.clone(), a.provers, fault).await?;
    println!(
        "zkpool demo: node on http://{} (dashboard at /), {} provers, SQLite in a fresh data dir",
        pool.addr, a.provers
    );
    wait_online(&pool.requester, a.provers as usize).await?;
    // Provers stake different amounts on top of what every key starts with, so the epoch
    // split shows both work and stake (stake is per prover key: a prover's identity).
    for (i, f) in pool.admin.rewards().await?.funds.iter().enumerate() {
        let stake = Amount::from_tokens(100 * (i as u64 + 1));
        pool.admin
            .deposit(&format!("prover_stake:{}", f.key), stake.base_units())
            .await?;
    }
    let mut all_ok = true;
    if matches!(a.scenario, Scenario::All | Scenario::Groth16) {
        all_ok &= groth16_tasks(&pool, a.tasks_per_circuit).await?;
    }
    if let Some(task) = &zkml {
        all_ok &= crate::zkml::demo(&pool, task, a.segments, DEMO_WINDOW).await?;
    }
    if let Some(task) = &multi {
        all_ok &= crate::multiprover::demo(&pool, task, DEMO_WINDOW).await?;
    }
    let status = pool.requester.status().await?;
    println!("provers:\n{}", crate::table::provers_table(&status.provers));
    print_settlement(&pool).await?;
    println!(
        "{} in {:.1} s",
        if all_ok {
            "every proof verified by the node and again by the requester"
        } else {
            "NOT every task was proved and verified"
        },
        started.elapsed().as_secs_f64()
    );
    pool.stop().await;
    anyhow::ensure!(all_ok, "not every task was proved and verified");
    Ok(())
}

/// Quotes and submits the Groth16 tasks, follows them, verifies each proof again on the
/// requester's side and prints a table; whether every one was proved and verified.
async fn groth16_tasks(pool: &LocalPool, per_circuit: u32) -> anyhow::Result<bool> {
    let circuits = [MULTIPLIER, POSEIDON_CHAIN];
    let mut ids = Vec::new();
    for i in 0..per_circuit {
        for c in &circuits {
            let id = submit_circuit_quoted(&pool.requester, c, u64::from(i), DEMO_WINDOW).await?;
            ids.push((id, *c));
        }
    }
    println!(
        "quoted, escrowed and submitted {} Groth16 tasks ({} and {}), each with a {} s liability window\n",
        ids.len(),
        MULTIPLIER.name,
        POSEIDON_CHAIN.name,
        DEMO_WINDOW.as_secs()
    );
    let views = watch(&pool.requester, &ids).await?;

    // Check every proof again on the requester's side, as a requester would with snarkjs.
    let backend = zkpool_groth16::Groth16Backend::new();
    let mut tasks = Table::new(&[
        "task",
        "circuit",
        "constraints",
        "prover",
        "prove",
        "verify (node)",
        "verified (requester)",
        "attempts",
    ]);
    let mut all_ok = true;
    for (v, (_, c)) in views.iter().zip(&ids) {
        let local = if v.state == TaskState::Done {
            let proof = ProofArtifact(pool.requester.proof(v.id).await?);
            requester_verify(&backend, c, v, &proof).await
        } else {
            Err(anyhow::anyhow!("task {}", v.state))
        };
        all_ok &= local.is_ok();
        tasks.row(vec![
            v.id.to_string(),
            c.name.to_string(),
            v.work.to_string(),
            v.prover_name.clone().unwrap_or_default(),
            v.prove_ms.map(ms).unwrap_or_default(),
            v.verify_ms.map(ms).unwrap_or_default(),
            match &local {
                Ok(()) => "yes".into(),
                Err(e) => format!("NO: {e}"),
            },
            format!("{}/{}", v.attempts, v.max_attempts),
        ]);
    }
    println!("Groth16 tasks:\n{tasks}");
    let done = views.iter().filter(|v| v.state == TaskState::Done).count();
    println!("{done}/{} Groth16 tasks proved and verified\n", views.len());
    Ok(all_ok && done == views.len())
}

/// The liability window the demo asks for.
pub const DEMO_WINDOW: Duration = Duration::from_secs(300);

/// Balances after the tasks were paid, then the epoch settled on the spot.
async fn print_settlement(pool: &LocalPool) -> anyhow::Result<()> {
    use crate::settlement_cmd::{epoch_table, rewards_table};
    let epoch = pool.admin.close_epoch().await?;
    let ledger = pool.admin.ledger().await?;
    let mut t = Table::new(&["account", "balance"]);
    for (acct, b) in &ledger.accounts {
        let empty_holding = ["escrow:", "bond:", "epoch:"]
            .iter()
            .any(|p| acct.starts_with(p));
        if empty_holding && b.0 == 0 {
            continue;
        }
        t.row(vec![acct.clone(), Amount::from_base_units(b.0).to_string()]);
    }
    println!(
        "balances (pool {} on chain {}):\n{t}",
        ledger.pool, ledger.chain_id
    );
    println!("{}", epoch_table(&epoch));
    println!(
        "prover rewards:\n{}",
        rewards_table(&pool.admin.rewards().await?)
    );
    Ok(())
}

async fn requester_verify(
    backend: &zkpool_groth16::Groth16Backend,
    c: &Circuit,
    v: &TaskView,
    proof: &ProofArtifact,
) -> anyhow::Result<()> {
    use zkpool_backend::ProofBackend;
    let mut art = Artifacts::default();
    art.insert(ArtifactRole::R1cs, Blob::new(c.r1cs.to_vec()));
    art.insert(ArtifactRole::Zkey, Blob::new(c.zkey.to_vec()));
    let (_, public) = zkpool_groth16::split_proof_json(proof)?;
    let statement = serde_json::to_vec(&public)?;
    backend
        .verify(&art, &statement, proof)
        .with_context(|| format!("task {}", v.id))?;
    Ok(())
}

/// One progress line per task and an overall bar, until every task is final.
pub async fn watch(client: &Client, ids: &[(TaskId, Circuit)]) -> anyhow::Result<Vec<TaskView>> {
    let multi = MultiProgress::new();
    let total = multi.add(ProgressBar::new(ids.len() as u64));
    total.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} tasks done")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let style = ProgressStyle::with_template("  {spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let bars: Vec<ProgressBar> = ids
        .iter()
        .map(|_| {
            let b = multi.add(ProgressBar::new_spinner().with_style(style.clone()));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut views = Vec::with_capacity(ids.len());
        for ((id, _), bar) in ids.iter().zip(&bars) {
            let v = client.task(*id).await?;
            bar.set_message(describe(&v));
            if v.state.is_final() && !bar.is_finished() {
                bar.finish();
            }
            views.push(v);
        }
        let finished = views.iter().filter(|v| v.state.is_final()).count();
        total.set_position(finished as u64);
        if finished == ids.len() {
            total.finish();
            println!();
            return Ok(views);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "tasks did not finish within 10 minutes"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
