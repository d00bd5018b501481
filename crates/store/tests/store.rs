//! The store's task and lease state machine under random operation sequences, including
//! reopening the database as a restart would.
//!
//! Invariants after every step:
//! - a task is `done` iff exactly one of its leases ended `done`, and never more than one;
//! - a `leased` task has exactly one active lease, whose token is the task's token;
//! - a `queued` or final task has no active lease;
//! - attempts equal the number of leases, and never exceed `max_attempts`;
//! - a prover never holds a task it uploaded an invalid proof for;
//! - a split task is never leased itself; it is `done` only once joined, with every segment
//!   done; it is `failed` iff one of its segments failed, and then none of them is queued or
//!   leased; segments obey every task invariant above; a join succeeds exactly once;
//! - the blob collector never removes an artifact of a task that is not final, nor of a
//!   segment whose split task is not.
//!
//! Every test body runs twice, on SQLite and on PostgreSQL (`common::Db`); the PostgreSQL
//! tests also race two stores on one database.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;
mod batches;
mod groups;

use batches::{
    a_batch_of_completions_accepts_each_current_lease_once,
    a_batch_of_leases_gives_each_ask_its_own_task_within_its_machine,
};

use groups::{
    a_failed_leg_fails_its_group_only_when_too_few_are_left,
    a_group_takes_one_key_per_leg_and_finishes_once, a_race_has_one_winner,
    a_split_leg_is_joined_inside_its_group,
    racing_legs_completed_at_once_on_two_replicas_have_one_winner,
};
use std::collections::HashMap;

use common::Db;
use proptest::prelude::*;
use zkpool_store::{
    Completion, Grant, LeaseEnding, NewTask, ProverRecord, Store, StoreError, Verdict,
};
use zkpool_types::api::Role;
use zkpool_types::{
    ArtifactRole, BlobHash, FaultKind, HardwareReport, ProofSystem, ProverId, TaskCause, TaskId,
    TaskSpec, TaskState,
};

#[derive(Clone, Debug)]
enum Op {
    Submit,
    SubmitSplit {
        segments: usize,
    },
    /// Join every split task whose segments are all done.
    Join,
    Lease {
        prover: usize,
    },
    Complete {
        prover: usize,
    },
    Fail {
        prover: usize,
        invalid: bool,
        retryable: bool,
    },
    /// A stale upload: a lease the prover held earlier (maybe expired or superseded).
    Stale {
        prover: usize,
    },
    Advance {
        ms: i64,
    },
    Heartbeat {
        prover: usize,
    },
    Reopen,
    /// The blob collector, with a retention of `retention` ms.
    Collect {
        retention: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Submit),
        1 => (1..4usize).prop_map(|segments| Op::SubmitSplit { segments }),
        1 => Just(Op::Join),
        4 => (0..3usize).prop_map(|prover| Op::Lease { prover }),
        3 => (0..3usize).prop_map(|prover| Op::Complete { prover }),
        2 => (0..3usize, any::<bool>(), any::<bool>()).prop_map(|(prover, invalid, retryable)| Op::Fail { prover, invalid, retryable }),
        1 => (0..3usize).prop_map(|prover| Op::Stale { prover }),
        2 => (0..2500i64).prop_map(|ms| Op::Advance { ms }),
        1 => (0..3usize).prop_map(|prover| Op::Heartbeat { prover }),
        1 => Just(Op::Reopen),
        1 => (0..3000i64).prop_map(|retention| Op::Collect { retention }),
    ]
}

const TTL: i64 = 1000;

fn hw(name: &str) -> HardwareReport {
    HardwareReport {
        name: name.into(),
        os: "test".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16, ProofSystem::MidenVm],
        jobs: 1,
        agent_version: "t".into(),
    }
}

async fn check(
    store: &Store,
    provers: &[ProverRecord],
    joined: &std::collections::HashSet<TaskId>,
) {
    for t in store.list_tasks(None, 10_000).await.unwrap() {
        if t.segments.is_empty() {
            check_task(store, provers, &t).await;
            continue;
        }
        assert!(store.leases_of(t.id).await.unwrap().is_empty(), "{t:?}");
        let any_failed = t.segments.iter().any(|s| s.state == TaskState::Failed);
        match t.state {
            TaskState::Proving => assert!(!any_failed, "{t:?}"),
            TaskState::Done => {
                assert!(joined.contains(&t.id), "done without a join: {t:?}");
                assert!(
                    t.segments.iter().all(|s| s.state == TaskState::Done),
                    "{t:?}"
                );
            }
            TaskState::Failed => assert!(
                t.segments.iter().all(|s| s.state.is_final()),
                "a failed split task has a live segment: {t:?}"
            ),
            _ => panic!("a split task in {}: {t:?}", t.state),
        }
        assert_eq!(any_failed, t.state == TaskState::Failed, "{t:?}");
        for seg in &t.segments {
            check_task(store, provers, seg).await;
            if !t.state.is_final() {
                check_stored(store, seg.id).await;
            }
        }
    }
}

/// A live task's artifacts are all stored.
async fn check_stored(store: &Store, id: TaskId) {
    let t = store.task(id).await.unwrap().unwrap();
    for hash in t.spec.artifacts.values() {
        assert!(
            store.has_blob(hash).await.unwrap(),
            "artifact {hash} of live task {id} was collected"
        );
    }
}

