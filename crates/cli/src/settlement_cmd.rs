//! Settlement commands: `quote`, `claim`, `balance`, `rewards`, `withdraw`, `ledger`,
//! `epochs`, plus the node's settlement flags ([`SettlementArgs`]) and its signing key.
//!
//! Amounts on the command line are tokens (`100`, `1.5`, `1.5 ZKP`), or base units with the
//! suffix `units` (`1000000units`); they are always printed with their unit.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use zkpool_client::Client;
use zkpool_ledger::{
    Amount, Exponents, LedgerConfig, LoadCurve, PricingConfig, QuoteSigner, WorkFactors,
};
use zkpool_node::SettlementConfig;
use zkpool_types::settlement::Units;
use zkpool_types::{ProofSystem, TaskId};

use crate::requester_cmd::PoolArgs;
use crate::table::Table;
use crate::task_args::TaskArgs;

/// `zkpool node` settlement flags: prices, fees, bonds, penalties, epochs.
#[derive(Args, Debug, Clone)]
pub struct SettlementArgs {
    /// EIP-712 chain id quotes are signed for.
    #[arg(long, default_value_t = 31_337)]
    pub chain_id: u64,
    /// Price of 10^6 work units (work = α × constraints, α in thousandths).
    #[arg(long, default_value = "0.1", value_parser = parse_amount)]
    pub price_per_mwork: Amount,
    /// Lowest price quoted.
    #[arg(long, default_value = "0.001", value_parser = parse_amount)]
    pub min_price: Amount,
    /// Liability bond as a multiple of the reward in basis points (20000 = 2 × reward).
    #[arg(long, default_value_t = 20_000)]
    pub bond_bps: u64,
    /// Lowest liability bond.
    #[arg(long, default_value = "1.0", value_parser = parse_amount)]
    pub min_bond: Amount,
    /// Provers' share of a released reward in basis points; the rest is the pool's fee.
    #[arg(long, default_value_t = 8_000)]
    pub prover_share_bps: u32,
    /// Collateral a lease of a paid task locks from the prover key's stake, in basis points
    /// of the task's bond divided by its attempts (10000: a task's attempts together cover
    /// its bond). Slashed for an invalid proof, an expired lease or a false failure report;
    /// given back otherwise. Keys without stake get only free-tier tasks.
    #[arg(long, default_value_t = 10_000)]
    pub collateral_bps: u32,
    /// When two provers of different keys report a paid task's artifacts unprovable
    /// (requester_fault): the share of its reward, in basis points, paid to them for their
    /// time; the rest goes back to the requester and the bond back to the pool.
    #[arg(long, default_value_t = 2_000)]
    pub fault_pay_bps: u32,
    /// Seconds a prover key's stake stays bound after its last paid lease ended.
    #[arg(long, value_name = "SECS", default_value_t = 3_600)]
    pub unstake_delay: u64,
    /// Seconds a quote stays acceptable.
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    pub quote_ttl: u64,
    /// Longest liability window a quote may ask for, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 7 * 24 * 3600)]
    pub max_window: u64,
    /// Admission: the completion estimate times this (bps) must fit the window.
    #[arg(long, default_value_t = 12_000)]
    pub admission_slack_bps: u64,
    /// Admission: fixed time added to every estimate (lease, upload, verification), ms.
    #[arg(long, default_value_t = 2_000)]
    pub admission_overhead_ms: u64,
    /// Admission: constraints per second assumed for a prover with no measured history.
    #[arg(long, default_value_t = 2_000)]
    pub assumed_prover_speed: u64,
    /// Epoch length in seconds; the node settles the epoch when it has run this long.
    #[arg(long, value_name = "SECS", default_value_t = 24 * 3600)]
    pub epoch_length: u64,
    /// Reward pool per epoch, funded from the treasury (less when it holds less).
    #[arg(long, default_value = "1000.0", value_parser = parse_amount)]
    pub epoch_reward: Amount,
    /// α of a proof system in thousandths, `SYSTEM=MILLI` (repeatable; defaults: plonk=1000,
    /// groth16=200, zkvm=4000, miden=4000).
    #[arg(long = "alpha", value_name = "SYSTEM=MILLI")]
    pub alpha: Vec<String>,
    /// Cobb–Douglas exponent on work (a).
    #[arg(long, default_value_t = 0.7)]
    pub exponent_work: f64,
    /// Cobb–Douglas exponent on stake (b).
    #[arg(long, default_value_t = 0.3)]
    pub exponent_stake: f64,
    /// Refuse unquoted submissions. Off by default: unquoted tasks are the unpaid free tier
    /// (no escrow, no bond, no release), counting towards epoch work only.
    #[arg(long)]
    pub require_quote: bool,
}

