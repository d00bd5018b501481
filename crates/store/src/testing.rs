//! Test support: a fresh PostgreSQL database of one test's own, dropped with it. The store's
//! tests and the CLI's end-to-end tests both use it, so every PostgreSQL test finds, skips or
//! fails on the server the same way.
//!
//! The server is `ZKPOOL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`, trust
//! auth). When it cannot be reached, [`TestDatabase::create`] panics on CI (`CI=true`: a
//! PostgreSQL test never passes silently there) and returns `None` elsewhere, saying loudly
//! that the test is skipped.

use sqlx::Connection;

/// The test server when `ZKPOOL_TEST_POSTGRES` is not set.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// A database created for one test on the test server, dropped when this value is, also
/// after a failed test.
#[derive(Debug)]
pub struct TestDatabase {
    server: String,
    name: String,
}

impl TestDatabase {
    /// Creates the database; `None` (skip) when no server answers, outside CI.
    ///
    /// # Panics
    /// On CI when the server cannot be reached, and when it refuses to create the database.
    pub async fn create() -> Option<Self> {
        let server = std::env::var("ZKPOOL_TEST_POSTGRES").unwrap_or(DEFAULT_SERVER.into());
        let server = server.trim_end_matches('/').to_string();
        let mut admin = match sqlx::PgConnection::connect(&format!("{server}/postgres")).await {
            Ok(c) => c,
            Err(e) if std::env::var("CI").as_deref() == Ok("true") => {
                panic!("CI=true and PostgreSQL at {server} cannot be reached: {e}")
            }
            Err(e) => {
                eprintln!(
                    "\n!!! SKIPPED: PostgreSQL at {server} cannot be reached ({e}); set \
                     ZKPOOL_TEST_POSTGRES or start the server (on CI this fails) !!!\n"
                );
                return None;
            }
        };
        let name = format!("zkpool_t_{:016x}", rand::random::<u64>());
        if let Err(e) = sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
        {
            panic!("cannot create the test database {name} at {server}: {e}");
        }
        let _ = admin.close().await;
        Some(Self { server, name })
    }

    /// The database's URL.
    pub fn url(&self) -> String {
        format!("{}/{}", self.server, self.name)
    }
}

impl Drop for TestDatabase {
    /// `Drop` cannot await, so the database is dropped on a thread of its own with its own
    /// runtime.
    fn drop(&mut self) {
        let admin = format!("{}/postgres", self.server);
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            rt.block_on(async {
                let mut c = sqlx::PgConnection::connect(&admin).await?;
                sqlx::raw_sql(&sql).execute(&mut c).await?;
                c.close().await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
            })
            .map_err(|e| std::io::Error::other(e.to_string()))
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}
