//! A read-only fleet dashboard: every machine's status and work, and the task counts. Public on
//! purpose (like a mining pool's page): it shows machine names and counters, never artifacts,
//! proofs or keys.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::Json;
use serde::Serialize;
use zkpool_store::now_ms;
use zkpool_types::api::ProverView;

use crate::admin::online_window;
use crate::{ApiError, Node};

/// `GET /v1/dashboard`.
#[derive(Serialize, Debug)]
pub struct DashboardData {
    provers: Vec<ProverView>,
    tasks_by_state: BTreeMap<String, u64>,
    now_ms: i64,
}

/// `GET /v1/dashboard`.
pub async fn data(State(node): State<Arc<Node>>) -> Result<Json<DashboardData>, ApiError> {
    let now = now_ms();
    let provers = node.store.list_provers(now, online_window(&node)).await?;
    let tasks_by_state = node.store.count_tasks_by_state().await?;
    Ok(Json(DashboardData {
        provers,
        tasks_by_state,
        now_ms: now,
    }))
}

/// `GET /`: the dashboard page; it polls `/v1/dashboard` every two seconds.
pub async fn page() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}
