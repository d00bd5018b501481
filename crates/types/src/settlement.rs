//! Request and response bodies of the settlement endpoints: quotes, balances, rewards,
//! withdrawals, claims, deposits and epochs.
//!
//! Amounts are integer base units (6 decimals) sent as decimal strings, exactly as the
//! ledger's `Amount` serialises, so a `u128` survives JavaScript clients. [`SignedQuote`]
//! mirrors `zkpool_ledger::SignedQuote` field for field (the node converts between the two
//! through this JSON form and a test pins it), because this crate sits below the ledger.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{KeyId, TaskId, TaskSpec};

/// An amount in base units on the wire (a decimal string in JSON, within u128).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, ToSchema)]
#[schema(value_type = String, pattern = "^[0-9]{1,39}$", example = "2500000")]
pub struct Units(pub u128);

impl Serialize for Units {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Units {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map(Units).map_err(|_| {
            serde::de::Error::custom(format!("amount {s:?} is not base units within u128"))
        })
    }
}

/// `POST /v1/quotes` (requester): price this task, to be delivered within `window_ms`.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct QuoteRequest {
    /// What to prove (artifacts uploaded already).
    pub spec: TaskSpec,
    /// The liability window the requester wants, from acceptance of the quote (ms).
    pub window_ms: u64,
}

/// The pool's binding offer (mirrors `zkpool_ledger::Quote`).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct QuoteTerms {
    /// `0x` + 32 bytes: digest of proof system, artifact hashes and public statement.
    pub task_digest: String,
    /// The requester (access key) the quote was made for; only it can accept the quote.
    pub requester: KeyId,
    /// The requester's Ethereum account (`0x` + 20 bytes; zero on the embedded ledger).
    pub payer: String,
    /// The requester's verifier contract (`0x` + 20 bytes; zero on the embedded ledger).
    pub verifier: String,
    /// `0x` + 32 bytes: keccak256 of the packed public inputs (zero on the embedded ledger).
    pub public_inputs_hash: String,
    /// Segments the pool priced the task as split into (0 = proved whole).
    pub segments: u32,
    /// Reward the requester escrows.
    pub reward: Units,
    /// Liability bond the pool stakes.
    pub bond: Units,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The offer lapses at this time (unix ms).
    pub expires_at_ms: u64,
    /// Single-use nonce.
    pub nonce: u64,
    /// The pool's address (`0x` + 20 bytes).
    pub pool: String,
    /// The chain id the quote is signed for.
    pub chain_id: u64,
}

/// A quote with the pool's EIP-712 secp256k1 signature (what `quote.json` holds).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct SignedQuote {
    /// The offer.
    pub quote: QuoteTerms,
    /// `0x` + 65 bytes `r ‖ s ‖ v`.
    pub signature: String,
}

/// The answer to [`QuoteRequest`].
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct QuoteIssued {
    /// The signed quote, to pass back with the submission.
    pub signed: SignedQuote,
    /// Work units the task was priced at (α-weighted size).
    pub work: u64,
    /// The node's completion estimate, slack and overhead included (ms).
    pub estimated_ms: u64,
}

/// `POST /v1/tasks/quoted` (requester): accept a quote, escrow its reward and submit.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct QuotedSubmitRequest {
    /// What to prove; must be the task the quote covers.
    pub spec: TaskSpec,
    /// The quote being accepted.
    pub quote: SignedQuote,
}

/// `GET /v1/balance` (requester): the caller's money.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct BalanceView {
    /// The requester's key.
    pub key: KeyId,
    /// Spendable: can escrow new tasks or be withdrawn.
    pub available: Units,
    /// Held in escrow for tasks whose window is still open.
    pub escrowed: Units,
    /// Refund plus bond of tasks whose window closed without a proof, not yet claimed.
    pub claimable: Units,
    /// Open (escrowed, unsettled) tasks.
    pub open_tasks: Vec<OpenTask>,
}

/// One unsettled task of a requester.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct OpenTask {
    /// The task.
    pub task: TaskId,
    /// Escrowed reward.
    pub reward: Units,
    /// Staked bond.
    pub bond: Units,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
}

/// `POST /v1/tasks/{id}/claim` answer: what the requester received.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct Claimed {
    /// The task.
    pub task: TaskId,
    /// The escrowed reward, refunded.
    pub refund: Units,
    /// The pool's bond, paid.
    pub bond: Units,
}

/// `GET /v1/rewards` (prover or admin): one row per machine and epoch.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct RewardsView {
    /// Rows, by prover key then epoch.
    pub rows: Vec<RewardRow>,
    /// Each prover key's money: withdrawable, staked, locked as collateral.
    pub funds: Vec<ProverFunds>,
}

/// One prover key's money.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct ProverFunds {
    /// The key.
    pub key: KeyId,
    /// Withdrawable.
    pub balance: Units,
    /// Staked and free: what new leases of paid tasks can lock.
    pub stake: Units,
    /// Locked by open leases (and reports awaiting a second opinion).
    pub collateral: Units,
}

/// `POST /v1/stake` and `POST /v1/unstake` (prover): move money between the key's balance
/// and its stake.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct StakeRequest {
    /// How much.
    pub amount: Units,
}

/// One machine's activity in one epoch.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct RewardRow {
    /// The prover key.
    pub key: KeyId,
    /// Its machines' names.
    pub name: String,
    /// The epoch number.
    pub epoch: u64,
    /// Whether the epoch was settled.
    pub settled: bool,
    /// Tasks it finished in the epoch.
    pub tasks_done: u64,
    /// Their work (α-weighted size, thousandths of a PLONK gate).
    pub work: u64,
    /// Its share of task rewards released in the epoch.
    pub task_rewards: Units,
    /// Its epoch (Proof of ZK Work) reward.
    pub epoch_rewards: Units,
    /// Collateral slashed in the epoch (invalid proofs, expired leases, false reports).
    pub penalties: Units,
}

