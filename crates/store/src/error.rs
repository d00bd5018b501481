use std::path::{Path, PathBuf};

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database refused or failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// A file under the data directory could not be read or written.
    #[error("i/o error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The database was written by a newer zkpool.
    #[error(
        "database schema version {found} is newer than this zkpool knows ({known}); upgrade zkpool"
    )]
    SchemaTooNew {
        /// Migrations recorded in the database.
        found: usize,
        /// Migrations this build has.
        known: usize,
    },
    /// The lease is not the task's current lease, belongs to another prover, or has expired.
    #[error("lease {lease} is not current: {reason}")]
    StaleLease {
        /// The lease.
        lease: i64,
        /// Why it is not.
        reason: &'static str,
    },
    /// The last live admin key cannot be revoked: the pool would have no operator.
    #[error("this is the pool's last admin key; create another admin key before revoking it")]
    LastAdmin,
    /// The upload would take the key's stored bytes past its quota.
    #[error("storage quota exceeded: this key stores {used} bytes, the upload adds {size}, the quota is {quota}")]
    QuotaExceeded {
        /// Bytes the key's blobs take now.
        used: u64,
        /// Bytes the upload adds.
        size: u64,
        /// The key's quota.
        quota: u64,
    },
    /// A task names an artifact the store does not hold (never uploaded, or collected).
    #[error("artifact {0} is not stored (upload it again)")]
    MissingBlob(String),
    /// A row the operation needs does not exist.
    #[error("{what} {id} not found")]
    NotFound {
        /// What kind of row.
        what: &'static str,
        /// Its id.
        id: i64,
    },
    /// A value stored in the database could not be decoded (a bug or a hand-edited row).
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
