use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use zkpool_node::{Node, NodeConfig};
use zkpool_store::{now_ms, Store};
use zkpool_types::api::Role;

/// `zkpool node`.
#[derive(Args, Debug)]
pub struct NodeArgs {
    /// Directory for the database and stored artifacts (created if missing).
    #[arg(long, env = "ZKPOOL_DATA_DIR", default_value = "./pool")]
    pub data_dir: PathBuf,
    /// The database, when not SQLite in the data directory: a PostgreSQL URL
    /// (`postgres://USER@HOST/DB`). Artifacts, `admin.key` and `pool.key` stay in the data
    /// directory.
    #[arg(long, env = "ZKPOOL_DATABASE", value_name = "URL")]
    pub database: Option<String>,
    /// Address to listen on. Use 0.0.0.0:7070 to accept provers from other machines.
    #[arg(long, env = "ZKPOOL_LISTEN", default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    /// Seconds a lease lives without a heartbeat before the task goes back to the queue.
    #[arg(long = "lease-ttl", value_name = "SECS", default_value_t = 30)]
    pub lease_ttl_secs: u64,
    /// Longest a task may stay with one prover, in seconds, heartbeats or not.
    #[arg(long = "max-lease", value_name = "SECS", default_value_t = 3600)]
    pub max_lease_secs: u64,
    /// Seconds between agent heartbeats.
    #[arg(long = "heartbeat", value_name = "SECS", default_value_t = 5)]
    pub heartbeat_secs: u64,
    /// Longest a prover's lease request waits for work, in seconds, before it is answered
    /// `204 No Content` (agents ask again at once).
    #[arg(long = "max-long-poll", value_name = "SECS", default_value_t = 20)]
    pub max_long_poll_secs: u64,
    /// Largest artifact upload accepted, in bytes (refused before it is buffered).
    #[arg(long, default_value_t = 256 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// Leases a task may have before it is marked failed.
    #[arg(long, default_value_t = 3)]
    pub max_attempts: u32,
    /// Most trace rows in one segment of a split (Miden) task. Segments are also sized to fit
    /// the memory of the largest online prover.
    #[arg(long, value_name = "ROWS", default_value_t = 1 << 17)]
    pub max_segment_rows: u64,
    /// Quotes, fees, bonds, penalties and epochs.
    #[command(flatten)]
    pub settlement: crate::settlement_cmd::SettlementArgs,
    /// Request budgets, timeouts, quotas.
    #[command(flatten)]
    pub limits: crate::limits_cmd::LimitArgs,
    /// Settlement on the pool contract (`--settlement ethereum`).
    #[command(flatten)]
    pub chain: crate::chain_cmd::ChainArgs,
    /// The URL prover machines reach this node at (written into `/install.sh`; behind a
    /// TLS proxy, its https URL). Default: the host the installer was fetched from.
    #[arg(long, env = "ZKPOOL_PUBLIC_URL", value_name = "URL")]
    pub public_url: Option<String>,
}

impl NodeArgs {
    fn config(&self) -> anyhow::Result<NodeConfig> {
        anyhow::ensure!(
            self.lease_ttl_secs >= 2,
            "--lease-ttl must be at least 2 seconds"
        );
        anyhow::ensure!(
            self.heartbeat_secs >= 1,
            "--heartbeat must be at least 1 second"
        );
        anyhow::ensure!(
            self.heartbeat_secs * 2 <= self.lease_ttl_secs,
            "--heartbeat must be at most half of --lease-ttl, or leases expire between heartbeats"
        );
        anyhow::ensure!(self.max_attempts >= 1, "--max-attempts must be at least 1");
        anyhow::ensure!(
            self.max_segment_rows >= 1024,
            "--max-segment-rows must be at least 1024"
        );
        let mut config = NodeConfig {
            lease_ttl: Duration::from_secs(self.lease_ttl_secs),
            max_lease: Duration::from_secs(self.max_lease_secs.max(self.lease_ttl_secs)),
            heartbeat: Duration::from_secs(self.heartbeat_secs),
            max_long_poll: Duration::from_secs(self.max_long_poll_secs),
            max_upload_bytes: self.max_upload_bytes,
            max_attempts: self.max_attempts,
            max_segment_rows: self.max_segment_rows,
            ..NodeConfig::default()
        };
        self.limits.apply(&mut config)?;
        if let Some(url) = &self.public_url {
            // It is written into a shell script provers run: plain URL characters only.
            let plain = url
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!&()*+,;=%".contains(&b))
                && !url.contains(['\'', '"', '`', '$']);
            anyhow::ensure!(
                plain && (url.starts_with("http://") || url.starts_with("https://")),
                "--public-url must be an http:// or https:// URL of plain characters, got {url:?}"
            );
        }
        Ok(config)
    }
}