/// The lease invariants of one task (or segment).
async fn check_task(store: &Store, provers: &[ProverRecord], t: &zkpool_types::api::TaskView) {
    if !t.state.is_final() {
        check_stored(store, t.id).await;
    }
    {
        let leases = store.leases_of(t.id).await.unwrap();
        let done = leases
            .iter()
            .filter(|(_, o)| o.as_deref() == Some("done"))
            .count();
        let active = leases.iter().filter(|(_, o)| o.is_none()).count();
        assert!(done <= 1, "{t:?} {leases:?}");
        assert_eq!(t.state == TaskState::Done, done == 1, "{t:?} {leases:?}");
        assert_eq!(t.attempts as usize, leases.len());
        assert!(t.attempts <= t.max_attempts);
        match t.state {
            TaskState::Leased => {
                // An expired-but-not-yet-swept lease is still the one active lease.
                assert_eq!(active, 1, "{t:?} {leases:?}");
                let holder = leases.iter().find(|(_, o)| o.is_none()).map(|(p, _)| *p);
                assert_eq!(t.prover, holder);
            }
            _ => assert_eq!(active, 0, "{t:?} {leases:?}"),
        }
        for p in provers {
            let invalid = leases
                .iter()
                .any(|(lp, o)| *lp == p.id && o.as_deref() == Some("invalid"));
            let holds_now = t.state == TaskState::Leased && t.prover == Some(p.id);
            let last_is_invalid = leases
                .last()
                .is_some_and(|(lp, o)| *lp == p.id && o.as_deref() == Some("invalid"));
            assert!(
                !(invalid && holds_now && !last_is_invalid),
                "p{} re-leased a task it cheated on",
                p.id.0
            );
        }
    }
}

async fn run(db: Db, ops: Vec<Op>) {
    let mut store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let mut provers = Vec::new();
    for i in 0..3 {
        let k = store
            .create_key(Role::Prover, &format!("p{i}"), 0)
            .await
            .unwrap();
        provers.push(
            store
                .register_prover(k.id, &hw(&format!("p{i}")), 0)
                .await
                .unwrap(),
        );
    }
    let mut now = 1_000i64;
    // Each prover's most recent grant, stale or not.
    let mut held: HashMap<usize, zkpool_store::Grant> = HashMap::new();
    let mut n = 0u8;
    let mut joined = std::collections::HashSet::new();
    for op in ops {
        match op {
            Op::Submit => {
                n = n.wrapping_add(1);
                let mut spec = TaskSpec {
                    system: ProofSystem::Groth16,
                    label: None,
                    artifacts: Default::default(),
                    segments: None,
                    strategy: None,
                };
                let wtns = store.put_blob(&[n], 0).await.unwrap().hash;
                spec.artifacts.insert(ArtifactRole::Wtns, wtns);
                let t = NewTask {
                    requester: req.id,
                    spec,
                    work: 10,
                    memory_bytes: 1,
                    statement: vec![n],
                    max_attempts: 3,
                    segments: Vec::new(),
                    group: None,
                };
                store.insert_task(&t, now).await.unwrap();
            }
            Op::SubmitSplit { segments } => {
                store
                    .insert_task(&split_task(&store, req.id, segments, 3).await, now)
                    .await
                    .unwrap();
            }
            Op::Join => {
                for id in store.splits_ready().await.unwrap() {
                    let first = store
                        .finish_split_with(id, &BlobHash::of(b"joined"), 1, now, |_, _| Vec::new())
                        .await
                        .unwrap();
                    assert!(first && joined.insert(id), "{id} joined twice");
                    let again = store
                        .finish_split_with(id, &BlobHash::of(b"joined"), 1, now, |_, _| Vec::new())
                        .await
                        .unwrap();
                    assert!(!again, "{id} joined twice");
                }
            }
            Op::Lease { prover } => {
                if let Some(g) = store
                    .lease_unpaid(&provers[prover], now, TTL)
                    .await
                    .unwrap()
                {
                    held.insert(prover, g);
                }
            }
            Op::Complete { prover } | Op::Stale { prover } => {
                if let Some(g) = held.get(&prover) {
                    let r = store
                        .complete(&done(g, provers[prover].id, &BlobHash::of(b"p")), now)
                        .await;
                    if r.is_ok() {
                        held.remove(&prover);
                    }
                }
            }
            Op::Fail {
                prover,
                invalid,
                retryable,
            } => {
                if let Some(g) = held.remove(&prover) {
                    let fault = if invalid {
                        FaultKind::InvalidProof
                    } else if retryable {
                        FaultKind::ProverError
                    } else {
                        FaultKind::ArtifactReport
                    };
                    let _ = end(&store, &ending(&g, provers[prover].id, fault, "x"), now).await;
                }
            }
            Op::Advance { ms } => {
                now += ms;
                expire(&store, now).await;
            }
            Op::Heartbeat { prover } => {
                let leases: Vec<_> = held.get(&prover).map(|g| g.lease).into_iter().collect();
                store
                    .heartbeat(provers[prover].id, &leases, now, TTL, 3 * TTL)
                    .await
                    .unwrap();
            }
            Op::Reopen => {
                store.close().await;
                store = db.open().await;
            }
            Op::Collect { retention } => {
                store.collect_blobs(now, retention, 1000).await.unwrap();
            }
        }
        check(&store, &provers, &joined).await;
    }
    store.close().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]
    #[test]
    fn task_and_lease_invariants_hold_on_sqlite(ops in proptest::collection::vec(op(), 1..60)) {
        block_on(run(Db::sqlite(), ops));
    }
}

