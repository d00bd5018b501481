//! `zkpool devnet`'s presets, each with a real quoted task of the bundled multiplier circuit
//! submitted over HTTP and the outcome README's Devnet section promises, read back through
//! the API: the task's state and cause, the requester's balance and claims, the ledger.
//!
//! The machinery is the command's own (`devnet::start`), with shorter timings. Where a test
//! needs the faulty prover to take the task first, it starts the devnet with the faulty
//! prover alone, waits for the fault, and only then adds the honest one.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use zkpool::demo::{circuit_spec, FUND_PROVER_STAKE, FUND_TREASURY};
use zkpool::devnet::{self, Devnet, DevnetConfig, Preset, ProverEvent, Timing};
use zkpool::fixtures::MULTIPLIER;
use zkpool_client::{Client, ClientError};
use zkpool_ledger::Amount;
use zkpool_prover::{AgentEvent, Fault};
use zkpool_types::api::TaskView;
use zkpool_types::{TaskCause, TaskId, TaskState};

/// A window that closes before a faulty prover alone can use up the task's attempts.
const SHORT_WINDOW: Duration = Duration::from_secs(4);
/// A window that an honest prover beside a faulty one always meets.
const LONG_WINDOW: Duration = Duration::from_secs(60);

fn timing() -> Timing {
    Timing {
        lease_ttl: Duration::from_millis(1_500),
        heartbeat: Duration::from_millis(300),
        max_lease: Duration::from_secs(3),
        reap_interval: Duration::from_millis(100),
        late_hold: Duration::from_secs(6),
        restart_after: Duration::from_millis(500),
        max_attempts: 20,
        seed: 3,
    }
}

async fn start(preset: Preset, honest: u32) -> Devnet {
    devnet::start(DevnetConfig {
        preset,
        honest,
        faulty: 1,
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: None,
        timing: timing(),
    })
    .await
    .unwrap()
}

/// A quoted (paid) multiplier task: its id, reward and bond.
async fn submit(d: &Devnet, variant: u64, window: Duration) -> (TaskId, u128, u128) {
    let client = &d.pool.requester;
    let spec = circuit_spec(client, &MULTIPLIER, variant).await.unwrap();
    let issued = client
        .quote(spec.clone(), window.as_millis() as u64)
        .await
        .unwrap();
    let (reward, bond) = (issued.signed.quote.reward.0, issued.signed.quote.bond.0);
    assert!(reward > 0 && bond > 0);
    let id = client
        .submit_quoted(spec, issued.signed)
        .await
        .unwrap()
        .task_id;
    (id, reward, bond)
}

async fn wait_final(client: &Client, id: TaskId) -> TaskView {
    zkpool::demo::wait_final(client, id, Duration::from_secs(40))
        .await
        .unwrap()
}

/// Waits for the first prover event `matches` accepts.
async fn wait_event(d: &Devnet, what: &str, matches: impl Fn(&ProverEvent) -> bool) -> ProverEvent {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(e) = d.events().into_iter().find(|e| matches(e)) {
            return e;
        }
        assert!(
            Instant::now() < deadline,
            "no {what} among {:?}",
            d.events()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn tokens(n: u64) -> u128 {
    Amount::from_tokens(n).base_units()
}

fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Err(e) => e.code().unwrap_or("none").to_string(),
        Ok(v) => panic!("expected a refusal, got {v:?}"),
    }
}

/// The promise for a faulty prover alone: the window closes without a proof, the task ends
/// `pool_fault`, and the automatic claim paid refund and bond, once.
async fn assert_claimed_once(d: &Devnet, id: TaskId, available_before: u128, bond: u128) {
    let v = wait_final(&d.pool.requester, id).await;
    assert_eq!(
        (v.state, v.cause),
        (TaskState::Failed, Some(TaskCause::PoolFault)),
        "{v:?}"
    );
    let b = d.pool.requester.balance().await.unwrap();
    assert!(b.open_tasks.is_empty(), "{b:?}");
    assert_eq!((b.escrowed.0, b.claimable.0), (0, 0), "{b:?}");
    assert_eq!(b.available.0, available_before + bond, "refund + bond");
    assert_eq!(
        code(d.pool.requester.claim(id).await),
        "already_settled",
        "the claim was paid once, automatically"
    );
}

