//! Settlement on Ethereum from the command line: the node's `--settlement ethereum` flags,
//! `zkpool chain deploy`, and the requester's `submit --chain` / `claim --chain`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use zkpool_chain::{address, ContractLink, PoolClient, PrivateKeySigner, TaskStatus, B256};
use zkpool_client::Client;
use zkpool_ledger::QuoteSigner;
use zkpool_node::onchain::ChainConfig;
use zkpool_types::settlement::{ChainTaskIssued, ChainTaskRequest};
use zkpool_types::{BlobHash, TaskId, TaskSpec, TaskState};

/// Where a node settles.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub enum SettlementMode {
    /// The embedded ledger in the node's database.
    #[default]
    Embedded,
    /// The pool contract on an Ethereum chain (`--rpc`, `--contract`).
    Ethereum,
}

/// `zkpool node` flags for settlement on chain.
#[derive(Args, Debug, Clone)]
pub struct ChainArgs {
    /// Settle on the embedded ledger (default) or on the pool contract.
    #[arg(long, value_enum, default_value_t = SettlementMode::Embedded)]
    pub settlement: SettlementMode,
    /// The chain's JSON-RPC endpoint (settlement on Ethereum).
    #[arg(long, env = "ZKPOOL_RPC")]
    pub rpc: Option<String>,
    /// The pool contract's address (`zkpool chain deploy` prints it).
    #[arg(long, env = "ZKPOOL_CONTRACT")]
    pub contract: Option<String>,
    /// The operator account's private key (hex) that sends every `fulfill`; it must be the
    /// contract's `pool`. Default: the pool's quote-signing key (data-dir/pool.key).
    #[arg(long, env = "ZKPOOL_OPERATOR_KEY", hide_env_values = true)]
    pub operator_key: Option<String>,
    /// A verifier contract the pool takes liability for, as ADDRESS=ZKEY_FILE: the snarkjs
    /// export of that circuit key. Quotes naming any other verifier are refused, since a
    /// verifier that rejects honest proofs would hand the pool's bond to its author.
    #[arg(long = "verifier", value_name = "ADDRESS=ZKEY")]
    pub verifiers: Vec<String>,
    /// The first block to follow (the contract's deployment block).
    #[arg(long, default_value_t = 0)]
    pub from_block: u64,
    /// Blocks an event must be buried under before the node acts on it.
    #[arg(long, default_value_t = 0)]
    pub confirmations: u64,
    /// How often the node looks at the chain, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1_000)]
    pub chain_poll_ms: u64,
    /// Seconds a `fulfill` may take to be mined: a proof verified later than this before the
    /// window closes is reported and not sent.
    #[arg(long, value_name = "SECS", default_value_t = 24)]
    pub fulfil_margin: u64,
}

fn parse_key(hex: &str) -> anyhow::Result<PrivateKeySigner> {
    hex.trim()
        .parse::<PrivateKeySigner>()
        .map_err(|e| anyhow::anyhow!("not a private key (32 hex bytes): {e}"))
}

/// The Ethereum account of a quote-signing key.
pub fn eth_signer(signer: &QuoteSigner) -> anyhow::Result<PrivateKeySigner> {
    PrivateKeySigner::from_bytes(&B256::from(signer.secret_bytes()))
        .map_err(|e| anyhow::anyhow!("pool key: {e}"))
}

fn parse_address(what: &str, s: &str) -> anyhow::Result<zkpool_chain::Address> {
    s.parse()
        .with_context(|| format!("{what} {s:?} is not an address (0x + 20 bytes)"))
}

/// `ADDRESS=ZKEY_FILE` as the address and the zkey's blob hash.
fn parse_verifier(s: &str) -> anyhow::Result<(zkpool_ledger::Address, BlobHash)> {
    let (a, file) = s
        .split_once('=')
        .with_context(|| format!("--verifier {s:?}: expected ADDRESS=ZKEY_FILE"))?;
    let address: zkpool_ledger::Address = a
        .parse()
        .map_err(|_| anyhow::anyhow!("--verifier {s:?}: {a:?} is not an address"))?;
    let bytes = std::fs::read(file).with_context(|| format!("--verifier: cannot read {file}"))?;
    Ok((address, BlobHash::of(&bytes)))
}