/// A command-line amount: tokens (`100`, `12.5`, `3 ZKP`), or base units with the suffix
/// `units` (`1000000units`). People type tokens; the API speaks base units.
fn parse_amount(s: &str) -> Result<Amount, String> {
    let t = s.trim();
    let t = t.strip_suffix("ZKP").map(str::trim_end).unwrap_or(t);
    let parsed = match t.strip_suffix("units") {
        Some(units) => units
            .trim()
            .parse::<u128>()
            .ok()
            .map(Amount::from_base_units)
            .ok_or(()),
        None if !t.contains('.') && t.bytes().all(|b| b.is_ascii_digit()) => {
            format!("{t}.0").parse::<Amount>().map_err(|_| ())
        }
        None => t.parse::<Amount>().map_err(|_| ()),
    };
    parsed.map_err(|()| {
        format!("invalid amount {s:?}: give tokens (`100`, `12.5`) or base units (`1000000units`)")
    })
}

impl Default for SettlementArgs {
    fn default() -> Self {
        use clap::Parser;
        #[derive(Parser)]
        struct Wrap {
            #[command(flatten)]
            s: SettlementArgs,
        }
        Wrap::parse_from(["zkpool"]).s
    }
}

impl SettlementArgs {
    /// The node's settlement configuration, signing with `signer`.
    pub fn config(&self, signer: QuoteSigner) -> anyhow::Result<SettlementConfig> {
        anyhow::ensure!(
            self.prover_share_bps <= 10_000,
            "--prover-share-bps must be at most 10000"
        );
        anyhow::ensure!(
            self.epoch_length >= 1,
            "--epoch-length must be at least 1 s"
        );
        let mut factors = WorkFactors::default();
        factors.set(ProofSystem::MidenVm.as_str(), 4_000);
        for a in &self.alpha {
            let (sys, milli) = a
                .split_once('=')
                .with_context(|| format!("--alpha {a:?}: expected SYSTEM=MILLI"))?;
            let milli: u64 = milli
                .parse()
                .with_context(|| format!("--alpha {a:?}: MILLI must be an integer"))?;
            factors.set(sys, milli);
        }
        let exponents = Exponents {
            work: self.exponent_work,
            stake: self.exponent_stake,
        };
        anyhow::ensure!(
            [exponents.work, exponents.stake]
                .iter()
                .all(|e| e.is_finite() && *e >= 0.0),
            "exponents must be finite and >= 0"
        );
        Ok(SettlementConfig {
            signer,
            chain_id: self.chain_id,
            ledger: LedgerConfig {
                prover_share_bps: self.prover_share_bps,
                ..LedgerConfig::default()
            },
            pricing: PricingConfig {
                price_per_mwork: self.price_per_mwork,
                min_price: self.min_price,
                load_curve: LoadCurve::default(),
                bond_bps: self.bond_bps,
                min_bond: self.min_bond,
                slack_bps: self.admission_slack_bps,
                overhead_ms: self.admission_overhead_ms,
            },
            quote_ttl: Duration::from_secs(self.quote_ttl),
            max_window: Duration::from_secs(self.max_window),
            collateral_bps: self.collateral_bps,
            fault_pay_bps: self.fault_pay_bps,
            unstake_delay: Duration::from_secs(self.unstake_delay),
            epoch_length: Duration::from_secs(self.epoch_length),
            factors,
            exponents,
            epoch_reward: self.epoch_reward,
            require_quote: self.require_quote,
            assumed_prover_speed: self.assumed_prover_speed,
        })
    }
}

