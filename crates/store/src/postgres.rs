//! PostgreSQL, for several node processes on one database: connecting, migrations
//! (`migrations/postgres/`, counted in `zkpool_schema`), and how writers take turns.
//!
//! ```text
//!   every write transaction ─► BEGIN; pg_advisory_xact_lock(WRITERS) … COMMIT/ROLLBACK
//!                              (the database-wide twin of SQLite's single writer: each
//!                               transaction sees every earlier one committed, in every
//!                               process, and the journal's entries never interleave)
//!   but a lease or a        ─► BEGIN; pg_advisory_xact_lock_shared(WRITERS) …
//!   completion                 (side by side with each other, never with another writer)
//!   (each BEGIN and its locks go as one simple query: one round trip)
//!   the lease query         ─► … FOR UPDATE OF t SKIP LOCKED: the task row it picks is
//!                              locked by the transaction that leases it, and a concurrent
//!                              leaser passes over it instead of waiting for it
//! ```
//!
//! Leases and completions are every proof's two transactions; sharing the lock lets them run
//! on all replicas at once and lets PostgreSQL flush their commits together. What they may
//! race on is locked by row, a lease in the order key → task (and it skips locked tasks
//! rather than waiting), a completion task → group → prover, so they never deadlock:
//! - a lease locks its prover key's row first (a batch of leases every asking key's, in id
//!   order): leases of one key take turns, so the checks
//!   that read what the key holds (memory left on the machine, a split sibling, another leg
//!   of the same multi-prover task, which must go to another key) see its other leases;
//! - a completion locks its task's row as it checks the fencing token (a batch its tasks'
//!   rows, in id order): a second upload on the same lease waits, then finds the task done;
//! - a leg's completion locks its group's row before it counts the legs done, so two legs
//!   finishing at once cannot both be the one the group still needed;
//! - the ledger's entries in a paid completion come from a plan made under the ledger lock
//!   (`lock_ledger`), and their sequence number is the journal's key, as before.
//!
//! Every other writer (the reaper, claims, joins, intake) still excludes these two, so what
//! it reads of tasks and leases cannot change under it.
//!
//! Reads take no lock; in PostgreSQL's default isolation (read committed) each statement sees
//! what was committed when it began.

use sqlx::any::AnyPoolOptions;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyPool};

use zkpool_types::KeyId;

use crate::StoreError;

/// Schema migrations, applied in order; the single row of `zkpool_schema` records how many
/// ran. The same tables as SQLite's, in PostgreSQL's types (`BIGINT` for every integer,
/// `BYTEA` for bytes, identity columns for ids the database assigns).
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/postgres/0001_init.sql"),
    include_str!("../migrations/postgres/0002_replicas.sql"),
    include_str!("../migrations/postgres/0003_blob_chunks.sql"),
    include_str!("../migrations/postgres/0004_pool_identity.sql"),
    include_str!("../migrations/postgres/0005_groups.sql"),
    include_str!("../migrations/postgres/0006_queue_index.sql"),
];

/// Advisory lock keys (`pg_advisory_xact_lock`), one per purpose. The values are arbitrary;
/// they only have to differ from each other and from other users of the same database.
const WRITERS: i64 = 0x7a6b_706f_6f6c_0001;
const MIGRATING: i64 = 0x7a6b_706f_6f6c_0002;
const LEDGER: i64 = 0x7a6b_706f_6f6c_0003;

/// Appended to the lease query: the picked task row stays locked until the lease commits,
/// and rows other leasers hold are skipped rather than waited for.
pub(crate) const LEASE_ROW_LOCK: &str = "FOR UPDATE OF t SKIP LOCKED";

/// Connects to the database at `url`.
pub(crate) async fn connect(url: &str) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    Ok(AnyPoolOptions::new()
        .max_connections(8)
        .connect(url)
        .await?)
}

/// Begins a transaction that is the database's only writer until it ends. `BEGIN` and the
/// lock go as one simple query, one round trip: a transaction whose lock fails (a deadlock,
/// a timeout) is not begun, and the error is sqlx's `BeginFailed`.
pub(crate) fn begin_alone() -> String {
    format!("BEGIN; SELECT pg_advisory_xact_lock({WRITERS})")
}

