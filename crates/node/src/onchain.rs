//! Settlement on the pool contract (`zkpool node --settlement ethereum`): the contract holds
//! the reward, the bond and the provers' credits; the node quotes, proves, verifies and sends
//! `fulfill` in the window.
//!
//! ```text
//!  POST /v1/tasks/chain ─► inspect ─► trusted verifier for this zkey? ─► price ─► EIP-712 sign
//!                          for the contract ─► ONE tx: task 'unpaid' + nonce + chain row 'quoted'
//!  requester ── submitTask(quote, sig) ──► contract: escrow + bond ──► TaskSubmitted
//!  follower (every poll) ─► events of confirmed blocks ─► ONE tx: 'open' + task 'queued' +
//!                          expired quotes 'lapsed' + cursor     (a replay changes nothing)
//!  provers prove, the node verifies ─► task 'done' (the outbox: 'done' ∧ 'open')
//!  fulfiller ─► window still reachable? ─► status on chain still Open? ─► fulfill ─► receipt
//!             └ too late: 'missed', reported, never sent       └ already fulfilled: recorded
//!  window closed unproved ─► task ended (pool_fault), 'missed': the payer claims on chain
//! ```
//!
//! The node reaches the chain through [`PoolContract`], an object-safe interface the
//! `zkpool-chain` crate implements with alloy, so this crate knows no RPC library. Every
//! durable step is one store transaction; the chain is asked again after a restart, so
//! nothing is fulfilled twice and nothing published is forgotten.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use zkpool_ledger::{Address, ChainTerms};
use zkpool_store::{ChainDue, ChainQuoted};
use zkpool_types::settlement::{
    ChainInfo, ChainTaskIssued, ChainTaskRequest, ChainTaskView, TrustedVerifier,
};
use zkpool_types::{ArtifactRole, BlobHash, KeyId, ProofSystem, TaskCause, TaskId, TaskSpec};

use crate::settlement::{price_and_sign, quote_to_wire};
use crate::{ApiError, Node};

/// A failed call to the chain.
#[derive(Clone, Debug, thiserror::Error)]
#[error("{call}: {message}")]
pub struct ChainFault {
    /// What was called.
    pub call: &'static str,
    /// Why it failed.
    pub message: String,
    /// Whether trying again may help.
    pub kind: ChainFaultKind,
}

/// Why a chain call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChainFaultKind {
    /// The endpoint did not answer, or answered nonsense: try again later.
    Unreachable,
    /// The contract refused (a revert, with its reason in the message).
    Reverted,
    /// The contract refused because the task's window is over (`WindowClosed`).
    WindowClosed,
    /// What the node asked for cannot be encoded (a malformed proof): not retryable.
    Invalid,
}

/// The result of a chain call.
pub type ChainFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, ChainFault>> + Send + 'a>>;

/// A block's number and time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockHead {
    /// Its number.
    pub number: u64,
    /// Its timestamp (unix seconds): the contract's clock.
    pub timestamp: u64,
}

/// A task as the contract holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OnChain {
    /// No such task.
    None,
    /// Published and neither fulfilled nor claimed.
    Open,
    /// Fulfilled.
    Fulfilled,
    /// Claimed by its payer.
    Claimed,
}

/// A mined `fulfill`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mined {
    /// Its transaction hash.
    pub tx: [u8; 32],
    /// Gas used.
    pub gas_used: u64,
}

/// The pool contract, as the node needs it. Implemented by `zkpool_chain::ContractLink`.
pub trait PoolContract: Send + Sync + fmt::Debug {
    /// The chain id (the quotes' EIP-712 domain).
    fn chain_id(&self) -> u64;
    /// The contract's address (the quotes' `verifyingContract`).
    fn contract(&self) -> Address;
    /// Its payment token.
    fn token(&self) -> Address;
    /// The operator account that sends `fulfill`.
    fn pool_account(&self) -> Address;
    /// `keccak256(abi.encodePacked(uint256[] signals))` of a Groth16 statement (the public
    /// signals as the backend states them), as the contract checks it.
    fn public_inputs_hash(&self, statement: &[u8]) -> Result<[u8; 32], String>;
    /// The latest block.
    fn head(&self) -> ChainFuture<'_, BlockHead>;
    /// Block `number`.
    fn block(&self, number: u64) -> ChainFuture<'_, BlockHead>;
    /// `TaskSubmitted` events in blocks `from..=to`: (task id, block), in chain order.
    fn published(&self, from: u64, to: u64) -> ChainFuture<'_, Vec<([u8; 32], u64)>>;
    /// Task `id` as the contract holds it.
    fn status(&self, id: [u8; 32]) -> ChainFuture<'_, OnChain>;
    /// Sends `fulfill(id, proof, signals, provers, work)` with the Groth16 proof artifact
    /// `proof` and waits for its receipt.
    fn fulfill<'a>(
        &'a self,
        id: [u8; 32],
        proof: &'a [u8],
        provers: &'a [(Address, u64)],
    ) -> ChainFuture<'a, Mined>;
}

