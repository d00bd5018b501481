//! Settlement endpoints: quotes, quoted submission, claims, balances, rewards, withdrawals,
//! deposits and epochs. Thin: parse, authorise, call `settlement.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use zkpool_ledger::{Account, Amount, EpochId};
use zkpool_types::api::{ErrorBody, Role, Submitted};
use zkpool_types::settlement::{
    BalanceView, ChainInfo, ChainTaskIssued, ChainTaskRequest, ChainTaskView, Claimed,
    DepositRequest, EpochView, LedgerSummary, Moved, ProverFunds, QuoteIssued, QuoteRequest,
    QuotedSubmitRequest, RewardRow, RewardsView, StakeRequest, Units, WithdrawRequest,
};
use zkpool_types::KeyId;

use crate::extract::{ApiJson, ApiPath};
use crate::requester_api::{owned_task, prepare_task};
use crate::{onchain, settlement, ApiError, Caller, Node};

fn amount(u: Units) -> Amount {
    Amount::from_base_units(u.0)
}

/// `POST /v1/quotes` (requester): inspect the task, admit it against the window, price and
/// sign. Nothing is reserved; the quote binds the pool until it expires.
#[utoipa::path(
    post,
    path = "/v1/quotes",
    tag = "settlement",
    security(("key" = [])),
    request_body = QuoteRequest,
    responses(
        (status = 200, description = "the signed, binding quote; nothing is reserved until it is accepted", body = QuoteIssued),
        (status = 400, description = crate::openapi::INSPECT_400, body = ErrorBody),
        (status = 409, description = "`settles_on_chain`: this pool settles on its Ethereum contract (POST /v1/tasks/chain)", body = ErrorBody),
        (status = 422, description = crate::openapi::INSPECT_422, body = ErrorBody),
        (status = 503, description = crate::openapi::INSPECT_503, body = ErrorBody),
    )
)]
pub async fn quote(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<QuoteRequest>,
) -> Result<Json<QuoteIssued>, ApiError> {
    caller.require(&[Role::Requester])?;
    let issued = async {
        if node.config.chain.is_some() {
            return Err(onchain::settles_on_chain());
        }
        let task = prepare_task(&node, caller.0.id, req.spec).await?;
        settlement::issue_quote(&node, &task, req.window_ms).await
    }
    .await;
    node.metrics.quoted("embedded", &issued);
    Ok(Json(issued?))
}

/// `GET /v1/chain` (any key): the contract, token and trusted verifiers of a pool that settles
/// on chain.
#[utoipa::path(
    get,
    path = "/v1/chain",
    tag = "settlement",
    security(("key" = [])),
    responses(
        (status = 200, description = "the contract, token and trusted verifiers", body = ChainInfo),
        (status = 404, description = "`not_on_chain`: this pool settles on its own ledger", body = ErrorBody),
    )
)]
pub async fn chain_info(
    State(node): State<Arc<Node>>,
    _caller: Caller,
) -> Result<Json<ChainInfo>, ApiError> {
    Ok(Json(onchain::info(&node)?))
}

/// `POST /v1/tasks/chain` (requester): inspect, quote for the pool contract and register the
/// task `unpaid`; it is queued when the requester's `submitTask` is seen on chain.
#[utoipa::path(
    post,
    path = "/v1/tasks/chain",
    tag = "settlement",
    security(("key" = [])),
    request_body = ChainTaskRequest,
    responses(
        (status = 201, description = "quoted for the contract and registered unpaid; queued once `submitTask` is seen on chain", body = ChainTaskIssued),
        (status = 400, description = crate::openapi::INSPECT_400, body = ErrorBody),
        (status = 404, description = "`not_on_chain`: this pool settles on its own ledger", body = ErrorBody),
        (status = 422, description = crate::openapi::INSPECT_422, body = ErrorBody),
        (status = 503, description = crate::openapi::INSPECT_503, body = ErrorBody),
    )
)]
pub async fn submit_chain(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<ChainTaskRequest>,
) -> Result<(StatusCode, Json<ChainTaskIssued>), ApiError> {
    caller.require(&[Role::Requester])?;
    let issued = async {
        onchain::info(&node)?;
        let spec = req.spec.clone();
        let task = prepare_task(&node, caller.0.id, req.spec.clone()).await?;
        onchain::issue(&node, caller.0.id, &spec, &task, &req).await
    }
    .await;
    node.metrics.quoted("ethereum", &issued);
    Ok((StatusCode::CREATED, Json(issued?)))
}

