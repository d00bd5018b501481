//! A local chain: Foundry's `anvil` (installed by `npm ci` from `@foundry-rs/anvil-linux-amd64`)
//! as a child process on a free loopback port, with its ten funded development accounts.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use alloy::signers::local::PrivateKeySigner;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::error::ChainError;

/// How long anvil may take to say where it listens.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running anvil; killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The chain id it runs (31337 unless told otherwise).
    pub chain_id: u64,
    /// Its funded accounts, in anvil's order (account 0 first).
    pub keys: Vec<PrivateKeySigner>,
    child: Child,
}

impl Anvil {
    /// Where `npm ci` puts the binary, below the repository root.
    pub fn bin_in(repo_root: &Path) -> PathBuf {
        repo_root.join("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil")
    }

    /// Starts `bin` on a free port and waits until it listens.
    pub async fn spawn(bin: &Path, chain_id: u64) -> Result<Anvil, ChainError> {
        let mut child = Command::new(bin)
            .args(["--host", "127.0.0.1", "--port", "0", "--chain-id"])
            .arg(chain_id.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| {
                ChainError::Anvil(format!(
                    "cannot start {}: {e} (run `npm ci` at the repository root)",
                    bin.display()
                ))
            })?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| ChainError::Anvil("no stdout".into()))?;
        let mut lines = BufReader::new(stdout).lines();
        let mut keys = Vec::new();
        let mut in_keys = false;
        let url = tokio::time::timeout(START_TIMEOUT, async {
            while let Some(line) = lines
                .next_line()
                .await
                .map_err(|e| ChainError::Anvil(e.to_string()))?
            {
                let line = line.trim();
                if line.starts_with("Private Keys") {
                    in_keys = true;
                } else if in_keys && line.starts_with('(') {
                    if let Some(hex) = line.split_whitespace().nth(1) {
                        let key = hex
                            .parse::<PrivateKeySigner>()
                            .map_err(|e| ChainError::Anvil(format!("private key: {e}")))?;
                        keys.push(key);
                    }
                } else if let Some(addr) = line.strip_prefix("Listening on ") {
                    return Ok(format!("http://{addr}"));
                } else if !line.is_empty() && !line.starts_with('=') {
                    in_keys = in_keys && line.starts_with('(');
                }
            }
            Err(ChainError::Anvil("exited before listening".into()))
        })
        .await
        .map_err(|_| ChainError::Anvil("did not listen within 30 s".into()))??;
        // Keep draining stdout so anvil never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        if keys.is_empty() {
            return Err(ChainError::Anvil("printed no development keys".into()));
        }
        Ok(Anvil {
            url,
            chain_id,
            keys,
            child,
        })
    }

    /// Stops the chain now.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
