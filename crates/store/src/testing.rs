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

/// A PostgreSQL server of one test's own (`initdb` and `pg_ctl` in a temporary directory),
/// for tests that stop or restart the database under a running node. Removed when dropped.
///
/// The server binaries are Debian's (`/usr/lib/postgresql/*/bin`, the newest). As root, the
/// server runs as the `postgres` user (PostgreSQL refuses to run as root).
#[derive(Debug)]
pub struct PrivateCluster {
    root: std::path::PathBuf,
    bin: std::path::PathBuf,
    port: u16,
    as_postgres: bool,
}

impl PrivateCluster {
    /// Creates and starts the cluster; `None` (skip) when the server binaries are not
    /// installed, outside CI.
    ///
    /// # Panics
    /// On CI when the binaries are missing, and when the cluster cannot be created or started.
    pub fn start() -> Option<Self> {
        let Some(bin) = server_binaries() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true and PostgreSQL's server binaries (initdb, pg_ctl) are not installed"
            );
            eprintln!(
                "\n!!! SKIPPED: PostgreSQL's server binaries (initdb, pg_ctl) are not installed \
                 (apt-get install postgresql; on CI this fails) !!!\n"
            );
            return None;
        };
        let root = std::env::temp_dir().join(format!("zkpool_pg_{:016x}", rand::random::<u64>()));
        std::fs::create_dir_all(root.join("sock")).expect("create the cluster's directory");
        // Root? `id -u` says so without a libc binding.
        let as_postgres = std::process::Command::new("id")
            .arg("-u")
            .output()
            .map(|o| o.stdout.starts_with(b"0\n"))
            .unwrap_or(false);
        if as_postgres {
            let owned = std::process::Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(&root)
                .status()
                .expect("run chown");
            assert!(
                owned.success(),
                "cannot give {} to postgres",
                root.display()
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let cluster = Self {
            root,
            bin,
            port,
            as_postgres,
        };
        cluster.run(
            "initdb",
            &[
                "-D",
                &cluster.data(),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ],
        );
        cluster.start_server();
        Some(cluster)
    }

    /// The server's URL, database `postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server (fast: clients are disconnected, open transactions roll back).
    pub fn stop(&self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]);
    }

    /// Starts the stopped server again on the same port.
    pub fn start_server(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.root.join("sock").display()
        );
        let log = self.root.join("server.log").display().to_string();
        self.run(
            "pg_ctl",
            &["-D", &self.data(), "-l", &log, "-o", &opts, "-w", "start"],
        );
    }

    fn data(&self) -> String {
        self.root.join("data").display().to_string()
    }

    fn run(&self, tool: &str, args: &[&str]) {
        let exe = self.bin.join(tool);
        let mut cmd = if self.as_postgres {
            let mut c = std::process::Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            std::process::Command::new(&exe)
        };
        let out = cmd
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {tool}: {e}"));
        assert!(
            out.status.success(),
            "{tool} {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for PrivateCluster {
    fn drop(&mut self) {
        let exe = self.bin.join("pg_ctl");
        let data = self.data();
        let args = ["-D", data.as_str(), "-m", "immediate", "-w", "stop"];
        let _ = if self.as_postgres {
            std::process::Command::new("runuser")
                .args(["-u", "postgres", "--"])
                .arg(&exe)
                .args(args)
                .output()
        } else {
            std::process::Command::new(&exe).args(args).output()
        };
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// The newest installed PostgreSQL's server binaries, or `None`.
fn server_binaries() -> Option<std::path::PathBuf> {
    let mut found: Vec<(u32, std::path::PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}
