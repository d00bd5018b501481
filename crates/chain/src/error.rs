//! Errors of the chain client.

use alloy::primitives::B256;

/// Why a chain call failed.
#[derive(Debug, thiserror::Error)]
pub enum ChainError {
    /// The contract refused the call; `reason` is its custom error, decoded (e.g.
    /// `WindowClosed(...)`), or the raw revert data when it is not one of the contract's.
    #[error("{call} reverted: {reason}")]
    Reverted {
        /// The contract function.
        call: &'static str,
        /// The decoded revert.
        reason: String,
    },
    /// The transaction was mined but failed (out of gas, or reverted after estimation).
    #[error("{call} transaction {tx} failed on chain")]
    Failed {
        /// The contract function.
        call: &'static str,
        /// Its transaction hash.
        tx: B256,
    },
    /// The RPC endpoint could not be reached or answered something unexpected.
    #[error("{call}: {message}")]
    Rpc {
        /// What was being done.
        call: &'static str,
        /// The transport's or node's message.
        message: String,
    },
    /// A value does not fit the contract's types (a reward over 2^64-1 base units, say).
    #[error("{0}")]
    Invalid(String),
    /// The local chain could not be started.
    #[error("anvil: {0}")]
    Anvil(String),
}

impl ChainError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::Reverted { .. } => "chain_reverted",
            ChainError::Failed { .. } => "chain_tx_failed",
            ChainError::Rpc { .. } => "chain_rpc",
            ChainError::Invalid(_) => "chain_invalid",
            ChainError::Anvil(_) => "anvil",
        }
    }

    /// Worth trying again: the endpoint failed, not the contract.
    pub fn is_retryable(&self) -> bool {
        matches!(self, ChainError::Rpc { .. })
    }
}
