//! One account's view of one pool contract deployment.

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::TransactionReceipt;
use alloy::signers::local::PrivateKeySigner;
use zkpool_groth16::solidity::SolidityProof;
use zkpool_ledger::SignedQuote;

use crate::bindings::{MultiplierVerifier, TestToken, ZkPool};
use crate::convert::{proof_args, signature, sol_quote, task_id};
use crate::error::ChainError;

/// Addresses of one deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The pool contract.
    pub pool: Address,
    /// Its payment token.
    pub token: Address,
}

/// A task's state as the contract holds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TaskStatus {
    /// No task with this id.
    None,
    /// Published, reward escrowed and bond reserved; neither fulfilled nor claimed.
    Open,
    /// Proved in the window and paid.
    Fulfilled,
    /// The window passed; the payer took reward and bond back.
    Claimed,
}

/// What the contract stores of a task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TaskOnChain {
    /// Where it stands.
    pub status: TaskStatus,
    /// The requester's account.
    pub payer: Address,
    /// Escrowed reward, base units.
    pub reward: u64,
    /// Reserved bond, base units.
    pub bond: u64,
    /// First whole second at or after the deadline.
    pub deadline_sec: u32,
}

/// A mined transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sent {
    /// Its hash.
    pub tx: B256,
    /// Gas it used.
    pub gas_used: u64,
}

/// A provider signing as one account, and the pool contract and its token on it.
#[derive(Clone, Debug)]
pub struct PoolClient {
    provider: DynProvider,
    account: Address,
    deployment: Deployment,
}

fn rpc(call: &'static str) -> impl Fn(alloy::transports::TransportError) -> ChainError {
    move |e| ChainError::Rpc {
        call,
        message: e.to_string(),
    }
}

/// A contract error as the contract names it (`WindowClosed(…)`), else the transport's text.
fn contract_error(call: &'static str, e: alloy::contract::Error) -> ChainError {
    if let Some(decoded) = e.as_decoded_interface_error::<ZkPool::ZkPoolErrors>() {
        return ChainError::Reverted {
            call,
            reason: format!("{decoded:?}"),
        };
    }
    if let Some(data) = e.as_revert_data() {
        return ChainError::Reverted {
            call,
            reason: format!("revert data {data}"),
        };
    }
    ChainError::Rpc {
        call,
        message: e.to_string(),
    }
}

/// A token amount read from the chain, as the ledger's integer.
fn amount(what: &str, v: U256) -> Result<u128, ChainError> {
    u128::try_from(v).map_err(|_| ChainError::Invalid(format!("{what} {v} does not fit u128")))
}

/// Sends a call and waits for its receipt; a mined failure is an error.
async fn send<D: CallDecoder>(
    call: &'static str,
    builder: CallBuilder<&DynProvider, D>,
) -> Result<Sent, ChainError> {
    let pending = builder.send().await.map_err(|e| contract_error(call, e))?;
    let receipt: TransactionReceipt = pending.get_receipt().await.map_err(|e| ChainError::Rpc {
        call,
        message: e.to_string(),
    })?;
    if !receipt.status() {
        return Err(ChainError::Failed {
            call,
            tx: receipt.transaction_hash,
        });
    }
    Ok(Sent {
        tx: receipt.transaction_hash,
        gas_used: receipt.gas_used,
    })
}

/// Sends a contract creation and waits for it: the new address and the gas it used.
async fn deployed<D: CallDecoder>(
    call: &'static str,
    builder: CallBuilder<&DynProvider, D>,
) -> Result<(Address, u64), ChainError> {
    let pending = builder.send().await.map_err(|e| contract_error(call, e))?;
    let receipt: TransactionReceipt = pending.get_receipt().await.map_err(|e| ChainError::Rpc {
        call,
        message: e.to_string(),
    })?;
    match (receipt.status(), receipt.contract_address) {
        (true, Some(a)) => Ok((a, receipt.gas_used)),
        _ => Err(ChainError::Failed {
            call,
            tx: receipt.transaction_hash,
        }),
    }
}

impl PoolClient {
    fn provider(url: &str, signer: PrivateKeySigner) -> Result<DynProvider, ChainError> {
        let url = url
            .parse()
            .map_err(|e| ChainError::Invalid(format!("RPC URL {url:?}: {e}")))?;
        // The recommended fillers, but with the nonce read from the chain (pending) for each
        // transaction: the cached manager counts a nonce as used when a call is refused at
        // gas estimation, and every later transaction then waits behind the gap for ever.
        Ok(ProviderBuilder::new()
            .disable_recommended_fillers()
            .with_gas_estimation()
            .with_simple_nonce_management()
            .fetch_chain_id()
            .wallet(EthereumWallet::from(signer))
            .connect_http(url)
            .erased())
    }

