//! Settlement on Ethereum through the pool contract (`contracts/src/ZkPool.sol`, its ABI and
//! bytecode committed in `contracts/artifacts/`).
//!
//! ```text
//!  requester ─ submitTask(quote, signature) ─▶ reward escrowed, bond reserved  (TaskSubmitted)
//!  pool      ─ fulfill(id, proof, public, provers, work) ─▶ the requester's verifier called;
//!              reward split 80/20 by work on chain, bond freed     (TaskFulfilled, ProverCredited)
//!  requester ─ claim(id), window over, no proof ─▶ reward + bond back      (TaskClaimed)
//!  anyone credited ─ withdraw ─▶ tokens out                                 (Withdrawn)
//! ```
//!
//! The quote is the ledger's own [`zkpool_ledger::Quote`], EIP-712 signed by the pool under
//! the contract's address and chain id, and its digest is the task's id on chain
//! ([`task_id`]). Proofs go on chain as the eight words and public signals the Solidity
//! verifier snarkjs exports takes ([`zkpool_groth16::solidity`]). [`PoolClient`] is one
//! account's view of one deployment; [`ContractLink`] is the node's (it implements
//! `zkpool_node::onchain::PoolContract`); [`Anvil`] runs a local chain for tests and the demo.

mod anvil;
mod bindings;
mod client;
mod convert;
mod error;
mod link;

pub use anvil::Anvil;
pub use bindings::{MultiplierVerifier, TestToken, ZkPool};
pub use client::{Deployment, PoolClient, TaskOnChain, TaskStatus};
pub use convert::{address, proof_args, sol_quote, task_id};
pub use error::ChainError;
pub use link::ContractLink;

pub use alloy::primitives::{Address, B256, U256};
pub use alloy::signers::local::PrivateKeySigner;
