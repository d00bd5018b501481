//! Multi-prover and racing tasks in the store: one key per leg, a group finished once with
//! exactly the legs it needs, a race's loser never done, a failed leg failing its group only
//! when too few legs are left, a split leg joined inside its group. Each body runs on both
//! databases (`on_both_stores!` in `store.rs`).

use zkpool_store::{GroupFinish, NewGroup, NewLeg, NewTask, ProverRecord, Store, StoreError};
use zkpool_types::api::Role;
use zkpool_types::{
    ArtifactRole, BlobHash, Composition, FaultKind, ProofSystem, TaskCause, TaskId, TaskSpec,
    TaskState,
};

use super::{done, end, expire, hw, Db, TTL};

fn leg(system: ProofSystem, i: u8) -> NewLeg {
    NewLeg {
        spec: TaskSpec {
            system,
            label: Some(format!("leg {i}")),
            artifacts: Default::default(),
            segments: None,
            strategy: None,
        },
        work: 10,
        memory_bytes: 1,
        statement: vec![i],
        segments: Vec::new(),
    }
}

fn group(req: zkpool_types::KeyId, composition: Composition, legs: Vec<NewLeg>) -> NewTask {
    NewTask {
        group: Some(NewGroup { composition, legs }),
        ..NewTask::unit(req)
    }
}

/// A store with a requester and provers: `a` and `a2` share one key, `b` and `c` have their own.
pub async fn setup(db: &Db) -> (Store, zkpool_types::KeyId, [ProverRecord; 4]) {
    let store = db.open().await;
    let req = store.create_key(Role::Requester, "r", 0).await.unwrap();
    let ka = store.create_key(Role::Prover, "a", 0).await.unwrap();
    let kb = store.create_key(Role::Prover, "b", 0).await.unwrap();
    let kc = store.create_key(Role::Prover, "c", 0).await.unwrap();
    let a = store.register_prover(ka.id, &hw("a"), 0).await.unwrap();
    let a2 = store.register_prover(ka.id, &hw("a2"), 0).await.unwrap();
    let b = store.register_prover(kb.id, &hw("b"), 0).await.unwrap();
    let c = store.register_prover(kc.id, &hw("c"), 0).await.unwrap();
    (store, req.id, [a, a2, b, c])
}

fn no_entries(_: &GroupFinish) -> Result<Vec<zkpool_ledger::Entry>, std::convert::Infallible> {
    Ok(Vec::new())
}

pub async fn a_group_takes_one_key_per_leg_and_finishes_once(db: Db) {
    let (store, req, [a, a2, b, c]) = setup(&db).await;
    let legs = (0..3).map(|i| leg(ProofSystem::Groth16, i)).collect();
    let id = store
        .insert_task(&group(req, Composition::AllOf { k: 2, n: 3 }, legs), 0)
        .await
        .unwrap();
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.state, TaskState::Proving);
    assert_eq!(v.composition, Some(Composition::AllOf { k: 2, n: 3 }));
    let ga = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    assert!(
        store.lease_unpaid(&a2, 1, TTL).await.unwrap().is_none(),
        "a key holding one leg takes no other"
    );
    let gb = store.lease_unpaid(&b, 1, TTL).await.unwrap().unwrap();
    let gc = store.lease_unpaid(&c, 1, TTL).await.unwrap().unwrap();
    let legs: Vec<TaskId> = v.segments.iter().map(|l| l.id).collect();
    assert_eq!(vec![ga.task, gb.task, gc.task], legs);
    let proof = BlobHash::of(b"proof");
    store.complete(&done(&ga, a.id, &proof), 2).await.unwrap();
    assert!(store.group_ready(id).await.unwrap().is_none());
    store.complete(&done(&gb, b.id, &proof), 3).await.unwrap();
    // Two of three done: the third leg can no longer be done.
    let late = store.complete(&done(&gc, c.id, &proof), 4).await;
    assert!(
        matches!(late, Err(StoreError::StaleLease { .. })),
        "{late:?}"
    );
    let parts = store.group_ready(id).await.unwrap().unwrap();
    assert_eq!(
        parts.legs.iter().map(|l| l.index).collect::<Vec<_>>(),
        [0, 1]
    );
    assert_eq!(store.groups_ready().await.unwrap(), vec![id]);
    assert!(
        store.splits_ready().await.unwrap().is_empty(),
        "a group is not a split task"
    );
    // A refused plan stops nothing and finishes nothing.
    let refused = store
        .finish_group_with(id, &proof, 5, |_| Err::<Vec<zkpool_ledger::Entry>, _>("no"))
        .await
        .unwrap();
    assert_eq!(refused, Err("no"));
    assert_eq!(store.groups_ready().await.unwrap(), vec![id]);
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(v.segments[2].state, TaskState::Leased);
    let mut finish = None;
    assert!(store
        .finish_group_with(id, &proof, 5, |f| {
            finish = Some(f.clone());
            no_entries(f)
        })
        .await
        .unwrap()
        .unwrap());
    let f = finish.unwrap();
    assert_eq!(
        f.shares,
        vec![
            (a.key_id, ProofSystem::Groth16, 10),
            (b.key_id, ProofSystem::Groth16, 10)
        ]
    );
    assert!(!store
        .finish_group_with(id, &proof, 6, |_| -> Result<_, std::convert::Infallible> {
            panic!("finished twice")
        })
        .await
        .unwrap()
        .unwrap());
    let v = store.task_view(id).await.unwrap().unwrap();
    assert_eq!(
        (v.state, v.cause),
        (TaskState::Done, Some(TaskCause::Proved))
    );
    assert_eq!(v.segments[2].cause, Some(TaskCause::Stopped));
    assert!(store.groups_ready().await.unwrap().is_empty());
    // The stopped leg's lease is gone.
    let again = store.complete(&done(&gc, c.id, &proof), 7).await;
    assert!(again.is_err());
}