impl ChainArgs {
    /// The node's chain settlement, or `None` on the embedded ledger. Connects to the
    /// contract and checks that it accepts this pool's quotes and fulfils.
    pub async fn config(&self, quote_signer: &QuoteSigner) -> anyhow::Result<Option<ChainConfig>> {
        if self.settlement == SettlementMode::Embedded {
            anyhow::ensure!(
                self.contract.is_none() && self.verifiers.is_empty(),
                "--contract and --verifier need --settlement ethereum"
            );
            return Ok(None);
        }
        let rpc = self
            .rpc
            .as_deref()
            .context("--settlement ethereum needs --rpc URL")?;
        let contract = parse_address(
            "--contract",
            self.contract
                .as_deref()
                .context("--settlement ethereum needs --contract ADDRESS (zkpool chain deploy)")?,
        )?;
        let operator = match &self.operator_key {
            Some(k) => parse_key(k).context("--operator-key")?,
            None => eth_signer(quote_signer)?,
        };
        let link = ContractLink::connect(rpc, operator, contract)
            .await
            .with_context(|| format!("cannot reach the pool contract {contract} at {rpc}"))?;
        let (pool, signer) = link.client().roles().await?;
        anyhow::ensure!(
            pool == link.client().account(),
            "the contract's operator is {pool}, not this node's operator account {} \
             (--operator-key)",
            link.client().account()
        );
        anyhow::ensure!(
            signer == address(&quote_signer.address()),
            "the contract accepts quotes signed by {signer}, not by this node's pool key {} \
             (data-dir/pool.key)",
            quote_signer.address()
        );
        let mut cfg = ChainConfig::new(Arc::new(link));
        cfg.from_block = self.from_block;
        cfg.confirmations = self.confirmations;
        cfg.poll = Duration::from_millis(self.chain_poll_ms.max(50));
        cfg.fulfil_margin = Duration::from_secs(self.fulfil_margin);
        cfg.verifiers = self
            .verifiers
            .iter()
            .map(|v| parse_verifier(v))
            .collect::<anyhow::Result<_>>()?;
        Ok(Some(cfg))
    }
}

/// `zkpool chain …` (operator).
#[derive(Subcommand, Debug)]
pub enum ChainCommand {
    /// Deploy a pool contract operated by this pool (and, on a development chain, a test
    /// token), then stake: prints the `zkpool node --settlement ethereum` command to run.
    Deploy(DeployArgs),
}

/// `zkpool chain deploy`.
#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The chain's JSON-RPC endpoint.
    #[arg(long, env = "ZKPOOL_RPC")]
    rpc: String,
    /// The pool's data directory (its pool.key signs quotes).
    #[arg(long, env = "ZKPOOL_DATA_DIR", default_value = "./pool")]
    data_dir: PathBuf,
    /// The operator account's private key (hex), funded with gas; it stakes and fulfils.
    #[arg(long, env = "ZKPOOL_OPERATOR_KEY", hide_env_values = true)]
    operator_key: String,
    /// The payment token (an ERC-20 with 6 decimals). Default: deploy an open-mint test token
    /// (development chains only).
    #[arg(long)]
    token: Option<String>,
    /// Tokens (whole units) to mint to the operator and stake as liability (test token only
    /// mints).
    #[arg(long, default_value_t = 10_000)]
    stake: u64,
    /// Seconds a requested unstake stays locked.
    #[arg(long, default_value_t = 3_600)]
    unstake_delay: u64,
}

/// Runs `zkpool chain …`.
pub async fn run(c: ChainCommand) -> anyhow::Result<()> {
    match c {
        ChainCommand::Deploy(a) => deploy(a).await,
    }
}

