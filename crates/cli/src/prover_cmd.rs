use std::time::Duration;

use clap::{Args, ValueEnum};
use tokio_util::sync::CancellationToken;
use zkpool_prover::{AgentConfig, Fault};

/// `zkpool prover`.
#[derive(Args, Debug)]
pub struct ProverArgs {
    /// The pool's URL; for a pool of several node replicas, their URLs separated by commas
    /// (`http://a:7070,http://b:7070`): the agent talks to one and fails over to the next
    /// when it is unreachable, carrying its leases and proofs with it.
    #[arg(long, env = "ZKPOOL_POOL", default_value = "http://127.0.0.1:7070")]
    pool: String,
    /// This machine's prover access key (from the pool operator: `zkpool keys create --role prover`).
    #[arg(long, env = "ZKPOOL_KEY", hide_env_values = true)]
    key: String,
    /// The machine's name on the dashboard (default: the hostname).
    #[arg(long, env = "ZKPOOL_NAME")]
    name: Option<String>,
    /// Tasks to prove at once. Each Groth16 proof already uses every core, so 1 is best for
    /// Groth16; a Miden segment (split proving) uses one core, so a machine that takes split
    /// tasks does best with as many jobs as cores, memory permitting.
    #[arg(long, default_value_t = 1)]
    jobs: u32,
    /// The Ethereum account (0x…) to credit this machine's rewards to, on a pool that settles
    /// on its Ethereum contract; withdraw them from the contract with that account's key.
    #[arg(long, env = "ZKPOOL_PAYOUT")]
    payout: Option<String>,
    /// Misbehave on purpose, to rehearse how the pool copes (testing only).
    #[arg(long, value_enum, default_value = "none", hide = true)]
    fault: FaultArg,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum FaultArg {
    None,
    InvalidProofs,
    Stall,
}

/// Runs the agent until Ctrl-C.
pub async fn run(a: ProverArgs) -> anyhow::Result<()> {
    let config = AgentConfig {
        pool: a.pool,
        key: a.key,
        name: a.name.unwrap_or_else(zkpool_prover::default_name),
        jobs: a.jobs,
        lease_wait: Duration::from_secs(20),
        fault: match a.fault {
            FaultArg::None => Fault::None,
            FaultArg::InvalidProofs => Fault::InvalidProofs,
            FaultArg::Stall => Fault::Stall,
        },
        payout: a.payout,
    };
    let shutdown = CancellationToken::new();
    let stop = shutdown.clone();
    tokio::spawn(async move {
        crate::shutdown_signal().await;
        stop.cancel();
    });
    zkpool_prover::run(config, crate::prover_backends(), shutdown).await?;
    Ok(())
}
