//! PostgreSQL, for several node processes on one database: connecting, migrations
//! (`migrations/postgres/`, counted in `zkpool_schema`), and how writers take turns.
//!
//! ```text
//!   every write transaction ─► BEGIN; pg_advisory_xact_lock(WRITERS) … COMMIT/ROLLBACK
//!                              (the database-wide twin of SQLite's single writer: each
//!                               transaction sees every earlier one committed, in every
//!                               process, and the journal's entries never interleave)
//!   the lease query         ─► … FOR UPDATE OF t SKIP LOCKED: the task row it picks is
//!                              locked by the transaction that leases it, and a concurrent
//!                              leaser passes over it instead of waiting for it
//! ```
//!
//! Reads take no lock; in PostgreSQL's default isolation (read committed) each statement sees
//! what was committed when it began.

use sqlx::any::AnyPoolOptions;
use sqlx::AnyPool;

use crate::{StoreError, Tx};

/// Schema migrations, applied in order; the single row of `zkpool_schema` records how many
/// ran. The same tables as SQLite's, in PostgreSQL's types (`BIGINT` for every integer,
/// `BYTEA` for bytes, identity columns for ids the database assigns).
const MIGRATIONS: &[&str] = &[include_str!("../migrations/postgres/0001_init.sql")];

/// Advisory lock keys (`pg_advisory_xact_lock`), one per purpose. The values are arbitrary;
/// they only have to differ from each other and from other users of the same database.
const WRITERS: i64 = 0x7a6b_706f_6f6c_0001;
const MIGRATING: i64 = 0x7a6b_706f_6f6c_0002;

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

/// Makes `tx` the database's only writer until it ends.
pub(crate) async fn lock_writers(tx: &mut Tx) -> Result<(), StoreError> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(WRITERS)
        .execute(&mut **tx)
        .await?;
    Ok(())
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
