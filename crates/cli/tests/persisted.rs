//! A property test over the node's persisted state — the store and the ledger together, through
//! the real HTTP API of a real node, with restarts on the same data directory: random quoted
//! submissions (good artifacts, a key no honest prover can prove with, a race of two provers,
//! a two-leg multi-prover task), leases, valid and
//! invalid results, true and false failure reports, the clock moving past TTLs and windows,
//! manual claims, epoch closes. After every step:
//!
//! - tokens are conserved (every balance summed = deposited − withdrawn);
//! - every finished task has exactly one cause, and a running one none;
//! - the bond leaves `pool_stake` only for `pool_fault`: the pool's stake is what was
//!   deposited, less the bonds of open tasks and of tasks that ended as the pool's fault,
//!   plus the collateral slashed from provers;
//! - the collateral the ledger holds for each key equals what the store says its open leases
//!   (and reports awaiting a verdict) have locked.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use proptest::prelude::*;
use zkpool::demo::{circuit_spec, LocalPool, FUND_POOL_STAKE, FUND_PROVER_STAKE};
use zkpool::fixtures::MULTIPLIER;
use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_client::Client;
use zkpool_ledger::Amount;
use zkpool_node::{ManualClock, NodeConfig};
use zkpool_types::api::{Hello, LeaseGrant, ReportKind};
use zkpool_types::settlement::LedgerSummary;
use zkpool_types::{
    ArtifactRole, HardwareReport, KeyId, ProofSystem, ProverId, TaskCause, TaskId, TaskSpec,
};

const PROVERS: usize = 3;
const TTL: Duration = Duration::from_secs(10);

#[derive(Clone, Debug)]
enum Step {
    /// Quote and submit a paid task: good artifacts, a key with swapped H points, a race of
    /// two, or a multi-prover task of two legs (one claim).
    Submit {
        kind: Kind,
    },
    Lease {
        prover: usize,
    },
    UploadValid {
        prover: usize,
    },
    UploadInvalid {
        prover: usize,
    },
    Report {
        prover: usize,
        artifacts: bool,
    },
    Advance {
        ms: u64,
    },
    /// The requester claims one of its tasks (refused unless its window closed unsettled).
    Claim {
        nth: usize,
    },
    CloseEpoch,
    Restart,
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Good,
    Bad,
    Race,
    Multi,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        3 => prop_oneof![Just(Kind::Good), Just(Kind::Bad), Just(Kind::Race), Just(Kind::Multi)]
            .prop_map(|kind| Step::Submit { kind }),
        4 => (0..PROVERS).prop_map(|prover| Step::Lease { prover }),
        3 => (0..PROVERS).prop_map(|prover| Step::UploadValid { prover }),
        1 => (0..PROVERS).prop_map(|prover| Step::UploadInvalid { prover }),
        2 => (0..PROVERS, any::<bool>()).prop_map(|(prover, artifacts)| Step::Report { prover, artifacts }),
        2 => prop_oneof![Just(5_000u64), Just(11_000), Just(70_000)].prop_map(|ms| Step::Advance { ms }),
        1 => (0..8usize).prop_map(|nth| Step::Claim { nth }),
        1 => Just(Step::CloseEpoch),
        1 => Just(Step::Restart),
    ]
}

struct World {
    /// `None` only for the moment of a restart.
    node: Option<LocalPool>,
    clock: ManualClock,
    config: NodeConfig,
    /// Each prover key's secret and its machine id.
    provers: Vec<(KeyId, String, ProverId)>,
    /// The lease each prover holds (it may have gone stale).
    held: HashMap<usize, LeaseGrant>,
    /// Bond of every paid task.
    bonds: BTreeMap<TaskId, u128>,
    /// Pool stake deposited so far (each start of `LocalPool` deposits once).
    pool_deposits: u128,
    good: TaskSpec,
    bad: TaskSpec,
    race: TaskSpec,
    multi: TaskSpec,
}

fn hw(name: &str) -> HardwareReport {
    HardwareReport {
        name: name.into(),
        os: "test".into(),
        cpu_cores: 1,
        memory_bytes: 1 << 34,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "test".into(),
    }
}

