//! The harness the node's API tests share: a real node on a loopback socket, with the real
//! Groth16 backend unless a test brings its own.

#![allow(clippy::unwrap_used, dead_code)]

use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use zkpool_backend::{Artifacts, Backends, Blob, ProofBackend};
use zkpool_client::{Client, ClientError};
use zkpool_node::{Node, NodeConfig};
use zkpool_store::Store;
use zkpool_types::api::{Hello, Role};
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec};

pub fn fixture(circuit: &str, file: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(circuit)
        .join(file);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The multiplier fixture's r1cs, zkey and witness.
pub fn multiplier() -> Artifacts {
    let mut a = Artifacts::default();
    for (role, file) in [
        (ArtifactRole::R1cs, "multiplier.r1cs"),
        (ArtifactRole::Zkey, "multiplier.zkey"),
        (ArtifactRole::Wtns, "multiplier.wtns"),
    ] {
        a.insert(role, Blob::new(fixture("multiplier", file)));
    }
    a
}

/// A valid proof of the multiplier fixture's witness.
pub fn multiplier_proof() -> Vec<u8> {
    zkpool_groth16::Groth16Backend::new()
        .prove(&multiplier())
        .unwrap()
        .0
}

pub struct TestNode {
    pub url: String,
    pub store: Arc<Store>,
    pub node: Arc<Node>,
    pub stop: CancellationToken,
    pub dir: tempfile::TempDir,
}

impl TestNode {
    pub async fn start(config: NodeConfig) -> Self {
        let backends = Backends::default().with(Arc::new(zkpool_groth16::Groth16Backend::new()));
        Self::start_with(config, backends).await
    }

    pub async fn start_with(config: NodeConfig, backends: Backends) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(Store::open(dir.path()).await.unwrap());
        Self::start_on(config, backends, store, dir).await
    }

    /// A node on `store` (a replica, when another node shares its database).
    pub async fn start_on(
        config: NodeConfig,
        backends: Backends,
        store: Arc<Store>,
        dir: tempfile::TempDir,
    ) -> Self {
        let node = Node::new(store.clone(), backends, config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let stop = CancellationToken::new();
        let s = stop.clone();
        tokio::spawn(zkpool_node::run(listener, node.clone(), async move {
            s.cancelled().await
        }));
        Self {
            url,
            store,
            node,
            stop,
            dir,
        }
    }

    pub async fn client(&self, role: Role, name: &str) -> Client {
        let key = self.store.create_key(role, name, 0).await.unwrap();
        Client::new(&self.url, &key.secret).unwrap()
    }

    pub async fn task_count(&self) -> usize {
        self.store.list_tasks(None, 1000).await.unwrap().len()
    }
}

impl Drop for TestNode {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

pub fn code(r: Result<impl std::fmt::Debug, ClientError>) -> (u16, String) {
    match r {
        Err(ClientError::Api { status, code, .. }) => (status, code),
        other => panic!("expected an API error, got {other:?}"),
    }
}

pub async fn spec(c: &Client, circuit: &str, r1cs: &str, zkey: &str, wtns: Vec<u8>) -> TaskSpec {
    let mut s = TaskSpec {
        system: ProofSystem::Groth16,
        label: Some(circuit.into()),
        artifacts: Default::default(),
        segments: None,
        strategy: None,
    };
    s.artifacts.insert(
        ArtifactRole::R1cs,
        c.upload(fixture(r1cs, &format!("{r1cs}.r1cs")))
            .await
            .unwrap(),
    );
    s.artifacts.insert(
        ArtifactRole::Zkey,
        c.upload(fixture(zkey, &format!("{zkey}.zkey")))
            .await
            .unwrap(),
    );
    s.artifacts
        .insert(ArtifactRole::Wtns, c.upload(wtns).await.unwrap());
    s
}

pub async fn hello(c: &Client, name: &str) -> zkpool_types::ProverId {
    let mut hw = zkpool_types::HardwareReport {
        name: name.into(),
        os: "linux".into(),
        cpu_cores: 2,
        memory_bytes: 8 << 30,
        gpus: vec![],
        systems: vec![ProofSystem::Groth16],
        jobs: 1,
        agent_version: "t".into(),
    };
    hw.name = name.into();
    c.hello(&Hello {
        hardware: hw,
        payout: None,
    })
    .await
    .unwrap()
    .prover_id
}
