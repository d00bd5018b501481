//! SQLite, the embedded default: the database file in the data directory, its connection
//! settings and its migrations (`migrations/sqlite/`, counted by `PRAGMA user_version`).

use std::path::Path;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{AnyPool, ConnectOptions, Executor};

use crate::StoreError;

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran. These
/// files never change once released: databases that ran them must still open.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/sqlite/0001_init.sql"),
    include_str!("../migrations/sqlite/0002_ledger.sql"),
    include_str!("../migrations/sqlite/0003_split.sql"),
    include_str!("../migrations/sqlite/0004_faults.sql"),
    include_str!("../migrations/sqlite/0005_blob_access.sql"),
    include_str!("../migrations/sqlite/0006_blob_retention.sql"),
    include_str!("../migrations/sqlite/0007_chain.sql"),
    include_str!("../migrations/sqlite/0008_groups.sql"),
];

/// Set on every connection. `Any` connects from a URL, which carries only the file and its
/// mode, so the rest is set here: WAL with `synchronous = NORMAL` (a commit survives a
/// `kill -9`), foreign keys enforced, and a busy timeout for the rare writer outside our lock
/// (another process reading the file, a checkpoint).
const PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;
    PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000;";

/// Opens (creating if needed) the database file at `path`.
pub(crate) async fn connect(path: &Path) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    let url = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .to_url_lossy();
    let opts = AnyConnectOptions::from_url(&url)?;
    let pool = AnyPoolOptions::new()
        .max_connections(4)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(PRAGMAS).await?;
                Ok(())
            })
        })
        .connect_with(opts)
        .await?;
    Ok(pool)
}

/// Applies the migrations this database has not run yet, in one transaction (before the
/// store exists, so nothing else writes).
pub(crate) async fn migrate(pool: &AnyPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let r: Result<_, StoreError> = async {
        let (version,): (i64,) = sqlx::query_as("PRAGMA user_version")
            .fetch_one(&mut *tx)
            .await?;
        let done = crate::migrations_done(version, MIGRATIONS.len())?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            sqlx::raw_sql(&format!("PRAGMA user_version = {}", i + 1))
                .execute(&mut *tx)
                .await?;
            tracing::info!(migration = i + 1, "applied schema migration");
        }
        Ok(())
    }
    .await;
    crate::finish_tx(tx, r).await
}