fn valid_proof() -> &'static [u8] {
    static PROOF: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    PROOF.get_or_init(|| {
        let mut a = Artifacts::default();
        a.insert(ArtifactRole::R1cs, Blob::new(MULTIPLIER.r1cs.to_vec()));
        a.insert(ArtifactRole::Zkey, Blob::new(MULTIPLIER.zkey.to_vec()));
        a.insert(ArtifactRole::Wtns, Blob::new(MULTIPLIER.wtns.to_vec()));
        zkpool_groth16::Groth16Backend::new().prove(&a).unwrap().0
    })
}

impl World {
    async fn start(dir: &Path) -> World {
        let clock = ManualClock::starting_now();
        let mut config = NodeConfig {
            lease_ttl: TTL,
            reap_interval: Duration::from_secs(3_600),
            clock: Arc::new(clock.clone()),
            ..NodeConfig::default()
        };
        config.settlement.pricing.overhead_ms = 0;
        let pool = LocalPool::with_config(Some(dir.to_path_buf()), config.clone())
            .await
            .unwrap();
        let mut provers = Vec::new();
        for i in 0..PROVERS {
            let (key, secret) = pool
                .prover_key(&format!("p{i}"), FUND_PROVER_STAKE)
                .await
                .unwrap();
            let c = Client::new(&pool.url(), &secret).unwrap();
            let id = c
                .hello(&Hello {
                    hardware: hw(&format!("p{i}")),
                    payout: None,
                })
                .await
                .unwrap()
                .prover_id;
            provers.push((key, secret, id));
        }
        let good = circuit_spec(&pool.requester, &MULTIPLIER, 0).await.unwrap();
        let mut bad = good.clone();
        let swapped = zkpool_groth16::tamper::swap_h_points(MULTIPLIER.zkey).unwrap();
        bad.artifacts.insert(
            ArtifactRole::Zkey,
            pool.requester.upload(swapped).await.unwrap(),
        );
        let race = TaskSpec {
            strategy: Some(zkpool_types::Strategy::Race { m: 2 }),
            ..good.clone()
        };
        let backend = zkpool_groth16::Groth16Backend::new();
        let mut a = Artifacts::default();
        a.insert(ArtifactRole::R1cs, Blob::new(MULTIPLIER.r1cs.to_vec()));
        a.insert(ArtifactRole::Zkey, Blob::new(MULTIPLIER.zkey.to_vec()));
        a.insert(ArtifactRole::Wtns, Blob::new(MULTIPLIER.wtns.to_vec()));
        let public: Vec<String> =
            serde_json::from_slice(&backend.inspect(&a).unwrap().statement).unwrap();
        let leg = zkpool_types::Leg {
            spec: good.clone(),
            signals: vec!["out:0".parse().unwrap(), "in:0".parse().unwrap()],
        };
        let multi = TaskSpec {
            artifacts: Default::default(),
            strategy: Some(zkpool_types::Strategy::MultiProver {
                claim: zkpool_types::Claim {
                    function: "multiplier".into(),
                    inputs: vec![public[1].clone()],
                    outputs: vec![public[0].clone()],
                },
                k: 2,
                legs: vec![leg.clone(), leg],
            }),
            ..good.clone()
        };
        World {
            node: Some(pool),
            clock,
            config,
            provers,
            held: HashMap::new(),
            bonds: BTreeMap::new(),
            pool_deposits: Amount::from_tokens(FUND_POOL_STAKE).base_units(),
            good,
            bad,
            race,
            multi,
        }
    }

    fn pool(&self) -> &LocalPool {
        self.node.as_ref().unwrap()
    }

    fn prover(&self, i: usize) -> Client {
        Client::new(&self.pool().url(), &self.provers[i].1).unwrap()
    }

