//! The node's durable state.
//!
//! ```text
//!   data-dir/
//!     zkpool.db      SQLite (WAL): keys, provers, tasks (split tasks own segment tasks),
//!                    leases, task_failures, blobs index,
//!                    the settlement journal, quote nonces and epochs (see ledger.rs),
//!                    tasks settled on the pool contract and the event cursor (chain.rs)
//!     blobs/ab/cd…   artifact and proof bytes, named by their sha256, written once
//! ```
//!
//! Guarantees: every change of a task, a lease or a prover's counters is one SQLite
//! transaction, taken under one writer lock so that transactions never fail with `BUSY`
//! half-way. A blob file is complete before its row exists (write to a temp file, fsync,
//! rename, then insert), so a crash never leaves a row pointing at half a file. With WAL and
//! `synchronous = NORMAL` a committed transaction survives a `kill -9` of the node; a power
//! loss may lose the last commits but never corrupts the database.
//!
//! Time is passed in (`now_ms`) rather than read here, so tests control it.

mod blobs;
mod chain;
mod error;
mod faults;
mod keys;
mod ledger;
mod provers;
mod split;
mod tasks;
mod views;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::sync::Mutex;

pub use blobs::{BlobWriter, Collected, Uploader};
pub use chain::{ChainDue, ChainProgress, ChainQuoted, ChainTaskRow};
pub use error::StoreError;
pub use faults::{CollateralMove, Settle, Verdict};
pub use keys::KeyRecord;
pub use ledger::{DoneTask, EpochRecord, PostingRow, Proved};
pub use provers::ProverRecord;
pub use split::{SplitParts, SplitSegment};
pub use tasks::{
    ActiveLease, Completion, Grant, LeaseEnding, LeaseLimits, NewSegment, NewTask, TaskRecord,
};

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_ledger.sql"),
    include_str!("../migrations/0003_split.sql"),
    include_str!("../migrations/0004_faults.sql"),
    include_str!("../migrations/0005_blob_access.sql"),
    include_str!("../migrations/0006_blob_retention.sql"),
    include_str!("../migrations/0007_chain.sql"),
];

/// Handle to the database and the blob directory. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    pool: SqlitePool,
    blob_dir: PathBuf,
    /// Serialises write transactions: SQLite has one writer anyway, and taking the lock in
    /// Rust first means a transaction never meets `SQLITE_BUSY` after it has begun.
    write: Mutex<()>,
}

impl Store {
    /// Opens (creating if needed) the store in `data_dir` and migrates the schema.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let blob_dir = data_dir.join("blobs");
        tokio::fs::create_dir_all(blob_dir.join("tmp"))
            .await
            .map_err(|e| StoreError::io(&blob_dir, e))?;
        let db_path = data_dir.join("zkpool.db");
        let opts = SqliteConnectOptions::from_str("sqlite:")?
            .filename(&db_path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(opts)
            .await?;
        let store = Self {
            pool,
            blob_dir,
            write: Mutex::new(()),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let _w = self.write.lock().await;
        let mut tx = self.pool.begin().await?;
        let r: Result<_, StoreError> = async {
            let (version,): (i64,) = sqlx::query_as("PRAGMA user_version")
                .fetch_one(&mut *tx)
                .await?;
            let done = usize::try_from(version).unwrap_or(0);
            if done > MIGRATIONS.len() {
                return Err(StoreError::SchemaTooNew {
                    found: done,
                    known: MIGRATIONS.len(),
                });
            }
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

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// [`finish_tx`] for a transaction whose body may be refused by the caller's plan (a ledger
/// refusal, the inner `Err`): a refusal writes nothing, so it rolls back like an error.
pub(crate) async fn finish_planned<T, E>(
    tx: sqlx::Transaction<'_, sqlx::Sqlite>,
    r: Result<Result<T, E>, StoreError>,
) -> Result<Result<T, E>, StoreError> {
    match r {
        Ok(Err(refused)) => {
            let _ = tx.rollback().await;
            Ok(Err(refused))
        }
        other => finish_tx(tx, other).await,
    }
}

/// Ends a write transaction taken under the writer lock: commits when its body succeeded,
/// rolls back when it failed. Both happen here, before the caller releases the lock: a dropped
/// transaction's rollback runs later and would keep SQLite's write lock past the writer mutex,
/// so that the next writer meets `database is locked`.
pub(crate) async fn finish_tx<T>(
    tx: sqlx::Transaction<'_, sqlx::Sqlite>,
    r: Result<T, StoreError>,
) -> Result<T, StoreError> {
    match r {
        Ok(v) => {
            tx.commit().await?;
            Ok(v)
        }
        Err(e) => {
            // The body's error is the one to report; a failed rollback closes the connection.
            let _ = tx.rollback().await;
            Err(e)
        }
    }
}
