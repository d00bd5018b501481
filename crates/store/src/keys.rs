use rand::RngCore;
use sha2::{Digest, Sha256};
use zkpool_types::api::{CreatedKey, Role};
use zkpool_types::KeyId;

use crate::{Store, StoreError};

/// An access key as stored: no secret, only its hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyRecord {
    /// The key.
    pub id: KeyId,
    /// What it may do.
    pub role: Role,
    /// Its name.
    pub name: String,
}

fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

impl Store {
    /// Creates a key with a fresh 256-bit random secret, returned once and stored hashed.
    pub async fn create_key(
        &self,
        role: Role,
        name: &str,
        now_ms: i64,
    ) -> Result<CreatedKey, StoreError> {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let secret = format!("zkp_{}_{}", role.as_str(), hex::encode(raw));
        let (_w, mut tx) = self.begin_write().await?;
        let r = sqlx::query_scalar(
            "INSERT INTO keys (role, name, secret_hash, created_ms) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(role.as_str())
        .bind(name)
        .bind(hash_secret(&secret))
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from);
        let id: i64 = crate::finish_tx(tx, r).await?;
        Ok(CreatedKey {
            id: KeyId(id),
            role,
            name: name.to_string(),
            secret,
        })
    }

    /// The live key whose secret is `secret`, if any.
    pub async fn authenticate(&self, secret: &str) -> Result<Option<KeyRecord>, StoreError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "SELECT id, role, name FROM keys WHERE secret_hash = $1 AND revoked = 0",
        )
        .bind(hash_secret(secret))
        .fetch_optional(&self.pool)
        .await?;
        row.map(decode_key).transpose()
    }

    /// Revokes live key `id`: its next call is refused (401). Returns the key, `Ok(None)` when
    /// there is no such live key. The last live admin key cannot be revoked (the pool would be
    /// left without an operator): [`StoreError::LastAdmin`].
    pub async fn revoke_key(&self, id: KeyId) -> Result<Option<KeyRecord>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let row: Option<(i64, String, String)> =
                sqlx::query_as("SELECT id, role, name FROM keys WHERE id = $1 AND revoked = 0")
                    .bind(id.0)
                    .fetch_optional(&mut *tx)
                    .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let key = decode_key(row)?;
            if key.role == Role::Admin {
                let (admins,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM keys WHERE role = 'admin' AND revoked = 0",
                )
                .fetch_one(&mut *tx)
                .await?;
                if admins <= 1 {
                    return Err(StoreError::LastAdmin);
                }
            }
            sqlx::query("UPDATE keys SET revoked = 1 WHERE id = $1")
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            Ok(Some(key))
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Every key, oldest first.
    pub async fn list_keys(&self) -> Result<Vec<KeyRecord>, StoreError> {
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, role, name FROM keys WHERE revoked = 0 ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter().map(decode_key).collect()
    }
}

fn decode_key((id, role, name): (i64, String, String)) -> Result<KeyRecord, StoreError> {
    let role = Role::parse(&role)
        .ok_or_else(|| StoreError::Corrupt(format!("key {id} has role {role:?}")))?;
    Ok(KeyRecord {
        id: KeyId(id),
        role,
        name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn keys_authenticate_by_secret_and_store_no_secret() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).await.unwrap();
        let k = store.create_key(Role::Prover, "rig-1", 1).await.unwrap();
        assert!(k.secret.starts_with("zkp_prover_"));
        let found = store.authenticate(&k.secret).await.unwrap().unwrap();
        assert_eq!(found.role, Role::Prover);
        assert_eq!(found.name, "rig-1");
        assert!(store
            .authenticate("zkp_prover_wrong")
            .await
            .unwrap()
            .is_none());
        let stored: Vec<(String,)> = sqlx::query_as("SELECT secret_hash FROM keys")
            .fetch_all(&store.pool)
            .await
            .unwrap();
        assert!(!stored[0].0.contains(&k.secret));
    }
}