/// The pool's quote-signing key from `data-dir/pool.key` (hex, owner-only), created on first
/// start. Its address is the pool's address in every quote.
pub fn load_pool_key(data_dir: &Path) -> anyhow::Result<QuoteSigner> {
    let path = data_dir.join("pool.key");
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let mut secret = [0u8; 32];
        let hex = text.trim();
        anyhow::ensure!(
            hex.len() == 64 && hex.is_char_boundary(0),
            "{} must hold 32 hex bytes",
            path.display()
        );
        for (i, b) in secret.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16)
                .with_context(|| format!("{} must hold 32 hex bytes", path.display()))?;
        }
        return QuoteSigner::from_bytes(&secret)
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()));
    }
    let signer = QuoteSigner::random();
    let hex: String = signer
        .secret_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    crate::node_cmd::write_private(&path, &hex)?;
    tracing::info!(path = %path.display(), address = %signer.address(), "created the pool signing key");
    Ok(signer)
}

fn amount(u: Units) -> Amount {
    Amount::from_base_units(u.0)
}

/// A duration like `90s`, `10m`, `2h`, `500ms` or plain seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: expected e.g. 90s, 10m, 2h"))?;
    let ms = match unit.trim() {
        "ms" => n,
        "" | "s" => n.saturating_mul(1_000),
        "m" => n.saturating_mul(60_000),
        "h" => n.saturating_mul(3_600_000),
        "d" => n.saturating_mul(86_400_000),
        other => return Err(format!("{s:?}: unknown unit {other:?} (ms, s, m, h, d)")),
    };
    Ok(Duration::from_millis(ms))
}

/// `zkpool quote`.
#[derive(Args, Debug)]
pub struct QuoteArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// What to prove.
    #[command(flatten)]
    task: TaskArgs,
    /// The liability window: the proof must be delivered within this (e.g. 90s, 10m, 2h).
    #[arg(long, value_parser = parse_duration)]
    deadline: Duration,
    /// Where to save the signed quote, for `zkpool submit --quote`.
    #[arg(long, default_value = "quote.json")]
    out: PathBuf,
}

/// Asks for a binding quote, prints its terms and saves it.
pub async fn quote(a: QuoteArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let spec = a.task.upload(&client).await?;
    let issued = client
        .quote(spec, a.deadline.as_millis() as u64)
        .await
        .context("the pool refused to quote")?;
    let q = &issued.signed.quote;
    let mut t = Table::new(&["term", "value"]);
    let now = zkpool_store::now_ms() as u64;
    for (k, v) in [
        ("task digest", q.task_digest.clone()),
        ("reward", amount(q.reward).to_string()),
        ("liability bond", amount(q.bond).to_string()),
        (
            "liability deadline",
            format!(
                "{} ms (in {:.0} s)",
                q.deadline_ms,
                q.deadline_ms.saturating_sub(now) as f64 / 1e3
            ),
        ),
        (
            "quote expires",
            format!(
                "{} ms (in {:.0} s)",
                q.expires_at_ms,
                q.expires_at_ms.saturating_sub(now) as f64 / 1e3
            ),
        ),
        ("nonce", q.nonce.to_string()),
        ("pool", q.pool.clone()),
        ("chain id", q.chain_id.to_string()),
        ("signature", issued.signed.signature.clone()),
        ("work (α × constraints)", issued.work.to_string()),
        (
            "estimated completion",
            format!("{} ms", issued.estimated_ms),
        ),
    ] {
        t.row(vec![k.to_string(), v]);
    }
    println!("{t}");
    std::fs::write(&a.out, serde_json::to_vec_pretty(&issued.signed)?)
        .with_context(|| format!("cannot write {}", a.out.display()))?;
    eprintln!(
        "saved {}; accept it with: zkpool submit --quote {} (same artifacts)",
        a.out.display(),
        a.out.display()
    );
    Ok(())
}

/// `zkpool claim`.
#[derive(Args, Debug)]
pub struct ClaimArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// The task whose liability window closed without a proof.
    task: TaskId,
    /// Claim on the pool contract, from your Ethereum account.
    #[command(flatten)]
    chain: crate::chain_cmd::RequesterChainArgs,
}

/// Claims refund and bond.
pub async fn claim(a: ClaimArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    if a.chain.chain {
        return crate::chain_cmd::claim(&client, a.task, &a.chain).await;
    }
    let c = client.claim(a.task).await?;
    println!(
        "{}: refunded {} and paid the pool's bond {}",
        c.task,
        amount(c.refund),
        amount(c.bond)
    );
    Ok(())
}

