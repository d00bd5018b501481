//! `zkpool demo ethereum`: the pool settling on its contract on a local chain. anvil (or the
//! chain at `--rpc`), the pool contract and a test token deployed, the pool's stake, a node in
//! `--settlement ethereum` mode with two prover agents, and a requester with its own account:
//! a quoted Groth16 task published on chain, proved, verified by the node and fulfilled in the
//! window with the snarkjs verifier checking the proof on chain; a second task whose window is
//! missed and claimed back; the provers' balances on chain and the gas of every call.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use zkpool_chain::{
    address, Address, Anvil, ContractLink, PoolClient, PrivateKeySigner, TaskStatus, B256,
};
use zkpool_node::onchain::ChainConfig;
use zkpool_node::NodeConfig;
use zkpool_prover::Fault;
use zkpool_types::settlement::{ChainTaskIssued, ChainTaskRequest};
use zkpool_types::{BlobHash, TaskId};

use crate::demo::{circuit_spec, wait_online, LocalPool};
use crate::fixtures::MULTIPLIER;
use crate::table::Table;

/// anvil's first four development keys (its default mnemonic): what `--rpc` expects funded.
const DEV_KEYS: [&str; 4] = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
];

/// Tokens (base units) the demo stakes for the pool.
pub const POOL_STAKE: u128 = 10_000_000_000;
/// Tokens (base units) the demo gives the requester.
pub const REQUESTER_FUNDS: u128 = 1_000_000_000;

/// A pool that settles on a deployed contract: the local pool, the contract as its
/// operator and as a requester sees it, and the accounts provers are paid to.
#[derive(Debug)]
pub struct ChainPool {
    /// The node and its provers.
    pub pool: LocalPool,
    /// The operator's client (deployed, staked).
    pub operator: PoolClient,
    /// The requester's account on the contract.
    pub payer: PoolClient,
    /// The multiplier circuit's snarkjs verifier contract.
    pub verifier: Address,
    /// The RPC endpoint.
    pub rpc: String,
    /// The operator's key.
    pub operator_key: PrivateKeySigner,
    /// The provers' payout accounts.
    pub payouts: Vec<Address>,
    /// The data directory (kept for restarts).
    pub data_dir: PathBuf,
    /// Gas of the set-up calls: (what, gas).
    pub setup_gas: Vec<(String, u64)>,
    _tmp: Option<Arc<tempfile::TempDir>>,
}

/// The node config that settles on `contract` through `operator`, trusting `verifier` for the
/// multiplier circuit; fast polls and a 2 s fulfil margin for a local chain.
pub async fn chain_config(
    rpc: &str,
    operator: PrivateKeySigner,
    contract: Address,
    verifier: Address,
) -> anyhow::Result<NodeConfig> {
    let link = ContractLink::connect(rpc, operator, contract).await?;
    let mut chain = ChainConfig::new(Arc::new(link));
    chain.poll = Duration::from_millis(200);
    chain.fulfil_margin = Duration::from_secs(2);
    chain.verifiers = vec![(
        zkpool_ledger::Address(verifier.into_array()),
        BlobHash::of(MULTIPLIER.zkey),
    )];
    let mut config = NodeConfig {
        lease_ttl: Duration::from_secs(10),
        heartbeat: Duration::from_secs(2),
        chain: Some(chain),
        ..NodeConfig::default()
    };
    config.settlement.pricing.overhead_ms = 500;
    Ok(config)
}

impl ChainPool {
    /// Deploys token, pool contract and verifier with `keys[0]` as operator, funds
    /// `keys[1]` as the requester, and starts a node settling there (no provers yet; their
    /// payouts are `keys[2..]`).
    pub async fn start(
        rpc: &str,
        keys: &[PrivateKeySigner],
        data_dir: Option<PathBuf>,
    ) -> anyhow::Result<ChainPool> {
        anyhow::ensure!(keys.len() >= 4, "need four funded accounts");
        let (dir, tmp) = match data_dir {
            Some(d) => (d, None),
            None => {
                let t = tempfile::tempdir().context("cannot create a temporary data directory")?;
                (t.path().to_path_buf(), Some(Arc::new(t)))
            }
        };
        std::fs::create_dir_all(&dir)?;
        let signer = crate::settlement_cmd::load_pool_key(&dir)?;
        let (operator, deploy_gas) = PoolClient::deploy_metered(
            rpc,
            keys[0].clone(),
            address(&signer.address()),
            3_600,
            None,
        )
        .await
        .context("deploying the pool contract")?;
        let verifier = operator.deploy_multiplier_verifier().await?;
        let mut setup_gas: Vec<(String, u64)> = deploy_gas
            .into_iter()
            .map(|(w, g)| (w.to_string(), g))
            .collect();
        let minted = operator.mint(operator.account(), POOL_STAKE).await?;
        setup_gas.push(("mint (test token)".to_string(), minted.gas_used));
        let staked = operator.stake(POOL_STAKE).await?;
        setup_gas.push(("stake".to_string(), staked.gas_used));
        let payer = PoolClient::connect(rpc, keys[1].clone(), operator.deployment().pool).await?;
        operator.mint(payer.account(), REQUESTER_FUNDS).await?;
        let config =
            chain_config(rpc, keys[0].clone(), operator.deployment().pool, verifier).await?;
        let pool = LocalPool::with_config(Some(dir.clone()), config).await?;
        Ok(ChainPool {
            pool,
            operator,
            payer,
            verifier,
            rpc: rpc.to_string(),
            operator_key: keys[0].clone(),
            payouts: keys[2..].iter().map(PrivateKeySigner::address).collect(),
            data_dir: dir,
            setup_gas,
            _tmp: tmp,
        })
    }