proptest! {
    // Fewer cases: each is a database of its own, and each step's check is a few hundred
    // round trips to the server (about ten times SQLite's time per case).
    #![proptest_config(ProptestConfig { cases: 16, .. ProptestConfig::default() })]
    #[test]
    fn task_and_lease_invariants_hold_on_postgres(ops in proptest::collection::vec(op(), 1..60)) {
        block_on(async {
            if let Some(db) = Db::postgres().await {
                run(db, ops).await
            }
        });
    }
}

fn block_on(f: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f);
}

on_both_stores!(
    a_task_out_of_attempts_fails_with_its_reasons,
    a_prover_that_cheated_waits_for_others,
    heartbeats_cannot_hold_a_lease_past_its_cap,
    a_prover_is_offered_only_what_fits_beside_what_it_holds,
    a_failed_split_task_frees_the_collateral_of_its_pending_reports,
    each_key_stores_within_its_quota,
    the_collector_keeps_what_live_tasks_need_and_removes_the_rest,
    a_split_task_is_joined_once_and_only_when_every_segment_is_done,
    a_segment_out_of_attempts_fails_its_split_task_and_stops_the_others,
    a_segment_stopped_earlier_in_the_same_sweep_stays_stopped,
    a_blob_of_many_chunks_streams_back_whole,
    a_group_takes_one_key_per_leg_and_finishes_once,
    racing_legs_completed_at_once_on_two_replicas_have_one_winner,
    a_race_has_one_winner,
    a_failed_leg_fails_its_group_only_when_too_few_are_left,
    a_split_leg_is_joined_inside_its_group,
    a_batch_of_leases_gives_each_ask_its_own_task_within_its_machine,
    a_batch_of_completions_accepts_each_current_lease_once,
);

fn done(g: &Grant, prover: ProverId, proof: &BlobHash) -> Completion {
    Completion {
        lease: g.lease,
        token: g.token,
        prover,
        proof: *proof,
        prove_ms: 5,
        verify_ms: 1,
    }
}

fn ending(g: &Grant, prover: ProverId, fault: FaultKind, reason: &str) -> LeaseEnding {
    LeaseEnding {
        lease: g.lease,
        token: g.token,
        prover,
        fault,
        reason: reason.to_string(),
    }
}

/// Ends a lease with no ledger entries (free-tier tasks have none).
async fn end(store: &Store, e: &LeaseEnding, now: i64) -> Result<Verdict, StoreError> {
    let none = |_: &Verdict| Ok::<_, std::convert::Infallible>(Vec::new());
    store
        .end_lease_unfinished(e, now, none)
        .await
        .map(|r| r.unwrap_or_else(|never| match never {}))
}

async fn expire(store: &Store, now: i64) -> Vec<Verdict> {
    let none = |_: &Verdict| Ok::<_, std::convert::Infallible>(Vec::new());
    match store.expire_leases(now, none).await.unwrap() {
        Ok(v) => v,
        Err(never) => match never {},
    }
}

async fn a_task_out_of_attempts_fails_with_its_reasons(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let p = store.register_prover(k.id, &hw("p"), 0).await.unwrap();
    let spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: None,
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    let t = NewTask {
        requester: req.id,
        spec,
        work: 1,
        memory_bytes: 1,
        statement: vec![],
        max_attempts: 2,
        segments: Vec::new(),
        group: None,
    };
    let id: TaskId = store.insert_task(&t, 0).await.unwrap();
    for round in 0..2 {
        let g = store
            .lease_unpaid(&p, 10 * round, TTL)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(g.task, id);
        expire(&store, 10 * round + TTL + 1).await;
    }
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Failed);
    assert_eq!(v.failures.len(), 2);
    assert!(v.failures.iter().all(|f| f.contains("expired")));
    assert!(store.lease_unpaid(&p, 5000, TTL).await.unwrap().is_none());
    // A report that the artifacts cannot be proved does not end a task by itself: it goes to
    // a prover of another key, and a second, independent report makes it the requester's
    // fault.
    let k2 = store.create_key(Role::Prover, "second", 0).await.unwrap();
    let q = store.register_prover(k2.id, &hw("q"), 0).await.unwrap();
    let t3 = NewTask {
        max_attempts: 3,
        ..t.clone()
    };
    let id2 = store.insert_task(&t3, 0).await.unwrap();
    let g = store.lease_unpaid(&p, 6000, TTL).await.unwrap().unwrap();
    assert_eq!(g.task, id2);
    let why = "the witness does not satisfy the constraints";
    let v = end(
        &store,
        &ending(&g, p.id, FaultKind::ArtifactReport, why),
        6001,
    )
    .await
    .unwrap();
    assert_eq!(v.state, TaskState::Queued);
    assert!(
        store.lease_unpaid(&p, 6002, TTL).await.unwrap().is_none(),
        "the reporting key is not asked again"
    );
    let g = store.lease_unpaid(&q, 6003, TTL).await.unwrap().unwrap();
    let v = end(
        &store,
        &ending(&g, q.id, FaultKind::ArtifactReport, why),
        6004,
    )
    .await
    .unwrap();
    assert_eq!(v.state, TaskState::Failed);
    let view = store.task_view(id2).await.unwrap().unwrap();
    assert_eq!(view.cause, Some(TaskCause::RequesterFault), "{view:?}");
    let first = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(first.cause, Some(TaskCause::ProverFault), "{first:?}");
}