/// `GET /v1/tasks/{id}/chain` (the task's requester): where its settlement on chain stands.
#[utoipa::path(
    get,
    path = "/v1/tasks/{id}/chain",
    tag = "settlement",
    security(("key" = [])),
    params(("id" = String, Path, description = "task id: `42` or `t-42`", pattern = "^(t-)?[0-9]{1,18}$")),
    responses(
        (status = 200, description = "where the task's settlement on chain stands", body = ChainTaskView),
        (status = 400, description = crate::openapi::TASK_400, body = ErrorBody),
        (status = 404, description = crate::openapi::TASK_404, body = ErrorBody),
    )
)]
pub async fn chain_task(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ChainTaskView>, ApiError> {
    caller.require(&[Role::Requester, Role::Admin])?;
    let id = owned_task(&node, &caller, &id).await?;
    Ok(Json(onchain::view(&node, id).await?))
}

/// `POST /v1/tasks/quoted` (requester): accept a quote; escrow, bond and task in one go.
#[utoipa::path(
    post,
    path = "/v1/tasks/quoted",
    tag = "settlement",
    security(("key" = [])),
    request_body = QuotedSubmitRequest,
    responses(
        (status = 201, description = "escrow, bond and task in one transaction", body = Submitted),
        (status = 400, description = crate::openapi::INSPECT_400, body = ErrorBody),
        (status = 402, description = "`insufficient_funds`: the balance is smaller than the amount", body = ErrorBody),
        (status = 409, description = "`nonce_reused`: the quote was accepted already; `settles_on_chain`: this pool settles on its contract", body = ErrorBody),
        (status = 422, description = crate::openapi::INSPECT_422, body = ErrorBody),
        (status = 503, description = crate::openapi::INSPECT_503, body = ErrorBody),
    )
)]
pub async fn submit_quoted(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<QuotedSubmitRequest>,
) -> Result<(StatusCode, Json<Submitted>), ApiError> {
    caller.require(&[Role::Requester])?;
    if node.config.chain.is_some() {
        return Err(onchain::settles_on_chain());
    }
    let task = prepare_task(&node, caller.0.id, req.spec).await?;
    let id = settlement::accept_quote(&node, &task, &req.quote).await?;
    node.work_ready.wake_all();
    Ok((
        StatusCode::CREATED,
        Json(Submitted {
            task_id: id,
            work: task.work,
        }),
    ))
}

