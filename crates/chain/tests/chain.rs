//! The pool contract on a real local chain (anvil): deploy, stake, a quoted task published by
//! the requester and fulfilled by the pool with a proof made by our own Groth16 prover and
//! checked on chain by the verifier snarkjs exports; the reward split on chain and withdrawn;
//! a proof for other public inputs refused; a missed window claimed; a quote for another
//! chain refused.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use zkpool_chain::{address, Anvil, ChainError, PoolClient, PrivateKeySigner, TaskStatus, B256};
use zkpool_groth16::solidity::{proof_words, public_words, SolidityProof};
use zkpool_ledger::{public_inputs_hash, Amount, Quote, QuoteSigner, SignedQuote};
use zkpool_types::KeyId;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A proof of the committed multiplier circuit by our prover, as the verifier's words.
fn multiplier_proof() -> SolidityProof {
    let dir = repo().join("fixtures/multiplier");
    let zkey = std::fs::read(dir.join("multiplier.zkey")).unwrap();
    let key = zkpool_groth16::parse_proving_key(&zkey).unwrap();
    let header = zkpool_groth16::parse_header(&zkey).unwrap();
    let witness =
        zkpool_groth16::parse_wtns(&std::fs::read(dir.join("multiplier.wtns")).unwrap()).unwrap();
    let proof = zkpool_groth16::prove(&key, &witness).unwrap();
    SolidityProof {
        proof: proof_words(&proof),
        public: public_words(&witness[1..=header.n_public]),
    }
}

struct Chain {
    anvil: Anvil,
    pool: PoolClient,
    requester: PoolClient,
    signer: QuoteSigner,
    verifier: zkpool_chain::Address,
    provers: Vec<PrivateKeySigner>,
}

const REWARD: u128 = 1_000_003;
const BOND: u128 = 5_000_000;

async fn chain() -> Chain {
    let anvil = Anvil::spawn(&Anvil::bin_in(&repo()), 31_337).await.unwrap();
    let signer = QuoteSigner::from_bytes(&[7; 32]).unwrap();
    let pool = PoolClient::deploy(
        &anvil.url,
        anvil.keys[0].clone(),
        address(&signer.address()),
        3_600,
        None,
    )
    .await
    .unwrap();
    let verifier = pool.deploy_multiplier_verifier().await.unwrap();
    let requester = PoolClient::connect(&anvil.url, anvil.keys[1].clone(), pool.deployment().pool)
        .await
        .unwrap();
    pool.mint(pool.account(), 100 * BOND).await.unwrap();
    pool.mint(requester.account(), 100 * REWARD).await.unwrap();
    pool.stake(10 * BOND).await.unwrap();
    let provers = anvil.keys[2..4].to_vec();
    Chain {
        anvil,
        pool,
        requester,
        signer,
        verifier,
        provers,
    }
}

impl Chain {
    async fn quote(&self, nonce: u64, public: &SolidityProof, window_s: u64) -> SignedQuote {
        let now_ms = self.pool.chain_time().await.unwrap() * 1_000;
        let q = Quote {
            task_digest: [nonce as u8; 32],
            requester: KeyId(3),
            payer: zkpool_ledger::Address(self.requester.account().into_array()),
            verifier: zkpool_ledger::Address(self.verifier.into_array()),
            public_inputs_hash: public_inputs_hash(&public.public),
            segments: 0,
            reward: Amount::from_base_units(REWARD),
            bond: Amount::from_base_units(BOND),
            deadline_ms: now_ms + window_s * 1_000,
            expires_at_ms: now_ms + 600_000,
            nonce,
            pool: zkpool_ledger::Address(self.pool.deployment().pool.into_array()),
            chain_id: self.anvil.chain_id,
        };
        self.signer.sign(q).unwrap()
    }
}

fn reverted(e: ChainError, want: &str) {
    match &e {
        ChainError::Reverted { reason, .. } if reason.contains(want) => {}
        other => panic!("expected a {want} revert, got {other:?}"),
    }
}