async fn a_prover_that_cheated_waits_for_others(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let other = store.create_key(Role::Prover, "other", 0).await.unwrap();
    let cheat = store.register_prover(k.id, &hw("cheat"), 0).await.unwrap();
    let same_key = store
        .register_prover(k.id, &hw("cheat-renamed"), 0)
        .await
        .unwrap();
    let honest = store
        .register_prover(other.id, &hw("honest"), 0)
        .await
        .unwrap();
    let spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: None,
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    let t = NewTask {
        requester: req.id,
        spec,
        work: 1,
        memory_bytes: 1,
        statement: vec![],
        max_attempts: 3,
        segments: Vec::new(),
        group: None,
    };
    let id = store.insert_task(&t, 0).await.unwrap();
    let g = store.lease_unpaid(&cheat, 1, TTL).await.unwrap().unwrap();
    end(
        &store,
        &ending(&g, cheat.id, FaultKind::InvalidProof, "bad"),
        2,
    )
    .await
    .unwrap();
    assert!(store.lease_unpaid(&cheat, 3, TTL).await.unwrap().is_none());
    // The key is the prover's identity: another machine name under it changes nothing.
    assert!(store
        .lease_unpaid(&same_key, 3, TTL)
        .await
        .unwrap()
        .is_none());
    assert_eq!(
        store
            .lease_unpaid(&honest, 4, TTL)
            .await
            .unwrap()
            .unwrap()
            .task,
        id
    );
}

async fn heartbeats_cannot_hold_a_lease_past_its_cap(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let p = store.register_prover(k.id, &hw("hung"), 0).await.unwrap();
    let spec = TaskSpec {
        system: ProofSystem::Groth16,
        label: None,
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    let t = NewTask {
        requester: req.id,
        spec,
        work: 1,
        memory_bytes: 1,
        statement: vec![],
        max_attempts: 3,
        segments: Vec::new(),
        group: None,
    };
    let id = store.insert_task(&t, 0).await.unwrap();
    // A lease's longest life is fixed at grant: here 3 TTL (the task's estimate is smaller).
    let limits = zkpool_store::LeaseLimits {
        stake_available: 0,
        ttl_ms: TTL,
        max_lease_ms: 3 * TTL,
        speed_wps: 1_000_000,
    };
    let none = |_: &zkpool_store::Pick| Ok::<_, std::convert::Infallible>(Vec::new());
    let g = match store.lease_next(&p, 0, limits, none).await.unwrap() {
        Ok(g) => g.unwrap(),
        Err(never) => match never {},
    };
    // Heartbeats every half TTL keep it alive up to the cap (3 TTL), then stop extending it.
    let mut now = 0;
    let mut revoked_at = None;
    while now < 10 * TTL {
        now += TTL / 2;
        expire(&store, now).await;
        if !store
            .heartbeat(p.id, &[g.lease], now, TTL, 3 * TTL)
            .await
            .unwrap()
            .is_empty()
        {
            revoked_at = Some(now);
            break;
        }
    }
    let at = revoked_at.expect("the lease must end");
    assert!((3 * TTL..=5 * TTL).contains(&at), "revoked at {at}");
    // It runs out within one TTL after that, and the task goes back to the queue.
    expire(&store, at + TTL + 1).await;
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Queued);
}

/// A split task whose chunk artifacts are stored (a task may name only stored blobs).
async fn split_task(
    store: &Store,
    req: zkpool_types::KeyId,
    segments: usize,
    max_attempts: u32,
) -> NewTask {
    for i in (0..segments as u8).chain([255]) {
        store.put_blob(&[i], 0).await.unwrap();
    }
    let spec = |i: u8| {
        let mut s = TaskSpec {
            system: ProofSystem::MidenVm,
            label: None,
            artifacts: Default::default(),
            segments: None,
            strategy: None,
        };
        s.artifacts.insert(ArtifactRole::Chunks, BlobHash::of(&[i]));
        s
    };
    NewTask {
        requester: req,
        spec: spec(255),
        work: 30,
        memory_bytes: 1,
        statement: b"whole".to_vec(),
        max_attempts,
        segments: (0..segments as u8)
            .map(|i| zkpool_store::NewSegment {
                spec: spec(i),
                work: 10,
                memory_bytes: 1,
                statement: vec![i],
            })
            .collect(),
        group: None,
    }
}

