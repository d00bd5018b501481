//! Settlement calls: quotes, quoted submission, claims, balances, rewards, withdrawals,
//! deposits and epochs.

use zkpool_types::api::Submitted;
use zkpool_types::settlement::{
    BalanceView, ChainInfo, ChainTaskIssued, ChainTaskRequest, ChainTaskView, Claimed,
    DepositRequest, EpochView, LedgerSummary, Moved, QuoteIssued, QuoteRequest,
    QuotedSubmitRequest, RewardsView, SignedQuote, StakeRequest, Units, WithdrawRequest,
};
use zkpool_types::{TaskId, TaskSpec};

use crate::{Client, ClientError};

impl Client {
    /// Asks for a binding quote for `spec`, to be proved within `window_ms`.
    pub async fn quote(&self, spec: TaskSpec, window_ms: u64) -> Result<QuoteIssued, ClientError> {
        self.post("/v1/quotes", &QuoteRequest { spec, window_ms })
            .await
    }

    /// Accepts `quote`: escrows its reward and submits `spec`.
    pub async fn submit_quoted(
        &self,
        spec: TaskSpec,
        quote: SignedQuote,
    ) -> Result<Submitted, ClientError> {
        self.post("/v1/tasks/quoted", &QuotedSubmitRequest { spec, quote })
            .await
    }

    /// Claims refund and bond of a task whose window closed without a proof.
    pub async fn claim(&self, task: TaskId) -> Result<Claimed, ClientError> {
        self.post(&format!("/v1/tasks/{}/claim", task.0), &()).await
    }

    /// Where a pool that settles on chain settles (`not_on_chain` on the embedded ledger).
    pub async fn chain_info(&self) -> Result<ChainInfo, ClientError> {
        self.get("/v1/chain").await
    }

    /// Quotes a task for the pool contract and registers it; publish the returned quote with
    /// `submitTask` from `payer` for the pool to prove it.
    pub async fn submit_chain(
        &self,
        req: &ChainTaskRequest,
    ) -> Result<ChainTaskIssued, ClientError> {
        self.post("/v1/tasks/chain", req).await
    }

    /// Where the settlement on chain of one of the caller's tasks stands.
    pub async fn chain_task(&self, task: TaskId) -> Result<ChainTaskView, ClientError> {
        self.get(&format!("/v1/tasks/{}/chain", task.0)).await
    }

    /// The requester's balances.
    pub async fn balance(&self) -> Result<BalanceView, ClientError> {
        self.get("/v1/balance").await
    }

    /// Per-key, per-epoch rewards and each key's funds (prover or admin key).
    pub async fn rewards(&self) -> Result<RewardsView, ClientError> {
        self.get("/v1/rewards").await
    }

    /// Withdraws from the caller key's account.
    pub async fn withdraw(&self, amount: u128) -> Result<Moved, ClientError> {
        self.post(
            "/v1/withdraw",
            &WithdrawRequest {
                amount: Units(amount),
            },
        )
        .await
    }

    /// Stakes part of the caller prover key's balance (it backs the collateral of paid leases).
    pub async fn stake(&self, amount: u128) -> Result<Moved, ClientError> {
        self.post(
            "/v1/stake",
            &StakeRequest {
                amount: Units(amount),
            },
        )
        .await
    }

    /// Unstakes back to the balance; `409 unstake_not_yet` while leases can still be charged.
    pub async fn unstake(&self, amount: u128) -> Result<Moved, ClientError> {
        self.post(
            "/v1/unstake",
            &StakeRequest {
                amount: Units(amount),
            },
        )
        .await
    }

    /// Deposits into an account (admin key), e.g. `requester:k-2`, `pool_stake`.
    pub async fn deposit(&self, account: &str, amount: u128) -> Result<Moved, ClientError> {
        self.post(
            "/v1/ledger/deposit",
            &DepositRequest {
                account: account.to_string(),
                amount: Units(amount),
            },
        )
        .await
    }

    /// Every account's balance (admin key).
    pub async fn ledger(&self) -> Result<LedgerSummary, ClientError> {
        self.get("/v1/ledger").await
    }

    /// Settles the current epoch now (admin key).
    pub async fn close_epoch(&self) -> Result<EpochView, ClientError> {
        self.post("/v1/epochs/close", &()).await
    }

    /// Every epoch.
    pub async fn epochs(&self) -> Result<Vec<EpochView>, ClientError> {
        self.get("/v1/epochs").await
    }
}