    /// Stops the node and starts it again on the same data directory and contract.
    pub async fn restart(self) -> anyhow::Result<ChainPool> {
        self.restart_with(|_| {}, async { Ok(()) }).await
    }

    /// Stops the node, runs `meanwhile` while it is down, and starts it again on the same
    /// data directory and contract with its config changed by `tweak`.
    pub async fn restart_with(
        self,
        tweak: impl FnOnce(&mut NodeConfig),
        meanwhile: impl std::future::Future<Output = anyhow::Result<()>>,
    ) -> anyhow::Result<ChainPool> {
        self.pool.stop().await;
        meanwhile.await?;
        let mut config = chain_config(
            &self.rpc,
            self.operator_key.clone(),
            self.operator.deployment().pool,
            self.verifier,
        )
        .await?;
        tweak(&mut config);
        let pool = LocalPool::with_config(Some(self.data_dir.clone()), config).await?;
        Ok(ChainPool { pool, ..self })
    }

    /// Starts prover agent `i`, paid to `payouts[i]`.
    pub async fn spawn_prover(&self, i: usize) -> anyhow::Result<tokio::task::JoinHandle<()>> {
        self.pool
            .spawn_prover_paying(
                &format!("rig-{}", i + 1),
                Fault::None,
                0,
                Some(self.payouts[i].to_string()),
            )
            .await
    }

    /// Quotes a multiplier task (`variant`) for the contract with a `window`.
    pub async fn quote(&self, variant: u64, window: Duration) -> anyhow::Result<ChainTaskIssued> {
        let spec = circuit_spec(&self.pool.requester, &MULTIPLIER, variant).await?;
        Ok(self
            .pool
            .requester
            .submit_chain(&ChainTaskRequest {
                spec,
                window_ms: window.as_millis() as u64,
                payer: self.payer.account().to_string(),
                verifier: self.verifier.to_string(),
            })
            .await?)
    }

    /// Publishes a quote from the requester's account: (task id on chain, gas).
    pub async fn publish(&self, issued: &ChainTaskIssued) -> anyhow::Result<(B256, u64)> {
        publish(&self.payer, issued).await
    }

