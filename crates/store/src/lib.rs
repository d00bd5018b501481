//! The node's durable state.
//!
//! ```text
//!   data-dir/
//!     zkpool.db      SQLite (WAL), the embedded default: keys, provers, tasks (split tasks
//!                    own segment tasks), leases, task_failures, blobs index,
//!                    the settlement journal, quote nonces and epochs (see ledger.rs),
//!                    tasks settled on the pool contract and the event cursor (chain.rs)
//!     blobs/ab/cd…   artifact and proof bytes, named by their sha256, written once
//!
//!   or, with Store::open_postgres, the same tables in a PostgreSQL database, blob bytes
//!   included (blob_chunks, 1 MiB rows), so replicas on different machines share them all
//! ```
//!
//! One body of SQL serves both databases: queries go through sqlx's `Any` driver with `$1`
//! placeholders, which SQLite reads as well as PostgreSQL. What differs — connecting,
//! migrations, how writers are serialised, the row lock a lease takes — lives in `sqlite.rs`
//! and `postgres.rs`.
//!
//! Guarantees: every change of a task, a lease or a prover's counters is one transaction,
//! taken as the only writer: on SQLite under one writer lock in this process, so that
//! transactions never fail with `BUSY` half-way; on PostgreSQL under one advisory lock of the
//! database, so that writers in several processes are serialised too — except leases and
//! completions, the two transactions every proof takes, which share that lock with each
//! other (so they run side by side across replicas and commit together) and lock the rows
//! they change instead (see `postgres.rs`). A blob file is
//! complete before its row exists (write to a temp file, fsync, rename, then insert), so a
//! crash never leaves a row pointing at half a file; on PostgreSQL a blob's chunks commit in
//! its row's transaction. With WAL and `synchronous = NORMAL` a
//! committed SQLite transaction survives a `kill -9` of the node; a power loss may lose the
//! last commits but never corrupts the database.
//!
//! Time is passed in (`now_ms`) rather than read here, so tests control it.

mod blobs;
mod chain;
mod complete;
mod error;
mod faults;
mod fence;
mod group;
mod keys;
mod lease;
mod ledger;
mod postgres;
mod provers;
mod split;
mod sqlite;
mod tasks;
pub mod testing;
mod views;

use std::path::{Path, PathBuf};

use sqlx::{Any, AnyPool, Transaction};
use tokio::sync::{Mutex, MutexGuard};
use zkpool_types::KeyId;

pub use blobs::{BlobStream, BlobWriter, Collected, Uploader};
pub use chain::{ChainDue, ChainProgress, ChainQuoted, ChainTaskRow};
pub use error::StoreError;
pub use faults::{CollateralMove, Settle, Verdict};
pub use group::{GroupFinish, GroupLeg, GroupParts, NewGroup, NewLeg};
pub use keys::KeyRecord;
pub use lease::{Grant, LeaseAsk, LeaseLimits, Pick};
pub use ledger::{DoneTask, EpochRecord, PostingRow, Proved};
pub use postgres::{Heard, LedgerLock, WorkListener};
pub use provers::ProverRecord;
pub use split::{SplitParts, SplitSegment};
pub use tasks::{ActiveLease, Completion, LeaseEnding, NewSegment, NewTask, TaskRecord};

/// Handle to the database and the blob directory. Cheap to share behind an `Arc`.
#[derive(Debug)]
pub struct Store {
    pool: AnyPool,
    blob_dir: PathBuf,
    backend: Backend,
}

/// The database under the store, and what it needs around a write.
#[derive(Debug)]
enum Backend {
    /// SQLite in the data directory.
    Sqlite {
        /// Serialises write transactions: SQLite has one writer anyway, and taking the lock
        /// in Rust first means a transaction never meets `SQLITE_BUSY` after it has begun.
        write: Mutex<()>,
    },
    /// PostgreSQL: writers are serialised by the database itself (see `postgres.rs`), so
    /// that several node processes on one database take turns as one process's tasks do.
    Postgres {
        /// Where it is, for the connection that listens for notifications.
        url: String,
    },
}