/// Begins a transaction that writes beside other leases and completions, but beside no other
/// writer, until it ends; with `keys` (sorted, for leases: see the module notes), it then
/// locks those keys' rows, in id order. One round trip, as [`begin_alone`].
pub(crate) fn begin_shared(keys: &[KeyId]) -> String {
    let mut sql = format!("BEGIN; SELECT pg_advisory_xact_lock_shared({WRITERS})");
    if !keys.is_empty() {
        // Integers of ours, formatted: nothing here comes from outside as text.
        let ids: Vec<String> = keys.iter().map(|k| k.0.to_string()).collect();
        sql.push_str(&format!(
            "; SELECT id FROM keys WHERE id IN ({}) ORDER BY id FOR UPDATE",
            ids.join(", ")
        ));
        // The lease query wants the queue's oldest task that passes its checks, and the
        // partial index `tasks_queued` walks the queue in that order, stopping at the first.
        // But the queue changes faster than its statistics: with a few queued tasks on
        // record and thousands queued, the planner would rather gather every queued task
        // with a bitmap scan, run each one's checks and sort them (3 ms at 2,000 queued,
        // against 0.1 ms for the walk). These plans are refused for this transaction only.
        sql.push_str("; SET LOCAL enable_bitmapscan = off");
    }
    sql
}

/// Takes the ledger lock on a connection of its own (a session lock: it outlives
/// transactions), waiting for the replica that holds it.
pub(crate) async fn lock_ledger(pool: &AnyPool) -> Result<LedgerLock, StoreError> {
    let mut conn = pool.acquire().await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(LEDGER)
        .execute(&mut *conn)
        .await?;
    Ok(LedgerLock {
        conn: Some(std::sync::Mutex::new(conn)),
    })
}

/// The database-wide ledger lock, held by one replica while it catches up on the journal,
/// plans entries against the balances it read and commits them: two replicas can then never
/// plan against the same balance. Dropping it unlocks (on a spawned task, as unlocking is a
/// query); a connection that cannot unlock is closed, which unlocks too.
#[derive(Debug)]
pub struct LedgerLock {
    /// In a mutex only so that the lock is `Sync` (a connection is `Send` only) and can be
    /// held across awaits by futures that borrow it; nothing ever locks it but `drop`.
    conn: Option<std::sync::Mutex<PoolConnection<Any>>>,
}

impl Drop for LedgerLock {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut conn = conn.into_inner().unwrap_or_else(|p| p.into_inner());
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            conn.close_on_drop();
            return;
        };
        runtime.spawn(async move {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(LEDGER)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                conn.close_on_drop();
            }
        });
    }
}

/// The notification channel on which replicas tell each other that work is ready.
const WORK_CHANNEL: &str = "zkpool_work";

/// Notifies every listener on the database that a task became leasable.
pub(crate) async fn notify_work(pool: &AnyPool) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_notify($1, '')")
        .bind(WORK_CHANNEL)
        .execute(pool)
        .await?;
    Ok(())
}

/// What a [`WorkListener`] heard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Heard {
    /// Some process said a task became leasable.
    Work,
    /// The connection was lost and is made again on the next call; whatever was said
    /// meanwhile is lost, so a listener should act as if it heard work.
    Reconnecting,
}

/// Listens, on a connection of its own, for `notify_work` from any process on the database
/// (PostgreSQL's LISTEN/NOTIFY).
#[derive(Debug)]
pub struct WorkListener {
    inner: sqlx::postgres::PgListener,
}

impl WorkListener {
    pub(crate) async fn connect(url: &str) -> Result<Self, StoreError> {
        let mut inner = sqlx::postgres::PgListener::connect(url).await?;
        inner.listen(WORK_CHANNEL).await?;
        Ok(Self { inner })
    }

    /// Waits for the next notification, reconnecting first if the last call lost the
    /// connection; an error means the database could not be reached (call again later).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        Ok(match self.inner.try_recv().await? {
            Some(_) => Heard::Work,
            None => Heard::Reconnecting,
        })
    }
}

/// Applies the migrations this database has not run yet, in one transaction under their own
/// advisory lock, so that replicas starting together migrate once.
pub(crate) async fn migrate(pool: &AnyPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await?;
    let r: Result<_, StoreError> = async {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATING)
            .execute(&mut *tx)
            .await?;
        sqlx::raw_sql("CREATE TABLE IF NOT EXISTS zkpool_schema (version BIGINT NOT NULL)")
            .execute(&mut *tx)
            .await?;
        let version: Option<i64> = sqlx::query_scalar("SELECT version FROM zkpool_schema")
            .fetch_optional(&mut *tx)
            .await?;
        let done = crate::migrations_done(version.unwrap_or(0), MIGRATIONS.len())?;
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(done) {
            sqlx::raw_sql(sql).execute(&mut *tx).await?;
            tracing::info!(migration = i + 1, "applied schema migration (PostgreSQL)");
        }
        if done < MIGRATIONS.len() {
            sqlx::raw_sql("DELETE FROM zkpool_schema")
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO zkpool_schema (version) VALUES ($1)")
                .bind(MIGRATIONS.len() as i64)
                .execute(&mut *tx)
                .await?;
        }
        Ok(())
    }
    .await;
    crate::finish_tx(tx, r).await
}
