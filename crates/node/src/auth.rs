//! Bearer access keys. No key, no access: there is no anonymous or fallback caller.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use zkpool_store::KeyRecord;
use zkpool_types::api::Role;

use crate::{ApiError, Node};

/// The authenticated caller of a request.
#[derive(Clone, Debug)]
pub struct Caller(pub KeyRecord);

impl Caller {
    /// Refuses callers whose role is not in `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.0.role) {
            return Ok(());
        }
        let want: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
        Err(ApiError::forbidden(format!(
            "this endpoint needs a {} key; key {} is a {} key",
            want.join(" or "),
            self.0.name,
            self.0.role.as_str()
        )))
    }
}

impl FromRequestParts<Arc<Node>> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, node: &Arc<Node>) -> Result<Self, ApiError> {
        match authenticate(parts, node).await {
            Ok(key) => {
                // Each key has its own budget: one abusive key slows only itself.
                if let Err(refused) = node.guard.charge_key(key.id, key.role, node.now_ms()) {
                    return Err(node.guard.tarpit(refused).await);
                }
                Ok(Caller(key))
            }
            Err(refused) => {
                // A caller without a valid key is budgeted by address; past the budget it is
                // told to back off rather than which keys do not exist.
                if let Err(limited) = node
                    .guard
                    .charge_addr(crate::guard::peer(parts), node.now_ms())
                {
                    return Err(node.guard.tarpit(limited).await);
                }
                Err(refused)
            }
        }
    }
}

/// The live key the request's bearer secret names.
async fn authenticate(parts: &Parts, node: &Node) -> Result<KeyRecord, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "missing_key",
            "no access key: send `Authorization: Bearer <key>` (get one with `zkpool keys create`)",
        )
    })?;
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|s| !s.is_empty() && s.len() <= 256)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "malformed_key",
                "Authorization must be `Bearer <key>`",
            )
        })?;
    node.store.authenticate(secret).await?.ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unknown_key",
            "unknown or revoked access key",
        )
    })
}
