//! Multi-prover tasks (one claim, k of n legs) and races (m provers, the first valid proof
//! wins), against a real node on loopback with the real Groth16 backend: legs go to different
//! keys, claims the legs do not state are refused at submit, the bundle is certified, a race
//! pays its winner once and refuses its loser.

#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{code, fixture, hello, multiplier, multiplier_proof, spec, TestNode};
use zkpool_backend::ProofBackend;
use zkpool_client::Client;
use zkpool_ledger::certificate::bundle_terms;
use zkpool_ledger::quote::QuoteSignature;
use zkpool_node::NodeConfig;
use zkpool_types::api::{LeaseGrant, Role};
use zkpool_types::{
    Bundle, Claim, ClaimRef, Composition, Leg, ProofSystem, Strategy, TaskCause, TaskId, TaskSpec,
    TaskState,
};

/// The multiplier's public signals `[c, a]` as a claim: `multiply(a) = c`.
fn multiplier_claim() -> Claim {
    let backend = zkpool_groth16::Groth16Backend::new();
    let shape = backend.inspect(&multiplier()).unwrap();
    let public: Vec<String> = serde_json::from_slice(&shape.statement).unwrap();
    Claim {
        function: "multiplier".into(),
        inputs: vec![public[1].clone()],
        outputs: vec![public[0].clone()],
    }
}

async fn leg_spec(c: &Client) -> TaskSpec {
    spec(
        c,
        "multiplier",
        "multiplier",
        "multiplier",
        fixture("multiplier", "multiplier.wtns"),
    )
    .await
}

fn multi(claim: Claim, k: u32, legs: Vec<Leg>) -> TaskSpec {
    TaskSpec {
        system: ProofSystem::Groth16,
        label: Some("two of a kind".into()),
        artifacts: Default::default(),
        segments: None,
        strategy: Some(Strategy::MultiProver { claim, k, legs }),
    }
}

fn signals(names: &[&str]) -> Vec<ClaimRef> {
    names.iter().map(|s| s.parse().unwrap()).collect()
}

