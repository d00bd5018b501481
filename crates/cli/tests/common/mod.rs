//! Helpers for the tests that run the `zkpool` binary itself as a separate process.

#![allow(dead_code, clippy::unwrap_used)]

use std::path::Path;
use std::process::Stdio;

/// A child process killed when dropped.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn zkpool(args: &[&str]) -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_zkpool"));
    c.args(args).env("RUST_LOG", "warn").stdin(Stdio::null());
    c
}

/// Starts `zkpool node` on `port` (0: any free one) and returns it with the port it bound,
/// read from its own startup line, so no test picks a port that someone else may take first.
pub fn start_node(dir: &Path, port: u16) -> (Child, u16) {
    start_node_with(dir, port, &[])
}

/// [`start_node`] with extra `zkpool node` flags.
pub fn start_node_with(dir: &Path, port: u16, extra: &[&str]) -> (Child, u16) {
    use std::io::BufRead;
    let mut child = zkpool(&[
        "node",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--lease-ttl",
        "4",
        "--heartbeat",
        "1",
    ])
    .args(extra)
    .arg("--data-dir")
    .arg(dir)
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let bound = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| {
            let rest = l.split("zkpool node on http://").nth(1)?;
            let addr: std::net::SocketAddr = rest.split_whitespace().next()?.parse().ok()?;
            Some(addr.port())
        })
        .expect("the node printed its address");
    // Keep draining its stderr so the node never blocks on a full pipe; shown with
    // ZKPOOL_TEST_LOGS=1 when a test needs its story.
    let show = std::env::var_os("ZKPOOL_TEST_LOGS").is_some();
    std::thread::spawn(move || {
        for l in lines.map_while(Result::ok) {
            if show {
                eprintln!("[node {bound}] {l}");
            }
        }
    });
    (Child(child), bound)
}

pub fn create_key(dir: &Path, role: &str, name: &str) -> String {
    create_key_with(dir, role, name, &[])
}

/// [`create_key`] with extra `zkpool keys create` flags (`--database URL`).
pub fn create_key_with(dir: &Path, role: &str, name: &str, extra: &[&str]) -> String {
    let out = zkpool(&["keys", "create", "--role", role, "--name", name])
        .args(extra)
        .arg("--data-dir")
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// Each of `ids` has exactly one lease that ended `done`: proved once, paid once.
pub async fn assert_done_once(store: &zkpool_store::Store, ids: &[zkpool_types::TaskId]) {
    for id in ids {
        let leases = store.leases_of(*id).await.unwrap();
        let done = leases
            .iter()
            .filter(|(_, o)| o.as_deref() == Some("done"))
            .count();
        assert_eq!(done, 1, "task {id} leases: {leases:?}");
    }
}

/// Starts `zkpool prover` with `key` on the pool replicas `pools` (tried in order), its
/// stderr shown with ZKPOOL_TEST_LOGS=1.
pub fn spawn_prover(pools: &[&str], key: &str, name: &str, jobs: u32) -> Child {
    let logs = std::env::var_os("ZKPOOL_TEST_LOGS").is_some();
    Child(
        zkpool(&[
            "prover",
            "--pool",
            &pools.join(","),
            "--key",
            key,
            "--name",
            name,
        ])
        .args(["--jobs", &jobs.to_string()])
        .stderr(if logs {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .unwrap(),
    )
}