/// A store with two provers and one split task of `segments` segments.
async fn split_setup(
    db: &Db,
    segments: usize,
    max_attempts: u32,
) -> (Store, ProverRecord, ProverRecord, TaskId) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let k2 = store.create_key(Role::Prover, "q", 0).await.unwrap();
    let a = store.register_prover(k.id, &hw("a"), 0).await.unwrap();
    let b = store.register_prover(k2.id, &hw("b"), 0).await.unwrap();
    let task = split_task(&store, req.id, segments, max_attempts).await;
    let id = store.insert_task(&task, 0).await.unwrap();
    (store, a, b, id)
}

async fn a_split_task_is_joined_once_and_only_when_every_segment_is_done(db: Db) {
    let (store, a, b, id) = split_setup(&db, 3, 3).await;
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!((v.state, v.segments.len()), (TaskState::Proving, 3));
    // The split task itself is never leased; `a` gets segment 0, then `b` is offered segment 1
    // before `a` would be offered a second one.
    let g0 = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    let g1 = store.lease_unpaid(&b, 1, TTL).await.unwrap().unwrap();
    let g2 = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    assert_eq!(
        [g0.task, g1.task, g2.task],
        [v.segments[0].id, v.segments[1].id, v.segments[2].id]
    );
    assert!(store.lease_unpaid(&b, 1, TTL).await.unwrap().is_none());
    let proof = BlobHash::of(b"proof");
    for (g, p) in [(&g0, &a), (&g1, &b)] {
        store.complete(&done(g, p.id, &proof), 2).await.unwrap();
    }
    // Two of three done: not ready, and a join attempt writes nothing.
    assert!(store.split_ready(id).await.unwrap().is_none());
    assert!(!store
        .finish_split_with(id, &proof, 1, 3, |_, _| Vec::new())
        .await
        .unwrap());
    store.complete(&done(&g2, a.id, &proof), 4).await.unwrap();
    let parts = store.split_ready(id).await.unwrap().unwrap();
    assert_eq!(parts.segments.len(), 3);
    assert_eq!(parts.statement, b"whole");
    assert_eq!(store.splits_ready().await.unwrap(), vec![id]);
    // The join happens once; each prover's share is the work it proved.
    let mut shares = Vec::new();
    assert!(store
        .finish_split_with(id, &proof, 1, 5, |_, s| {
            shares = s.to_vec();
            Vec::new()
        })
        .await
        .unwrap());
    assert_eq!(shares, vec![(a.key_id, 20), (b.key_id, 10)]);
    assert!(!store
        .finish_split_with(id, &proof, 1, 6, |_, _| panic!("planned twice"))
        .await
        .unwrap());
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Done);
    assert!(store.splits_ready().await.unwrap().is_empty());
    // Segments are listed inside their task, not on their own.
    assert_eq!(store.list_tasks(None, 10).await.unwrap().len(), 1);
}

async fn a_segment_out_of_attempts_fails_its_split_task_and_stops_the_others(db: Db) {
    let (store, a, b, id) = split_setup(&db, 2, 1).await;
    let g0 = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    let g1 = store.lease_unpaid(&b, 1, TTL).await.unwrap().unwrap();
    let state = end(
        &store,
        &ending(&g0, a.id, FaultKind::ProverError, "out of memory"),
        2,
    )
    .await
    .unwrap()
    .state;
    assert_eq!(state, TaskState::Failed);
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Failed);
    assert!(v.failures[0].contains("segment 0"), "{:?}", v.failures);
    assert_eq!(v.segments[1].state, TaskState::Failed);
    // The other segment's lease was revoked: its late proof is refused.
    let late = store
        .complete(&done(&g1, b.id, &BlobHash::of(b"p")), 3)
        .await;
    assert!(late.is_err(), "{late:?}");
    assert!(store.split_ready(id).await.unwrap().is_none());
}

async fn a_prover_is_offered_only_what_fits_beside_what_it_holds(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    // A 1 GiB machine whose agent asks for work again while it proves; segments of 400 MiB.
    let p = store.register_prover(k.id, &hw("p"), 0).await.unwrap();
    let mut t = split_task(&store, req.id, 3, 3).await;
    for s in &mut t.segments {
        s.memory_bytes = 400 << 20;
    }
    let id = store.insert_task(&t, 0).await.unwrap();
    let g0 = store.lease_unpaid(&p, 1, TTL).await.unwrap().unwrap();
    let _g1 = store.lease_unpaid(&p, 1, TTL).await.unwrap().unwrap();
    // 800 MiB held: the third does not fit until one is done.
    assert!(store.lease_unpaid(&p, 1, TTL).await.unwrap().is_none());
    store
        .complete(&done(&g0, p.id, &BlobHash::of(b"p")), 2)
        .await
        .unwrap();
    let g2 = store.lease_unpaid(&p, 3, TTL).await.unwrap().unwrap();
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(g2.task, v.segments[2].id);
}

/// Found by the property test: two segments whose leases expire in the same sweep, the first
/// out of attempts. Failing it stops the second; the sweep must not then re-queue the second.
async fn a_segment_stopped_earlier_in_the_same_sweep_stays_stopped(db: Db) {
    let (store, a, b, id) = split_setup(&db, 2, 1).await;
    store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    store.lease_unpaid(&b, 1, TTL).await.unwrap().unwrap();
    let expired = expire(&store, 2 + TTL).await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Failed);
    assert!(
        v.segments.iter().all(|s| s.state == TaskState::Failed),
        "{v:?}"
    );
    assert!(store
        .lease_unpaid(&a, 3 + TTL, TTL)
        .await
        .unwrap()
        .is_none());
}

