//! Two node replicas on one PostgreSQL database (two stores, two connection pools: as two
//! processes would be) racing for the same thing, many rounds: exactly one wins each time.
//! A balance is spent once, a task is leased once, an epoch closes once, a liability window
//! is claimed once, and a prover waiting on one replica is woken by a task queued through
//! the other. Skipped (loudly) without a PostgreSQL server, except on CI where it fails.

#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use common::{fixture, hello, spec, TestNode};
use zkpool_backend::Backends;
use zkpool_client::Client;
use zkpool_ledger::{Amount, Ledger, LedgerConfig, Op};
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_store::testing::TestDatabase;
use zkpool_store::Store;
use zkpool_types::api::Role;

/// Two replicas on a fresh database, sharing one blob directory.
struct Replicas {
    a: TestNode,
    b: TestNode,
    url: String,
    _blobs: tempfile::TempDir,
    _db: TestDatabase,
}

impl Replicas {
    async fn start(config: impl Fn() -> NodeConfig, shared_wake: bool) -> Option<Self> {
        let db = TestDatabase::create().await?;
        let url = db.url();
        let blobs = tempfile::tempdir().unwrap();
        let mut nodes = Vec::new();
        for _ in 0..2 {
            let store = Arc::new(Store::open_postgres(&url, blobs.path()).await.unwrap());
            let mut c = config();
            if shared_wake {
                c.work_signal = zkpool_node::wake::SharedWake::start(store.clone())
                    .await
                    .unwrap()
                    .expect("PostgreSQL notifications");
            }
            let backends =
                Backends::default().with(Arc::new(zkpool_groth16::Groth16Backend::new()));
            let dir = tempfile::tempdir().unwrap();
            nodes.push(TestNode::start_on(c, backends, store, dir).await);
        }
        let b = nodes.pop().unwrap();
        let a = nodes.pop().unwrap();
        Some(Self {
            a,
            b,
            url,
            _blobs: blobs,
            _db: db,
        })
    }

    /// A key of `role`, with a client of it on each replica.
    async fn clients(&self, role: Role, name: &str) -> (zkpool_types::KeyId, Client, Client) {
        let key = self.a.store.create_key(role, name, 0).await.unwrap();
        (
            key.id,
            Client::new(&self.a.url, &key.secret).unwrap(),
            Client::new(&self.b.url, &key.secret).unwrap(),
        )
    }

    /// The committed journal replayed: it must replay, and conserve tokens.
    async fn replayed(&self) -> (Vec<zkpool_ledger::Entry>, Ledger) {
        let store = Store::open_postgres(&self.url, self._blobs.path())
            .await
            .unwrap();
        let journal = store.journal().await.unwrap();
        store.close().await;
        let ledger = Ledger::replay(LedgerConfig::default(), &journal).unwrap();
        assert_eq!(
            ledger.total_held().unwrap(),
            ledger.deposited().checked_sub(ledger.withdrawn()).unwrap(),
            "tokens held = deposited − withdrawn"
        );
        (journal, ledger)
    }
}

fn count(journal: &[zkpool_ledger::Entry], f: impl Fn(&Op) -> bool) -> usize {
    journal.iter().filter(|e| f(&e.op)).count()
}

/// The multiplier circuit's task with witness `wtns`.
async fn multiplier(requester: &Client, wtns: &[u8]) -> zkpool_types::TaskSpec {
    spec(
        requester,
        "multiplier",
        "multiplier",
        "multiplier",
        wtns.to_vec(),
    )
    .await
}

