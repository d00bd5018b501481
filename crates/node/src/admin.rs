//! Operator endpoints: access keys and the full status.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use zkpool_types::api::{
    CreateKeyRequest, CreatedKey, ErrorBody, KeyInfo, MeView, Role, StatusView,
};
use zkpool_types::KeyId;

use crate::extract::{ApiJson, ApiPath};
use crate::{ApiError, Caller, Node};

/// `POST /v1/keys` (admin): a new access key; its secret is in this answer only.
#[utoipa::path(
    post,
    path = "/v1/keys",
    tag = "admin",
    security(("key" = [])),
    request_body = CreateKeyRequest,
    responses(
        (status = 201, description = "the key; its secret is in this answer only", body = CreatedKey),
        (status = 400, description = "`bad_name`: the name is empty or longer than 64 bytes", body = ErrorBody),
    )
)]
pub async fn create_key(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiJson(req): ApiJson<CreateKeyRequest>,
) -> Result<(StatusCode, Json<CreatedKey>), ApiError> {
    caller.require(&[Role::Admin])?;
    if req.name.trim().is_empty() || req.name.len() > 64 {
        return Err(ApiError::bad_request(
            "bad_name",
            "key name must be 1 to 64 bytes",
        ));
    }
    let key = node
        .store
        .create_key(req.role, req.name.trim(), node.now_ms())
        .await?;
    tracing::info!(key = %key.id, role = key.role.as_str(), name = %key.name, "access key created");
    Ok((StatusCode::CREATED, Json(key)))
}

/// `GET /v1/keys` (admin).
#[utoipa::path(
    get,
    path = "/v1/keys",
    tag = "admin",
    security(("key" = [])),
    responses(
        (status = 200, description = "every key, without secrets", body = Vec<KeyInfo>),
    )
)]
pub async fn list_keys(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<Vec<KeyInfo>>, ApiError> {
    caller.require(&[Role::Admin])?;
    let keys = node.store.list_keys().await?;
    Ok(Json(
        keys.into_iter()
            .map(|k| KeyInfo {
                id: k.id,
                role: k.role,
                name: k.name,
            })
            .collect(),
    ))
}

/// `POST /v1/keys/{id}/revoke` (admin): the key's next call gets 401; a prover key's open
/// leases go back to the queue at once (collateral back, nobody penalised). The last admin key
/// cannot be revoked (`409 last_admin`).
#[utoipa::path(
    post,
    path = "/v1/keys/{id}/revoke",
    tag = "admin",
    security(("key" = [])),
    params(("id" = String, Path, description = "key id: `2` or `k-2`", pattern = "^(k-)?[0-9]{1,18}$")),
    responses(
        (status = 200, description = "the revoked key; a prover key's open leases go back to the queue", body = KeyInfo),
        (status = 400, description = "`bad_id`: not a key id; `bad_path`: not UTF-8", body = ErrorBody),
        (status = 404, description = "`not_found`: no such key", body = ErrorBody),
        (status = 409, description = "`last_admin`: the last admin key cannot be revoked", body = ErrorBody),
    )
)]
pub async fn revoke_key(
    State(node): State<Arc<Node>>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<KeyInfo>, ApiError> {
    caller.require(&[Role::Admin])?;
    let id: KeyId = id
        .parse()
        .map_err(|_| ApiError::bad_request("bad_id", format!("{id:?} is not a key id (k-N)")))?;
    let key = node
        .store
        .revoke_key(id)
        .await?
        .ok_or_else(|| ApiError::not_found("key", id))?;
    tracing::warn!(key = %key.id, role = key.role.as_str(), name = %key.name, "access key revoked");
    if key.role == Role::Prover {
        let taken = crate::liability::sweep(&node, crate::liability::Sweep::Revoked).await?;
        if !taken.is_empty() {
            node.work_ready.wake_all();
        }
    }
    Ok(Json(KeyInfo {
        id: key.id,
        role: key.role,
        name: key.name,
    }))
}

/// `GET /v1/status`: provers, and tasks (all for admin, a requester's own otherwise, none for
/// a prover key).
#[utoipa::path(
    get,
    path = "/v1/status",
    tag = "account",
    security(("key" = [])),
    responses(
        (status = 200, description = "provers, and tasks (all for the admin, the requester's own, none for a prover key)", body = StatusView),
    )
)]
pub async fn status(
    State(node): State<Arc<Node>>,
    caller: Caller,
) -> Result<Json<StatusView>, ApiError> {
    let tasks = match caller.0.role {
        Role::Admin => node.store.list_tasks(None, 500).await?,
        Role::Requester => node.store.list_tasks(Some(caller.0.id), 500).await?,
        Role::Prover => Vec::new(),
    };
    let provers = node
        .store
        .list_provers(node.now_ms(), online_window(&node))
        .await?;
    Ok(Json(StatusView { tasks, provers }))
}

/// `GET /v1/me` (any key): the key's id, name and role, and a prover key's machines; the
/// dashboard's sign-in.
#[utoipa::path(
    get,
    path = "/v1/me",
    tag = "account",
    security(("key" = [])),
    responses(
        (status = 200, description = "the key itself, and a prover key's machines", body = MeView),
    )
)]
pub async fn me(State(node): State<Arc<Node>>, caller: Caller) -> Result<Json<MeView>, ApiError> {
    let machines = match caller.0.role {
        Role::Prover => node
            .store
            .provers_of(Some(caller.0.id))
            .await?
            .into_iter()
            .map(|(id, _, _)| id)
            .collect(),
        _ => Vec::new(),
    };
    Ok(Json(MeView {
        key: caller.0.id,
        name: caller.0.name.clone(),
        role: caller.0.role,
        machines,
    }))
}

/// A prover is online when it heartbeated within three heartbeat intervals.
pub(crate) fn online_window(node: &Node) -> i64 {
    3 * node.config.heartbeat.as_millis() as i64
}