/// `POST /v1/withdraw`: move money out of one of the caller's accounts.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct WithdrawRequest {
    /// How much, from the caller key's own account (a prover key's earnings are its key's,
    /// whichever machine earned them).
    pub amount: Units,
}

/// `POST /v1/ledger/deposit` (admin): money enters an account from outside.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct DepositRequest {
    /// `requester:k-2`, `prover:k-3`, `prover_stake:k-3` (deposited and staked), `treasury`
    /// or `pool_stake`. Provers' accounts are keyed by their access key.
    pub account: String,
    /// How much.
    pub amount: Units,
}

/// Answer to deposits and withdrawals: the account's balance afterwards.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct Moved {
    /// The account.
    pub account: String,
    /// Its balance after the movement.
    pub balance: Units,
    /// The journal entry's sequence number.
    pub seq: u64,
}

/// `POST /v1/epochs/close` (admin) answer, also one element of `GET /v1/epochs`.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct EpochView {
    /// The epoch number.
    pub epoch: u64,
    /// When it started (unix ms).
    pub started_ms: i64,
    /// When it was closed (unix ms), if it was.
    pub closed_ms: Option<i64>,
    /// The reward pool it paid.
    pub pool: Units,
    /// What went to the treasury (rounding and zero-weight remainder).
    pub to_treasury: Units,
    /// Each prover's work, stake and reward.
    pub shares: Vec<EpochShare>,
}

/// One prover's line in an epoch settlement.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct EpochShare {
    /// The prover's key (a prover's identity for rewards; its machines are labels).
    pub prover: KeyId,
    /// Its work in the epoch.
    pub work: u64,
    /// Its stake at settlement.
    pub stake: Units,
    /// Its reward.
    pub reward: Units,
}

/// `GET /v1/ledger/summary` (admin): the pool's accounts.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct LedgerSummary {
    /// Every account with its balance, sorted by name.
    pub accounts: Vec<(String, Units)>,
    /// Everything deposited from outside.
    pub deposited: Units,
    /// Everything withdrawn.
    pub withdrawn: Units,
    /// The pool's quote-signing address.
    pub pool: String,
    /// Its chain id.
    pub chain_id: u64,
}

impl LedgerSummary {
    /// The balance of `account` (its display form, e.g. `treasury`), base units; 0 when the
    /// ledger has no such account.
    pub fn balance(&self, account: &str) -> u128 {
        self.accounts
            .iter()
            .find(|(a, _)| a == account)
            .map_or(0, |(_, b)| b.0)
    }
}

/// `GET /v1/chain`: where a node settling on Ethereum settles (404 `not_on_chain` on the
/// embedded ledger).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct ChainInfo {
    /// The chain id quotes are signed for.
    pub chain_id: u64,
    /// The pool contract (`0x` + 20 bytes): the quotes' `verifyingContract`.
    pub contract: String,
    /// Its payment token (`0x` + 20 bytes).
    pub token: String,
    /// The pool's operator account, which sends every `fulfill`.
    pub pool_account: String,
    /// The first block the node follows.
    pub from_block: u64,
    /// How many blocks the node waits before it trusts an event.
    pub confirmations: u64,
    /// Verifier contracts the pool takes liability for, each with the circuit key (`zkey`
    /// blob hash) it checks.
    pub verifiers: Vec<TrustedVerifier>,
}

/// A verifier contract the operator vouched for: the snarkjs export of one circuit key.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct TrustedVerifier {
    /// Its address (`0x` + 20 bytes).
    pub address: String,
    /// sha256 of the `.zkey` it was exported from (hex).
    pub zkey: String,
}

/// `POST /v1/tasks/chain` (requester): quote a task for the pool contract and register it,
/// artifacts and all, so that the node proves it once the requester publishes the quote on
/// chain with `submitTask`.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct ChainTaskRequest {
    /// What to prove (artifacts uploaded already): a Groth16 task.
    pub spec: TaskSpec,
    /// The liability window the requester wants (ms from now).
    pub window_ms: u64,
    /// The requester's Ethereum account: only it may publish and claim (`0x` + 20 bytes).
    pub payer: String,
    /// The verifier contract the pool contract calls with the proof (`0x` + 20 bytes): one of
    /// [`ChainInfo::verifiers`], for this task's `.zkey`.
    pub verifier: String,
}

/// The answer to [`ChainTaskRequest`].
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct ChainTaskIssued {
    /// The node's task, `unpaid` until `submitTask` is seen on chain.
    pub task_id: TaskId,
    /// The contract's id of the task once published: the quote's EIP-712 digest (`0x` + 32
    /// bytes).
    pub chain_task: String,
    /// The signed quote to pass to `submitTask`.
    pub signed: SignedQuote,
    /// Work units the task was priced at.
    pub work: u64,
    /// The node's completion estimate (ms).
    pub estimated_ms: u64,
}

/// A task settled on chain, as the node tracks it (part of `GET /v1/tasks/{id}/chain`).
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct ChainTaskView {
    /// The node's task.
    pub task_id: TaskId,
    /// The contract's task id.
    pub chain_task: String,
    /// `quoted` (not yet published), `open` (published, being proved), `fulfilled`,
    /// `missed` (the window closed first; the payer may claim) or `lapsed` (never published).
    pub state: String,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The `fulfill` transaction, once mined (`0x` + 32 bytes).
    pub fulfil_tx: Option<String>,
    /// Its gas.
    pub fulfil_gas: Option<u64>,
    /// Why the node could not fulfil, when it could not.
    pub note: Option<String>,
}