async fn wait_final(c: &Client, id: TaskId) -> zkpool_types::api::TaskView {
    for _ in 0..200 {
        let v = c.task(id).await.unwrap();
        if v.state.is_final() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("task {id} did not end");
}

async fn lease(c: &Client, p: zkpool_types::ProverId) -> Option<LeaseGrant> {
    c.lease(p, Duration::from_millis(50)).await.unwrap()
}

#[tokio::test]
async fn each_leg_goes_to_another_key_and_the_bundle_is_certified() {
    let n = TestNode::start(NodeConfig::default()).await;
    let req = n.client(Role::Requester, "rollup").await;
    let a_key = n.store.create_key(Role::Prover, "op-a", 0).await.unwrap();
    let a1 = Client::new(&n.url, &a_key.secret).unwrap();
    let a2 = Client::new(&n.url, &a_key.secret).unwrap();
    let b = n.client(Role::Prover, "op-b").await;
    let (pa1, pa2, pb) = (
        hello(&a1, "a-1").await,
        hello(&a2, "a-2").await,
        hello(&b, "b-1").await,
    );
    let leg = leg_spec(&req).await;
    let legs = vec![
        Leg {
            spec: leg.clone(),
            signals: signals(&["out:0", "in:0"]),
        },
        Leg {
            spec: leg,
            signals: signals(&["out:0", "in:0"]),
        },
    ];
    let id = req
        .submit(multi(multiplier_claim(), 2, legs))
        .await
        .unwrap()
        .task_id;
    let view = req.task(id).await.unwrap();
    assert_eq!(view.state, TaskState::Proving);
    assert_eq!(view.composition, Some(Composition::AllOf { k: 2, n: 2 }));
    assert_eq!(view.segments.len(), 2);

    // One machine of key A takes a leg; A's other machine gets nothing (the other leg needs
    // another operator); key B takes it.
    let ga = lease(&a1, pa1).await.expect("a leg for A");
    assert!(lease(&a2, pa2).await.is_none(), "one key, one leg");
    let gb = lease(&b, pb).await.expect("the other leg for B");
    assert_ne!(ga.task_id, gb.task_id);
    // A leg's proof uploaded on the other leg's lease, by its holder: refused.
    assert_eq!(
        code(
            a1.upload_result(gb.lease_id, gb.token, 1, multiplier_proof())
                .await
        ),
        (409, "stale_lease".into())
    );
    a1.upload_result(ga.lease_id, ga.token, 5, multiplier_proof())
        .await
        .unwrap();
    assert_eq!(req.task(id).await.unwrap().state, TaskState::Proving);
    b.upload_result(gb.lease_id, gb.token, 5, multiplier_proof())
        .await
        .unwrap();
    let done = wait_final(&req, id).await;
    assert_eq!(done.state, TaskState::Done);
    assert_eq!(done.cause, Some(TaskCause::Proved));

    // The bundle: both legs, certified by the pool's key over exactly them.
    let bundle: Bundle = serde_json::from_slice(&req.proof(id).await.unwrap()).unwrap();
    assert_eq!((bundle.k, bundle.n, bundle.legs.len()), (2, 2, 2));
    let terms = bundle_terms(&bundle).unwrap();
    let sig: QuoteSignature = serde_json::from_value(serde_json::Value::String(
        bundle.certificate.signature.clone(),
    ))
    .unwrap();
    let pool = n.node.config.settlement.signer.address();
    assert_eq!(terms.recover(&sig).unwrap(), pool);
    // A leg removed or a claim altered: the same signature no longer recovers the pool.
    let mut cut = bundle.clone();
    cut.legs.pop();
    assert_ne!(bundle_terms(&cut).unwrap().recover(&sig).ok(), Some(pool));
    let mut other = bundle.clone();
    other.claim.outputs[0] = "1".into();
    assert_ne!(bundle_terms(&other).unwrap().recover(&sig).ok(), Some(pool));
}

#[tokio::test]
async fn claims_the_legs_do_not_state_are_refused_and_store_nothing() {
    let n = TestNode::start(NodeConfig::default()).await;
    let req = n.client(Role::Requester, "rollup").await;
    let leg = leg_spec(&req).await;
    let claim = multiplier_claim();
    let with = |names: &[&str]| Leg {
        spec: leg.clone(),
        signals: signals(names),
    };
    let good = || vec![with(&["out:0", "in:0"]), with(&["out:0", "in:0"])];
    let cases: Vec<(TaskSpec, u16, &str)> = vec![
        // Public signals in another order.
        (
            multi(
                claim.clone(),
                2,
                vec![with(&["out:0", "in:0"]), with(&["in:0", "out:0"])],
            ),
            422,
            "claim_mismatch",
        ),
        // One signal short.
        (
            multi(
                claim.clone(),
                2,
                vec![with(&["out:0", "in:0"]), with(&["out:0"])],
            ),
            422,
            "claim_mismatch",
        ),
        // A claim value no signal states.
        (
            multi(
                Claim {
                    inputs: vec![claim.inputs[0].clone(), "5".into()],
                    ..claim.clone()
                },
                2,
                good(),
            ),
            422,
            "claim_mismatch",
        ),
        // Outputs the circuit does not compute.
        (
            multi(
                Claim {
                    outputs: vec!["34".into()],
                    ..claim.clone()
                },
                2,
                good(),
            ),
            422,
            "claim_mismatch",
        ),
        (multi(claim.clone(), 0, good()), 400, "bad_spec"),
        (multi(claim.clone(), 3, good()), 400, "bad_spec"),
        (
            multi(claim.clone(), 1, vec![with(&["out:0", "in:0"])]),
            400,
            "bad_spec",
        ),
        (
            multi(
                Claim {
                    inputs: vec!["007".into()],
                    ..claim.clone()
                },
                2,
                good(),
            ),
            400,
            "bad_spec",
        ),
        (
            TaskSpec {
                strategy: Some(Strategy::Race { m: 1 }),
                ..leg.clone()
            },
            400,
            "bad_spec",
        ),
        (
            TaskSpec {
                strategy: Some(Strategy::Race { m: 99 }),
                ..leg.clone()
            },
            400,
            "bad_spec",
        ),
    ];
    for (spec, status, want) in cases {
        assert_eq!(
            code(req.submit(spec.clone()).await),
            (status, want.to_string()),
            "{spec:?}"
        );
    }
    // Another requester's uploads cannot be a leg.
    let other = n.client(Role::Requester, "other").await;
    assert_eq!(
        code(other.submit(multi(claim, 2, good())).await).1,
        "unknown_blob"
    );
    assert_eq!(n.task_count().await, 0);
}

#[tokio::test]
async fn a_race_pays_its_first_valid_proof_once_and_refuses_the_loser() {
    let n = TestNode::start(NodeConfig::default()).await;
    let admin = n.client(Role::Admin, "op").await;
    let req_key = n.store.create_key(Role::Requester, "app", 0).await.unwrap();
    let req = Client::new(&n.url, &req_key.secret).unwrap();
    admin
        .deposit(&format!("requester:k-{}", req_key.id.0), 10u128.pow(24))
        .await
        .unwrap();
    admin.deposit("pool_stake", 10u128.pow(24)).await.unwrap();
    let mut racers = Vec::new();
    for name in ["fast", "slow", "idle"] {
        let key = n.store.create_key(Role::Prover, name, 0).await.unwrap();
        admin
            .deposit(&format!("prover:k-{}", key.id.0), 10u128.pow(22))
            .await
            .unwrap();
        let c = Client::new(&n.url, &key.secret).unwrap();
        c.stake(10u128.pow(22)).await.unwrap();
        let p = hello(&c, name).await;
        racers.push((key.id, c, p));
    }
    let spec = TaskSpec {
        strategy: Some(Strategy::Race { m: 3 }),
        ..leg_spec(&req).await
    };
    let quote = req.quote(spec.clone(), 60_000).await.unwrap();
    let id = req
        .submit_quoted(spec, quote.signed.clone())
        .await
        .unwrap()
        .task_id;
    let reward = quote.signed.quote.reward.0;
    let mut grants = Vec::new();
    for (i, (_, c, p)) in racers.iter().enumerate() {
        grants.push(lease(c, *p).await.expect("every racer leases a copy"));
        if i == 0 {
            // Two copies are still queued, but no key races against itself.
            assert!(lease(c, *p).await.is_none());
        }
    }
    let before = admin.ledger().await.unwrap();
    racers[0]
        .1
        .upload_result(grants[0].lease_id, grants[0].token, 3, multiplier_proof())
        .await
        .unwrap();
    // The loser's valid proof after the winner's: refused, never paid.
    assert_eq!(
        code(
            racers[1]
                .1
                .upload_result(grants[1].lease_id, grants[1].token, 4, multiplier_proof())
                .await
        ),
        (409, "stale_lease".into())
    );
    let done = wait_final(&req, id).await;
    assert_eq!(done.state, TaskState::Done);
    assert_eq!(done.composition, Some(Composition::Race { m: 3 }));
    let causes: Vec<_> = done.segments.iter().map(|l| l.cause).collect();
    assert_eq!(
        causes
            .iter()
            .filter(|c| **c == Some(TaskCause::Proved))
            .count(),
        1
    );
    assert_eq!(
        causes
            .iter()
            .filter(|c| **c == Some(TaskCause::Stopped))
            .count(),
        2
    );
    // The idle racer's lease was withdrawn: its heartbeat says so.
    let ack = racers[2]
        .1
        .heartbeat(racers[2].2, vec![grants[2].lease_id])
        .await
        .unwrap();
    assert_eq!(ack.revoked, vec![grants[2].lease_id]);
    // Paid once: 80 % of the reward to the winner's key, nothing to the others, every
    // collateral back.
    let after = admin.ledger().await.unwrap();
    let credit = |l: &zkpool_types::settlement::LedgerSummary, k: zkpool_types::KeyId| {
        l.balance(&format!("prover:k-{}", k.0))
    };
    assert_eq!(
        credit(&after, racers[0].0) - credit(&before, racers[0].0),
        reward * 8 / 10
    );
    for (key, _, _) in &racers[1..] {
        assert_eq!(credit(&after, *key), credit(&before, *key));
    }
    for (key, _, _) in &racers {
        assert_eq!(after.balance(&format!("collateral:k-{}", key.0)), 0);
    }
}
