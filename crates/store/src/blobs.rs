//! Blobs: content-addressed by SHA-256, metadata in the `blobs` table, bytes where the
//! backend keeps them. On SQLite (one node) the bytes are files in the data directory; on
//! PostgreSQL (replicas that may share no disk) they are rows of `blob_chunks`, 1 MiB each,
//! written in the same transaction as the blob's row, so a blob one replica stored is one
//! every replica can serve the moment the upload answers.

use std::path::{Path, PathBuf};

use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use zkpool_types::api::{BlobStored, Role};
use zkpool_types::{BlobHash, KeyId};

use crate::{Backend, Store, StoreError};

/// Most bytes in one row of `blob_chunks` (PostgreSQL): big enough that a 256 MiB upload is
/// 256 rows, small enough that serving a blob holds one chunk in memory at a time.
const CHUNK: usize = 1 << 20;

/// A stored blob's bytes as a stream of chunks, for a response body.
pub type BlobStream = BoxStream<'static, Result<bytes::Bytes, StoreError>>;

/// Streams one upload to a temp file while hashing and counting it. Nothing is visible to
/// readers until [`Store::commit_blob`]; dropping the writer removes the temp file.
#[derive(Debug)]
pub struct BlobWriter {
    file: tokio::fs::File,
    path: PathBuf,
    hasher: Sha256,
    size: u64,
    committed: bool,
}

impl BlobWriter {
    /// Appends a chunk.
    pub async fn write(&mut self, chunk: &[u8]) -> Result<(), StoreError> {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        self.file
            .write_all(chunk)
            .await
            .map_err(|e| StoreError::io(&self.path, e))
    }

    /// Bytes written so far.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl Drop for BlobWriter {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// A requester key uploading a blob, and the quota its stored bytes must stay within.
#[derive(Debug, Clone, Copy)]
pub struct Uploader {
    /// The uploading key.
    pub key: KeyId,
    /// Most bytes its blobs may take together.
    pub quota: u64,
}

/// What one garbage collection removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collected {
    /// Blobs removed.
    pub blobs: u64,
    /// Their bytes.
    pub bytes: u64,
}

async fn owns(
    conn: &mut sqlx::AnyConnection,
    hash: &BlobHash,
    key: KeyId,
) -> Result<bool, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM blob_owners o JOIN blobs b ON b.hash = o.hash
         WHERE o.hash = $1 AND o.key_id = $2",
    )
    .bind(hash.to_hex())
    .bind(key.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(n > 0)
}

async fn stored_bytes(conn: &mut sqlx::AnyConnection, key: KeyId) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(b.size), 0) AS BIGINT) FROM blob_owners o JOIN blobs b ON b.hash = o.hash
         WHERE o.key_id = $1",
    )
    .bind(key.0)
    .fetch_one(&mut *conn)
    .await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

impl Store {
    fn blob_path(&self, hash: &BlobHash) -> PathBuf {
        let hex = hash.to_hex();
        self.blob_dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Starts an upload.
    pub async fn blob_writer(&self) -> Result<BlobWriter, StoreError> {
        let mut name = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut name);
        let path = self.blob_dir.join("tmp").join(hex::encode(name));
        let file = tokio::fs::File::create(&path)
            .await
            .map_err(|e| StoreError::io(&path, e))?;
        Ok(BlobWriter {
            file,
            path,
            hasher: Sha256::new(),
            size: 0,
            committed: false,
        })
    }