    /// Connects `signer` to an existing deployment.
    pub async fn connect(
        url: &str,
        signer: PrivateKeySigner,
        pool: Address,
    ) -> Result<PoolClient, ChainError> {
        let account = signer.address();
        let provider = Self::provider(url, signer)?;
        let token = ZkPool::new(pool, &provider)
            .token()
            .call()
            .await
            .map_err(|e| contract_error("token", e))?;
        Ok(PoolClient {
            provider,
            account,
            deployment: Deployment { pool, token },
        })
    }

    /// Deploys a pool contract operated by `signer` (the pool account: it stakes, fulfils and
    /// receives the pool's share), accepting quotes signed by `quote_signer`. Without a
    /// `token`, a fresh [`TestToken`] (6 decimals, open mint) is deployed for it first.
    pub async fn deploy(
        url: &str,
        signer: PrivateKeySigner,
        quote_signer: Address,
        unstake_delay_s: u64,
        token: Option<Address>,
    ) -> Result<PoolClient, ChainError> {
        Ok(
            Self::deploy_metered(url, signer, quote_signer, unstake_delay_s, token)
                .await?
                .0,
        )
    }

    /// [`PoolClient::deploy`], with the gas of each deployment: `(contract, gas)`.
    pub async fn deploy_metered(
        url: &str,
        signer: PrivateKeySigner,
        quote_signer: Address,
        unstake_delay_s: u64,
        token: Option<Address>,
    ) -> Result<(PoolClient, Vec<(&'static str, u64)>), ChainError> {
        let account = signer.address();
        let provider = Self::provider(url, signer)?;
        let mut gas = Vec::new();
        let token = match token {
            Some(t) => t,
            None => {
                let (t, g) =
                    deployed("deploy TestToken", TestToken::deploy_builder(&provider)).await?;
                gas.push(("deploy TestToken", g));
                t
            }
        };
        let (pool, g) = deployed(
            "deploy ZkPool",
            ZkPool::deploy_builder(&provider, token, quote_signer, U256::from(unstake_delay_s)),
        )
        .await?;
        gas.push(("deploy ZkPool", g));
        Ok((
            PoolClient {
                provider,
                account,
                deployment: Deployment { pool, token },
            },
            gas,
        ))
    }

    /// Deploys the snarkjs-exported verifier of the committed multiplier circuit.
    pub async fn deploy_multiplier_verifier(&self) -> Result<Address, ChainError> {
        Ok(*MultiplierVerifier::deploy(&self.provider)
            .await
            .map_err(|e| contract_error("deploy MultiplierVerifier", e))?
            .address())
    }

    /// The deployment's addresses.
    pub fn deployment(&self) -> Deployment {
        self.deployment
    }

    /// This client's account.
    pub fn account(&self) -> Address {
        self.account
    }

    /// The chain id of the endpoint.
    pub async fn chain_id(&self) -> Result<u64, ChainError> {
        self.provider.get_chain_id().await.map_err(rpc("chain id"))
    }

    /// The latest block's timestamp (unix seconds): the contract's clock.
    pub async fn chain_time(&self) -> Result<u64, ChainError> {
        let block = self
            .provider
            .get_block_by_number(alloy::eips::BlockNumberOrTag::Latest)
            .await
            .map_err(rpc("latest block"))?
            .ok_or_else(|| ChainError::Rpc {
                call: "latest block",
                message: "no block".into(),
            })?;
        Ok(block.header.timestamp)
    }

    /// Block `number` (or the latest): its number and timestamp.
    pub async fn block(&self, number: Option<u64>) -> Result<(u64, u64), ChainError> {
        let tag = number.map_or(alloy::eips::BlockNumberOrTag::Latest, Into::into);
        let block = self
            .provider
            .get_block_by_number(tag)
            .await
            .map_err(rpc("block"))?
            .ok_or_else(|| ChainError::Rpc {
                call: "block",
                message: format!("no block {tag}"),
            })?;
        Ok((block.header.number, block.header.timestamp))
    }

    /// Ids of the tasks published (`TaskSubmitted`) in blocks `from..=to`, with their block, in
    /// chain order.
    pub async fn published(&self, from: u64, to: u64) -> Result<Vec<(B256, u64)>, ChainError> {
        let logs = self
            .pool()
            .TaskSubmitted_filter()
            .from_block(from)
            .to_block(to)
            .query()
            .await
            .map_err(|e| contract_error("TaskSubmitted logs", e))?;
        let mut out = Vec::with_capacity(logs.len());
        for (event, log) in logs {
            let block = log.block_number.ok_or_else(|| ChainError::Rpc {
                call: "TaskSubmitted logs",
                message: "a log without a block number (pending)".into(),
            })?;
            out.push((event.taskId, block));
        }
        Ok(out)
    }

    fn pool(&self) -> ZkPool::ZkPoolInstance<DynProvider> {
        ZkPool::new(self.deployment.pool, self.provider.clone())
    }

    fn token(&self) -> TestToken::TestTokenInstance<DynProvider> {
        TestToken::new(self.deployment.token, self.provider.clone())
    }

    /// Mints test tokens (a [`TestToken`] deployment only).
    pub async fn mint(&self, to: Address, amount: u128) -> Result<Sent, ChainError> {
        send("mint", self.token().mint(to, U256::from(amount))).await
    }

    /// Token balance of `who`.
    pub async fn token_balance(&self, who: Address) -> Result<u128, ChainError> {
        let b = self
            .token()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| contract_error("balanceOf", e))?;
        amount("balance", b)
    }