/// The promise beside an honest prover: the task is proved by the honest one after the faulty
/// one's lease ended, and paid: 80 % of the reward to it, the rest to the treasury.
async fn assert_rescued(
    d: &Devnet,
    id: TaskId,
    honest: zkpool_types::KeyId,
    reward: u128,
) -> TaskView {
    let v = wait_final(&d.pool.requester, id).await;
    assert_eq!(
        (v.state, v.cause),
        (TaskState::Done, Some(TaskCause::Proved)),
        "{v:?}"
    );
    assert_eq!(v.prover_name.as_deref(), Some("honest-1"), "{v:?}");
    assert!(v.attempts >= 2, "{v:?}");
    let ledger = d.pool.admin.ledger().await.unwrap();
    let share = reward * 8_000 / 10_000;
    assert_eq!(ledger.balance(&format!("prover:{honest}")), share);
    assert_eq!(
        ledger.balance("treasury"),
        tokens(FUND_TREASURY) + reward - share
    );
    assert_eq!(
        ledger.balance(&format!("prover_stake:{honest}")),
        tokens(FUND_PROVER_STAKE),
        "the honest prover's collateral came back"
    );
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_alone_lets_the_window_close_and_the_claim_pays() {
    let d = start(Preset::Silent, 0).await;
    let before = d.pool.requester.balance().await.unwrap().available.0;
    let (id, reward, bond) = submit(&d, 0, SHORT_WINDOW).await;
    assert_eq!(
        d.pool.requester.balance().await.unwrap().available.0,
        before - reward
    );
    assert_claimed_once(&d, id, before, bond).await;
    let v = d.pool.requester.task(id).await.unwrap();
    assert!(
        v.failures.iter().any(|f| f.contains("expired")),
        "the silent prover's lease expired: {v:?}"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_beside_honest_the_lease_expires_and_the_task_moves_and_is_paid() {
    let mut d = start(Preset::Silent, 0).await;
    let (id, reward, _) = submit(&d, 0, LONG_WINDOW).await;
    wait_event(&d, "silent lease", |(_, e)| {
        *e == AgentEvent::Leased {
            task: id,
            behaviour: Fault::Stall,
        }
    })
    .await;
    let honest = d.add_prover("honest-1", Fault::None).await.unwrap();
    let v = assert_rescued(&d, id, honest, reward).await;
    assert!(v.failures[0].contains("expired"), "{v:?}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_beside_honest_the_false_proof_is_refused_and_the_liar_slashed() {
    let mut d = start(Preset::Invalid, 0).await;
    let (id, reward, _) = submit(&d, 0, LONG_WINDOW).await;
    let (liar, refused) = wait_event(
        &d,
        "refused proof",
        |(_, e)| matches!(e, AgentEvent::ProofRefused { task, .. } if *task == id),
    )
    .await;
    assert_eq!(liar, "invalid-1");
    let AgentEvent::ProofRefused { code, .. } = refused else {
        unreachable!()
    };
    assert_eq!(code, "invalid_proof");
    let honest = d.add_prover("honest-1", Fault::None).await.unwrap();
    let v = assert_rescued(&d, id, honest, reward).await;
    assert!(v.failures[0].contains("invalid"), "{v:?}");
    let ledger = d.pool.admin.ledger().await.unwrap();
    let stakes: Vec<u128> = ledger
        .accounts
        .iter()
        .filter(|(a, _)| a.starts_with("prover_stake:") && *a != format!("prover_stake:{honest}"))
        .map(|(_, b)| b.0)
        .collect();
    assert_eq!(stakes.len(), 1, "{ledger:?}");
    assert!(
        stakes[0] < tokens(FUND_PROVER_STAKE),
        "the liar was slashed"
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_alone_the_window_closes_first_and_the_late_proof_is_refused() {
    let d = start(Preset::Late, 0).await;
    let before = d.pool.requester.balance().await.unwrap().available.0;
    let (id, _, bond) = submit(&d, 0, SHORT_WINDOW).await;
    assert_claimed_once(&d, id, before, bond).await;
    let (_, refused) = wait_event(&d, "the late upload", |(_, e)| {
        matches!(e, AgentEvent::ProofRefused { task, .. } | AgentEvent::ProofAccepted { task } if *task == id)
    })
    .await;
    assert_eq!(
        refused,
        AgentEvent::ProofRefused {
            task: id,
            code: "stale_lease".into()
        }
    );
    // The refused upload changed nothing: still the pool's fault, still paid once.
    let v = d.pool.requester.task(id).await.unwrap();
    assert_eq!(v.cause, Some(TaskCause::PoolFault), "{v:?}");
    assert_eq!(
        d.pool.requester.balance().await.unwrap().available.0,
        before + bond
    );
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_beside_honest_the_lease_expires_and_the_honest_prover_proves() {
    let mut d = start(Preset::Crash, 0).await;
    let (id, reward, _) = submit(&d, 0, LONG_WINDOW).await;
    wait_event(&d, "a crash", |(_, e)| {
        *e == AgentEvent::Crashed { task: id }
    })
    .await;
    let honest = d.add_prover("honest-1", Fault::None).await.unwrap();
    let v = assert_rescued(&d, id, honest, reward).await;
    assert!(v.failures[0].contains("expired"), "{v:?}");
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flaky_beside_honest_every_task_is_proved() {
    let mut d = start(Preset::Flaky, 0).await;
    let mut ids = Vec::new();
    for variant in 0..4 {
        ids.push(submit(&d, variant, LONG_WINDOW).await.0);
    }
    // The seed makes the flaky prover misbehave before it runs out of tasks.
    wait_event(
        &d,
        "a faulty draw",
        |(_, e)| matches!(e, AgentEvent::Leased { behaviour, .. } if *behaviour != Fault::None),
    )
    .await;
    d.add_prover("honest-1", Fault::None).await.unwrap();
    for id in ids {
        let v = wait_final(&d.pool.requester, id).await;
        assert_eq!(
            (v.state, v.cause),
            (TaskState::Done, Some(TaskCause::Proved)),
            "{v:?}"
        );
    }
    d.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_proves_and_pays_and_the_banner_names_keys_and_urls() {
    let d = start(Preset::None, 1).await;
    let (id, reward, _) = submit(&d, 0, LONG_WINDOW).await;
    let v = wait_final(&d.pool.requester, id).await;
    assert_eq!((v.state, v.attempts), (TaskState::Done, 1), "{v:?}");
    let ledger = d.pool.admin.ledger().await.unwrap();
    assert_eq!(
        ledger.balance("treasury"),
        tokens(FUND_TREASURY) + reward - reward * 8_000 / 10_000
    );
    let banner = d.banner();
    for needle in [
        d.url(),
        format!("{}/", d.url()),
        d.pool.requester_secret.clone(),
        d.pool.admin_secret.clone(),
        "zkpool quote".into(),
        "--quote quote.json".into(),
    ] {
        assert!(banner.contains(&needle), "{needle} missing from:\n{banner}");
    }
    d.stop().await;
}