/// A quoted insert that fails inside its transaction (here: a replayed nonce, refused by the
/// primary key) must end the transaction before the writer lock is released. Before the fix it
/// returned with `?` and left the rollback to a drop that runs only when that connection is
/// next used, so a writer on another pooled connection waited out the busy timeout and met
/// `database is locked`.
#[tokio::test]
async fn a_failed_quoted_insert_leaves_the_database_writable_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).await.unwrap();
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let t = NewTask::unit(req.id);
    let no_entries = |_| Ok::<_, std::convert::Infallible>(Vec::new());
    store
        .insert_task_with(&t, 7, 0, 1, no_entries)
        .await
        .unwrap()
        .unwrap();
    // Another connection to the same database, as a second process would have, that does
    // not wait at all for the write lock: any transaction the refused insert left open (its
    // rollback deferred to a drop) makes `BEGIN IMMEDIATE` fail here at once.
    use sqlx::ConnectOptions;
    let mut probe = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.path().join("zkpool.db"))
        .busy_timeout(std::time::Duration::ZERO)
        .connect()
        .await
        .unwrap();
    for i in 0..200 {
        let replay = store.insert_task_with(&t, 7, 0, 2 + i, no_entries).await;
        assert!(replay.is_err(), "a replayed nonce must be refused");
        sqlx::raw_sql("BEGIN IMMEDIATE; ROLLBACK;")
            .execute(&mut probe)
            .await
            .unwrap_or_else(|e| {
                panic!("round {i}: the refused insert left the write lock held: {e}")
            });
    }
    for i in 0..20 {
        store.insert_task(&t, 300 + i).await.unwrap();
    }
    assert_eq!(store.list_tasks(None, 100).await.unwrap().len(), 21);
}

/// When a split task fails, a report awaiting a second opinion on another of its segments is
/// moot: its collateral comes back in the same transaction, nothing stays locked.
async fn a_failed_split_task_frees_the_collateral_of_its_pending_reports(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let mut provers = Vec::new();
    for name in ["a", "b", "c"] {
        let k = store.create_key(Role::Prover, name, 0).await.unwrap();
        provers.push(store.register_prover(k.id, &hw(name), 0).await.unwrap());
    }
    let (a, b, c) = (&provers[0], &provers[1], &provers[2]);
    let task = split_task(&store, req.id, 2, 2).await;
    let no_entries = |_| Ok::<_, std::convert::Infallible>(Vec::new());
    store
        .insert_task_with(&task, 1, 10, 0, no_entries)
        .await
        .unwrap()
        .unwrap();
    let lease = |p: &ProverRecord, now: i64| {
        let store = &store;
        let p = p.clone();
        async move {
            let limits = zkpool_store::LeaseLimits {
                stake_available: 100,
                ttl_ms: TTL,
                max_lease_ms: 10 * TTL,
                speed_wps: 0,
            };
            let none = |_: &zkpool_store::Pick| Ok::<_, std::convert::Infallible>(Vec::new());
            match store.lease_next(&p, now, limits, none).await.unwrap() {
                Ok(g) => g.unwrap(),
                Err(never) => match never {},
            }
        }
    };
    let g0 = lease(b, 1).await;
    let g1 = lease(a, 1).await;
    assert!(g0.collateral == 10 && g1.collateral == 10);
    end(
        &store,
        &ending(&g1, a.id, FaultKind::ArtifactReport, "unprovable"),
        2,
    )
    .await
    .unwrap();
    end(&store, &ending(&g0, b.id, FaultKind::ProverError, "oom"), 3)
        .await
        .unwrap();
    let g0 = lease(c, 4).await;
    let v = end(&store, &ending(&g0, c.id, FaultKind::ProverError, "oom"), 5)
        .await
        .unwrap();
    assert_eq!(v.state, TaskState::Failed);
    let freed: Vec<_> = v.collateral.iter().filter(|m| m.key == a.key_id).collect();
    assert_eq!(freed.len(), 1, "{v:?}");
    assert!(!freed[0].slash);
    assert!(store.locked_collateral().await.unwrap().is_empty());
}

async fn upload(
    store: &Store,
    bytes: &[u8],
    key: zkpool_types::KeyId,
    quota: u64,
) -> Result<zkpool_types::api::BlobStored, StoreError> {
    let mut w = store.blob_writer().await.unwrap();
    w.write(bytes).await.unwrap();
    store
        .commit_blob(w, Some(zkpool_store::Uploader { key, quota }), 0)
        .await
}

/// Bytes that differ at every offset, so a chunk served twice or out of order shows.
fn patterned(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| (i % 251) as u8 ^ (i >> 16) as u8)
        .collect()
}