/// `POST /v1/tasks/{id}/claim` (requester): refund and bond once the window has closed
/// without a proof. The reaper does the same automatically; whichever comes first wins and
/// the other gets `already_settled`.
#[utoipa::path(
    post,
    path = "/v1/tasks/{id}/claim",
    tag = "settlement",
    security(("key" = [])),
    params(("id" = String, Path, description = "task id: `42` or `t-42`", pattern = "^(t-)?[0-9]{1,18}$")),
    responses(
        (status = 200, description = "the refund and the bond, paid", body = Claimed),
        (status = 400, description = crate::openapi::TASK_400, body = ErrorBody),
        (status = 404, description = crate::openapi::TASK_404, body = ErrorBody),
        (status = 409, description = "`window_not_closed`: the window is still open; `already_settled`: paid already (the reaper claims on its own)", body = ErrorBody),
    )
)]
pub async fn claim(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Claimed>, ApiError> {
    caller.require(&[Role::Requester])?;
    let id = owned_task(&node, &caller, &id).await?;
    Ok(Json(
        settlement::claim(&node, id, node.now_ms() as u64).await?,
    ))
}

/// `GET /v1/balance` (requester).
#[utoipa::path(
    get,
    path = "/v1/balance",
    tag = "settlement",
    security(("key" = [])),
    responses(
        (status = 200, description = "the requester's balance, escrow and open tasks", body = BalanceView),
    )
)]
pub async fn balance(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<BalanceView>, ApiError> {
    caller.require(&[Role::Requester])?;
    Ok(Json(settlement::balance(&node, caller.0.id).await?))
}

/// `POST /v1/withdraw` (requester or prover: the key's own account).
#[utoipa::path(
    post,
    path = "/v1/withdraw",
    tag = "settlement",
    security(("key" = [])),
    request_body = WithdrawRequest,
    responses(
        (status = 200, description = "moved out of the ledger", body = Moved),
        (status = 400, description = "`overflow`, `invalid`: the amount is out of range", body = ErrorBody),
        (status = 404, description = "`unknown_account`: the account has never held funds", body = ErrorBody),
        (status = 402, description = "`insufficient_funds`: the balance is smaller than the amount", body = ErrorBody),
    )
)]
pub async fn withdraw(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<WithdrawRequest>,
) -> Result<Json<Moved>, ApiError> {
    caller.require(&[Role::Requester, Role::Prover])?;
    let from = match caller.0.role {
        Role::Requester => Account::Requester(caller.0.id),
        _ => Account::Prover(caller.0.id),
    };
    Ok(Json(
        settlement::withdraw(&node, from, amount(req.amount)).await?,
    ))
}

/// `POST /v1/stake` (prover): balance → stake, which backs the collateral of paid leases.
#[utoipa::path(
    post,
    path = "/v1/stake",
    tag = "settlement",
    security(("key" = [])),
    request_body = StakeRequest,
    responses(
        (status = 200, description = "moved from the prover's balance to its stake", body = Moved),
        (status = 400, description = "`overflow`, `invalid`: the amount is out of range", body = ErrorBody),
        (status = 404, description = "`unknown_account`: the account has never held funds", body = ErrorBody),
        (status = 402, description = "`insufficient_funds`: the balance is smaller than the amount", body = ErrorBody),
    )
)]
pub async fn stake(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<StakeRequest>,
) -> Result<Json<Moved>, ApiError> {
    caller.require(&[Role::Prover])?;
    Ok(Json(
        settlement::stake(&node, caller.0.id, amount(req.amount)).await?,
    ))
}

/// `POST /v1/unstake` (prover): stake → balance, once no open lease and no recent paid lease
/// can still be charged to it (`409 unstake_not_yet` says when).
#[utoipa::path(
    post,
    path = "/v1/unstake",
    tag = "settlement",
    security(("key" = [])),
    request_body = StakeRequest,
    responses(
        (status = 200, description = "moved from the stake back to the balance", body = Moved),
        (status = 400, description = "`overflow`, `invalid`: the amount is out of range", body = ErrorBody),
        (status = 404, description = "`unknown_account`: the account has never held funds", body = ErrorBody),
        (status = 402, description = "`insufficient_funds`: the balance is smaller than the amount", body = ErrorBody),
        (status = 409, description = "`unstake_not_yet`: collateral is locked, or the unstake delay has not passed", body = ErrorBody),
    )
)]
pub async fn unstake(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<StakeRequest>,
) -> Result<Json<Moved>, ApiError> {
    caller.require(&[Role::Prover])?;
    Ok(Json(
        settlement::unstake(&node, caller.0.id, amount(req.amount)).await?,
    ))
}

