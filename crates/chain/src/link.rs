//! The node's view of the pool contract ([`zkpool_node::onchain::PoolContract`]), over a
//! [`PoolClient`] signing as the pool's operator account.

use zkpool_backend::ProofArtifact;
use zkpool_groth16::solidity::{public_words, solidity_proof};
use zkpool_node::onchain::{
    BlockHead, ChainFault, ChainFaultKind, ChainFuture, Mined, OnChain, PoolContract,
};

use crate::client::{PoolClient, TaskStatus};
use crate::error::ChainError;

/// The pool contract as the node drives it: events, task status and `fulfill`.
#[derive(Clone, Debug)]
pub struct ContractLink {
    client: PoolClient,
    chain_id: u64,
}

impl ContractLink {
    /// Connects the pool's operator account `signer` to the contract at `contract`.
    pub async fn connect(
        rpc: &str,
        signer: alloy::signers::local::PrivateKeySigner,
        contract: alloy::primitives::Address,
    ) -> Result<ContractLink, ChainError> {
        let client = PoolClient::connect(rpc, signer, contract).await?;
        let chain_id = client.chain_id().await?;
        Ok(ContractLink { client, chain_id })
    }

    /// The client underneath.
    pub fn client(&self) -> &PoolClient {
        &self.client
    }
}

fn fault(call: &'static str, e: ChainError) -> ChainFault {
    let kind = match &e {
        ChainError::Rpc { .. } => ChainFaultKind::Unreachable,
        ChainError::Reverted { reason, .. } if reason.starts_with("WindowClosed") => {
            ChainFaultKind::WindowClosed
        }
        ChainError::Reverted { .. } | ChainError::Failed { .. } => ChainFaultKind::Reverted,
        ChainError::Invalid(_) | ChainError::Anvil(_) => ChainFaultKind::Invalid,
    };
    ChainFault {
        call,
        message: e.to_string(),
        kind,
    }
}

fn ledger_address(a: alloy::primitives::Address) -> zkpool_ledger::Address {
    zkpool_ledger::Address(a.into_array())
}

impl PoolContract for ContractLink {
    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn contract(&self) -> zkpool_ledger::Address {
        ledger_address(self.client.deployment().pool)
    }

    fn token(&self) -> zkpool_ledger::Address {
        ledger_address(self.client.deployment().token)
    }

    fn pool_account(&self) -> zkpool_ledger::Address {
        ledger_address(self.client.account())
    }

    fn public_inputs_hash(&self, statement: &[u8]) -> Result<[u8; 32], String> {
        let v: serde_json::Value =
            serde_json::from_slice(statement).map_err(|e| format!("statement: {e}"))?;
        let public = zkpool_groth16::public_from_json(&v)?;
        Ok(zkpool_ledger::public_inputs_hash(&public_words(&public)))
    }

    fn head(&self) -> ChainFuture<'_, BlockHead> {
        Box::pin(async move {
            let (number, timestamp) = self
                .client
                .block(None)
                .await
                .map_err(|e| fault("head", e))?;
            Ok(BlockHead { number, timestamp })
        })
    }

    fn block(&self, number: u64) -> ChainFuture<'_, BlockHead> {
        Box::pin(async move {
            let (number, timestamp) = self
                .client
                .block(Some(number))
                .await
                .map_err(|e| fault("block", e))?;
            Ok(BlockHead { number, timestamp })
        })
    }

    fn published(&self, from: u64, to: u64) -> ChainFuture<'_, Vec<([u8; 32], u64)>> {
        Box::pin(async move {
            let events = self
                .client
                .published(from, to)
                .await
                .map_err(|e| fault("TaskSubmitted", e))?;
            Ok(events.into_iter().map(|(id, b)| (id.0, b)).collect())
        })
    }

    fn status(&self, id: [u8; 32]) -> ChainFuture<'_, OnChain> {
        Box::pin(async move {
            let t = self
                .client
                .task(id.into())
                .await
                .map_err(|e| fault("task", e))?;
            Ok(match t.status {
                TaskStatus::None => OnChain::None,
                TaskStatus::Open => OnChain::Open,
                TaskStatus::Fulfilled => OnChain::Fulfilled,
                TaskStatus::Claimed => OnChain::Claimed,
            })
        })
    }

    fn fulfill<'a>(
        &'a self,
        id: [u8; 32],
        proof: &'a [u8],
        provers: &'a [(zkpool_ledger::Address, u64)],
    ) -> ChainFuture<'a, Mined> {
        Box::pin(async move {
            let words = solidity_proof(&ProofArtifact(proof.to_vec())).map_err(|e| ChainFault {
                call: "fulfill",
                message: format!("the proof does not encode for the verifier: {e}"),
                kind: ChainFaultKind::Invalid,
            })?;
            let provers: Vec<_> = provers
                .iter()
                .map(|(a, w)| (alloy::primitives::Address::from(a.0), *w))
                .collect();
            let sent = self
                .client
                .fulfill(id.into(), &words, &provers)
                .await
                .map_err(|e| fault("fulfill", e))?;
            Ok(Mined {
                tx: sent.tx.0,
                gas_used: sent.gas_used,
            })
        })
    }
}