async fn a_blob_of_many_chunks_streams_back_whole(db: Db) {
    use futures::TryStreamExt;
    let store = db.open().await;
    // Two whole chunks of PostgreSQL's 1 MiB and a part, and the empty blob.
    for len in [(5 << 20) / 2, 0, 1 << 20] {
        let bytes = patterned(len);
        let stored = store.put_blob(&bytes, 0).await.unwrap();
        assert_eq!(stored.hash, BlobHash::of(&bytes));
        assert_eq!(stored.size, len as u64);
        let (stream, size) = store.open_blob(&stored.hash).await.unwrap().unwrap();
        assert_eq!(size, len as u64);
        let chunks: Vec<bytes::Bytes> = stream.try_collect().await.unwrap();
        assert_eq!(chunks.concat(), bytes, "{len} bytes streamed");
        assert_eq!(store.read_blob(&stored.hash).await.unwrap().unwrap(), bytes);
        assert!(store.put_blob(&bytes, 1).await.unwrap().existed);
    }
    assert!(store
        .open_blob(&BlobHash::of(b"never stored"))
        .await
        .unwrap()
        .is_none());
    // Collected: gone from every read path, and stored anew on the next upload.
    let gone = store.collect_blobs(10_000, 1_000, 100).await.unwrap();
    assert_eq!(gone.blobs, 3);
    let big = BlobHash::of(&patterned((5 << 20) / 2));
    assert!(store.open_blob(&big).await.unwrap().is_none());
    assert!(store.read_blob(&big).await.unwrap().is_none());
    let again = store
        .put_blob(&patterned((5 << 20) / 2), 10_001)
        .await
        .unwrap();
    assert!(!again.existed);
    assert_eq!(
        store.read_blob(&big).await.unwrap().unwrap(),
        patterned((5 << 20) / 2)
    );
}

/// Replicas on different machines share no disk: a blob stored through one store is read
/// through another with a data directory of its own, and collected through either.
#[tokio::test]
async fn replicas_serve_each_others_blobs_without_a_shared_disk() {
    let Some(db) = Db::postgres().await else {
        return;
    };
    let a = db.open().await;
    let elsewhere = tempfile::tempdir().unwrap();
    let b = Store::open_postgres(&db.url().unwrap(), elsewhere.path())
        .await
        .unwrap();
    let bytes = patterned(3 << 20);
    let stored = a.put_blob(&bytes, 0).await.unwrap();
    assert!(b.has_blob(&stored.hash).await.unwrap());
    assert_eq!(b.read_blob(&stored.hash).await.unwrap().unwrap(), bytes);
    assert!(b.put_blob(&bytes, 1).await.unwrap().existed);
    assert_eq!(b.collect_blobs(10_000, 1_000, 100).await.unwrap().blobs, 1);
    assert!(a.read_blob(&stored.hash).await.unwrap().is_none());
    let chunks: i64 = {
        let pool = sqlx::AnyPool::connect(&db.url().unwrap()).await.unwrap();
        sqlx::query_scalar("SELECT COUNT(*) FROM blob_chunks")
            .fetch_one(&pool)
            .await
            .unwrap()
    };
    assert_eq!(chunks, 0, "a collected blob's chunks are deleted with it");
}

async fn each_key_stores_within_its_quota(db: Db) {
    let store = db.open().await;
    let a = store.create_key(Role::Requester, "a", 0).await.unwrap();
    let b = store.create_key(Role::Requester, "b", 0).await.unwrap();
    assert!(!upload(&store, b"sixsix", a.id, 10).await.unwrap().existed);
    let refused = upload(&store, b"sevens!", a.id, 10).await.unwrap_err();
    assert!(
        matches!(
            refused,
            StoreError::QuotaExceeded {
                used: 6,
                size: 7,
                quota: 10
            }
        ),
        "{refused:?}"
    );
    assert!(!store.has_blob(&BlobHash::of(b"sevens!")).await.unwrap());
    let tmp = std::fs::read_dir(db.dir().join("blobs/tmp"))
        .unwrap()
        .count();
    assert_eq!(tmp, 0, "a refused upload left its bytes behind");
    // re-uploading what the key has costs nothing; another key pays for its own copy
    assert!(upload(&store, b"sixsix", a.id, 6).await.unwrap().existed);
    assert!(!upload(&store, b"sixsix", b.id, 10).await.unwrap().existed);
    assert_eq!(store.stored_bytes(a.id).await.unwrap(), 6);
    assert_eq!(store.stored_bytes(b.id).await.unwrap(), 6);
    assert!(upload(&store, b"0123", b.id, 10).await.is_ok());
    assert!(upload(&store, b"x", b.id, 10).await.is_err());
}