pub async fn a_race_has_one_winner(db: Db) {
    let (store, req, [a, _, b, _]) = setup(&db).await;
    let copies = (0..2).map(|_| leg(ProofSystem::Groth16, 0)).collect();
    let id = store
        .insert_task(&group(req, Composition::Race { m: 2 }, copies), 0)
        .await
        .unwrap();
    let ga = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    assert!(store.lease_unpaid(&a, 1, TTL).await.unwrap().is_none());
    let gb = store.lease_unpaid(&b, 1, TTL).await.unwrap().unwrap();
    let proof = BlobHash::of(b"p");
    store.complete(&done(&gb, b.id, &proof), 2).await.unwrap();
    let loser = store.complete(&done(&ga, a.id, &proof), 3).await;
    assert!(
        matches!(loser, Err(StoreError::StaleLease { .. })),
        "{loser:?}"
    );
    assert_eq!(
        store
            .finish_group_with(id, &proof, 4, no_entries)
            .await
            .unwrap(),
        Ok(true)
    );
    let v = store.task_view(id).await.unwrap().unwrap();
    let winners: Vec<_> = v
        .segments
        .iter()
        .filter(|l| l.state == TaskState::Done)
        .collect();
    assert_eq!(winners.len(), 1);
    assert_eq!(winners[0].prover, Some(b.id));
}

pub async fn a_failed_leg_fails_its_group_only_when_too_few_are_left(db: Db) {
    let (store, req, [a, _, b, _]) = setup(&db).await;
    // 1 of 2: one leg failing for good leaves enough.
    let mut t = group(
        req,
        Composition::AllOf { k: 1, n: 2 },
        vec![leg(ProofSystem::Groth16, 0), leg(ProofSystem::Groth16, 1)],
    );
    t.max_attempts = 1;
    let lenient = store.insert_task(&t, 0).await.unwrap();
    let g = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    let v = end(
        &store,
        &super::ending(&g, a.id, FaultKind::ProverError, "oom"),
        2,
    )
    .await
    .unwrap();
    assert_eq!(v.state, TaskState::Failed);
    assert!(v.settle.is_none());
    let view = store.task_view(lenient).await.unwrap().unwrap();
    assert_eq!(view.state, TaskState::Proving);
    // 2 of 2: a leg out of attempts ends the group, and its other leg stops.
    let t = group(
        req,
        Composition::AllOf { k: 2, n: 2 },
        vec![leg(ProofSystem::Groth16, 2), leg(ProofSystem::Groth16, 3)],
    );
    let strict = store
        .insert_task(
            &NewTask {
                max_attempts: 1,
                ..t
            },
            10,
        )
        .await
        .unwrap();
    let strict_legs: Vec<TaskId> = store
        .task_view(strict)
        .await
        .unwrap()
        .unwrap()
        .segments
        .iter()
        .map(|l| l.id)
        .collect();
    // b takes the lenient task's other leg first, then one of the strict task's legs.
    let mut held = Vec::new();
    while let Some(g) = store.lease_unpaid(&b, 11, TTL).await.unwrap() {
        held.push(g);
    }
    let strict_grant = held
        .iter()
        .find(|g| strict_legs.contains(&g.task))
        .expect("b holds a strict leg");
    expire(&store, 11 + TTL + 1).await;
    let view = store.task_view(strict).await.unwrap().unwrap();
    assert_eq!(view.state, TaskState::Failed, "{view:?}");
    assert_eq!(view.cause, Some(TaskCause::ProverFault));
    assert!(view.segments.iter().all(|l| l.state == TaskState::Failed));
    assert!(store
        .complete(&done(strict_grant, b.id, &BlobHash::of(b"x")), 3000)
        .await
        .is_err());
}