    async fn approve(&self, amount: u128) -> Result<Sent, ChainError> {
        send(
            "approve",
            self.token()
                .approve(self.deployment.pool, U256::from(amount)),
        )
        .await
    }

    /// The pool tops up its stake (approve, then `stake`).
    pub async fn stake(&self, amount: u128) -> Result<Sent, ChainError> {
        self.approve(amount).await?;
        send("stake", self.pool().stake(U256::from(amount))).await
    }

    /// The contract's operator (`pool`) and the key it accepts quotes from (`quoteSigner`).
    pub async fn roles(&self) -> Result<(Address, Address), ChainError> {
        let pool = self
            .pool()
            .pool()
            .call()
            .await
            .map_err(|e| contract_error("pool", e))?;
        let signer = self
            .pool()
            .quoteSigner()
            .call()
            .await
            .map_err(|e| contract_error("quoteSigner", e))?;
        Ok((pool, signer))
    }

    /// Stake not reserved by open tasks.
    pub async fn free_stake(&self) -> Result<u128, ChainError> {
        let s = self
            .pool()
            .freeStake()
            .call()
            .await
            .map_err(|e| contract_error("freeStake", e))?;
        amount("stake", s)
    }

    /// The requester publishes a quoted task: approves the reward, then `submitTask`. Returns
    /// the task id (the quote's digest) and the gas of `submitTask`.
    pub async fn submit_task(&self, quote: &SignedQuote) -> Result<(B256, Sent), ChainError> {
        self.approve(quote.quote.reward.base_units()).await?;
        let sent = send(
            "submitTask",
            self.pool()
                .submitTask(sol_quote(&quote.quote), signature(quote)),
        )
        .await?;
        Ok((task_id(&quote.quote), sent))
    }

    /// The pool submits the proof of task `id`, with the provers' work shares.
    pub async fn fulfill(
        &self,
        id: B256,
        proof: &SolidityProof,
        provers: &[(Address, u64)],
    ) -> Result<Sent, ChainError> {
        let (words, public) = proof_args(proof);
        let (who, work): (Vec<Address>, Vec<U256>) =
            provers.iter().map(|(a, w)| (*a, U256::from(*w))).unzip();
        send("fulfill", self.pool().fulfill(id, words, public, who, work)).await
    }

    /// The payer takes reward and bond back after a missed window.
    pub async fn claim(&self, id: B256) -> Result<Sent, ChainError> {
        send("claim", self.pool().claim(id)).await
    }

    /// Withdraws everything credited to this account.
    pub async fn withdraw_all(&self) -> Result<Sent, ChainError> {
        send("withdraw", self.pool().withdraw_1()).await
    }

    /// What the contract holds for `who` to withdraw.
    pub async fn credit(&self, who: Address) -> Result<u128, ChainError> {
        let c = self
            .pool()
            .balanceOf(who)
            .call()
            .await
            .map_err(|e| contract_error("balanceOf", e))?;
        amount("credit", c)
    }

    /// Task `id` as the contract holds it.
    pub async fn task(&self, id: B256) -> Result<TaskOnChain, ChainError> {
        let t = self
            .pool()
            .task(id)
            .call()
            .await
            .map_err(|e| contract_error("task", e))?;
        let status = match t.status {
            0 => TaskStatus::None,
            1 => TaskStatus::Open,
            2 => TaskStatus::Fulfilled,
            _ => TaskStatus::Claimed,
        };
        Ok(TaskOnChain {
            status,
            payer: t.payer,
            reward: t.reward,
            bond: t.bond,
            deadline_sec: t.deadlineSec,
        })
    }

    /// Moves a development chain's clock forward and mines a block (anvil, hardhat).
    pub async fn advance_time(&self, secs: u64) -> Result<(), ChainError> {
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_increaseTime".into(), (secs,))
            .await
            .map_err(rpc("evm_increaseTime"))?;
        let _: serde_json::Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .map_err(rpc("evm_mine"))?;
        Ok(())
    }
}
