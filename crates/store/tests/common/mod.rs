//! The two stores every test body runs against: SQLite in a temporary directory, and a fresh
//! PostgreSQL database of its own on the test server, dropped afterwards.
//!
//! The server is `ZKPOOL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`, trust
//! auth). When it cannot be reached a PostgreSQL test fails on CI (`CI=true`) and is skipped,
//! loudly, elsewhere.

use std::path::Path;

use sqlx::Connection;
use zkpool_store::Store;

/// The test server when `ZKPOOL_TEST_POSTGRES` is not set.
const DEFAULT_SERVER: &str = "postgres://postgres@127.0.0.1:5432";

/// Where one test keeps its store.
#[derive(Debug)]
pub struct Db {
    dir: tempfile::TempDir,
    /// The server and the database created for this test, on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Db {
    /// SQLite in a fresh directory.
    pub fn sqlite() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` (skip) when no server answers outside CI.
    pub async fn postgres() -> Option<Self> {
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
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        Some(Self {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some((server, name)),
        })
    }

    /// Opens (or reopens) the store: SQLite in the directory, or the test's database.
    pub async fn open(&self) -> Store {
        match &self.postgres {
            None => Store::open(self.dir.path()).await.unwrap(),
            Some(_) => Store::open_postgres(&self.url().unwrap(), self.dir.path())
                .await
                .unwrap(),
        }
    }

    /// The test database's URL, on PostgreSQL.
    pub fn url(&self) -> Option<String> {
        self.postgres
            .as_ref()
            .map(|(server, name)| format!("{server}/{name}"))
    }

    /// The data directory (blobs; the SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Db {
    /// Drops the test's database, also after a failed test. `Drop` cannot await, so this runs
    /// on a thread of its own with its own runtime.
    fn drop(&mut self) {
        let Some((server, name)) = self.postgres.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                let mut admin = sqlx::PgConnection::connect(&format!("{server}/postgres")).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop a test database: {e}");
        }
    }
}

/// Runs each named `async fn(Db)` as two tests, `NAME::sqlite` and `NAME::postgres`.
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test]
            async fn sqlite() {
                super::$name(crate::common::Db::sqlite()).await
            }
            #[tokio::test]
            async fn postgres() {
                if let Some(db) = crate::common::Db::postgres().await {
                    super::$name(db).await
                }
            }
        }
    )*};
}