    /// Makes an upload durable under its hash and, for an upload by a requester key, records
    /// that key as one that may read it, within the key's storage quota. `existed` says
    /// whether *this* key already had it (for the node's own blobs, `uploader` `None`: whether
    /// the node had it), so that an upload never tells a key that someone else stored the
    /// same bytes. A key's stored bytes are the sizes of the blobs it owns, whoever else owns
    /// them too; re-uploading a blob the key owns costs nothing. Refused past the quota with
    /// [`StoreError::QuotaExceeded`], and then nothing of the upload is kept.
    pub async fn commit_blob(
        &self,
        mut w: BlobWriter,
        uploader: Option<Uploader>,
        now_ms: i64,
    ) -> Result<BlobStored, StoreError> {
        w.file
            .sync_all()
            .await
            .map_err(|e| StoreError::io(&w.path, e))?;
        let hash = BlobHash(w.hasher.clone().finalize().into());
        let size = w.size;
        // Under the writer lock, like the collector: a blob is never removed between the
        // check that it exists and the rows that keep it.
        let (_g, mut tx) = self.begin_write().await?;
        let r: Result<bool, StoreError> = async {
            let owned = match uploader {
                None => None,
                Some(u) => Some((u, owns(&mut tx, &hash, u.key).await?)),
            };
            if let Some((u, false)) = owned {
                let used = stored_bytes(&mut tx, u.key).await?;
                if used.saturating_add(size) > u.quota {
                    return Err(StoreError::QuotaExceeded {
                        used,
                        size,
                        quota: u.quota,
                    });
                }
            }
            let touched = sqlx::query(
                "UPDATE blobs SET used_ms = CASE WHEN used_ms > $1 THEN used_ms ELSE $1 END
                 WHERE hash = $2",
            )
            .bind(now_ms)
            .bind(hash.to_hex())
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let stored = touched > 0;
            if !stored {
                match self.backend {
                    Backend::Sqlite { .. } => {
                        let dest = self.blob_path(&hash);
                        let parent = dest.parent().unwrap_or(Path::new("."));
                        tokio::fs::create_dir_all(parent)
                            .await
                            .map_err(|e| StoreError::io(parent, e))?;
                        tokio::fs::rename(&w.path, &dest)
                            .await
                            .map_err(|e| StoreError::io(&dest, e))?;
                        w.committed = true;
                    }
                    // The temp file goes when the writer drops, after the chunks committed.
                    Backend::Postgres { .. } => insert_chunks(&mut tx, &hash, &w.path).await?,
                }
                sqlx::query(
                    "INSERT INTO blobs (hash, size, created_ms, used_ms) VALUES ($1, $2, $3, $4)",
                )
                .bind(hash.to_hex())
                .bind(size as i64)
                .bind(now_ms)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            }
            Ok(match owned {
                None => stored,
                Some((_, true)) => true,
                Some((u, false)) => {
                    sqlx::query("INSERT INTO blob_owners (hash, key_id) VALUES ($1, $2)")
                        .bind(hash.to_hex())
                        .bind(u.key.0)
                        .execute(&mut *tx)
                        .await?;
                    false
                }
            })
        }
        .await;
        let existed = crate::finish_tx(tx, r).await?;
        Ok(BlobStored {
            hash,
            size,
            existed,
        })
    }

    /// Bytes the blobs `key` owns take, as counted against its quota.
    pub async fn stored_bytes(&self, key: KeyId) -> Result<u64, StoreError> {
        let mut conn = self.pool.acquire().await?;
        stored_bytes(&mut conn, key).await
    }

