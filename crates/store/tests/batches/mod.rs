//! Leases and completions in batches, as the node gathers the requests that arrive together:
//! each ask and each completion is decided on its own inside the one transaction. Each body
//! runs on both databases (`on_both_stores!` in `store.rs`).

use zkpool_store::{Grant, LeaseAsk, LeaseLimits, NewTask, Pick, ProverRecord, Store, StoreError};
use zkpool_types::{BlobHash, FencingToken, LeaseId, TaskState};

use super::{done, hw, Db, TTL};

fn ask(prover: &ProverRecord) -> LeaseAsk {
    LeaseAsk {
        prover: prover.clone(),
        limits: LeaseLimits {
            stake_available: 0,
            ttl_ms: TTL,
            max_lease_ms: 10 * TTL,
            speed_wps: 0,
        },
    }
}

/// Leases `asks` in one batch with no ledger entries.
async fn lease_all(store: &Store, asks: &[LeaseAsk], now: i64) -> Vec<Option<Grant>> {
    let none = |_: &Pick| Ok::<_, std::convert::Infallible>(Vec::new());
    store
        .lease_batch(asks, now, none)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.unwrap_or_else(|never| match never {}))
        .collect()
}

/// `groups::setup` (`a` and `a2` share one key, `b` and `c` have their own) with `n` queued
/// tasks of `memory` bytes each.
async fn setup(db: &Db, n: usize, memory: u64) -> (Store, [ProverRecord; 4]) {
    let (store, req, provers) = super::groups::setup(db).await;
    for i in 0..n {
        let t = NewTask {
            memory_bytes: memory,
            statement: vec![i as u8],
            ..NewTask::unit(req)
        };
        store.insert_task(&t, i as i64).await.unwrap();
    }
    (store, provers)
}

async fn state(store: &Store, g: &Grant) -> TaskState {
    store.task_view(g.task).await.unwrap().unwrap().state
}

pub async fn a_batch_of_leases_gives_each_ask_its_own_task_within_its_machine(db: Db) {
    // 600 MiB tasks on 1 GiB machines: a machine holds one at a time.
    let (store, [a, a2, b, c]) = setup(&db, 5, 600 << 20).await;
    let got = lease_all(&store, &[ask(&a), ask(&a2), ask(&b), ask(&a)], 10).await;
    let tasks: Vec<_> = got.iter().flatten().map(|g| g.task).collect();
    assert_eq!(tasks.len(), 3, "a, a2 and b each get one: {got:?}");
    assert!(got[3].is_none(), "a's second ask must see its first lease");
    let mut distinct = tasks.clone();
    distinct.sort_unstable_by_key(|t| t.0);
    distinct.dedup();
    assert_eq!(distinct.len(), 3, "a task was leased twice: {tasks:?}");
    for g in got.iter().flatten() {
        assert_eq!(state(&store, g).await, TaskState::Leased);
        assert_eq!(g.token, FencingToken(1));
        assert!(store.active_lease(g.lease, 11).await.is_ok());
    }
    // A plan that refuses one ask leaves it without a lease, and its task queued; the others
    // go on.
    let refuse_c = |p: &Pick| {
        if p.key == c.key_id {
            Err("no stake")
        } else {
            Ok(Vec::new())
        }
    };
    let b2 = store.register_prover(b.key_id, &hw("b2"), 0).await.unwrap();
    let answers = store
        .lease_batch(&[ask(&c), ask(&b2)], 12, refuse_c)
        .await
        .unwrap();
    assert!(matches!(answers[0], Err("no stake")));
    let g = answers[1].as_ref().unwrap().as_ref().unwrap();
    assert!(!tasks.contains(&g.task));
    let left = lease_all(&store, &[ask(&c)], 13).await;
    assert!(left[0].is_some(), "the refused ask's task was lost");
}

pub async fn a_batch_of_completions_accepts_each_current_lease_once(db: Db) {
    let (store, [a, _, b, c]) = setup(&db, 3, 1).await;
    let got = lease_all(&store, &[ask(&a), ask(&b), ask(&c)], 10).await;
    let [Some(ga), Some(gb), Some(gc)] = [&got[0], &got[1], &got[2]] else {
        panic!("three tasks, three provers: {got:?}");
    };
    let proof = BlobHash::of(b"proof");
    let mut wrong_token = done(gb, b.id, &proof);
    wrong_token.token = FencingToken(7);
    let mut unknown = done(gc, c.id, &proof);
    unknown.lease = LeaseId(1_000_000);
    let not_theirs = done(gc, a.id, &proof);
    let batch = [
        done(ga, a.id, &proof),
        done(ga, a.id, &proof),
        wrong_token,
        not_theirs,
        done(gc, c.id, &proof),
        unknown,
    ];
    let answers = store
        .complete_batch(&batch, 20, |_| Vec::new())
        .await
        .unwrap();
    assert_eq!(answers[0].as_ref().unwrap(), &ga.task);
    let stale = |r: &Result<_, StoreError>, why: &str| match r {
        Err(StoreError::StaleLease { reason, .. }) => assert_eq!(*reason, why),
        other => panic!("expected a stale lease ({why}), got {other:?}"),
    };
    stale(&answers[1], "the task is no longer leased");
    stale(&answers[2], "wrong fencing token");
    stale(&answers[3], "the lease belongs to another prover");
    assert_eq!(answers[4].as_ref().unwrap(), &gc.task);
    assert!(matches!(
        answers[5],
        Err(StoreError::NotFound { what: "lease", .. })
    ));
    assert_eq!(state(&store, ga).await, TaskState::Done);
    assert_eq!(state(&store, gb).await, TaskState::Leased);
    assert_eq!(state(&store, gc).await, TaskState::Done);
    // Counters moved for the provers whose proofs were accepted, and only for them.
    let speeds = store.measured_speeds(&[a.id, b.id, c.id]).await.unwrap();
    assert!(speeds.contains_key(&a.id) && speeds.contains_key(&c.id));
    assert!(!speeds.contains_key(&b.id));
    // The refused one completes on its own, once.
    let again = store
        .complete_batch(
            &[done(gb, b.id, &proof), done(ga, a.id, &proof)],
            21,
            |_| Vec::new(),
        )
        .await
        .unwrap();
    assert_eq!(again[0].as_ref().unwrap(), &gb.task);
    stale(&again[1], "the task is no longer leased");
}