    /// Waits until the contract holds task `id` in `want`.
    pub async fn wait_chain(
        &self,
        id: B256,
        want: TaskStatus,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let t = self.operator.task(id).await?;
            if t.status == want {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "task {id} is {:?}, not {want:?}, after {limit:?}",
                t.status
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until the node's chain record of `task` is in `state`.
    pub async fn wait_node(
        &self,
        task: TaskId,
        state: &str,
        limit: Duration,
    ) -> anyhow::Result<()> {
        let deadline = Instant::now() + limit;
        loop {
            let v = self.pool.admin.chain_task(task).await?;
            if v.state == state {
                return Ok(());
            }
            anyhow::ensure!(
                Instant::now() < deadline,
                "{task} is {} on the node, not {state}, after {limit:?}",
                v.state
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Publishes a quote from `payer`'s account: (task id on chain, gas of `submitTask`).
pub async fn publish(payer: &PoolClient, issued: &ChainTaskIssued) -> anyhow::Result<(B256, u64)> {
    let quote: zkpool_ledger::SignedQuote = serde_json::to_value(&issued.signed)
        .and_then(serde_json::from_value)
        .context("malformed quote")?;
    let (id, sent) = payer.submit_task(&quote).await?;
    Ok((id, sent.gas_used))
}

/// Runs the demo: on `rpc` (a chain with anvil's development accounts funded) or on a fresh
/// anvil.
pub async fn run(rpc: Option<String>, data_dir: Option<PathBuf>) -> anyhow::Result<()> {
    let started = Instant::now();
    let (anvil, rpc, keys) = match rpc {
        Some(url) => {
            let keys = DEV_KEYS
                .iter()
                .map(|k| k.parse::<PrivateKeySigner>())
                .collect::<Result<Vec<_>, _>>()?;
            (None, url, keys)
        }
        None => {
            let bin = crate::chain_cmd::anvil_bin();
            let anvil = Anvil::spawn(&bin, 31_337).await.with_context(|| {
                format!(
                    "cannot start anvil ({}); run `npm ci` in the repository, or pass --rpc",
                    bin.display()
                )
            })?;
            let url = anvil.url.clone();
            let keys = anvil.keys.clone();
            (Some(anvil), url, keys)
        }
    };
    println!("chain {rpc}");
    let world = ChainPool::start(&rpc, &keys, data_dir).await?;
    let d = world.operator.deployment();
    println!(
        "pool contract {}  token {}  verifier {}  (operator {}, requester {})",
        d.pool,
        d.token,
        world.verifier,
        world.operator.account(),
        world.payer.account()
    );
    println!(
        "node {} settling on chain; data in {}",
        world.pool.url(),
        world.data_dir.display()
    );
    let provers = vec![world.spawn_prover(0).await?, world.spawn_prover(1).await?];
    wait_online(&world.pool.admin, 2).await?;

    // 1. A task fulfilled in its window.
    let first = world.quote(0, Duration::from_secs(120)).await?;
    let q = &first.signed.quote;
    println!(
        "quoted {}: reward {} bond {} base units, window 120 s",
        first.task_id, q.reward.0, q.bond.0
    );
    let (id1, submit_gas) = world.publish(&first).await?;
    println!("published on chain as {id1} ({submit_gas} gas); proving…");
    world
        .wait_chain(id1, TaskStatus::Fulfilled, Duration::from_secs(180))
        .await?;
    world
        .wait_node(first.task_id, "fulfilled", Duration::from_secs(30))
        .await?;
    let v1 = world.pool.requester.chain_task(first.task_id).await?;
    println!(
        "fulfilled on chain: tx {} ({} gas), the snarkjs verifier accepted the proof",
        v1.fulfil_tx.clone().unwrap_or_default(),
        v1.fulfil_gas.unwrap_or(0)
    );

    // 2. A task whose window is missed: the provers go offline, the requester claims.
    for p in &provers {
        p.abort();
    }
    let second = world.quote(1, Duration::from_secs(6)).await?;
    let (id2, submit2_gas) = world.publish(&second).await?;
    println!(
        "published {} as {id2} with a 6 s window and every prover offline; waiting it out…",
        second.task_id
    );
    world
        .wait_node(second.task_id, "missed", Duration::from_secs(60))
        .await?;
    // The claim's block must be at or after the deadline second.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = world.payer.token_balance(world.payer.account()).await?;
    let claimed = world.payer.claim(id2).await?;
    let after = world.payer.token_balance(world.payer.account()).await?;
    println!(
        "claimed: reward and bond back to the requester (+{} base units, {} gas)",
        after - before,
        claimed.gas_used
    );

    // 3. Balances on chain, and a prover's withdrawal.
    let mut t = Table::new(&["account", "credited on the contract", "token balance"]);
    for (name, who) in [
        ("prover rig-1", world.payouts[0]),
        ("prover rig-2", world.payouts[1]),
        ("pool operator", world.operator.account()),
        ("requester", world.payer.account()),
    ] {
        t.row(vec![
            format!("{name} {who}"),
            world.operator.credit(who).await?.to_string(),
            world.operator.token_balance(who).await?.to_string(),
        ]);
    }
    println!("{t}");
    // The prover that proved takes its earnings out of the contract with its own key.
    let mut withdrawn = None;
    for (i, key) in keys[2..4].iter().enumerate() {
        let rig = PoolClient::connect(&rpc, key.clone(), d.pool).await?;
        let earned = rig.credit(rig.account()).await?;
        if earned == 0 {
            continue;
        }
        let sent = rig.withdraw_all().await?;
        println!(
            "rig-{} withdrew {earned} base units to {} ({} gas); its token balance is now {}",
            i + 1,
            rig.account(),
            sent.gas_used,
            rig.token_balance(rig.account()).await?
        );
        withdrawn = Some(sent.gas_used);
    }
    let mut gas = Table::new(&["call", "gas"]);
    for (what, g) in &world.setup_gas {
        gas.row(vec![what.clone(), g.to_string()]);
    }
    gas.row(vec![
        "submitTask (fulfilled task)".into(),
        submit_gas.to_string(),
    ]);
    gas.row(vec![
        "fulfill (verifier included)".into(),
        v1.fulfil_gas.unwrap_or(0).to_string(),
    ]);
    gas.row(vec![
        "submitTask (missed task)".into(),
        submit2_gas.to_string(),
    ]);
    gas.row(vec!["claim".into(), claimed.gas_used.to_string()]);
    if let Some(g) = withdrawn {
        gas.row(vec!["withdraw (prover)".into(), g.to_string()]);
    }
    println!("{gas}");
    println!("done in {:.1} s", started.elapsed().as_secs_f64());
    world.pool.stop().await;
    if let Some(a) = anvil {
        a.stop().await;
    }
    Ok(())
}
