//! One command to join, end to end: the real `zkpool node` process serves `/install.sh` and
//! itself; `curl … | sh -s -- --key KEY` in a temporary HOME downloads the binary from that
//! node, checks its sha256, installs it, and starts the agent, which says hello and proves a
//! task. Refusals: a key that is not a prover key, a missing key, an announced checksum the
//! download does not match.

#![allow(clippy::unwrap_used)]

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use zkpool::demo::submit_circuit;
use zkpool::fixtures::MULTIPLIER;
use zkpool_client::Client;
use zkpool_types::TaskState;

mod common;
use common::{create_key, start_node};

/// The installer's pipeline as an operator types it, in `home`.
fn install(url: &str, home: &Path, args: &str) -> std::process::Command {
    let mut c = std::process::Command::new("sh");
    c.arg("-c")
        .arg(format!("curl -fsSL {url}/install.sh | sh -s -- {args}"))
        .env("HOME", home)
        .env_remove("XDG_CONFIG_HOME")
        .env_remove("ZKPOOL_KEY")
        .env("RUST_LOG", "info")
        .stdin(Stdio::null());
    c
}

fn sha256(path: &Path) -> String {
    zkpool_types::BlobHash::of(&std::fs::read(path).unwrap()).to_hex()
}

/// Kills the agent's whole process group (the shell pipeline and the agent it exec'd).
struct Group(std::process::Child);

impl Drop for Group {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--"])
            .arg(format!("-{}", self.0.id()))
            .status();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_install_sh_installs_the_nodes_own_binary_and_the_agent_proves() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = start_node(dir.path(), 0);
    let url = format!("http://127.0.0.1:{port}");
    let prover_key = create_key(dir.path(), "prover", "home-rig");
    let requester_key = create_key(dir.path(), "requester", "req");
    let home = tempfile::tempdir().unwrap();

    let started = Instant::now();
    let agent = Group(
        install(
            &url,
            home.path(),
            &format!("--key {prover_key} --name home-rig --foreground"),
        )
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap(),
    );

    // The agent says hello…
    let requester = Client::new(&url, &requester_key).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let status = requester.status().await.unwrap();
        if status
            .provers
            .iter()
            .any(|p| p.name == "home-rig" && p.online)
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the installed agent never said hello"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // …and proves.
    let task = submit_circuit(&requester, &MULTIPLIER, 0).await.unwrap();
    loop {
        let v = requester.task(task).await.unwrap();
        if v.state == TaskState::Done {
            break;
        }
        assert!(!v.state.is_final(), "task ended {:?}", v.state);
        assert!(
            Instant::now() < deadline,
            "the installed agent never proved"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let first_proof = started.elapsed();

    // What it installed: the node's own binary, executable; the key in a private file.
    let installed = home.path().join(".local/bin/zkpool");
    let node_binary = Path::new(env!("CARGO_BIN_EXE_zkpool"));
    assert_eq!(sha256(&installed), sha256(node_binary));
    let mode = std::fs::metadata(&installed).unwrap().permissions().mode();
    assert_eq!(mode & 0o111, 0o111, "not executable: {mode:o}");
    let env_file = home.path().join(".config/zkpool/prover.env");
    let mode = std::fs::metadata(&env_file).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o600,
        "the key file is readable by others: {mode:o}"
    );
    let env = std::fs::read_to_string(&env_file).unwrap();
    assert!(env.contains(&format!("ZKPOOL_KEY={prover_key}")));
    assert!(env.contains(&format!("ZKPOOL_POOL={url}")));
    eprintln!(
        "install download {} bytes; curl to first proof {:?}",
        std::fs::metadata(&installed).unwrap().len(),
        first_proof
    );
    drop(agent);

    // The binary is served with its checksum.
    let resp = reqwest::get(format!("{url}/v1/agent/zkpool"))
        .await
        .unwrap();
    assert_eq!(
        resp.headers()["x-checksum-sha256"].to_str().unwrap(),
        sha256(node_binary)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_installer_refuses_bad_keys_and_a_download_that_does_not_match() {
    let dir = tempfile::tempdir().unwrap();
    let (_node, port) = start_node(dir.path(), 0);
    let url = format!("http://127.0.0.1:{port}");
    let requester_key = create_key(dir.path(), "requester", "req");
    let home = tempfile::tempdir().unwrap();

    let refused = |args: &str| {
        let out = install(&url, home.path(), args).output().unwrap();
        assert!(!out.status.success(), "{args}: installed");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(refused("--foreground").contains("give your prover key"));
    assert!(refused(&format!("--key {requester_key} --foreground")).contains("not a prover key"));
    assert!(refused("--key zkp_prover_x --bogus").contains("unknown option --bogus"));
    assert!(!home.path().join(".local/bin/zkpool").exists());

    // The script checks what it downloads against the digest it carries: point it at a pool
    // that serves other bytes under the same path and it installs nothing.
    let script = reqwest::get(format!("{url}/install.sh"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let decoy = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(decoy.path().join("v1/agent")).unwrap();
    std::fs::write(
        decoy.path().join("v1/agent/zkpool"),
        b"#!/bin/sh\necho evil\n",
    )
    .unwrap();
    let tampered = script.replace(&url, &format!("file://{}", decoy.path().display()));
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(&tampered)
        .arg("install.sh")
        .args(["--key", "zkp_prover_x", "--no-start"])
        .env("HOME", home.path())
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("sha256"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!home.path().join(".local/bin/zkpool").exists());

    // A Host header that is not a plain host is refused: it would land in a script.
    let resp = reqwest::Client::new()
        .get(format!("{url}/install.sh"))
        .header("host", "evil';rm -rf ~;'")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}
