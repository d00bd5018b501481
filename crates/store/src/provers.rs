use std::collections::HashMap;

use zkpool_types::api::ProverView;
use zkpool_types::{HardwareReport, KeyId, LeaseId, ProofSystem, ProverId, TaskId};

use crate::{Store, StoreError};

/// A registered prover machine.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProverRecord {
    /// The machine.
    pub id: ProverId,
    /// The access key it connected with.
    pub key_id: KeyId,
    /// Its last hardware report.
    pub hardware: HardwareReport,
}

impl ProverRecord {
    /// True when this machine can take a task of `system` needing `memory_bytes`.
    pub fn can_take(&self, system: ProofSystem, memory_bytes: u64) -> bool {
        self.hardware.systems.contains(&system) && memory_bytes <= self.hardware.memory_bytes
    }
}

type ProverRow = (i64, i64, String, i64, i64, i64, i64, i64, i64);

impl Store {
    /// Registers a machine, or refreshes the one with the same key and name (a restarted
    /// agent keeps its id, history and earnings).
    pub async fn register_prover(
        &self,
        key_id: KeyId,
        hw: &HardwareReport,
        now_ms: i64,
    ) -> Result<ProverRecord, StoreError> {
        let hardware = serde_json::to_string(hw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let systems: Vec<&str> = hw.systems.iter().map(|s| s.as_str()).collect();
        let (_w, mut tx) = self.begin_write().await?;
        let r = sqlx::query_scalar(
            "INSERT INTO provers (key_id, name, hardware, memory_bytes, systems, last_seen_ms)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (key_id, name) DO UPDATE SET hardware = excluded.hardware,
                memory_bytes = excluded.memory_bytes, systems = excluded.systems,
                last_seen_ms = excluded.last_seen_ms
             RETURNING id",
        )
        .bind(key_id.0)
        .bind(&hw.name)
        .bind(hardware)
        .bind(hw.memory_bytes as i64)
        .bind(systems.join(","))
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from);
        let id: i64 = crate::finish_tx(tx, r).await?;
        Ok(ProverRecord {
            id: ProverId(id),
            key_id,
            hardware: hw.clone(),
        })
    }

    /// The prover with this id.
    pub async fn prover(&self, id: ProverId) -> Result<Option<ProverRecord>, StoreError> {
        let row: Option<(i64, String)> =
            sqlx::query_as("SELECT key_id, hardware FROM provers WHERE id = $1")
                .bind(id.0)
                .fetch_optional(&self.pool)
                .await?;
        row.map(|(key_id, hw)| {
            let hardware =
                serde_json::from_str(&hw).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            Ok(ProverRecord {
                id,
                key_id: KeyId(key_id),
                hardware,
            })
        })
        .transpose()
    }

    /// Records a heartbeat: extends each of the prover's live leases to `now + ttl` and
    /// returns the leases it named that are no longer its own (expired, re-leased or ended).
    /// A lease older than `max_lease_ms` is not extended any more: a machine that hangs while
    /// still heartbeating must not hold a task forever.
    pub async fn heartbeat(
        &self,
        prover: ProverId,
        leases: &[LeaseId],
        now_ms: i64,
        ttl_ms: i64,
        max_lease_ms: i64,
    ) -> Result<Vec<LeaseId>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            sqlx::query("UPDATE provers SET last_seen_ms = $1 WHERE id = $2")
                .bind(now_ms)
                .bind(prover.0)
                .execute(&mut *tx)
                .await?;
            let mut revoked = Vec::new();
            for lease in leases {
                // A lease lives at most until its own longest life (set at grant from the
                // task's estimate), or `max_lease_ms` for leases granted before that existed.
                let n = sqlx::query(
                    "UPDATE tasks SET lease_expires_ms = $1
                     WHERE lease_id = $2 AND prover_id = $3 AND state = 'leased' AND lease_expires_ms >= $4
                       AND lease_id IN (SELECT id FROM leases
                                        WHERE COALESCE(max_ms, granted_ms + $5) > $4)",
                )
                .bind(now_ms + ttl_ms)
                .bind(lease.0)
                .bind(prover.0)
                .bind(now_ms)
                .bind(max_lease_ms)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if n == 0 {
                    revoked.push(*lease);
                }
            }
            Ok(revoked)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Every prover with its counters; `online` when seen within `online_window_ms`.
    pub async fn list_provers(
        &self,
        now_ms: i64,
        online_window_ms: i64,
    ) -> Result<Vec<ProverView>, StoreError> {
        let rows: Vec<ProverRow> = sqlx::query_as(
            "SELECT id, last_seen_ms, hardware, tasks_done, work_done, busy_ms, failures,
                    invalid_proofs, key_id FROM provers ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        let held: Vec<(i64, i64)> =
            sqlx::query_as("SELECT prover_id, id FROM tasks WHERE state = 'leased' ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        rows.into_iter()
            .map(
                |(id, last_seen, hw, done, work, busy, failures, invalid, _key)| {
                    let hardware: HardwareReport = serde_json::from_str(&hw)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                    Ok(ProverView {
                        id: ProverId(id),
                        name: hardware.name.clone(),
                        online: now_ms - last_seen <= online_window_ms,
                        hardware,
                        current_tasks: held
                            .iter()
                            .filter(|(p, _)| *p == id)
                            .map(|(_, t)| TaskId(*t))
                            .collect(),
                        tasks_done: done as u64,
                        work_done: work as u64,
                        busy_ms: busy as u64,
                        failures: failures as u64,
                        invalid_proofs: invalid as u64,
                        last_seen_ms: last_seen,
                    })
                },
            )
            .collect()
    }
}

impl Store {
    /// Each machine's speed as the node measured it: work units per second from its leases'
    /// grants to their verified results (absent before its first proof), in one query.
    pub async fn measured_speeds(
        &self,
        provers: &[ProverId],
    ) -> Result<HashMap<ProverId, u64>, StoreError> {
        if provers.is_empty() {
            return Ok(HashMap::new());
        }
        let sql = format!(
            "SELECT id, work_done, busy_ms FROM provers WHERE id IN ({})",
            crate::slots(1, provers.len())
        );
        let mut q = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
        for p in provers {
            q = q.bind(p.0);
        }
        Ok(q.fetch_all(&self.pool)
            .await?
            .into_iter()
            .filter_map(|(id, work, busy)| Some((ProverId(id), speed(work, busy)?)))
            .collect())
    }

    /// What keeps a prover key's stake bound: collateral still locked by its leases (open, or
    /// a report awaiting a verdict), and when its last paid lease ended.
    pub async fn key_collateral(&self, key: KeyId) -> Result<(u64, Option<i64>), StoreError> {
        let (locked, last): (Option<i64>, Option<i64>) = sqlx::query_as(
            "SELECT CAST(SUM(CASE WHEN collateral_end IS NULL THEN collateral ELSE 0 END) AS BIGINT),
                    MAX(ended_ms)
             FROM leases WHERE key_id = $1 AND collateral > 0",
        )
        .bind(key.0)
        .fetch_one(&self.pool)
        .await?;
        Ok((locked.unwrap_or(0).max(0) as u64, last))
    }
}

/// Work units per second from work done in `busy_ms`; `None` before the first proof.
fn speed(work: i64, busy_ms: i64) -> Option<u64> {
    (work > 0 && busy_ms > 0).then(|| (work as u128 * 1_000 / busy_ms as u128).max(1) as u64)
}
