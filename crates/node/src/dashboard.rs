//! A read-only fleet dashboard: every machine's status and work, the task counts, and the newest
//! split tasks with the machine proving each segment. Public on
//! purpose (like a mining pool's page): it shows machine names and counters, never artifacts,
//! proofs or keys.

use std::sync::Arc;

use axum::extract::State;
use axum::response::Html;
use axum::Json;
use zkpool_types::api::{DashboardView, SegmentProgress, SplitProgress};

use crate::admin::online_window;
use crate::{ApiError, Node};

/// Split tasks the dashboard shows, newest first.
const DASHBOARD_SPLITS: u32 = 6;

/// `GET /v1/dashboard`.
#[utoipa::path(
    get,
    path = "/v1/dashboard",
    tag = "public",
    responses(
        (status = 200, description = "the fleet, counters, throughput, queue depth and the epoch in progress", body = DashboardView),
    )
)]
pub async fn data(State(node): State<Arc<Node>>) -> Result<Json<DashboardView>, ApiError> {
    let now = node.now_ms();
    let provers = node.store.list_provers(now, online_window(&node)).await?;
    let tasks_by_state = node.store.count_tasks_by_state().await?;
    let tasks_by_cause = node.store.count_tasks_by_cause().await?;
    let splits = node
        .store
        .list_split_tasks(DASHBOARD_SPLITS)
        .await?
        .into_iter()
        .map(|t| SplitProgress {
            task: t.id,
            state: t.state,
            join_ms: t.verify_ms,
            segments: t
                .segments
                .iter()
                .map(|s| SegmentProgress {
                    task: s.id,
                    state: s.state,
                    prover: s.prover_name.clone(),
                    rows: s.work,
                    prove_ms: s.prove_ms,
                    attempts: s.attempts,
                })
                .collect(),
        })
        .collect();
    let proofs_per_minute = node.store.proofs_per_minute(now, 60).await?;
    let epoch = match node.config.chain {
        None => Some(crate::epochs::current(&node).await?),
        Some(_) => None,
    };
    Ok(Json(DashboardView {
        provers,
        tasks_by_state,
        tasks_by_cause,
        splits,
        now_ms: now,
        proofs_per_minute,
        queue_depth: node.queue_history(),
        epoch,
    }))
}

/// `GET /`: the dashboard page; it polls `/v1/dashboard` every two seconds.
#[utoipa::path(
    get,
    path = "/",
    tag = "public",
    responses(
        (status = 200, description = "the dashboard page (self-contained HTML)", content_type = "text/html", body = String),
    )
)]
pub async fn page() -> Html<&'static str> {
    Html(include_str!("dashboard.html"))
}