#[tokio::test]
async fn a_quoted_task_is_fulfilled_on_chain_with_our_proof_and_paid_by_work() {
    let c = chain().await;
    let proof = multiplier_proof();
    let signed = c.quote(1, &proof, 3_600).await;
    let (id, submit) = c.requester.submit_task(&signed).await.unwrap();
    assert_eq!(id, B256::from(signed.quote.signing_digest()));
    let task = c.pool.task(id).await.unwrap();
    assert_eq!(task.status, TaskStatus::Open);
    assert_eq!(task.payer, c.requester.account());
    assert_eq!(c.pool.free_stake().await.unwrap(), 9 * BOND);

    // A proof for other public inputs than the quote's is refused, and changes nothing.
    let mut other = proof.clone();
    other.public[1][31] ^= 1;
    reverted(
        c.pool
            .fulfill(id, &other, &[(c.provers[0].address(), 1)])
            .await
            .unwrap_err(),
        "PublicInputsMismatch",
    );
    // Only the pool may fulfil.
    reverted(
        c.requester
            .fulfill(id, &proof, &[(c.provers[0].address(), 1)])
            .await
            .unwrap_err(),
        "NotPool",
    );

    let (p0, p1) = (c.provers[0].address(), c.provers[1].address());
    let fulfil = c
        .pool
        .fulfill(id, &proof, &[(p0, 3), (p1, 1)])
        .await
        .unwrap();
    assert_eq!(c.pool.task(id).await.unwrap().status, TaskStatus::Fulfilled);
    // 80 % of 1,000,003 = 800,002 split 3:1 (rounding down); the pool keeps the rest.
    assert_eq!(c.pool.credit(p0).await.unwrap(), 600_001);
    assert_eq!(c.pool.credit(p1).await.unwrap(), 200_000);
    assert_eq!(
        c.pool.credit(c.pool.account()).await.unwrap(),
        REWARD - 800_001
    );
    assert_eq!(c.pool.free_stake().await.unwrap(), 10 * BOND);
    // Paid once: a second fulfil is refused.
    reverted(
        c.pool.fulfill(id, &proof, &[(p0, 1)]).await.unwrap_err(),
        "TaskNotOpen",
    );

    let prover = PoolClient::connect(&c.anvil.url, c.provers[0].clone(), c.pool.deployment().pool)
        .await
        .unwrap();
    prover.withdraw_all().await.unwrap();
    assert_eq!(c.pool.token_balance(p0).await.unwrap(), 600_001);
    assert_eq!(c.pool.credit(p0).await.unwrap(), 0);
    println!(
        "gas: submitTask {}, fulfill {} (verifier included)",
        submit.gas_used, fulfil.gas_used
    );
}

#[tokio::test]
async fn a_missed_window_is_claimed_once_and_bad_quotes_are_refused() {
    let c = chain().await;
    let proof = multiplier_proof();
    let before = c.pool.token_balance(c.requester.account()).await.unwrap();
    let signed = c.quote(2, &proof, 60).await;
    let (id, _) = c.requester.submit_task(&signed).await.unwrap();
    reverted(c.requester.claim(id).await.unwrap_err(), "WindowStillOpen");
    // A replayed quote (same nonce) is refused.
    reverted(
        c.requester.submit_task(&signed).await.unwrap_err(),
        "NonceUsed",
    );

    c.pool.advance_time(61).await.unwrap();
    reverted(
        c.pool
            .fulfill(id, &proof, &[(c.provers[0].address(), 1)])
            .await
            .unwrap_err(),
        "WindowClosed",
    );
    let claim = c.requester.claim(id).await.unwrap();
    assert_eq!(c.pool.task(id).await.unwrap().status, TaskStatus::Claimed);
    // The reward came back and the pool's bond was paid to the requester.
    assert_eq!(
        c.pool.token_balance(c.requester.account()).await.unwrap(),
        before + BOND
    );
    assert_eq!(c.pool.free_stake().await.unwrap(), 9 * BOND);
    reverted(c.requester.claim(id).await.unwrap_err(), "TaskNotOpen");

    // Signed for another chain: the contract recovers another signer.
    let mut q = c.quote(3, &proof, 600).await.quote;
    q.chain_id = 1;
    let other_chain = c.signer.sign(q).unwrap();
    reverted(
        c.requester.submit_task(&other_chain).await.unwrap_err(),
        "WrongSigner",
    );
    println!("gas: claim {}", claim.gas_used);
}

/// The contract's own forge suite (unit, fuzz, invariant and gas tests; artifacts not stale),
/// so `cargo test --workspace` stays the one test command.
#[test]
fn the_forge_suite_passes() {
    let out = std::process::Command::new("bash")
        .arg(repo().join("scripts/test-contracts.sh"))
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "scripts/test-contracts.sh failed:\n{text}"
    );
    assert!(
        text.contains("contracts/artifacts match a fresh build"),
        "{text}"
    );
}
