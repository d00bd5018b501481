//! `zkpool`: the pool node, the prover agent, requester commands and the demo in one binary.
//! `main` parses arguments, sets up logging and hands over to one module per subcommand.

use clap::{Parser, Subcommand};
use zkpool::{
    bench, chain_cmd, demo, devnet, keys_cmd, node_cmd, prover_cmd, requester_cmd, settlement_cmd,
    verify_cmd,
};

/// zkpool — a zero-knowledge prover pool.
///
/// Requesters submit proving tasks (Groth16 with circom/snarkjs artifacts, or Miden VM programs
/// that the pool splits into segments proved by several machines in parallel); prover machines
/// connect with an access key and prove them; the pool node schedules, verifies every proof
/// and tracks each machine's work.
///
/// Start here: `zkpool demo` runs a whole pool on this machine (a node, several provers, real
/// proofs, settlement) and prints what happened.
#[derive(Parser, Debug)]
#[command(name = "zkpool", version, propagate_version = true)]
struct Cli {
    /// Log filter, e.g. `info`, `zkpool_node=debug` (also RUST_LOG).
    #[arg(long, global = true, env = "RUST_LOG", default_value = "info")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a pool node: the API, the scheduler and the verifier, on an embedded database.
    Node(Box<node_cmd::NodeArgs>),
    /// Run a prover agent that connects to a pool and proves tasks.
    Prover(prover_cmd::ProverArgs),
    /// Create and list access keys (operator).
    #[command(subcommand)]
    Keys(keys_cmd::KeysCommand),
    /// Submit a task (Groth16 circuit, or Miden program for split proving), optionally wait
    /// for it and write proof.json / public.json (Groth16) or result.bin (Miden).
    Submit(requester_cmd::SubmitArgs),
    /// Verify a split task's result.bin on this machine: every segment proof and the chain.
    Verify(verify_cmd::VerifyArgs),
    /// List tasks and provers.
    Status(requester_cmd::StatusArgs),
    /// Get a binding, signed quote for a task and save it (quote.json) for `submit --quote`.
    Quote(settlement_cmd::QuoteArgs),
    /// Claim refund and liability bond of a task whose window closed without a proof (on the
    /// pool contract with --chain).
    Claim(settlement_cmd::ClaimArgs),
    /// Show your available, escrowed and claimable funds (requester key).
    Balance(settlement_cmd::KeyArgs),
    /// Show rewards per prover key and epoch, with balance, stake and locked collateral
    /// (prover key; admin key for every prover).
    Rewards(settlement_cmd::KeyArgs),
    /// Move money out of your account (requester or prover key).
    Withdraw(settlement_cmd::WithdrawArgs),
    /// Stake part of a prover key's balance: leases of paid tasks lock collateral from it.
    Stake(settlement_cmd::WithdrawArgs),
    /// Move stake back to the balance once no lease can still be charged to it.
    Unstake(settlement_cmd::UnstakeArgs),
    /// Fund accounts and inspect balances (operator, admin key).
    #[command(subcommand)]
    Ledger(settlement_cmd::LedgerCommand),
    /// List epochs, or settle the current one now (admin key).
    #[command(subcommand)]
    Epochs(settlement_cmd::EpochsCommand),
    /// Settlement on Ethereum: deploy the pool contract (operator).
    #[command(subcommand)]
    Chain(chain_cmd::ChainCommand),
    /// Run a local pool on this machine: Groth16 tasks on four provers, then the zkML
    /// decision tree split over four provers (`demo groth16`, `demo zkml` for one of them).
    Demo(demo::DemoArgs),
    /// Run a local pool that keeps running for requesters to rehearse against, with provers
    /// that misbehave on purpose (`--preset silent|late|invalid|crash|flaky`).
    Devnet(devnet::DevnetArgs),
    /// Measure pool overhead, prove speed against snarkjs, node memory with idle provers, and
    /// (`--split`) the split-proving speed-up, overhead and per-segment cost.
    Bench(bench::BenchArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let quiet_default = matches!(
        cli.command,
        Command::Demo(_)
            | Command::Bench(_)
            | Command::Submit(_)
            | Command::Verify(_)
            | Command::Status(_)
            | Command::Keys(_)
            | Command::Quote(_)
            | Command::Claim(_)
            | Command::Balance(_)
            | Command::Rewards(_)
            | Command::Withdraw(_)
            | Command::Stake(_)
            | Command::Unstake(_)
            | Command::Ledger(_)
            | Command::Epochs(_)
            | Command::Chain(_)
    );
    let mut filter = if quiet_default && cli.log == "info" {
        "warn".to_string()
    } else {
        cli.log.clone()
    };
    // Miden's assembler logs an ERROR each time it loads its own bundled library (it is not
    // stripped of hashes and debug info); it is not an error of ours or the user's.
    if !filter.contains("miden_core") {
        filter.push_str(",miden_core::mast::serialization=off");
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&filter).unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Node(a) => node_cmd::run(*a).await,
            Command::Prover(a) => prover_cmd::run(a).await,
            Command::Keys(c) => keys_cmd::run(c).await,
            Command::Submit(a) => requester_cmd::submit(a).await,
            Command::Status(a) => requester_cmd::status(a).await,
            Command::Verify(a) => verify_cmd::run(a),
            Command::Quote(a) => settlement_cmd::quote(a).await,
            Command::Claim(a) => settlement_cmd::claim(a).await,
            Command::Balance(a) => settlement_cmd::balance(a).await,
            Command::Rewards(a) => settlement_cmd::rewards(a).await,
            Command::Withdraw(a) => settlement_cmd::withdraw(a).await,
            Command::Stake(a) => settlement_cmd::stake(a).await,
            Command::Unstake(a) => settlement_cmd::unstake(a).await,
            Command::Ledger(c) => settlement_cmd::ledger(c).await,
            Command::Epochs(c) => settlement_cmd::epochs(c).await,
            Command::Chain(c) => chain_cmd::run(c).await,
            Command::Demo(a) => demo::run(a).await,
            Command::Devnet(a) => devnet::run(a).await,
            Command::Bench(a) => bench::run(a).await,
        }
    });
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