async fn deploy(a: DeployArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&a.data_dir)
        .with_context(|| format!("cannot create {}", a.data_dir.display()))?;
    let signer = crate::settlement_cmd::load_pool_key(&a.data_dir)?;
    let operator = parse_key(&a.operator_key).context("--operator-key")?;
    let token = a
        .token
        .as_deref()
        .map(|t| parse_address("--token", t))
        .transpose()?;
    let client = PoolClient::deploy(
        &a.rpc,
        operator,
        address(&signer.address()),
        a.unstake_delay,
        token,
    )
    .await?;
    let units = u128::from(a.stake) * 1_000_000;
    if token.is_none() {
        client.mint(client.account(), units).await?;
    }
    if units > 0 {
        client.stake(units).await?;
    }
    let d = client.deployment();
    println!("pool contract {}  token {}", d.pool, d.token);
    println!(
        "operator {}  quote signer {}  stake {} tokens",
        client.account(),
        signer.address(),
        a.stake
    );
    println!(
        "run: zkpool node --data-dir {} --settlement ethereum --rpc {} --contract {} \
         --operator-key <key> --verifier VERIFIER=circuit.zkey",
        a.data_dir.display(),
        a.rpc,
        d.pool
    );
    Ok(())
}

/// The requester's chain flags for `submit --chain` and `claim --chain`.
#[derive(Args, Debug, Clone)]
pub struct RequesterChainArgs {
    /// Settle on the pool's Ethereum contract: sign and send `submitTask` (or `claim`) from
    /// your own account.
    #[arg(long)]
    pub chain: bool,
    /// The chain's JSON-RPC endpoint.
    #[arg(long, env = "ZKPOOL_RPC", requires = "chain")]
    pub rpc: Option<String>,
    /// Your Ethereum account's private key (hex): it pays the reward and may claim.
    #[arg(
        long,
        env = "ZKPOOL_ETH_KEY",
        hide_env_values = true,
        requires = "chain"
    )]
    pub eth_key: Option<String>,
    /// Your verifier contract (one the pool lists in GET /v1/chain for your circuit).
    #[arg(long, requires = "chain")]
    pub verifier: Option<String>,
    /// The liability window you ask for, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub window: u64,
}

impl RequesterChainArgs {
    fn rpc(&self) -> anyhow::Result<&str> {
        self.rpc.as_deref().context("--chain needs --rpc URL")
    }

    fn key(&self) -> anyhow::Result<PrivateKeySigner> {
        parse_key(self.eth_key.as_deref().context("--chain needs --eth-key")?).context("--eth-key")
    }
}

/// Quotes `spec` for the contract, publishes it from the requester's account and returns
/// the node's task; with `wait`, follows it until the contract has it fulfilled (or the
/// window is missed).
pub async fn submit(
    client: &Client,
    spec: TaskSpec,
    a: &RequesterChainArgs,
    wait: bool,
) -> anyhow::Result<TaskId> {
    let info = client
        .chain_info()
        .await
        .context("this pool does not settle on chain")?;
    let key = a.key()?;
    let payer = key.address();
    let verifier = match &a.verifier {
        Some(v) => v.clone(),
        None => {
            let zkey = spec.artifacts.get(&zkpool_types::ArtifactRole::Zkey);
            info.verifiers
                .iter()
                .find(|v| zkey.is_some_and(|z| z.to_hex() == v.zkey))
                .map(|v| v.address.clone())
                .context("the pool lists no verifier for this circuit's .zkey; name yours with --verifier")?
        }
    };
    let issued: ChainTaskIssued = client
        .submit_chain(&ChainTaskRequest {
            spec,
            window_ms: a.window.saturating_mul(1_000),
            payer: payer.to_string(),
            verifier,
        })
        .await
        .context("the pool refused to quote the task")?;
    let q = &issued.signed.quote;
    eprintln!(
        "quoted {}: reward {} bond {} (base units), window until {} ms; publishing on chain {}",
        issued.task_id, q.reward.0, q.bond.0, q.deadline_ms, info.chain_id
    );
    let contract = parse_address("contract", &info.contract)?;
    let chain = PoolClient::connect(a.rpc()?, key, contract).await?;
    let quote = ledger_quote(&issued.signed)?;
    let (id, sent) = chain
        .submit_task(&quote)
        .await
        .context("submitTask was refused")?;
    eprintln!(
        "published as {id} (tx {}, {} gas): reward escrowed by the contract, bond reserved",
        sent.tx, sent.gas_used
    );
    println!("{}", issued.task_id);
    if wait {
        follow(client, &chain, issued.task_id, id).await?;
    }
    Ok(issued.task_id)
}

