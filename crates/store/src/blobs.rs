use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use zkpool_types::api::{BlobStored, Role};
use zkpool_types::{BlobHash, KeyId};

use crate::{Store, StoreError};

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
    /// that key as one that may read it. `existed` says whether *this* key already had it
    /// (for the node's own blobs, `owner` `None`: whether the node had it), so that an upload
    /// never tells a key that someone else stored the same bytes.
    pub async fn commit_blob(
        &self,
        mut w: BlobWriter,
        owner: Option<KeyId>,
        now_ms: i64,
    ) -> Result<BlobStored, StoreError> {
        w.file
            .sync_all()
            .await
            .map_err(|e| StoreError::io(&w.path, e))?;
        let hash = BlobHash(w.hasher.clone().finalize().into());
        let size = w.size;
        let dest = self.blob_path(&hash);
        let existed = self.has_blob(&hash).await?;
        if !existed {
            let parent = dest.parent().unwrap_or(Path::new("."));
            tokio::fs::create_dir_all(parent)
                .await
                .map_err(|e| StoreError::io(parent, e))?;
            tokio::fs::rename(&w.path, &dest)
                .await
                .map_err(|e| StoreError::io(&dest, e))?;
            w.committed = true;
            let _g = self.write.lock().await;
            sqlx::query("INSERT OR IGNORE INTO blobs (hash, size, created_ms) VALUES (?, ?, ?)")
                .bind(hash.to_hex())
                .bind(size as i64)
                .bind(now_ms)
                .execute(&self.pool)
                .await?;
        }
        let existed = match owner {
            None => existed,
            Some(key) => {
                let _g = self.write.lock().await;
                let added =
                    sqlx::query("INSERT OR IGNORE INTO blob_owners (hash, key_id) VALUES (?, ?)")
                        .bind(hash.to_hex())
                        .bind(key.0)
                        .execute(&self.pool)
                        .await?
                        .rows_affected();
                added == 0
            }
        };
        Ok(BlobStored {
            hash,
            size,
            existed,
        })
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
                "SELECT COUNT(*) FROM blob_owners WHERE hash = ?1 AND key_id = ?2 AND ?3 IS NOT NULL"
            }
            Role::Prover => {
                "SELECT COUNT(*) FROM task_blobs tb JOIN tasks t ON t.id = tb.task_id
                 JOIN leases l ON l.id = t.lease_id
                 WHERE tb.hash = ?1 AND t.state = 'leased' AND l.key_id = ?2
                   AND l.outcome IS NULL AND t.lease_expires_ms >= ?3"
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

    /// The blob as an open file and its size, for streaming; `None` when it is not stored.
    pub async fn open_blob(
        &self,
        hash: &BlobHash,
    ) -> Result<Option<(tokio::fs::File, u64)>, StoreError> {
        if !self.has_blob(hash).await? {
            return Ok(None);
        }
        let path = self.blob_path(hash);
        let file = tokio::fs::File::open(&path)
            .await
            .map_err(|e| StoreError::io(&path, e))?;
        let size = file
            .metadata()
            .await
            .map_err(|e| StoreError::io(&path, e))?
            .len();
        Ok(Some((file, size)))
    }

    /// Stores bytes already in memory.
    pub async fn put_blob(&self, bytes: &[u8], now_ms: i64) -> Result<BlobStored, StoreError> {
        let mut w = self.blob_writer().await?;
        w.write(bytes).await?;
        self.commit_blob(w, None, now_ms).await
    }

    /// True when a blob with this hash is stored.
    pub async fn has_blob(&self, hash: &BlobHash) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM blobs WHERE hash = ?")
            .bind(hash.to_hex())
            .fetch_one(&self.pool)
            .await?;
        Ok(n > 0)
    }

    /// The blob's bytes, or `None` when it is not stored.
    pub async fn read_blob(&self, hash: &BlobHash) -> Result<Option<Vec<u8>>, StoreError> {
        if !self.has_blob(hash).await? {
            return Ok(None);
        }
        let path = self.blob_path(hash);
        tokio::fs::read(&path)
            .await
            .map(Some)
            .map_err(|e| StoreError::io(&path, e))
    }
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