/// How the node settles on chain; `zkpool node --settlement ethereum` flags.
#[derive(Clone, Debug)]
pub struct ChainConfig {
    /// The contract.
    pub contract: Arc<dyn PoolContract>,
    /// The first block to follow (the contract's deployment block).
    pub from_block: u64,
    /// Blocks an event must be buried under before the node acts on it.
    pub confirmations: u64,
    /// How often the node looks at the chain.
    pub poll: Duration,
    /// How long a `fulfill` may take to be mined: one that cannot be sent this long before
    /// the window closes is not sent at all.
    pub fulfil_margin: Duration,
    /// Verifier contracts the pool takes liability for, each with the `.zkey` it checks.
    pub verifiers: Vec<(Address, BlobHash)>,
    /// Most blocks one `eth_getLogs` asks for.
    pub max_log_range: u64,
}

impl ChainConfig {
    /// A config for `contract` with defaults for an L1-like chain.
    pub fn new(contract: Arc<dyn PoolContract>) -> ChainConfig {
        ChainConfig {
            contract,
            from_block: 0,
            confirmations: 0,
            poll: Duration::from_secs(2),
            fulfil_margin: Duration::from_secs(24),
            verifiers: Vec::new(),
            max_log_range: 2_000,
        }
    }
}

fn hex(b: &[u8]) -> String {
    let mut s = String::with_capacity(2 + 2 * b.len());
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn not_on_chain() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        "not_on_chain",
        "this pool settles on its embedded ledger (zkpool node --settlement ethereum to settle \
         on chain)",
    )
}

/// The refusal of embedded-ledger quotes by a node that settles on chain.
pub(crate) fn settles_on_chain() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::CONFLICT,
        "settles_on_chain",
        "this pool settles on its Ethereum contract: publish tasks there (POST /v1/tasks/chain, \
         zkpool submit --chain)",
    )
}

/// `GET /v1/chain`'s answer.
pub(crate) fn info(node: &Node) -> Result<ChainInfo, ApiError> {
    let cfg = node.config.chain.as_ref().ok_or_else(not_on_chain)?;
    let c = &cfg.contract;
    Ok(ChainInfo {
        chain_id: c.chain_id(),
        contract: c.contract().to_string(),
        token: c.token().to_string(),
        pool_account: c.pool_account().to_string(),
        from_block: cfg.from_block,
        confirmations: cfg.confirmations,
        verifiers: cfg
            .verifiers
            .iter()
            .map(|(a, z)| TrustedVerifier {
                address: a.to_string(),
                zkey: z.to_hex(),
            })
            .collect(),
    })
}

fn address(what: &'static str, s: &str) -> Result<Address, ApiError> {
    s.parse().map_err(|_| {
        ApiError::bad_request("bad_address", format!("{what} {s:?} is not 0x + 20 bytes"))
    })
}

/// Quotes an inspected task for the contract and registers it `unpaid`.
pub(crate) async fn issue(
    node: &Node,
    requester: KeyId,
    spec: &TaskSpec,
    task: &zkpool_store::NewTask,
    req: &ChainTaskRequest,
) -> Result<ChainTaskIssued, ApiError> {
    let cfg = node.config.chain.as_ref().ok_or_else(not_on_chain)?;
    if spec.system != ProofSystem::Groth16 || !task.segments.is_empty() || task.group.is_some() {
        return Err(ApiError::bad_request(
            "unsupported_on_chain",
            format!(
                "the pool contract checks Groth16 proofs with the requester's verifier; a {} \
                 task settles on the embedded ledger of a pool that runs one",
                spec.system
            ),
        ));
    }
    let payer = address("payer", &req.payer)?;
    let verifier = address("verifier", &req.verifier)?;
    if payer == Address::default() {
        return Err(ApiError::bad_request(
            "bad_address",
            "the payer must not be the zero address",
        ));
    }
    // The pool stakes its bond on the verifier accepting an honest proof. A verifier the
    // requester wrote could refuse every proof and hand the bond to its author, so the pool
    // takes liability only for verifiers its operator checked: the snarkjs export of this
    // very key.
    let zkey = spec.artifacts.get(&ArtifactRole::Zkey).copied();
    let trusted = cfg
        .verifiers
        .iter()
        .any(|(a, z)| *a == verifier && Some(*z) == zkey);
    if !trusted {
        return Err(ApiError::new(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            "untrusted_verifier",
            format!(
                "the pool takes liability only for verifier contracts its operator checked \
                 against the circuit key they verify, and {verifier} is not listed for this \
                 task's .zkey (GET /v1/chain lists them; operators add one with zkpool node \
                 --verifier ADDRESS=ZKEY_FILE)"
            ),
        ));
    }
    let public_inputs_hash = cfg
        .contract
        .public_inputs_hash(&task.statement)
        .map_err(ApiError::internal)?;
    let terms = ChainTerms {
        payer,
        verifier,
        public_inputs_hash,
    };
    let domain = (cfg.contract.contract(), cfg.contract.chain_id());
    let (signed, work, estimated_ms) =
        price_and_sign(node, task, req.window_ms, terms, domain).await?;
    let q = &signed.quote;
    let chain_task = q.signing_digest();
    let units = |a: zkpool_ledger::Amount| u64::try_from(a.base_units()).unwrap_or(u64::MAX);
    let record = ChainQuoted {
        chain_task,
        payer: payer.to_string(),
        verifier: verifier.to_string(),
        nonce: q.nonce,
        reward: units(q.reward),
        bond: units(q.bond),
        deadline_ms: q.deadline_ms,
        expires_ms: q.expires_at_ms,
    };
    let id = node
        .store
        .insert_chain_task(task, &record, node.now_ms())
        .await?;
    tracing::info!(task = %id, chain_task = %hex(&chain_task), %requester, reward = %q.reward,
        bond = %q.bond, deadline_ms = q.deadline_ms, "quoted for the pool contract: waiting for submitTask");
    Ok(ChainTaskIssued {
        task_id: id,
        chain_task: hex(&chain_task),
        signed: quote_to_wire(&signed)?,
        work,
        estimated_ms,
    })
}

