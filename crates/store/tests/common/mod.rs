//! The two stores every test body runs against: SQLite in a temporary directory, and a fresh
//! PostgreSQL database of its own on the test server, dropped afterwards.
//!
//! The server is `ZKPOOL_TEST_POSTGRES` (default `postgres://postgres@127.0.0.1:5432`, trust
//! auth). When it cannot be reached a PostgreSQL test fails on CI (`CI=true`) and is skipped,
//! loudly, elsewhere.

use std::path::Path;

use zkpool_store::testing::TestDatabase;
use zkpool_store::Store;

/// Where one test keeps its store.
#[derive(Debug)]
pub struct Db {
    dir: tempfile::TempDir,
    /// The database created for this test, on PostgreSQL.
    postgres: Option<TestDatabase>,
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
        Some(Self {
            dir: tempfile::tempdir().unwrap(),
            postgres: Some(TestDatabase::create().await?),
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
        self.postgres.as_ref().map(TestDatabase::url)
    }

    /// The data directory (blobs; the SQLite file).
    pub fn dir(&self) -> &Path {
        self.dir.path()
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