fn manual(clock: &ManualClock) -> NodeConfig {
    let mut c = NodeConfig {
        clock: Arc::new(clock.clone()),
        // The reaper runs once at start; the test sweeps by hand.
        reap_interval: Duration::from_secs(3_600),
        ..NodeConfig::default()
    };
    c.settlement.pricing.overhead_ms = 0;
    c.settlement.epoch_length = Duration::from_secs(3_600);
    c.settlement.epoch_reward = Amount::from_tokens(1);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_balance_is_spent_once_when_both_replicas_withdraw_it() {
    let Some(r) = Replicas::start(NodeConfig::default, false).await else {
        return;
    };
    let (_, admin_a, admin_b) = r.clients(Role::Admin, "admin").await;
    let (req, req_a, req_b) = r.clients(Role::Requester, "req").await;
    let ten = Amount::from_tokens(10).base_units();
    for round in 0..20 {
        // Deposits alternate between the replicas, so each must plan on the other's entries.
        let admin = if round % 2 == 0 { &admin_a } else { &admin_b };
        admin
            .deposit(&format!("requester:{req}"), ten)
            .await
            .unwrap();
        let (x, y) = tokio::join!(req_a.withdraw(ten), req_b.withdraw(ten));
        assert!(
            x.is_ok() != y.is_ok(),
            "round {round}: exactly one withdrawal succeeds: {x:?} / {y:?}"
        );
        let refused = x.err().or(y.err()).unwrap();
        assert_eq!(refused.code(), Some("insufficient_funds"), "{refused}");
    }
    for c in [&req_a, &req_b] {
        assert_eq!(c.balance().await.unwrap().available.0, 0);
    }
    let (journal, ledger) = r.replayed().await;
    assert_eq!(count(&journal, |o| matches!(o, Op::Withdraw { .. })), 20);
    assert_eq!(ledger.withdrawn(), Amount::from_tokens(200));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_epoch_closes_once_when_both_replicas_find_it_due() {
    let clock = ManualClock::starting_now();
    let Some(r) = Replicas::start(|| manual(&clock), false).await else {
        return;
    };
    let (_, admin, _) = r.clients(Role::Admin, "admin").await;
    admin
        .deposit("treasury", Amount::from_tokens(100).base_units())
        .await
        .unwrap();
    // The first sweep opens epoch 1 (the reaper's own first run may not have yet).
    tokio::join!(r.a.node.sweep(), r.b.node.sweep());
    let rounds = 8;
    for _ in 0..rounds {
        clock.advance(Duration::from_secs(3_600));
        tokio::join!(r.a.node.sweep(), r.b.node.sweep());
    }
    let closed: Vec<u64> = admin
        .epochs()
        .await
        .unwrap()
        .iter()
        .filter(|e| e.closed_ms.is_some())
        .map(|e| e.epoch)
        .collect();
    assert_eq!(
        closed.len(),
        rounds,
        "one close per epoch length: {closed:?}"
    );
    let (journal, _) = r.replayed().await;
    let funded: BTreeSet<_> = journal
        .iter()
        .filter_map(|e| match e.op {
            Op::FundEpoch { epoch, .. } => Some(epoch),
            _ => None,
        })
        .collect();
    assert_eq!(funded.len(), rounds);
    assert_eq!(
        count(&journal, |o| matches!(o, Op::FundEpoch { .. })),
        rounds
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_window_is_claimed_once_when_both_replicas_sweep() {
    let clock = ManualClock::starting_now();
    let Some(r) = Replicas::start(|| manual(&clock), false).await else {
        return;
    };
    let (_, admin, _) = r.clients(Role::Admin, "admin").await;
    let (req, requester, _) = r.clients(Role::Requester, "req").await;
    let (_, rig, _) = r.clients(Role::Prover, "idle-rig").await;
    hello(&rig, "idle-rig").await;
    admin
        .deposit("pool_stake", Amount::from_tokens(1_000).base_units())
        .await
        .unwrap();
    admin
        .deposit(
            &format!("requester:{req}"),
            Amount::from_tokens(100).base_units(),
        )
        .await
        .unwrap();
    let wtns = fixture("multiplier", "multiplier.wtns");
    let mut ids = Vec::new();
    for _ in 0..4 {
        let s = multiplier(&requester, &wtns).await;
        let issued = requester.quote(s.clone(), 60_000).await.unwrap();
        ids.push(
            requester
                .submit_quoted(s, issued.signed)
                .await
                .unwrap()
                .task_id,
        );
    }
    let before = requester.balance().await.unwrap();
    assert_eq!(before.open_tasks.len(), 4);
    clock.advance(Duration::from_secs(61));
    tokio::join!(r.a.node.sweep(), r.b.node.sweep());
    let (journal, ledger) = r.replayed().await;
    let claimed: Vec<_> = journal
        .iter()
        .filter_map(|e| match e.op {
            Op::Claim { task, .. } => Some(task),
            _ => None,
        })
        .collect();
    assert_eq!(claimed.len(), 4, "one claim per task: {claimed:?}");
    assert_eq!(claimed.iter().collect::<BTreeSet<_>>().len(), 4);
    let after = requester.balance().await.unwrap();
    let bonds: u128 = before.open_tasks.iter().map(|t| t.bond.0).sum();
    let rewards: u128 = before.open_tasks.iter().map(|t| t.reward.0).sum();
    assert_eq!(after.available.0, before.available.0 + rewards + bonds);
    assert_eq!(
        ledger
            .balance(&zkpool_ledger::Account::Requester(req))
            .base_units(),
        after.available.0
    );
    assert!(after.open_tasks.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_is_leased_once_when_provers_on_both_replicas_ask() {
    let Some(r) = Replicas::start(NodeConfig::default, false).await else {
        return;
    };
    let (_, requester, _) = r.clients(Role::Requester, "req").await;
    let (_, rig_a, _) = r.clients(Role::Prover, "rig-a").await;
    let (_, _, rig_b) = r.clients(Role::Prover, "rig-b").await;
    let (pa, pb) = (hello(&rig_a, "rig-a").await, hello(&rig_b, "rig-b").await);
    let wtns = fixture("multiplier", "multiplier.wtns");
    let mut queued = BTreeSet::new();
    for _ in 0..12 {
        let s = multiplier(&requester, &wtns).await;
        queued.insert(requester.submit(s).await.unwrap().task_id);
    }
    let mut leased = Vec::new();
    loop {
        let (x, y) = tokio::join!(
            rig_a.lease(pa, Duration::ZERO),
            rig_b.lease(pb, Duration::ZERO)
        );
        let got: Vec<_> = [x.unwrap(), y.unwrap()].into_iter().flatten().collect();
        if got.is_empty() {
            break;
        }
        leased.extend(got.into_iter().map(|g| g.task_id));
    }
    assert_eq!(
        leased.len(),
        12,
        "every task leased, none twice: {leased:?}"
    );
    assert_eq!(leased.iter().copied().collect::<BTreeSet<_>>(), queued);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prover_waiting_on_one_replica_is_woken_by_a_task_queued_through_the_other() {
    let Some(r) = Replicas::start(NodeConfig::default, true).await else {
        return;
    };
    let (_, requester, _) = r.clients(Role::Requester, "req").await;
    let (_, _, rig_b) = r.clients(Role::Prover, "rig-b").await;
    let pb = hello(&rig_b, "rig-b").await;
    let s = multiplier(&requester, &fixture("multiplier", "multiplier.wtns")).await;
    // The node long-polls without looking again until it is woken or the wait ends, so a
    // grant before the end means replica B heard replica A.
    let waiting = tokio::spawn(async move { rig_b.lease(pb, Duration::from_secs(20)).await });
    tokio::time::sleep(Duration::from_millis(500)).await;
    let id = requester.submit(s).await.unwrap().task_id;
    let grant = waiting.await.unwrap().unwrap().expect("woken with a lease");
    assert_eq!(grant.task_id, id);
}