/// `GET /v1/tasks/{id}/chain`'s answer.
pub(crate) async fn view(node: &Node, task: TaskId) -> Result<ChainTaskView, ApiError> {
    let row = node
        .store
        .chain_task(task)
        .await?
        .ok_or_else(|| ApiError::not_found("chain task", task))?;
    Ok(ChainTaskView {
        task_id: row.task,
        chain_task: hex(&row.chain_task),
        state: row.state,
        deadline_ms: row.deadline_ms,
        fulfil_tx: row.fulfil_tx,
        fulfil_gas: row.fulfil_gas,
        note: row.note,
    })
}

/// Follows the chain until shutdown: events, overdue tasks, fulfils, once per poll.
pub(crate) async fn follow_forever(node: Arc<Node>) {
    let Some(cfg) = node.config.chain.clone() else {
        return;
    };
    tracing::info!(contract = %cfg.contract.contract(), chain_id = cfg.contract.chain_id(),
        from_block = cfg.from_block, confirmations = cfg.confirmations, "settling on chain");
    let mut quiet = false;
    loop {
        match step(&node, &cfg).await {
            Ok(()) => quiet = false,
            // One warning per outage, not one per poll.
            Err(e) if !quiet => {
                tracing::warn!(error = %e, "chain unreachable; retrying every poll");
                quiet = true;
            }
            Err(_) => {}
        }
        tokio::select! {
            _ = node.shutdown.cancelled() => return,
            _ = tokio::time::sleep(cfg.poll) => {}
        }
    }
}

/// The chain's clock as the next block will see it: the latest block's time, or the node's
/// own clock when that is later (a development chain mines only when sent a transaction).
fn chain_now_ms(node: &Node, head: BlockHead) -> u64 {
    (head.timestamp.saturating_mul(1_000)).max(node.now_ms().max(0) as u64)
}

/// One look at the chain. Public to tests through [`Node::follow_chain`].
pub(crate) async fn step(node: &Node, cfg: &ChainConfig) -> Result<(), ChainFault> {
    let head = cfg.contract.head().await?;
    follow_events(node, cfg, head).await?;
    end_overdue(node, chain_now_ms(node, head)).await;
    for due in node.store.chain_due(32).await.map_err(store_fault)? {
        fulfil(node, cfg, &due).await?;
    }
    Ok(())
}

fn store_fault(e: zkpool_store::StoreError) -> ChainFault {
    ChainFault {
        call: "store",
        message: e.to_string(),
        kind: ChainFaultKind::Unreachable,
    }
}

async fn follow_events(node: &Node, cfg: &ChainConfig, head: BlockHead) -> Result<(), ChainFault> {
    let Some(safe) = head.number.checked_sub(cfg.confirmations) else {
        return Ok(());
    };
    let mut next = node
        .store
        .chain_cursor()
        .await
        .map_err(store_fault)?
        .unwrap_or(cfg.from_block);
    while next <= safe {
        let to = safe.min(next.saturating_add(cfg.max_log_range.max(1) - 1));
        let published = cfg.contract.published(next, to).await?;
        let end = cfg.contract.block(to).await?;
        let progress = node
            .store
            .apply_chain_events(
                &published,
                to + 1,
                end.timestamp.saturating_mul(1_000),
                node.now_ms(),
            )
            .await
            .map_err(store_fault)?;
        for t in &progress.opened {
            tracing::info!(task = %t, "published on chain: reward escrowed and bond reserved by the contract; queued");
        }
        for id in &progress.ignored {
            tracing::debug!(chain_task = %hex(id), "TaskSubmitted for a task this node did not quote, or already open");
        }
        for t in &progress.lapsed {
            tracing::info!(task = %t, "quote expired before it was published on chain (lapsed)");
        }
        if !progress.opened.is_empty() {
            node.work_ready.wake_all();
        }
        next = to + 1;
    }
    Ok(())
}