/// The wire quote as the ledger's type (the same JSON).
fn ledger_quote(
    q: &zkpool_types::settlement::SignedQuote,
) -> anyhow::Result<zkpool_ledger::SignedQuote> {
    serde_json::to_value(q)
        .and_then(serde_json::from_value)
        .context("the pool sent a malformed quote")
}

/// Follows a published task until the contract holds it fulfilled, or its window is missed.
async fn follow(client: &Client, chain: &PoolClient, task: TaskId, id: B256) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut last = String::new();
    loop {
        let on_chain = chain.task(id).await?;
        let view = client.chain_task(task).await?;
        let node = client.task(task).await?;
        let now = format!(
            "node: {} · chain: {:?} · settlement: {}",
            node.state, on_chain.status, view.state
        );
        if now != last {
            eprintln!("[{:>5.1} s] {now}", started.elapsed().as_secs_f64());
            last = now;
        }
        match on_chain.status {
            TaskStatus::Fulfilled => {
                if let (Some(tx), Some(gas)) = (&view.fulfil_tx, view.fulfil_gas) {
                    eprintln!("fulfilled on chain by the pool: tx {tx}, {gas} gas");
                } else {
                    eprintln!("fulfilled on chain by the pool");
                }
                return Ok(());
            }
            TaskStatus::Claimed => anyhow::bail!("{task} was claimed on chain"),
            _ => {}
        }
        if view.state == "missed" || node.state == TaskState::Failed {
            anyhow::bail!(
                "{task}: the pool missed the window ({}); claim reward and bond with \
                 zkpool claim --chain {task}",
                view.note.unwrap_or_default()
            );
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Claims reward and bond of a task whose window closed without a fulfil, on chain.
pub async fn claim(client: &Client, task: TaskId, a: &RequesterChainArgs) -> anyhow::Result<()> {
    let info = client.chain_info().await?;
    let view = client.chain_task(task).await?;
    let id: B256 = view
        .chain_task
        .parse()
        .with_context(|| format!("chain task id {:?}", view.chain_task))?;
    let chain = PoolClient::connect(
        a.rpc()?,
        a.key()?,
        parse_address("contract", &info.contract)?,
    )
    .await?;
    let before = chain.task(id).await?;
    let sent = chain
        .claim(id)
        .await
        .context("the contract refused the claim")?;
    println!(
        "{task} ({id}): claimed on chain, reward {} and bond {} (base units) back to {} \
         (tx {}, {} gas)",
        before.reward,
        before.bond,
        chain.account(),
        sent.tx,
        sent.gas_used
    );
    Ok(())
}

/// Where `npm ci` put anvil, or `ZKPOOL_ANVIL`, or `anvil` on the PATH.
pub fn anvil_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("ZKPOOL_ANVIL") {
        return PathBuf::from(p);
    }
    let mut dir = std::env::current_dir().ok();
    while let Some(d) = dir {
        let candidate = zkpool_chain::Anvil::bin_in(&d);
        if candidate.exists() {
            return candidate;
        }
        dir = d.parent().map(Path::to_path_buf);
    }
    PathBuf::from("anvil")
}