pub async fn a_split_leg_is_joined_inside_its_group(db: Db) {
    let (store, req, [a, _, b, c]) = setup(&db).await;
    let mut miden = leg(ProofSystem::MidenVm, 1);
    for i in 0..2u8 {
        store.put_blob(&[i], 0).await.unwrap();
        let mut spec = miden.spec.clone();
        spec.artifacts
            .insert(ArtifactRole::Chunks, BlobHash::of(&[i]));
        miden.segments.push(zkpool_store::NewSegment {
            spec,
            work: 5,
            memory_bytes: 1,
            statement: vec![10 + i],
        });
    }
    let mut hw_all = hw("m");
    hw_all.systems = vec![ProofSystem::Groth16, ProofSystem::MidenVm];
    let ka = store.create_key(Role::Prover, "miden-a", 0).await.unwrap();
    let kb = store.create_key(Role::Prover, "miden-b", 0).await.unwrap();
    let ma = store.register_prover(ka.id, &hw_all, 0).await.unwrap();
    let mb = store.register_prover(kb.id, &hw_all, 0).await.unwrap();
    let id = store
        .insert_task(
            &group(
                req,
                Composition::AllOf { k: 2, n: 2 },
                vec![leg(ProofSystem::Groth16, 0), miden],
            ),
            0,
        )
        .await
        .unwrap();
    let view = store.task_view(id).await.unwrap().unwrap();
    let miden_leg = view.segments[1].id;
    assert_eq!(
        view.segments[1].segments.len(),
        2,
        "a split leg shows its segments"
    );
    let proof = BlobHash::of(b"p");
    let g0 = store.lease_unpaid(&a, 1, TTL).await.unwrap().unwrap();
    assert_eq!(g0.task, view.segments[0].id);
    // The key that holds the Groth16 leg takes no segment of the Miden leg.
    assert!(store.lease_unpaid(&a, 1, TTL).await.unwrap().is_none());
    let s0 = store.lease_unpaid(&ma, 1, TTL).await.unwrap().unwrap();
    let s1 = store.lease_unpaid(&mb, 1, TTL).await.unwrap().unwrap();
    for (g, p) in [(&s0, &ma), (&s1, &mb)] {
        store.complete(&done(g, p.id, &proof), 2).await.unwrap();
    }
    // Neither b nor c may take anything now: everything is leased or done.
    assert!(store.lease_unpaid(&b, 2, TTL).await.unwrap().is_none());
    assert!(store.lease_unpaid(&c, 2, TTL).await.unwrap().is_none());
    assert_eq!(store.splits_ready().await.unwrap(), vec![miden_leg]);
    assert!(store
        .finish_split_with(miden_leg, &proof, 1, 3, |_, _| Vec::new())
        .await
        .unwrap());
    store.complete(&done(&g0, a.id, &proof), 4).await.unwrap();
    let mut shares = Vec::new();
    assert!(store
        .finish_group_with(id, &proof, 5, |f| {
            shares = f.shares.clone();
            no_entries(f)
        })
        .await
        .unwrap()
        .unwrap());
    // Paid per lease: the Groth16 leg's key and each segment's key, with their systems.
    shares.sort();
    let mut want = vec![
        (a.key_id, ProofSystem::Groth16, 10),
        (ma.key_id, ProofSystem::MidenVm, 5),
        (mb.key_id, ProofSystem::MidenVm, 5),
    ];
    want.sort();
    assert_eq!(shares, want);
    assert_eq!(
        store.root_of(s0.task).await.unwrap(),
        id,
        "the ledger knows a segment of a leg by its group"
    );
}

/// Leases and completions run side by side on PostgreSQL (they share the writer lock): two
/// stores on one database, as two replicas hold them, complete the two legs of a race at the
/// same moment, round after round (on SQLite, one store twice). The group's row lock makes one of them the winner every
/// time, and the other is refused: a race never pays two provers.
pub async fn racing_legs_completed_at_once_on_two_replicas_have_one_winner(db: Db) {
    use std::sync::Arc;
    let (first, req, [a, _, b, _]) = setup(&db).await;
    let first = Arc::new(first);
    // SQLite serves one node process: there the two completions race through one store.
    let second = match db.url() {
        Some(_) => Arc::new(db.open().await),
        None => first.clone(),
    };
    let stores = [first, second];
    let proof = BlobHash::of(b"p");
    for round in 0..20i64 {
        let now = 10 + round * 10;
        let copies = (0..2).map(|_| leg(ProofSystem::Groth16, 0)).collect();
        let id = stores[0]
            .insert_task(&group(req, Composition::Race { m: 2 }, copies), now)
            .await
            .unwrap();
        let ga = stores[0].lease_unpaid(&a, now, TTL).await.unwrap().unwrap();
        let gb = stores[1].lease_unpaid(&b, now, TTL).await.unwrap().unwrap();
        let racers = [(0, ga, a.id), (1, gb, b.id)].map(|(s, g, p)| {
            let (store, c) = (stores[s].clone(), done(&g, p, &proof));
            tokio::spawn(async move { store.complete(&c, now + 1).await })
        });
        let mut won = 0;
        for r in racers {
            match r.await.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::StaleLease { .. }) => {}
                Err(e) => panic!("round {round}: {e:?}"),
            }
        }
        assert_eq!(won, 1, "round {round}: both legs of a race completed");
        let v = stores[1].task_view(id).await.unwrap().unwrap();
        let done_legs = v.segments.iter().filter(|l| l.state == TaskState::Done);
        assert_eq!(done_legs.count(), 1, "round {round}");
    }
}