/// Opens the store — SQLite in `data_dir`, or the PostgreSQL database at `database` —
/// making sure an admin key exists; a new one is written to `data-dir/admin.key` (readable by
/// the owner only).
pub async fn open_store(data_dir: &Path, database: Option<&str>) -> anyhow::Result<Arc<Store>> {
    tokio::fs::create_dir_all(data_dir)
        .await
        .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
    let store = match database {
        None => Store::open(data_dir)
            .await
            .with_context(|| format!("cannot open the pool database in {}", data_dir.display()))?,
        Some(url) => {
            anyhow::ensure!(
                url.starts_with("postgres://") || url.starts_with("postgresql://"),
                "--database must be a postgres:// URL (without it the node uses SQLite in the \
                 data directory)"
            );
            Store::open_postgres(url, data_dir)
                .await
                .context("cannot open the PostgreSQL database given by --database")?
        }
    };
    let key_file = data_dir.join("admin.key");
    let has_admin = store
        .list_keys()
        .await?
        .iter()
        .any(|k| k.role == Role::Admin);
    if !has_admin {
        let key = store.create_key(Role::Admin, "admin", now_ms()).await?;
        write_private(&key_file, &key.secret)?;
        tracing::info!(path = %key_file.display(), "created the admin key");
    }
    Ok(Arc::new(store))
}

/// Writes a secret to a new file that is private from its first byte: created with mode 0600
/// in the same call that creates it (never world-readable, not even for a moment), and never
/// over an existing file.
pub(crate) fn write_private(path: &Path, secret: &str) -> anyhow::Result<()> {
    use std::io::Write;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let mut file = open
        .open(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    file.write_all(format!("{secret}\n").as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Runs the node until Ctrl-C.
pub async fn run(args: NodeArgs) -> anyhow::Result<()> {
    let mut config = args.config()?;
    let store = open_store(&args.data_dir, args.database.as_deref()).await?;
    let signer = crate::settlement_cmd::load_pool_key(&args.data_dir)?;
    let address = signer.address().to_string();
    let pinned = store.pin_pool_signer(&address).await?;
    anyhow::ensure!(
        pinned == address,
        "this database's pool signs quotes as {pinned}, but {} holds the key of {address}: \
         replicas of one pool share one signing key, so copy pool.key from a running replica \
         into {} and start again",
        args.data_dir.join("pool.key").display(),
        args.data_dir.display()
    );
    config.chain = args.chain.config(&signer).await?;
    match &config.chain {
        None => eprintln!(
            "pool address {} on chain {} (signing key in {}); settling on the embedded ledger",
            signer.address(),
            args.settlement.chain_id,
            args.data_dir.join("pool.key").display()
        ),
        Some(c) => eprintln!(
            "settling on chain {}: pool contract {}, operator {}, quotes signed by {} ({} \
             trusted verifier(s))",
            c.contract.chain_id(),
            c.contract.contract(),
            c.contract.pool_account(),
            signer.address(),
            c.verifiers.len()
        ),
    }
    config.settlement = args.settlement.config(signer)?;
    if let Some(shared) = zkpool_node::wake::SharedWake::start(store.clone())
        .await
        .context("cannot listen for other replicas' work notifications")?
    {
        config.work_signal = shared;
    }
    // The node serves itself as the prover agent (`/install.sh`).
    config.agent_binary = std::env::current_exe().ok();
    config.public_url = args.public_url.clone();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "cannot listen on {} (in use? try --listen 127.0.0.1:0)",
                args.listen
            )
        })?;
    let addr = listener.local_addr()?;
    eprintln!("zkpool node on http://{addr}  (dashboard: http://{addr}/)");
    eprintln!(
        "data dir {}; admin key in {}; database: {}",
        args.data_dir.display(),
        args.data_dir.join("admin.key").display(),
        if args.database.is_some() {
            "PostgreSQL (--database)"
        } else {
            "SQLite in the data dir"
        }
    );
    eprintln!(
        "create keys with: zkpool keys create --data-dir {} --role prover --name rig-1",
        args.data_dir.display()
    );
    let public = args
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{addr}"));
    eprintln!("provers join with: curl -fsSL {public}/install.sh | sh -s -- --key zkp_prover_…");
    let node = Node::new(
        store.clone(),
        crate::backends_with(args.limits.groth16(), args.limits.miden()),
        config,
    );
    zkpool_node::run(listener, node, crate::shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_created_private_and_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("admin.key");
        write_private(&path, "s3cret").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "mode {mode:o}");
        }
        assert!(write_private(&path, "other").is_err());
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "s3cret\n");
    }
}
