//! Settlement end to end: quotes, escrow, release with real proofs, automatic and manual
//! claims, every refusal of bad input (with no state change), replay after a restart, and
//! an epoch that settles exactly once.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use zkpool::demo::{circuit_spec, wait_online, LocalPool};
use zkpool::fixtures::{MULTIPLIER, POSEIDON_CHAIN};
use zkpool::settlement_cmd::load_pool_key;
use zkpool_client::{Client, ClientError};
use zkpool_ledger::{Account, Amount, Ledger, LedgerConfig, QuoteSigner, SignedQuote};
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_prover::Fault;
use zkpool_store::Store;
use zkpool_types::api::{Hello, Role};
use zkpool_types::settlement as wire;
use zkpool_types::{HardwareReport, ProofSystem, TaskId, TaskState};

fn code(e: ClientError) -> String {
    e.code().unwrap_or("none").to_string()
}

async fn wait_state(client: &Client, id: TaskId, want: TaskState) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let v = client.task(id).await.unwrap();
        if v.state == want {
            return;
        }
        assert!(Instant::now() < deadline, "{id} is {} not {want}", v.state);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Registers a prover machine that never takes work, so admission sees capacity while no
/// task is ever proved.
async fn idle_prover(pool: &LocalPool) {
    let key = pool
        .admin
        .create_key(Role::Prover, "idle-rig")
        .await
        .unwrap();
    let client = Client::new(&pool.url(), &key.secret).unwrap();
    client
        .hello(&Hello {
            hardware: HardwareReport {
                name: "idle-rig".into(),
                os: "test".into(),
                cpu_cores: 1,
                memory_bytes: 1 << 34,
                gpus: vec![],
                systems: vec![ProofSystem::Groth16],
                jobs: 1,
                agent_version: "test".into(),
            },
            payout: None,
        })
        .await
        .unwrap();
}

fn quick_config(reap: Duration) -> NodeConfig {
    let mut c = NodeConfig {
        reap_interval: reap,
        ..NodeConfig::default()
    };
    c.settlement.pricing.overhead_ms = 0;
    c
}

/// A config whose clock the test moves, with the reaper's own timer out of the way (it runs
/// once at start, then the test calls `Node::sweep`).
fn manual_config() -> (NodeConfig, ManualClock) {
    let clock = ManualClock::starting_now();
    let mut c = NodeConfig {
        reap_interval: Duration::from_secs(3_600),
        clock: Arc::new(clock.clone()),
        ..NodeConfig::default()
    };
    c.settlement.pricing.overhead_ms = 0;
    (c, clock)
}

fn to_ledger(q: &wire::SignedQuote) -> SignedQuote {
    serde_json::from_value(serde_json::to_value(q).unwrap()).unwrap()
}

