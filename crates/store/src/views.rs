//! Tasks as the API shows them: read-only queries, no transactions needed.

use zkpool_types::api::TaskView;
use zkpool_types::{KeyId, ProverId, TaskCause, TaskId};

use crate::tasks::decode_state;
use crate::{Store, StoreError};

/// id, system, label, state, work, attempts, max attempts, prover, its name, prove ms, verify ms,
/// created, finished, parent, segment index, cause: the columns of [`TASK_VIEW_SQL`].
type TaskRow = (
    i64,
    String,
    Option<String>,
    String,
    i64,
    i64,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    i64,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

const TASK_VIEW_SQL: &str =
    "SELECT t.id, t.system, t.label, t.state, t.work, t.attempts, t.max_attempts,
        t.prover_id, p.name, t.prove_ms, t.verify_ms, t.created_ms, t.finished_ms,
        t.parent_id, t.segment_index, t.cause
     FROM tasks t LEFT JOIN provers p ON p.id = t.prover_id";

impl Store {
    /// One task as the API shows it.
    pub async fn task_view(&self, id: TaskId) -> Result<Option<TaskView>, StoreError> {
        let row: Option<TaskRow> = sqlx::query_as(&format!("{TASK_VIEW_SQL} WHERE t.id = $1"))
            .bind(id.0)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(r) => Ok(Some(self.decode_view(r).await?)),
            None => Ok(None),
        }
    }

    /// Tasks newest first, all of them or one requester's; segments appear inside their split
    /// task's view, not on their own.
    pub async fn list_tasks(
        &self,
        requester: Option<KeyId>,
        limit: u32,
    ) -> Result<Vec<TaskView>, StoreError> {
        let rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "{TASK_VIEW_SQL} WHERE ($1 IS NULL OR t.requester_key = $2) AND t.parent_id IS NULL
             ORDER BY t.id DESC LIMIT $3"
        ))
        .bind(requester.map(|k| k.0))
        .bind(requester.map(|k| k.0))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        self.decode_views(rows).await
    }

    /// Split tasks newest first, each with its segments (the dashboard's view).
    pub async fn list_split_tasks(&self, limit: u32) -> Result<Vec<TaskView>, StoreError> {
        let rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "{TASK_VIEW_SQL} WHERE t.parent_id IS NULL
               AND EXISTS (SELECT 1 FROM tasks s WHERE s.parent_id = t.id)
             ORDER BY t.id DESC LIMIT $1"
        ))
        .bind(limit as i64)
        .fetch_all(&self.pool)
        .await?;
        self.decode_views(rows).await
    }

    async fn decode_views(&self, rows: Vec<TaskRow>) -> Result<Vec<TaskView>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.decode_view(r).await?);
        }
        Ok(out)
    }

    /// A row as a view, with its segments when it is a split task, its legs (each with its
    /// own segments) when it is a multi-prover or racing task.
    async fn decode_view(&self, r: TaskRow) -> Result<TaskView, StoreError> {
        let mut view = self.decode_row(r).await?;
        if view.parent.is_none() {
            let (composition,): (Option<String>,) =
                sqlx::query_as("SELECT composition FROM tasks WHERE id = $1")
                    .bind(view.id.0)
                    .fetch_one(&self.pool)
                    .await?;
            view.composition = composition
                .map(|c| {
                    zkpool_types::Composition::parse(&c)
                        .ok_or_else(|| StoreError::Corrupt(format!("composition {c:?}")))
                })
                .transpose()?;
            view.segments = self.children(view.id).await?;
            if view.composition.is_some() {
                for leg in &mut view.segments {
                    leg.segments = self.children(leg.id).await?;
                }
            }
        }
        Ok(view)
    }

    async fn children(&self, parent: TaskId) -> Result<Vec<TaskView>, StoreError> {
        let rows: Vec<TaskRow> = sqlx::query_as(&format!(
            "{TASK_VIEW_SQL} WHERE t.parent_id = $1 ORDER BY t.segment_index"
        ))
        .bind(parent.0)
        .fetch_all(&self.pool)
        .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            out.push(self.decode_row(r).await?);
        }
        Ok(out)
    }

    async fn decode_row(&self, r: TaskRow) -> Result<TaskView, StoreError> {
        let (
            id,
            system,
            label,
            state,
            work,
            attempts,
            max_attempts,
            prover,
            prover_name,
            prove_ms,
            verify_ms,
            created,
            finished,
            parent,
            segment,
            cause,
        ) = r;
        let failures: Vec<(String,)> =
            sqlx::query_as("SELECT reason FROM task_failures WHERE task_id = $1 ORDER BY id")
                .bind(id)
                .fetch_all(&self.pool)
                .await?;
        Ok(TaskView {
            id: TaskId(id),
            system: system
                .parse()
                .map_err(|e: zkpool_types::ParseProofSystemError| {
                    StoreError::Corrupt(e.to_string())
                })?,
            label,
            state: decode_state(&state)?,
            work: work as u64,
            attempts: attempts as u32,
            max_attempts: max_attempts as u32,
            prover: prover.map(ProverId),
            prover_name,
            prove_ms: prove_ms.map(|v| v as u64),
            verify_ms: verify_ms.map(|v| v as u64),
            created_ms: created,
            finished_ms: finished,
            failures: failures.into_iter().map(|(r,)| r).collect(),
            parent: parent.map(TaskId),
            segment: segment.map(|i| i as u32),
            segments: Vec::new(),
            composition: None,
            cause: cause
                .map(|c| {
                    TaskCause::parse(&c)
                        .ok_or_else(|| StoreError::Corrupt(format!("task cause {c:?}")))
                })
                .transpose()?,
        })
    }
}