    async fn run(&mut self, dir: &Path, step: &Step) {
        match step {
            Step::Submit { kind } => {
                let spec = match kind {
                    Kind::Good => &self.good,
                    Kind::Bad => &self.bad,
                    Kind::Race => &self.race,
                    Kind::Multi => &self.multi,
                };
                let Ok(issued) = self.pool().requester.quote(spec.clone(), 60_000).await else {
                    return;
                };
                let bond = issued.signed.quote.bond.0;
                if let Ok(s) = self
                    .pool()
                    .requester
                    .submit_quoted(spec.clone(), issued.signed)
                    .await
                {
                    self.bonds.insert(s.task_id, bond);
                }
            }
            Step::Lease { prover } => {
                let id = self.provers[*prover].2;
                if let Ok(Some(g)) = self.prover(*prover).lease(id, Duration::ZERO).await {
                    self.held.insert(*prover, g);
                }
            }
            Step::UploadValid { prover } | Step::UploadInvalid { prover } => {
                let Some(g) = self.held.get(prover) else {
                    return;
                };
                let bytes = match step {
                    Step::UploadValid { .. } => valid_proof().to_vec(),
                    _ => b"{\"proof\": {}, \"public\": []}".to_vec(),
                };
                let _ = self
                    .prover(*prover)
                    .upload_result(g.lease_id, g.token, 1, bytes)
                    .await;
            }
            Step::Report { prover, artifacts } => {
                let Some(g) = self.held.get(prover) else {
                    return;
                };
                let kind = if *artifacts {
                    ReportKind::ArtifactFault
                } else {
                    ReportKind::ProverError
                };
                let _ = self
                    .prover(*prover)
                    .report_failure(g.lease_id, g.token, "test", kind)
                    .await;
            }
            Step::Advance { ms } => {
                self.clock.advance(Duration::from_millis(*ms));
                self.pool().node.sweep().await;
            }
            Step::Claim { nth } => {
                if let Some(id) = self.bonds.keys().nth(*nth).copied() {
                    // After a restart the task belongs to an earlier requester key and the
                    // claim is refused as not found: that, too, must change nothing.
                    let _ = self.pool().requester.claim(id).await;
                }
            }
            Step::CloseEpoch => {
                self.pool().admin.close_epoch().await.unwrap();
            }
            Step::Restart => {
                self.node.take().unwrap().stop().await;
                let pool = LocalPool::with_config(Some(dir.to_path_buf()), self.config.clone())
                    .await
                    .unwrap();
                self.node = Some(pool);
                self.pool_deposits += Amount::from_tokens(FUND_POOL_STAKE).base_units();
            }
        }
    }

    async fn check(&self) {
        let ledger: LedgerSummary = self.pool().admin.ledger().await.unwrap();
        let balance = |a: &str| {
            ledger
                .accounts
                .iter()
                .find(|(n, _)| n == a)
                .map_or(0, |(_, b)| b.0)
        };
        // Conservation.
        let held: u128 = ledger.accounts.iter().map(|(_, b)| b.0).sum();
        assert_eq!(held, ledger.deposited.0 - ledger.withdrawn.0, "{ledger:?}");
        // Causes.
        let tasks = self.pool().admin.status().await.unwrap().tasks;
        let mut bond_out = 0u128;
        for t in &tasks {
            assert_eq!(t.state.is_final(), t.cause.is_some(), "{t:?}");
            let bond = self.bonds.get(&t.id).copied().unwrap_or(0);
            match (t.state.is_final(), t.cause) {
                // An open paid task holds its bond; one that ended as the pool's fault paid
                // it out; every other end gave it back.
                (false, _) | (true, Some(TaskCause::PoolFault)) => bond_out += bond,
                _ => {}
            }
            assert_ne!(
                t.cause,
                Some(TaskCause::ProverFault),
                "a paid task never ends so: {t:?}"
            );
        }
        // Collateral: the ledger's per key equals the store's per key.
        let store_locked: BTreeMap<KeyId, u64> = self
            .pool()
            .store
            .locked_collateral()
            .await
            .unwrap()
            .into_iter()
            .collect();
        let mut slashed_total = 0u128;
        for (key, _, _) in &self.provers {
            let c = balance(&format!("collateral:{key}"));
            assert_eq!(
                c,
                u128::from(store_locked.get(key).copied().unwrap_or(0)),
                "collateral of {key}: ledger {c}, store {store_locked:?}"
            );
            let stake = balance(&format!("prover_stake:{key}"));
            slashed_total += Amount::from_tokens(FUND_PROVER_STAKE).base_units() - stake - c;
        }
        assert_eq!(
            balance("pool_stake"),
            self.pool_deposits - bond_out + slashed_total,
            "the bond left the pool's stake only for pool_fault: {tasks:?}"
        );
    }
}

async fn run(steps: Vec<Step>) {
    let dir = tempfile::tempdir().unwrap();
    let mut world = World::start(dir.path()).await;
    for s in &steps {
        world.run(dir.path(), s).await;
        world.check().await;
    }
    world.node.take().unwrap().stop().await;
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, .. ProptestConfig::default() })]
    #[test]
    fn the_persisted_node_state_keeps_the_liability_invariants(
        steps in proptest::collection::vec(step(), 1..40)
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run(steps));
    }
}
