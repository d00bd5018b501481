//! From the ledger's and the Groth16 backend's types to the contract's.

use alloy::primitives::{Address, Bytes, FixedBytes, B256, U256};
use zkpool_groth16::solidity::SolidityProof;
use zkpool_ledger::{Quote, SignedQuote};

use crate::bindings::ZkPool;

/// An Ethereum address from the ledger's.
pub fn address(a: &zkpool_ledger::Address) -> Address {
    Address::from(a.0)
}

/// The contract's `Quote` struct: the same fields in the same order as the EIP-712 type.
pub fn sol_quote(q: &Quote) -> ZkPool::Quote {
    ZkPool::Quote {
        taskDigest: FixedBytes(q.task_digest),
        requester: q.requester.0 as u64,
        payer: address(&q.payer),
        verifier: address(&q.verifier),
        publicInputsHash: FixedBytes(q.public_inputs_hash),
        segments: q.segments,
        reward: U256::from(q.reward.base_units()),
        bond: U256::from(q.bond.base_units()),
        deadlineMs: q.deadline_ms,
        expiresAtMs: q.expires_at_ms,
        nonce: q.nonce,
    }
}

/// The 65-byte `r ‖ s ‖ v` signature as calldata.
pub fn signature(q: &SignedQuote) -> Bytes {
    Bytes::copy_from_slice(&q.signature.0)
}

/// The task's id on chain: the quote's EIP-712 digest under the contract's domain.
pub fn task_id(q: &Quote) -> B256 {
    FixedBytes(q.signing_digest())
}

/// `fulfill`'s `proof` and `publicSignals` arguments.
pub fn proof_args(p: &SolidityProof) -> ([U256; 8], Vec<U256>) {
    (
        p.proof.map(|w| U256::from_be_bytes(w)),
        p.public.iter().map(|w| U256::from_be_bytes(*w)).collect(),
    )
}