/// A write transaction as every state change takes it.
pub(crate) type Tx = Transaction<'static, Any>;

/// Held for as long as a write transaction runs: the SQLite writer lock (PostgreSQL holds
/// its lock inside the transaction).
pub(crate) type WriteGuard<'a> = Option<MutexGuard<'a, ()>>;

impl Store {
    /// Opens (creating if needed) the store in `data_dir` on SQLite (`zkpool.db`) and
    /// migrates the schema.
    pub async fn open(data_dir: &Path) -> Result<Self, StoreError> {
        let blob_dir = blob_dir(data_dir).await?;
        let pool = sqlite::connect(&data_dir.join("zkpool.db")).await?;
        sqlite::migrate(&pool).await?;
        Ok(Self {
            pool,
            blob_dir,
            backend: Backend::Sqlite {
                write: Mutex::new(()),
            },
        })
    }

    /// Opens the store on the PostgreSQL database at `url` (`postgres://USER@HOST/DB`),
    /// migrating its schema. Blobs are kept in the database too (`data_dir` holds only
    /// uploads in progress), so several processes may open the same database from different
    /// machines: migrations run once, and their write transactions take turns.
    pub async fn open_postgres(url: &str, data_dir: &Path) -> Result<Self, StoreError> {
        let blob_dir = blob_dir(data_dir).await?;
        let pool = postgres::connect(url).await?;
        postgres::migrate(&pool).await?;
        Ok(Self {
            pool,
            blob_dir,
            backend: Backend::Postgres {
                url: url.to_owned(),
            },
        })
    }

    /// Begins a write transaction as the database's only writer. Hold the guard until the
    /// transaction has ended ([`finish_tx`]).
    pub(crate) async fn begin_write(&self) -> Result<(WriteGuard<'_>, Tx), StoreError> {
        match &self.backend {
            Backend::Sqlite { write } => {
                let guard = write.lock().await;
                Ok((Some(guard), self.pool.begin().await?))
            }
            Backend::Postgres { .. } => {
                Ok((None, self.pool.begin_with(postgres::begin_alone()).await?))
            }
        }
    }

    /// Begins a write transaction that may run beside others of its kind: on PostgreSQL it
    /// shares the writer lock with other leases and completions (which lock the rows they
    /// change, see `postgres.rs`) and excludes every other writer, and then, for leases,
    /// locks the rows of their `keys` (sorted) and keeps bitmap scans out of the query's plan
    /// (`postgres::begin_shared`); on SQLite it is [`Store::begin_write`]. Only the lease and
    /// the completion take it.
    pub(crate) async fn begin_shared(
        &self,
        keys: &[KeyId],
    ) -> Result<(WriteGuard<'_>, Tx), StoreError> {
        match &self.backend {
            Backend::Sqlite { .. } => self.begin_write().await,
            Backend::Postgres { .. } => {
                let begin = postgres::begin_shared(keys);
                Ok((None, self.pool.begin_with(begin).await?))
            }
        }
    }