/// `POST /v1/ledger/deposit` (admin): money from outside into a requester, prover, treasury
/// or pool-stake account. Requester and prover accounts must name an existing key/machine.
#[utoipa::path(
    post,
    path = "/v1/ledger/deposit",
    tag = "admin",
    security(("key" = [])),
    request_body = DepositRequest,
    responses(
        (status = 201, description = "credited", body = Moved),
        (status = 400, description = "`bad_account`: not an account name; `overflow`, `invalid`: the amount is out of range", body = ErrorBody),
        (status = 404, description = "`unknown_account`: no key behind the account", body = ErrorBody),
    )
)]
pub async fn deposit(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<DepositRequest>,
) -> Result<(StatusCode, Json<Moved>), ApiError> {
    caller.require(&[Role::Admin])?;
    let to: Account = req
        .account
        .parse()
        .map_err(|e: zkpool_ledger::ParseAccountError| {
            ApiError::bad_request("bad_account", e.to_string())
        })?;
    let known = match to {
        Account::Requester(k) => node
            .store
            .list_keys()
            .await?
            .iter()
            .any(|r| r.id == k && r.role == Role::Requester),
        Account::Prover(k) | Account::ProverStake(k) => node
            .store
            .list_keys()
            .await?
            .iter()
            .any(|r| r.id == k && r.role == Role::Prover),
        _ => true,
    };
    if !known {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_account",
            format!("no requester key or prover behind account {to}"),
        ));
    }
    let moved = settlement::deposit(&node, to, amount(req.amount)).await?;
    tracing::info!(account = %to, amount = %amount(req.amount), "deposit");
    Ok((StatusCode::CREATED, Json(moved)))
}

/// `GET /v1/ledger` (admin): every account's balance.
#[utoipa::path(
    get,
    path = "/v1/ledger",
    tag = "admin",
    security(("key" = [])),
    responses(
        (status = 200, description = "every account's balance and the totals", body = LedgerSummary),
    )
)]
pub async fn summary(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<LedgerSummary>, ApiError> {
    caller.require(&[Role::Admin])?;
    let cfg = &node.config.settlement;
    let books = node.settlement.books(&node.store, cfg).await?;
    let mut accounts: Vec<(String, Units)> = books
        .ledger
        .balances()
        .map(|(a, b)| (a.to_string(), Units(b.base_units())))
        .collect();
    accounts.sort();
    Ok(Json(LedgerSummary {
        accounts,
        deposited: Units(books.ledger.deposited().base_units()),
        withdrawn: Units(books.ledger.withdrawn().base_units()),
        pool: cfg.signer.address().to_string(),
        chain_id: cfg.chain_id,
    }))
}

/// `POST /v1/epochs/close` (admin): settle the current epoch now.
#[utoipa::path(
    post,
    path = "/v1/epochs/close",
    tag = "admin",
    security(("key" = [])),
    responses(
        (status = 200, description = "the epoch closed now and its rewards", body = EpochView),
        (status = 409, description = "`epoch_settled`: closed already", body = ErrorBody),
    )
)]
pub async fn close_epoch(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<EpochView>, ApiError> {
    caller.require(&[Role::Admin])?;
    Ok(Json(settlement::close_epoch(&node).await?))
}

/// `GET /v1/epochs`: closed epochs with their settlement, and the open one.
#[utoipa::path(
    get,
    path = "/v1/epochs",
    tag = "settlement",
    security(("key" = [])),
    responses(
        (status = 200, description = "every epoch, the open one last", body = Vec<EpochView>),
    )
)]
pub async fn epochs(
    State(node): State<Arc<Node>>,
    _caller: Caller,
) -> Result<Json<Vec<EpochView>>, ApiError> {
    node.store.current_epoch(node.now_ms()).await?;
    let mut out = Vec::new();
    for e in node.store.epochs().await? {
        let view = match e.summary.as_deref().map(serde_json::from_str::<EpochView>) {
            Some(Ok(v)) => v,
            Some(Err(err)) => return Err(ApiError::internal(err)),
            None => EpochView {
                epoch: e.id,
                started_ms: e.started_ms,
                closed_ms: e.closed_ms,
                pool: Units(0),
                to_treasury: Units(0),
                shares: Vec::new(),
            },
        };
        out.push(view);
    }
    Ok(Json(out))
}