/// `zkpool balance`, `zkpool rewards`.
#[derive(Args, Debug)]
pub struct KeyArgs {
    #[command(flatten)]
    pool: PoolArgs,
}

/// Prints the requester's available, escrowed and claimable funds.
pub async fn balance(a: KeyArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let b = client.balance().await?;
    let mut t = Table::new(&["account", "available", "escrowed", "claimable"]);
    t.row(vec![
        format!("requester:{}", b.key),
        amount(b.available).to_string(),
        amount(b.escrowed).to_string(),
        amount(b.claimable).to_string(),
    ]);
    println!("{t}");
    if !b.open_tasks.is_empty() {
        let mut o = Table::new(&["task", "reward", "bond", "deadline (unix ms)"]);
        for x in &b.open_tasks {
            o.row(vec![
                x.task.to_string(),
                amount(x.reward).to_string(),
                amount(x.bond).to_string(),
                x.deadline_ms.to_string(),
            ]);
        }
        println!("open tasks:\n{o}");
    }
    Ok(())
}

/// Prints per-key, per-epoch rewards and each key's funds.
pub async fn rewards(a: KeyArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let r = client.rewards().await?;
    println!("{}", rewards_table(&r));
    Ok(())
}

/// The rewards report as a table.
pub fn rewards_table(r: &zkpool_types::settlement::RewardsView) -> Table {
    let mut t = Table::new(&[
        "prover key (machines)",
        "epoch",
        "tasks",
        "work",
        "task rewards",
        "epoch rewards",
        "slashed",
        "withdrawable",
        "stake",
        "collateral",
    ]);
    for row in &r.rows {
        let funds = r.funds.iter().find(|f| f.key == row.key);
        let show = |get: fn(&zkpool_types::settlement::ProverFunds) -> Units| {
            funds
                .map(|f| amount(get(f)).to_string())
                .unwrap_or_default()
        };
        t.row(vec![
            format!("{} ({})", row.key, row.name),
            format!("{}{}", row.epoch, if row.settled { "" } else { " (open)" }),
            row.tasks_done.to_string(),
            row.work.to_string(),
            amount(row.task_rewards).to_string(),
            amount(row.epoch_rewards).to_string(),
            amount(row.penalties).to_string(),
            show(|f| f.balance),
            show(|f| f.stake),
            show(|f| f.collateral),
        ]);
    }
    t
}

/// `zkpool withdraw`.
#[derive(Args, Debug)]
pub struct WithdrawArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// How much, in tokens (`12.5`), or base units with the suffix `units`.
    #[arg(long, value_parser = parse_amount)]
    amount: Amount,
}

/// Moves money out of the caller's account.
pub async fn withdraw(a: WithdrawArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let m = client.withdraw(a.amount.base_units()).await?;
    println!(
        "withdrew {} from {}; {} left",
        a.amount,
        m.account,
        amount(m.balance)
    );
    Ok(())
}

/// `zkpool stake`: a prover key moves part of its balance into its stake. Leases of paid
/// tasks lock collateral from it; a key without stake gets only free-tier tasks.
pub async fn stake(a: WithdrawArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.pool.pool, &a.pool.key)?;
    let m = client.stake(a.amount.base_units()).await?;
    println!("staked {}; stake now {}", a.amount, amount(m.balance));
    Ok(())
}