fn to_wire(q: &SignedQuote) -> wire::SignedQuote {
    serde_json::from_value(serde_json::to_value(q).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_in_window_replays_identically_and_the_epoch_settles_once() {
    let dir = tempfile::tempdir().unwrap();
    let pool = LocalPool::start(Some(dir.path().to_path_buf()), 1, Fault::None)
        .await
        .unwrap();
    wait_online(&pool.requester, 1).await.unwrap();
    let before = pool.admin.ledger().await.unwrap();
    let spec = circuit_spec(&pool.requester, &POSEIDON_CHAIN, 0)
        .await
        .unwrap();
    let issued = pool.requester.quote(spec.clone(), 120_000).await.unwrap();
    let q = issued.signed.quote.clone();
    assert_eq!(q.chain_id, 31_337);
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    wait_state(&pool.requester, id, TaskState::Done).await;

    let after = pool.admin.ledger().await.unwrap();
    let req = format!("requester:{}", pool.requester_key);
    let reward = q.reward.0;
    let (prover_share, fee) = Amount::from_base_units(reward).split_bps(8_000);
    assert_eq!(after.balance(&req), before.balance(&req) - reward);
    // Prover accounts are per key: the one prover key of the pool earned the share.
    let prover_account = after
        .accounts
        .iter()
        .map(|(a, _)| a.clone())
        .find(|a| a.starts_with("prover:k-"))
        .expect("a prover account");
    assert_eq!(after.balance(&prover_account), prover_share.base_units());
    assert_eq!(
        after.balance("treasury"),
        before.balance("treasury") + fee.base_units()
    );
    assert_eq!(after.balance("pool_stake"), before.balance("pool_stake"));
    let b = pool.requester.balance().await.unwrap();
    assert_eq!((b.escrowed.0, b.claimable.0), (0, 0));

    // Stake, then settle the epoch: the one prover with work and stake takes the pool.
    pool.admin
        .deposit(
            &prover_account.replace("prover:", "prover_stake:"),
            Amount::from_tokens(10).base_units(),
        )
        .await
        .unwrap();
    let epoch = pool.admin.close_epoch().await.unwrap();
    assert_eq!(epoch.epoch, 1);
    assert_eq!(epoch.shares.len(), 1);
    let total: u128 = epoch.shares.iter().map(|s| s.reward.0).sum::<u128>() + epoch.to_treasury.0;
    assert_eq!(total, epoch.pool.0, "nothing created or lost");
    let rewards = pool.admin.rewards().await.unwrap();
    assert!(rewards
        .rows
        .iter()
        .any(|r| r.epoch == 1 && r.tasks_done == 1));
    let settled = pool.admin.ledger().await.unwrap();
    pool.stop().await;

    // Restart: the journal replays to the same balances, and epoch 1 cannot settle again.
    let store = Store::open(dir.path()).await.unwrap();
    let replayed =
        Ledger::replay(LedgerConfig::default(), &store.journal().await.unwrap()).unwrap();
    for (acct, b) in &settled.accounts {
        let a: Account = acct.parse().unwrap();
        assert_eq!(replayed.balance(&a).base_units(), b.0, "{acct}");
    }
    assert_eq!(replayed.deposited().base_units(), settled.deposited.0);
    assert!(!store.close_epoch(1, 0, "{}", &[]).await.unwrap());
    store.close().await;

    let pool = LocalPool::with_config(Some(dir.path().to_path_buf()), NodeConfig::default())
        .await
        .unwrap();
    let second = pool.admin.close_epoch().await.unwrap();
    assert_eq!(
        second.epoch, 2,
        "a restarted node settles the next epoch, not epoch 1 again"
    );
    let epochs = pool.admin.epochs().await.unwrap();
    assert_eq!(epochs[0], epoch);
    let journal = pool.store.journal().await.unwrap();
    let pays_e1 = journal
        .iter()
        .filter(|e| matches!(e.op, zkpool_ledger::Op::PayEpoch { epoch, .. } if epoch.0 == 1))
        .count();
    assert_eq!(pays_e1, 1);
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reaper_pays_refund_and_bond_when_the_window_closes() {
    let (config, clock) = manual_config();
    let pool = LocalPool::with_config(None, config).await.unwrap();
    idle_prover(&pool).await;
    let before = pool.requester.balance().await.unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 2_000).await.unwrap();
    let (reward, bond) = (issued.signed.quote.reward.0, issued.signed.quote.bond.0);
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let mid = pool.requester.balance().await.unwrap();
    assert_eq!(mid.available.0, before.available.0 - reward);
    assert_eq!(mid.escrowed.0, reward);

    // Just inside the window the reaper pays nothing; just past it, refund and bond.
    clock.advance(Duration::from_millis(1_999));
    pool.node.sweep().await;
    assert_eq!(pool.requester.balance().await.unwrap().open_tasks.len(), 1);
    clock.advance(Duration::from_millis(1));
    pool.node.sweep().await;
    let b = pool.requester.balance().await.unwrap();
    assert!(b.open_tasks.is_empty(), "no automatic claim: {b:?}");
    assert_eq!(b.available.0, before.available.0 + bond, "refund + bond");
    // The automatic claim happened; a manual one finds nothing left to pay.
    assert_eq!(
        code(pool.requester.claim(id).await.unwrap_err()),
        "already_settled"
    );
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manual_claim_pays_once_and_only_after_the_window() {
    // The reaper runs once at start and then not for an hour: claims are manual here.
    let (config, clock) = manual_config();
    let pool = LocalPool::with_config(None, config).await.unwrap();
    idle_prover(&pool).await;
    let before = pool.requester.balance().await.unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let issued = pool.requester.quote(spec.clone(), 1_500).await.unwrap();
    let q = issued.signed.quote.clone();
    let id = pool
        .requester
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    let early = pool.requester.claim(id).await.unwrap_err();
    assert_eq!(code(early), "window_not_closed");
    clock.advance(Duration::from_millis(1_500));
    let claimable = pool.requester.balance().await.unwrap();
    assert_eq!(claimable.claimable.0, q.reward.0 + q.bond.0);
    let c = pool.requester.claim(id).await.unwrap();
    assert_eq!((c.refund.0, c.bond.0), (q.reward.0, q.bond.0));
    let after = pool.requester.balance().await.unwrap();
    assert_eq!(after.available.0, before.available.0 + q.bond.0);
    assert_eq!(
        code(pool.requester.claim(id).await.unwrap_err()),
        "already_settled"
    );
    assert_eq!(pool.requester.balance().await.unwrap(), after);
    pool.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_refused_with_a_code_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let pool = LocalPool::with_config(
        Some(dir.path().to_path_buf()),
        quick_config(Duration::from_secs(3_600)),
    )
    .await
    .unwrap();
    idle_prover(&pool).await;
    let pool_key = load_pool_key(dir.path()).unwrap();
    let spec = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
    let other_spec = circuit_spec(&pool.requester, &POSEIDON_CHAIN, 0)
        .await
        .unwrap();
    let good = pool
        .requester
        .quote(spec.clone(), 60_000)
        .await
        .unwrap()
        .signed;
    let resign = |signer: &QuoteSigner, edit: &dyn Fn(&mut zkpool_ledger::Quote)| {
        let mut q = to_ledger(&good).quote;
        edit(&mut q);
        to_wire(&signer.sign(q).unwrap())
    };
    let state = || async {
        (
            pool.admin.ledger().await.unwrap(),
            pool.admin.status().await.unwrap().tasks.len(),
        )
    };
    let unchanged = state().await;

    let expired = resign(&pool_key, &|q| q.expires_at_ms = 1);
    let other = QuoteSigner::random();
    let mut wrong_signer = to_ledger(&good);
    wrong_signer.signature = other
        .sign(zkpool_ledger::Quote {
            pool: other.address(),
            ..wrong_signer.quote.clone()
        })
        .unwrap()
        .signature;
    let wrong_pool = to_wire(
        &other
            .sign(zkpool_ledger::Quote {
                pool: other.address(),
                ..to_ledger(&good).quote
            })
            .unwrap(),
    );
    let wrong_chain = resign(&pool_key, &|q| q.chain_id = 1);
    // Signed by the pool, but for a payer on chain: not a quote the embedded ledger takes.
    let wrong_terms = resign(&pool_key, &|q| q.payer = other.address());
    let cases: Vec<(&str, wire::SignedQuote, &zkpool_types::TaskSpec)> = vec![
        ("quote_expired", expired, &spec),
        ("wrong_signer", to_wire(&wrong_signer), &spec),
        ("wrong_pool", wrong_pool, &spec),
        ("wrong_chain", wrong_chain, &spec),
        ("wrong_terms", wrong_terms, &spec),
        ("digest_mismatch", good.clone(), &other_spec),
    ];
    for (want, quote, spec) in cases {
        let err = pool
            .requester
            .submit_quoted(spec.clone(), quote)
            .await
            .unwrap_err();
        assert_eq!(code(err), want);
        assert_eq!(state().await, unchanged, "{want} changed state");
    }

    // Replayed nonce: the first use is accepted, the second refused.
    pool.requester
        .submit_quoted(spec.clone(), good.clone())
        .await
        .unwrap();
    let accepted = state().await;
    let err = pool
        .requester
        .submit_quoted(spec.clone(), good)
        .await
        .unwrap_err();
    assert_eq!(code(err), "nonce_reused");
    assert_eq!(state().await, accepted);

    // Money: overdraw, overflow (the pool's deposit counter would pass u128), a number
    // beyond u128, unknown accounts.
    let err = pool
        .requester
        .withdraw(Amount::from_tokens(1_000_000).base_units())
        .await
        .unwrap_err();
    assert_eq!(code(err), "insufficient_funds");
    let err = pool.admin.deposit("treasury", u128::MAX).await.unwrap_err();
    assert_eq!(code(err), "overflow");
    let beyond = r#"{"account":"treasury","amount":"340282366920938463463374607431768211456"}"#;
    assert!(serde_json::from_str::<wire::DepositRequest>(beyond).is_err());
    let err = pool.admin.deposit("requester:k-999", 1).await.unwrap_err();
    assert_eq!(code(err), "unknown_account");
    let err = pool.admin.deposit("escrow:t-1", 1).await.unwrap_err();
    assert_eq!(code(err), "wrong_account");
    let fresh = pool
        .admin
        .create_key(Role::Requester, "never-funded")
        .await
        .unwrap();
    let fresh = Client::new(&pool.url(), &fresh.secret).unwrap();
    assert_eq!(
        code(fresh.withdraw(1).await.unwrap_err()),
        "unknown_account"
    );
    assert_eq!(state().await, accepted, "refused money moves changed state");
    pool.stop().await;
}

#[test]
fn the_wire_quote_mirrors_the_ledger_quote() {
    let signer = QuoteSigner::from_bytes(&[9; 32]).unwrap();
    let q = zkpool_ledger::Quote {
        requester: zkpool_types::KeyId(3),
        payer: Default::default(),
        verifier: Default::default(),
        public_inputs_hash: [0; 32],
        segments: 2,
        task_digest: [1; 32],
        reward: Amount::from_base_units(5),
        bond: Amount::from_base_units(u128::MAX),
        deadline_ms: 10,
        expires_at_ms: 5,
        nonce: 7,
        pool: signer.address(),
        chain_id: 31_337,
    };
    let signed = signer.sign(q).unwrap();
    assert_eq!(to_ledger(&to_wire(&signed)), signed);
}