impl Store {
    /// How many tasks are in each state, as requesters see them: a split task counts once
    /// (`proving` while its segments run), its segments not at all.
    pub async fn count_tasks_by_state(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM tasks WHERE parent_id IS NULL GROUP BY state",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s, n)| (s, n as u64)).collect())
    }
}

impl Store {
    /// Tasks a prover could lease now: queued whole tasks and queued segments.
    pub async fn queued_count(&self) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE state = 'queued'")
            .fetch_one(&self.pool)
            .await?;
        Ok(n.max(0) as u64)
    }

    /// Verified proofs per minute in the `minutes` minutes that end with the one holding
    /// `now_ms`, oldest first. A segment is a proof; a split task's join is not.
    pub async fn proofs_per_minute(
        &self,
        now_ms: i64,
        minutes: usize,
    ) -> Result<Vec<u64>, StoreError> {
        let first = (now_ms / 60_000 - minutes as i64 + 1) * 60_000;
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT (t.finished_ms - $1) / 60000, COUNT(*) FROM tasks t
             WHERE t.state = 'done' AND t.finished_ms >= $1 AND t.finished_ms <= $2
               AND NOT EXISTS (SELECT 1 FROM tasks s WHERE s.parent_id = t.id)
             GROUP BY 1",
        )
        .bind(first)
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut out = vec![0u64; minutes];
        for (bucket, n) in rows {
            if let Some(slot) = usize::try_from(bucket).ok().and_then(|b| out.get_mut(b)) {
                *slot = n.max(0) as u64;
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Every lease of a task, oldest first: the prover and how the lease ended (`None` while
    /// active).
    pub async fn leases_of(
        &self,
        task: TaskId,
    ) -> Result<Vec<(ProverId, Option<String>)>, StoreError> {
        let rows: Vec<(i64, Option<String>)> =
            sqlx::query_as("SELECT prover_id, outcome FROM leases WHERE task_id = $1 ORDER BY id")
                .bind(task.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(|(p, o)| (ProverId(p), o)).collect())
    }
}

impl Store {
    /// How many finished tasks ended with each cause, as requesters see them (split tasks
    /// once, segments not at all): the dashboard's fault attribution.
    pub async fn count_tasks_by_cause(
        &self,
    ) -> Result<std::collections::BTreeMap<String, u64>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT cause, COUNT(*) FROM tasks WHERE parent_id IS NULL AND cause IS NOT NULL
             GROUP BY cause",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(s, n)| (s, n as u64)).collect())
    }

    /// Collateral still locked per prover key (base units): leases whose collateral is
    /// neither released nor slashed yet — open leases and artifact reports awaiting a verdict.
    pub async fn locked_collateral(&self) -> Result<Vec<(KeyId, u64)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT key_id, CAST(SUM(collateral) AS BIGINT) FROM leases
             WHERE collateral > 0 AND collateral_end IS NULL AND key_id IS NOT NULL
             GROUP BY key_id ORDER BY key_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(k, n)| (KeyId(k), n.max(0) as u64))
            .collect())
    }

    /// Every lease of a task with the node's verdict on it (`None` while open or when it
    /// ended with a proof), oldest first.
    pub async fn lease_faults(
        &self,
        task: TaskId,
    ) -> Result<Vec<(KeyId, Option<String>)>, StoreError> {
        let rows: Vec<(Option<i64>, Option<String>)> =
            sqlx::query_as("SELECT key_id, fault FROM leases WHERE task_id = $1 ORDER BY id")
                .bind(task.0)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(k, f)| (KeyId(k.unwrap_or_default()), f))
            .collect())
    }
}