/// `zkpool unstake`: back to the balance, once no open lease (or a report awaiting a second
/// opinion) and no recently ended paid lease can still be charged to the stake. With
/// `--wait`, waits for that moment instead of failing.
pub async fn unstake(a: UnstakeArgs) -> anyhow::Result<()> {
    let client = Client::new(&a.amount.pool.pool, &a.amount.pool.key)?;
    loop {
        match client.unstake(a.amount.amount.base_units()).await {
            Ok(m) => {
                println!(
                    "unstaked {}; withdrawable now {}",
                    a.amount.amount,
                    amount(m.balance)
                );
                return Ok(());
            }
            Err(e) if a.wait && e.code() == Some("unstake_not_yet") => {
                eprintln!("waiting: {e}");
                tokio::time::sleep(Duration::from_secs(10)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// `zkpool unstake`.
#[derive(Args, Debug)]
pub struct UnstakeArgs {
    #[command(flatten)]
    amount: WithdrawArgs,
    /// Wait until the stake is free instead of failing while leases still bind it.
    #[arg(long)]
    wait: bool,
}

/// `zkpool ledger` (operator, admin key).
#[derive(Subcommand, Debug)]
pub enum LedgerCommand {
    /// Fund an account: `requester:k-2`, `prover:p-1`, `treasury` or `pool_stake`.
    Deposit(DepositArgs),
    /// Show every account's balance.
    Show(KeyArgs),
}

/// `zkpool ledger deposit`.
#[derive(Args, Debug)]
pub struct DepositArgs {
    #[command(flatten)]
    pool: PoolArgs,
    /// The account to fund.
    #[arg(long)]
    account: String,
    /// How much, in tokens (`100`), or base units with the suffix `units`.
    #[arg(long, value_parser = parse_amount)]
    amount: Amount,
}

/// Runs a `zkpool ledger` subcommand.
pub async fn ledger(c: LedgerCommand) -> anyhow::Result<()> {
    match c {
        LedgerCommand::Deposit(a) => {
            let client = Client::new(&a.pool.pool, &a.pool.key)?;
            let m = client.deposit(&a.account, a.amount.base_units()).await?;
            println!(
                "deposited {} into {}; balance {}",
                a.amount,
                m.account,
                amount(m.balance)
            );
        }
        LedgerCommand::Show(a) => {
            let client = Client::new(&a.pool.pool, &a.pool.key)?;
            let s = client.ledger().await?;
            let mut t = Table::new(&["account", "balance"]);
            for (acct, b) in &s.accounts {
                t.row(vec![acct.clone(), amount(*b).to_string()]);
            }
            println!("{t}");
            println!(
                "deposited {}, withdrawn {}; pool {} on chain {}",
                amount(s.deposited),
                amount(s.withdrawn),
                s.pool,
                s.chain_id
            );
        }
    }
    Ok(())
}

/// `zkpool epochs`.
#[derive(Subcommand, Debug)]
pub enum EpochsCommand {
    /// List epochs and their settlements.
    List(KeyArgs),
    /// Settle the current epoch now (admin key).
    Close(KeyArgs),
}

/// Runs a `zkpool epochs` subcommand.
pub async fn epochs(c: EpochsCommand) -> anyhow::Result<()> {
    match c {
        EpochsCommand::List(a) => {
            let client = Client::new(&a.pool.pool, &a.pool.key)?;
            for e in client.epochs().await? {
                println!("{}", epoch_table(&e));
            }
        }
        EpochsCommand::Close(a) => {
            let client = Client::new(&a.pool.pool, &a.pool.key)?;
            println!("{}", epoch_table(&client.close_epoch().await?));
        }
    }
    Ok(())
}

/// An epoch settlement as a headline and a table.
pub fn epoch_table(e: &zkpool_types::settlement::EpochView) -> String {
    let mut t = Table::new(&["prover", "work (α × size)", "stake", "reward"]);
    for s in &e.shares {
        t.row(vec![
            s.prover.to_string(),
            s.work.to_string(),
            amount(s.stake).to_string(),
            amount(s.reward).to_string(),
        ]);
    }
    format!(
        "epoch {} ({}): pool {}, to treasury {}\n{t}",
        e.epoch,
        if e.closed_ms.is_some() {
            "settled"
        } else {
            "open"
        },
        amount(e.pool),
        amount(e.to_treasury)
    )
}

#[cfg(test)]
mod amount_tests {
    use super::*;

    #[test]
    fn plain_numbers_are_tokens_and_units_need_a_suffix() {
        assert_eq!(
            parse_amount("100").unwrap(),
            "100.0".parse::<Amount>().unwrap()
        );
        assert_eq!(
            parse_amount("12.5").unwrap(),
            "12.5".parse::<Amount>().unwrap()
        );
        assert_eq!(
            parse_amount("3 ZKP").unwrap(),
            "3.0".parse::<Amount>().unwrap()
        );
        assert_eq!(
            parse_amount("1000000units").unwrap(),
            Amount::from_base_units(1_000_000)
        );
        assert!(parse_amount("-1").is_err());
        assert!(parse_amount("1.1234567").is_err());
        assert!(parse_amount("999999999999999999999999999999999999999999").is_err());
    }
}