async fn end_overdue(node: &Node, now_ms: u64) {
    let overdue = match node.store.chain_overdue(now_ms as i64).await {
        Ok(o) => o,
        Err(e) => {
            tracing::error!(error = %e, "could not list overdue chain tasks");
            return;
        }
    };
    for task in overdue {
        let ended = node
            .store
            .end_task_with(task, TaskCause::PoolFault, node.now_ms(), |_| {
                Ok::<_, std::convert::Infallible>(Vec::new())
            })
            .await;
        let note = "the liability window closed before a proof was verified; the payer may claim \
                    reward and bond on chain";
        match ended {
            Ok(_) => {
                if let Err(e) = node.store.chain_missed(task, note).await {
                    tracing::error!(%task, error = %e, "could not record a missed window");
                }
                tracing::warn!(%task, "liability window closed unproved (pool_fault); the payer may claim on chain");
            }
            Err(e) => tracing::error!(%task, error = %e, "could not end an overdue chain task"),
        }
    }
}

async fn fulfil(node: &Node, cfg: &ChainConfig, due: &ChainDue) -> Result<(), ChainFault> {
    let head = cfg.contract.head().await?;
    let now = chain_now_ms(node, head);
    let margin = cfg.fulfil_margin.as_millis() as u64;
    let missed = |note: String| async move {
        tracing::error!(task = %due.task, chain_task = %hex(&due.chain_task), "fulfil not sent: {note}");
        node.store
            .chain_missed(due.task, &note)
            .await
            .map_err(store_fault)
    };
    if now.saturating_add(margin) >= due.deadline_ms {
        missed(format!(
            "the proof was verified {} ms before the deadline, less than the {} ms a fulfil needs \
             to be mined (--fulfil-margin); sending it could only fail",
            due.deadline_ms.saturating_sub(now),
            margin
        ))
        .await?;
        return Ok(());
    }
    match cfg.contract.status(due.chain_task).await? {
        OnChain::Open => {}
        OnChain::Fulfilled => {
            // A fulfil sent before a restart was mined after all.
            tracing::info!(task = %due.task, "already fulfilled on chain; recorded");
            node.store
                .chain_fulfilled(due.task, None, None, Some("found fulfilled on chain"))
                .await
                .map_err(store_fault)?;
            return Ok(());
        }
        OnChain::Claimed => {
            missed("the payer claimed the task on chain".into()).await?;
            return Ok(());
        }
        OnChain::None => {
            missed("the contract has no such task".into()).await?;
            return Ok(());
        }
    }
    let proof = node
        .store
        .read_blob(&due.proof)
        .await
        .map_err(store_fault)?
        .ok_or_else(|| ChainFault {
            call: "proof",
            message: format!("proof blob {} of {} is missing", due.proof, due.task),
            kind: ChainFaultKind::Invalid,
        })?;
    let payout = match due.payout.as_deref().map(str::parse::<Address>) {
        Some(Ok(a)) => a,
        _ => {
            tracing::warn!(task = %due.task, "the prover gave no payout account: its share goes to the pool account");
            cfg.contract.pool_account()
        }
    };
    let provers = [(payout, due.work.max(1))];
    match cfg.contract.fulfill(due.chain_task, &proof, &provers).await {
        Ok(m) => {
            let tx = hex(&m.tx);
            node.store
                .chain_fulfilled(due.task, Some(&tx), Some(m.gas_used), None)
                .await
                .map_err(store_fault)?;
            tracing::info!(task = %due.task, %tx, gas = m.gas_used, prover = %payout,
                "fulfilled on chain: bond released, reward credited to the prover and the pool");
            Ok(())
        }
        Err(e) if e.kind == ChainFaultKind::Unreachable => Err(e),
        Err(e) => {
            missed(format!("the contract refused the fulfil: {}", e.message)).await?;
            Ok(())
        }
    }
}

impl Node {
    /// One look at the chain, as the follower takes every poll (tests call it directly).
    pub async fn follow_chain(&self) -> Result<(), ChainFault> {
        match self.config.chain.clone() {
            Some(cfg) => step(self, &cfg).await,
            None => Ok(()),
        }
    }
}