async fn the_collector_keeps_what_live_tasks_need_and_removes_the_rest(db: Db) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let k = store.create_key(Role::Prover, "p", 0).await.unwrap();
    let p = store.register_prover(k.id, &hw("p"), 0).await.unwrap();
    let leased = upload(&store, b"leased", req.id, 1 << 20)
        .await
        .unwrap()
        .hash;
    let finished = upload(&store, b"finished", req.id, 1 << 20)
        .await
        .unwrap()
        .hash;
    let orphan = upload(&store, b"orphan", req.id, 1 << 20)
        .await
        .unwrap()
        .hash;
    let task = |hash: BlobHash| {
        let mut spec = TaskSpec {
            system: ProofSystem::Groth16,
            label: None,
            artifacts: Default::default(),
            segments: None,
            strategy: None,
        };
        spec.artifacts.insert(ArtifactRole::Wtns, hash);
        NewTask {
            requester: req.id,
            spec,
            work: 1,
            memory_bytes: 1,
            statement: b"[]".to_vec(),
            max_attempts: 3,
            segments: Vec::new(),
            group: None,
        }
    };
    // the first task is proved at 10; the second is leased and held (heartbeats) throughout
    store.insert_task(&task(finished), 0).await.unwrap();
    let g = store.lease_unpaid(&p, 5, TTL).await.unwrap().unwrap();
    store
        .complete(&done(&g, p.id, &BlobHash::of(b"p")), 10)
        .await
        .unwrap();
    store.insert_task(&task(leased), 10).await.unwrap();
    let g = store.lease_unpaid(&p, 10, 1 << 40).await.unwrap().unwrap();
    assert_eq!(g.artifacts.get(&ArtifactRole::Wtns), Some(&leased));
    let retention = 100;
    // within the retention period nothing goes
    let none = store.collect_blobs(90, retention, 100).await.unwrap();
    assert_eq!(none.blobs, 0);
    // past it: the orphan goes, the finished task's input stays until it too is past it
    let first = store.collect_blobs(105, retention, 100).await.unwrap();
    assert_eq!((first.blobs, first.bytes), (1, 6));
    assert!(!store.has_blob(&orphan).await.unwrap());
    assert!(store.has_blob(&finished).await.unwrap());
    let later = store.collect_blobs(10_000, retention, 100).await.unwrap();
    assert_eq!(later.blobs, 1);
    assert!(!store.has_blob(&finished).await.unwrap());
    // the leased task's witness is never collected, however old; its prover may still read it
    assert!(store.has_blob(&leased).await.unwrap());
    assert!(store
        .may_read_blob(&leased, k.id, Role::Prover, 10_000)
        .await
        .unwrap());
    assert_eq!(store.read_blob(&leased).await.unwrap().unwrap(), b"leased");
    // a collected blob no longer counts against the quota, and a task cannot name it
    assert_eq!(store.stored_bytes(req.id).await.unwrap(), 6);
    let err = store.insert_task(&task(orphan), 10_000).await.unwrap_err();
    assert!(matches!(err, StoreError::MissingBlob(_)), "{err:?}");
}

/// Two stores on one PostgreSQL database, as two node replicas hold them, race round after
/// round: four provers (two on each store) lease until the queue is empty, all at once, and
/// then both stores complete every lease at the same time. Each task is leased exactly once,
/// under token 1, and completed exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_stores_on_one_postgres_database_lease_each_task_once() {
    use std::collections::HashSet;
    use std::sync::Arc;
    let Some(db) = Db::postgres().await else {
        return;
    };
    let stores = [Arc::new(db.open().await), Arc::new(db.open().await)];
    let req = stores[0].create_key(Role::Requester, "r", 0).await.unwrap();
    let mut provers = Vec::new();
    for i in 0..4 {
        let store = stores[i % 2].clone();
        let k = store
            .create_key(Role::Prover, &format!("p{i}"), 0)
            .await
            .unwrap();
        let p = store
            .register_prover(k.id, &hw(&format!("p{i}")), 0)
            .await
            .unwrap();
        provers.push((store, p));
    }
    let task = NewTask::unit(req.id);
    const ROUNDS: i64 = 30;
    const TASKS: usize = 12;
    for round in 0..ROUNDS {
        let now = 10 + round;
        let mut queued = HashSet::new();
        for i in 0..TASKS {
            queued.insert(stores[i % 2].insert_task(&task, now).await.unwrap());
        }
        let racers: Vec<_> = provers
            .iter()
            .map(|(store, p)| {
                let (store, p) = (store.clone(), p.clone());
                tokio::spawn(async move {
                    let mut got = Vec::new();
                    while let Some(g) = store.lease_unpaid(&p, now, TTL).await.unwrap() {
                        got.push((p.id, g));
                    }
                    got
                })
            })
            .collect();
        let mut grants = Vec::new();
        for r in racers {
            grants.extend(r.await.unwrap());
        }
        let leased: HashSet<TaskId> = grants.iter().map(|(_, g)| g.task).collect();
        assert_eq!(
            grants.len(),
            TASKS,
            "round {round}: a task was leased twice"
        );
        assert_eq!(leased, queued, "round {round}");
        assert!(grants.iter().all(|(_, g)| g.token.0 == 1), "round {round}");
        let completions: Vec<_> = grants
            .iter()
            .flat_map(|(prover, g)| {
                let c = done(g, *prover, &BlobHash::of(b"p"));
                stores.iter().map(move |store| {
                    let (store, c) = (store.clone(), c.clone());
                    tokio::spawn(async move { store.complete(&c, now).await.is_ok() })
                })
            })
            .collect();
        let mut accepted = 0;
        for c in completions {
            accepted += usize::from(c.await.unwrap());
        }
        assert_eq!(accepted, TASKS, "round {round}: a lease completed twice");
    }
    for id in stores[1]
        .list_tasks(None, 10_000)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
    {
        let leases = stores[0].leases_of(id).await.unwrap();
        assert_eq!(leases.len(), 1, "{id}: {leases:?}");
        assert_eq!(leases[0].1.as_deref(), Some("done"), "{id}");
    }
}