    /// What the lease query appends to lock the task it picks: nothing on SQLite (the
    /// writer lock is enough), `FOR UPDATE … SKIP LOCKED` on PostgreSQL.
    pub(crate) fn lease_row_lock(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite { .. } => "",
            Backend::Postgres { .. } => postgres::LEASE_ROW_LOCK,
        }
    }

    /// On a shared database, waits for and takes the database-wide ledger lock (see
    /// [`LedgerLock`]); on SQLite, whose only writer is this process, there is none to take.
    pub async fn lock_ledger(&self) -> Result<Option<LedgerLock>, StoreError> {
        match self.backend {
            Backend::Sqlite { .. } => Ok(None),
            Backend::Postgres { .. } => postgres::lock_ledger(&self.pool).await.map(Some),
        }
    }

    /// Tells every process listening on this database ([`Store::listen_work`]) that a task
    /// became leasable. Nothing to tell on SQLite: its one process wakes its own waiters.
    pub async fn notify_work(&self) -> Result<(), StoreError> {
        if let Backend::Postgres { .. } = self.backend {
            postgres::notify_work(&self.pool).await?;
        }
        Ok(())
    }

    /// On a shared database, records `address` as the pool's quote signer if none is yet, and
    /// answers the one recorded: a replica whose signing key differs from the first one's
    /// would sign quotes that every other replica refuses, so it should not start. On SQLite,
    /// whose one process has one key, nothing is recorded and `address` is the answer.
    pub async fn pin_pool_signer(&self, address: &str) -> Result<String, StoreError> {
        if let Backend::Sqlite { .. } = self.backend {
            return Ok(address.to_owned());
        }
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<String, StoreError> = async {
            sqlx::query(
                "INSERT INTO pool_identity (name, value) SELECT 'signer', $1
                 WHERE NOT EXISTS (SELECT 1 FROM pool_identity WHERE name = 'signer')",
            )
            .bind(address)
            .execute(&mut *tx)
            .await?;
            Ok(
                sqlx::query_scalar("SELECT value FROM pool_identity WHERE name = 'signer'")
                    .fetch_one(&mut *tx)
                    .await?,
            )
        }
        .await;
        finish_tx(tx, r).await
    }

    /// On a shared database, a listener for [`Store::notify_work`] from any process.
    pub async fn listen_work(&self) -> Result<Option<WorkListener>, StoreError> {
        match &self.backend {
            Backend::Sqlite { .. } => Ok(None),
            Backend::Postgres { url } => WorkListener::connect(url).await.map(Some),
        }
    }

    /// Closes the pool, waiting for connections to finish.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates the blob directory (and its temp folder) under `data_dir`.
async fn blob_dir(data_dir: &Path) -> Result<PathBuf, StoreError> {
    let blob_dir = data_dir.join("blobs");
    tokio::fs::create_dir_all(blob_dir.join("tmp"))
        .await
        .map_err(|e| StoreError::io(&blob_dir, e))?;
    Ok(blob_dir)
}

/// How many of the `known` migrations a database has run, from the version it records;
/// a schema newer than this build knows is refused rather than used.
pub(crate) fn migrations_done(version: i64, known: usize) -> Result<usize, StoreError> {
    let done = usize::try_from(version).unwrap_or(0);
    if done > known {
        return Err(StoreError::SchemaTooNew { found: done, known });
    }
    Ok(done)
}

/// What a query in a write transaction appends to lock the rows it reads until the
/// transaction ends: nothing on SQLite, whose single writer excludes every other already;
/// `FOR UPDATE` on PostgreSQL, where leases and completions run side by side
/// ([`Store::begin_shared`]).
pub(crate) fn for_update(tx: &Tx) -> &'static str {
    let conn: &sqlx::AnyConnection = tx;
    if conn.backend_name() == "PostgreSQL" {
        "FOR UPDATE"
    } else {
        ""
    }
}

/// `n` numbered placeholders from `$first` on, comma-separated: a bound list (`IN (…)`).
pub(crate) fn slots(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `rows` rows of `cols` numbered placeholders from `$first` on, for `VALUES` lists:
/// `($1, $2), ($3, $4)`. The columns are named `column1`, `column2`, … by both databases.
pub(crate) fn value_rows(first: usize, rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| format!("({})", slots(first + r * cols, cols)))
        .collect::<Vec<_>>()
        .join(", ")
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
    tx: Tx,
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
/// so that the next writer meets `database is locked`; on PostgreSQL the
/// transaction's end is what releases its writer lock.
pub(crate) async fn finish_tx<T>(tx: Tx, r: Result<T, StoreError>) -> Result<T, StoreError> {
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
