//! The `zkpool` command's library: one module per subcommand, plus the in-process local pool
//! ([`demo::LocalPool`]) that the demo, the benchmarks and the end-to-end tests share.

pub mod bench;
pub mod bench_flood;
pub mod bench_groth16;
pub mod bench_multi;
pub mod bench_split;
pub mod bench_store;
pub mod bench_verify;
pub mod bundle;
pub mod chain_cmd;
pub mod chain_demo;
pub mod demo;
pub mod devnet;
pub mod fixtures;
pub mod keys_cmd;
pub mod limits_cmd;
pub mod multiprover;
pub mod node_cmd;
pub mod prover_cmd;
pub mod requester_cmd;
pub mod settlement_cmd;
pub mod split_progress;
pub mod table;
pub mod task_args;
pub mod verify_cmd;
pub mod zkml;

use std::sync::Arc;

use zkpool_backend::Backends;

/// The proof backends this build carries, with their default limits.
pub fn backends() -> Backends {
    backends_with(
        zkpool_groth16::Groth16Limits::default(),
        zkpool_miden::MidenLimits::default(),
    )
}

/// The backends a prover agent proves with: [`backends`], with Groth16's cache of parsed
/// artifacts sized to the machine (a quarter of its memory, at least the default 1 GiB). At
/// 2^20 constraints a parsed proving key and constraint system together pass 1 GiB, and a cache
/// that cannot hold both parses them again for every proof (3.5 s of a 20 s proof).
pub fn prover_backends() -> Backends {
    backends_with(
        prover_groth16_limits(),
        zkpool_miden::MidenLimits::default(),
    )
}

/// A prover agent's Groth16 limits: the defaults, with the cache of parsed artifacts sized to
/// a quarter of the machine's memory (see [`prover_backends`]).
pub fn prover_groth16_limits() -> zkpool_groth16::Groth16Limits {
    let memory = zkpool_prover::detect_hardware("", Vec::new()).memory_bytes;
    let default = zkpool_groth16::Groth16Limits::default();
    zkpool_groth16::Groth16Limits {
        cache_bytes: usize::try_from(memory / 4)
            .unwrap_or(usize::MAX)
            .max(default.cache_bytes),
        ..default
    }
}

/// The proof backends with the node's limits on what one task may cost.
pub fn backends_with(
    groth16: zkpool_groth16::Groth16Limits,
    miden: zkpool_miden::MidenLimits,
) -> Backends {
    Backends::default()
        .with(Arc::new(zkpool_groth16::Groth16Backend::with_limits(
            groth16,
        )))
        .with(Arc::new(zkpool_miden::MidenBackend::with_limits(miden)))
}

/// Resolves Ctrl-C (or SIGTERM) into a future.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