/// `GET /v1/rewards` (prover: its own key; admin: every prover key): per key and epoch,
/// tasks done, work, task rewards, epoch rewards and slashed collateral, plus each key's
/// withdrawable balance, stake and locked collateral.
#[utoipa::path(
    get,
    path = "/v1/rewards",
    tag = "settlement",
    security(("key" = [])),
    responses(
        (status = 200, description = "rewards per epoch, penalties and balances of the prover key (all keys for the admin)", body = RewardsView),
    )
)]
pub async fn rewards(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<RewardsView>, ApiError> {
    caller.require(&[Role::Prover, Role::Admin])?;
    let cfg = &node.config.settlement;
    let only = (caller.0.role == Role::Prover).then_some(caller.0.id);
    let machines = node.store.provers_of(only).await?;
    let mut keys: BTreeMap<KeyId, Vec<String>> = BTreeMap::new();
    for (_, name, key) in &machines {
        keys.entry(*key).or_default().push(name.clone());
    }
    if let Some(k) = only {
        keys.entry(k).or_default();
    }
    node.store.current_epoch(node.now_ms()).await?;
    let epochs = node.store.epochs().await?;
    let epoch_at = |t: i64| {
        epochs
            .iter()
            .find(|e| e.started_ms <= t && e.closed_ms.is_none_or(|c| t < c))
            .or(epochs.last())
            .map_or(0, |e| e.id)
    };
    let settled = |id: u64| epochs.iter().any(|e| e.id == id && e.closed_ms.is_some());
    let done = node.store.done_tasks(0, i64::MAX).await?;
    let mut rows: BTreeMap<(KeyId, u64), RewardRow> = BTreeMap::new();
    let mut funds = Vec::new();
    for (key, names) in &keys {
        let name = names.join(", ");
        for d in done.iter().filter(|d| d.key == *key) {
            let e = epoch_at(d.finished_ms);
            let r = row_for(&mut rows, *key, &name, e, settled(e));
            r.tasks_done += 1;
            let w = cfg.factors.work(&d.system, d.size).unwrap_or(0);
            r.work = r.work.saturating_add(u64::try_from(w).unwrap_or(u64::MAX));
        }
        let balance = Account::Prover(*key);
        let collateral = Account::Collateral(*key);
        for pr in node.store.postings_of(&[balance, collateral]).await? {
            let post = &pr.posting;
            let (epoch, field) = match (pr.kind.as_str(), post.from, post.to) {
                ("release" | "requester_fault", _, to) if to == balance => (epoch_at(pr.at_ms), 0),
                ("pay_epoch", Account::EpochPool(EpochId(e)), to) if to == balance => (e, 1),
                ("slash_collateral", from, _) if from == collateral => (epoch_at(pr.at_ms), 2),
                _ => continue,
            };
            let r = row_for(&mut rows, *key, &name, epoch, settled(epoch));
            let slot = match field {
                0 => &mut r.task_rewards,
                1 => &mut r.epoch_rewards,
                _ => &mut r.penalties,
            };
            slot.0 = slot.0.saturating_add(post.amount.base_units());
        }
        let books = node.settlement.books(&node.store, cfg).await?;
        funds.push(ProverFunds {
            key: *key,
            balance: Units(books.ledger.balance(&balance).base_units()),
            stake: Units(
                books
                    .ledger
                    .balance(&Account::ProverStake(*key))
                    .base_units(),
            ),
            collateral: Units(books.ledger.balance(&collateral).base_units()),
        });
    }
    Ok(Json(RewardsView {
        rows: rows.into_values().collect(),
        funds,
    }))
}

fn row_for<'a>(
    rows: &'a mut BTreeMap<(KeyId, u64), RewardRow>,
    key: KeyId,
    name: &str,
    epoch: u64,
    settled: bool,
) -> &'a mut RewardRow {
    rows.entry((key, epoch)).or_insert_with(|| RewardRow {
        key,
        name: name.to_string(),
        epoch,
        settled,
        tasks_done: 0,
        work: 0,
        task_rewards: Units(0),
        epoch_rewards: Units(0),
        penalties: Units(0),
    })
}