    /// Removes up to `max` blobs that no task needs any more: last uploaded or named by a
    /// task before `now_ms - retention_ms`, and used by no task (as an artifact or as its
    /// proof) that is unfinished, or finished within the retention period, or whose split
    /// parent is. A blob a queued, leased or proving task needs is never removed. Rows go in
    /// one transaction and the files after it, all under the writer lock, so an upload or a
    /// submit of the same bytes waits and then finds them gone (and stores them anew) or
    /// kept.
    pub async fn collect_blobs(
        &self,
        now_ms: i64,
        retention_ms: i64,
        max: u32,
    ) -> Result<Collected, StoreError> {
        let cutoff = now_ms.saturating_sub(retention_ms);
        let (_g, mut tx) = self.begin_write().await?;
        let r: Result<Vec<(String, i64)>, StoreError> = async {
            let doomed: Vec<(String, i64)> = sqlx::query_as(
                "SELECT b.hash, b.size FROM blobs b WHERE b.used_ms < $1
                   AND NOT EXISTS (
                     SELECT 1 FROM task_blobs tb JOIN tasks t ON t.id = tb.task_id
                     LEFT JOIN tasks p ON p.id = t.parent_id
                     WHERE tb.hash = b.hash AND (
                       t.state IN ('queued', 'leased', 'proving') OR t.finished_ms IS NULL
                       OR t.finished_ms >= $1
                       OR (p.id IS NOT NULL AND (p.state IN ('queued', 'leased', 'proving')
                           OR p.finished_ms IS NULL OR p.finished_ms >= $1))))
                   AND NOT EXISTS (
                     SELECT 1 FROM tasks t LEFT JOIN tasks p ON p.id = t.parent_id
                     WHERE t.proof_hash = b.hash AND (
                       t.state IN ('queued', 'leased', 'proving') OR t.finished_ms IS NULL
                       OR t.finished_ms >= $1
                       OR (p.id IS NOT NULL AND (p.state IN ('queued', 'leased', 'proving')
                           OR p.finished_ms IS NULL OR p.finished_ms >= $1))))
                 ORDER BY b.used_ms, b.hash LIMIT $2",
            )
            .bind(cutoff)
            .bind(i64::from(max))
            .fetch_all(&mut *tx)
            .await?;
            for (hash, _) in &doomed {
                sqlx::query("DELETE FROM blob_owners WHERE hash = $1")
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("DELETE FROM blobs WHERE hash = $1")
                    .bind(hash)
                    .execute(&mut *tx)
                    .await?;
                if let Backend::Postgres { .. } = self.backend {
                    sqlx::query("DELETE FROM blob_chunks WHERE hash = $1")
                        .bind(hash)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            Ok(doomed)
        }
        .await;
        let doomed = crate::finish_tx(tx, r).await?;
        let mut out = Collected::default();
        for (hex, size) in doomed {
            let hash: BlobHash = hex
                .parse()
                .map_err(|_| StoreError::Corrupt(format!("blob hash {hex:?}")))?;
            if let Backend::Sqlite { .. } = self.backend {
                let path = self.blob_path(&hash);
                match tokio::fs::remove_file(&path).await {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(StoreError::io(&path, e)),
                }
            }
            out.blobs += 1;
            out.bytes += u64::try_from(size).unwrap_or(0);
        }
        Ok(out)
    }

    /// Whether `key` (of `role`) may read blob `hash` at `now_ms`: the admin always; a
    /// requester key that uploaded it; a prover key while it holds a live lease on a task that
    /// uses it. Everyone else is told it does not exist.
    pub async fn may_read_blob(
        &self,
        hash: &BlobHash,
        key: KeyId,
        role: Role,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let sql = match role {
            Role::Admin => return self.has_blob(hash).await,
            Role::Requester => {
                "SELECT COUNT(*) FROM blob_owners WHERE hash = $1 AND key_id = $2 AND $3 IS NOT NULL"
            }
            Role::Prover => {
                "SELECT COUNT(*) FROM task_blobs tb JOIN tasks t ON t.id = tb.task_id
                 JOIN leases l ON l.id = t.lease_id
                 WHERE tb.hash = $1 AND t.state = 'leased' AND l.key_id = $2
                   AND l.outcome IS NULL AND t.lease_expires_ms >= $3"
            }
        };
        let n: i64 = sqlx::query_scalar(sql)
            .bind(hash.to_hex())
            .bind(key.0)
            .bind(now_ms)
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The blob's bytes as a stream and its size, for serving it; `None` when it is not
    /// stored. One chunk is in memory at a time.
    pub async fn open_blob(
        &self,
        hash: &BlobHash,
    ) -> Result<Option<(BlobStream, u64)>, StoreError> {
        let size: Option<i64> = sqlx::query_scalar("SELECT size FROM blobs WHERE hash = $1")
            .bind(hash.to_hex())
            .fetch_optional(&self.pool)
            .await?;
        let Some(size) = size else {
            return Ok(None);
        };
        let size = u64::try_from(size)
            .map_err(|_| StoreError::Corrupt(format!("blob {hash} size {size}")))?;
        let stream = match self.backend {
            Backend::Sqlite { .. } => {
                let path = self.blob_path(hash);
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| StoreError::io(&path, e))?;
                tokio_util::io::ReaderStream::with_capacity(file, 64 * 1024)
                    .map_err(move |e| StoreError::io(&path, e))
                    .boxed()
            }
            Backend::Postgres { .. } => {
                let pool = self.pool.clone();
                let hex = hash.to_hex();
                let chunks = size.div_ceil(CHUNK as u64);
                futures::stream::iter(0..chunks)
                    .then(move |idx| chunk(pool.clone(), hex.clone(), idx))
                    .boxed()
            }
        };
        Ok(Some((stream, size)))
    }

    /// Stores bytes already in memory (the node's own: proofs, segment inputs; no quota).
    pub async fn put_blob(&self, bytes: &[u8], now_ms: i64) -> Result<BlobStored, StoreError> {
        let mut w = self.blob_writer().await?;
        w.write(bytes).await?;
        self.commit_blob(w, None, now_ms).await
    }

    /// True when a blob with this hash is stored.
    pub async fn has_blob(&self, hash: &BlobHash) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs WHERE hash = $1")
            .bind(hash.to_hex())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The blob's bytes, or `None` when it is not stored.
    pub async fn read_blob(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>, StoreError> {
        let Some((mut stream, size)) = self.open_blob(hash).await? else {
            return Ok(None);
        };
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        while let Some(chunk) = stream.try_next().await? {
            bytes.extend_from_slice(&chunk);
        }
        if bytes.len() as u64 != size {
            return Err(StoreError::Corrupt(format!(
                "blob {hash}: {} bytes stored, {size} recorded",
                bytes.len()
            )));
        }
        Ok(Some(bytes))
    }
}

/// Copies the upload at `path` into `blob_chunks` under `hash`, in the caller's transaction.
async fn insert_chunks(tx: &mut crate::Tx, hash: &BlobHash, path: &Path) -> Result<(), StoreError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(|e| StoreError::io(path, e))?;
    let mut buf = vec![0u8; CHUNK];
    for idx in 0i64.. {
        let mut filled = 0;
        while filled < CHUNK {
            let n = file
                .read(&mut buf[filled..])
                .await
                .map_err(|e| StoreError::io(path, e))?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        if filled == 0 {
            break;
        }
        sqlx::query("INSERT INTO blob_chunks (hash, idx, data) VALUES ($1, $2, $3)")
            .bind(hash.to_hex())
            .bind(idx)
            .bind(buf[..filled].to_vec())
            .execute(&mut **tx)
            .await?;
        if filled < CHUNK {
            break;
        }
    }
    Ok(())
}

/// Chunk `idx` of blob `hex` from `blob_chunks`; a missing chunk is corruption (the blob's
/// row and its chunks commit and go together).
async fn chunk(pool: sqlx::AnyPool, hex: String, idx: u64) -> Result<bytes::Bytes, StoreError> {
    let data: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM blob_chunks WHERE hash = $1 AND idx = $2")
            .bind(&hex)
            .bind(idx as i64)
            .fetch_optional(&pool)
            .await?;
    data.map(bytes::Bytes::from)
        .ok_or_else(|| StoreError::Corrupt(format!("blob {hex}: chunk {idx} missing")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn blobs_are_content_addressed_and_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let a = store.put_blob(b"hello", 1).await.unwrap();
        assert_eq!(a.hash, BlobHash::of(b"hello"));
        assert!(!a.existed);
        let b = store.put_blob(b"hello", 2).await.unwrap();
        assert!(b.existed);
        assert_eq!(store.read_blob(&a.hash).await.unwrap().unwrap(), b"hello");
        assert!(store
            .read_blob(&BlobHash::of(b"other"))
            .await
            .unwrap()
            .is_none());
        // the temp directory holds nothing once uploads are committed or dropped
        let w = store.blob_writer().await.unwrap();
        drop(w);
        let tmp = std::fs::read_dir(dir.path().join("blobs/tmp"))
            .unwrap()
            .count();
        assert_eq!(tmp, 0);
    }
}
