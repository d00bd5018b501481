use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use zkpool_client::Client;
use zkpool_store::now_ms;
use zkpool_types::api::Role;

/// `zkpool keys`.
#[derive(Subcommand, Debug)]
pub enum KeysCommand {
    /// Create an access key and print it (shown once; the pool stores only its hash).
    Create(CreateArgs),
    /// List access keys (names and roles, never secrets).
    List(Target),
    /// Revoke an access key: its next call gets 401, a prover key's open leases go back to
    /// the queue at once (over --pool) or within a sweep (--data-dir).
    Revoke(RevokeArgs),
}

/// `zkpool keys revoke`.
#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// The key's id, as `keys list` shows it (`k-3`).
    key: zkpool_types::KeyId,
    #[command(flatten)]
    target: Target,
}

/// Where the keys live: the node's data directory on this machine, or a running node's API.
#[derive(Args, Debug)]
pub struct Target {
    /// The node's data directory (used when --pool is not given).
    #[arg(long, env = "ZKPOOL_DATA_DIR", default_value = "./pool")]
    data_dir: PathBuf,
    /// The node's PostgreSQL database, when it runs with --database.
    #[arg(long, env = "ZKPOOL_DATABASE", value_name = "URL")]
    database: Option<String>,
    /// A running pool's URL, to manage keys remotely with --admin-key.
    #[arg(long)]
    pool: Option<String>,
    /// The admin key (see data-dir/admin.key on the node).
    #[arg(long, env = "ZKPOOL_ADMIN_KEY", requires = "pool")]
    admin_key: Option<String>,
}

/// `zkpool keys create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// What the key may do.
    #[arg(long, value_enum)]
    role: RoleArg,
    /// A name for people: the machine or the project.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    target: Target,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum RoleArg {
    /// Submits tasks.
    Requester,
    /// Proves tasks.
    Prover,
    /// Operates the pool.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Requester => Role::Requester,
            RoleArg::Prover => Role::Prover,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Runs a keys subcommand.
pub async fn run(cmd: KeysCommand) -> anyhow::Result<()> {
    match cmd {
        KeysCommand::Create(a) => {
            anyhow::ensure!(
                !a.name.trim().is_empty() && a.name.len() <= 64,
                "--name must be 1 to 64 characters"
            );
            let key = match (&a.target.pool, &a.target.admin_key) {
                (Some(pool), Some(admin)) => {
                    Client::new(pool, admin)?
                        .create_key(a.role.into(), &a.name)
                        .await?
                }
                (Some(_), None) => anyhow::bail!(
                    "--pool needs --admin-key (the node writes it to data-dir/admin.key)"
                ),
                _ => {
                    let store = crate::node_cmd::open_store(
                        &a.target.data_dir,
                        a.target.database.as_deref(),
                    )
                    .await?;
                    let k = store
                        .create_key(a.role.into(), a.name.trim(), now_ms())
                        .await?;
                    store.close().await;
                    k
                }
            };
            eprintln!(
                "created {} key {} ({}); it is shown only now:",
                key.role.as_str(),
                key.name,
                key.id
            );
            println!("{}", key.secret);
        }
        KeysCommand::Revoke(a) => {
            match (&a.target.pool, &a.target.admin_key) {
                (Some(pool), Some(admin)) => {
                    Client::new(pool, admin)?.revoke_key(a.key).await?;
                }
                (Some(_), None) => anyhow::bail!(
                    "--pool needs --admin-key (the node writes it to data-dir/admin.key)"
                ),
                _ => {
                    let store = crate::node_cmd::open_store(
                        &a.target.data_dir,
                        a.target.database.as_deref(),
                    )
                    .await?;
                    let revoked = store.revoke_key(a.key).await;
                    store.close().await;
                    anyhow::ensure!(revoked?.is_some(), "no live key {}", a.key);
                }
            }
            eprintln!("revoked key {}; its next call is refused", a.key);
        }
        KeysCommand::List(t) => {
            let store = crate::node_cmd::open_store(&t.data_dir, t.database.as_deref()).await?;
            let mut table = crate::table::Table::new(&["id", "role", "name"]);
            for k in store.list_keys().await? {
                table.row(vec![k.id.to_string(), k.role.as_str().to_string(), k.name]);
            }
            store.close().await;
            print!("{table}");
        }
    }
    Ok(())
}
