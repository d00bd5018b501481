//! Tasks settled on the pool contract, and the cursor of the contract's events.
//!
//! ```text
//!  quote for the contract ─► ONE tx: task 'unpaid' + nonce used + chain_tasks 'quoted'
//!  TaskSubmitted seen     ─► ONE tx per block range: 'quoted' → 'open', task → 'queued',
//!                            quotes expired by the range's last block → 'lapsed', cursor
//!  task 'done' and 'open' ─► the fulfil outbox (no extra write: the proof's own commit is it)
//!  fulfil mined           ─► 'fulfilled' with the transaction; window closed ─► 'missed'
//! ```
//!
//! The contract holds the money; nothing here moves any. The outbox is a query, not a table:
//! a chain task is due for `fulfill` exactly when its proof is committed and it is still
//! `open`, so the state change and "send the fulfil" are one commit by construction.

use zkpool_types::{TaskCause, TaskId, TaskState};

use crate::tasks::{insert_task_tx, NewTask};
use crate::{Store, StoreError};

/// What the node signed for the contract, stored with the task it covers.
#[derive(Clone, Debug)]
pub struct ChainQuoted {
    /// The contract's task id (the quote's EIP-712 digest).
    pub chain_task: [u8; 32],
    /// The requester's account (`0x…`).
    pub payer: String,
    /// The verifier contract (`0x…`).
    pub verifier: String,
    /// The quote's nonce.
    pub nonce: u64,
    /// Reward, base units.
    pub reward: u64,
    /// Bond, base units.
    pub bond: u64,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The quote lapses at this time (unix ms).
    pub expires_ms: u64,
}

/// What one batch of the contract's events changed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChainProgress {
    /// Tasks published on chain and now queued.
    pub opened: Vec<TaskId>,
    /// Published task ids this node never quoted (or that were already open: a replay).
    pub ignored: Vec<[u8; 32]>,
    /// Quoted tasks whose quote expired unpublished.
    pub lapsed: Vec<TaskId>,
}

/// A chain task whose proof is verified and that the contract still holds open: due for
/// `fulfill`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainDue {
    /// The node's task.
    pub task: TaskId,
    /// The contract's task id.
    pub chain_task: [u8; 32],
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The verified proof's blob.
    pub proof: zkpool_types::BlobHash,
    /// The account of the machine that proved it, when it gave one.
    pub payout: Option<String>,
    /// The task's work (its share weight).
    pub work: u64,
}

/// A chain task as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainTaskRow {
    /// The node's task.
    pub task: TaskId,
    /// The contract's task id.
    pub chain_task: [u8; 32],
    /// `quoted`, `open`, `fulfilled`, `missed` or `lapsed`.
    pub state: String,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The fulfil transaction.
    pub fulfil_tx: Option<String>,
    /// Its gas.
    pub fulfil_gas: Option<u64>,
    /// Why the node could not fulfil.
    pub note: Option<String>,
}

fn hex32(b: &[u8; 32]) -> String {
    let mut s = String::with_capacity(66);
    s.push_str("0x");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    s
}

fn parse32(s: &str) -> Result<[u8; 32], StoreError> {
    let bad = || StoreError::Corrupt(format!("chain task id {s:?}"));
    let h = s.strip_prefix("0x").ok_or_else(bad)?;
    if h.len() != 64 {
        return Err(bad());
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).map_err(|_| bad())?;
    }
    Ok(out)
}

fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl Store {
    /// Inserts a whole task quoted for the contract as `unpaid`, marks its nonce used and
    /// records the quote, in one transaction. Nothing is leasable until
    /// [`Store::apply_chain_events`] sees it published.
    pub async fn insert_chain_task(
        &self,
        t: &NewTask,
        q: &ChainQuoted,
        now_ms: i64,
    ) -> Result<TaskId, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let id = insert_task_tx(&mut tx, t, now_ms).await?;
            sqlx::query("UPDATE tasks SET state = $1 WHERE id = $2")
                .bind(TaskState::Unpaid.as_str())
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO quote_nonces (nonce, task_id, used_ms) VALUES ($1, $2, $3)")
                .bind(int(q.nonce))
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            sqlx::query(
                "INSERT INTO chain_tasks (task_id, chain_task, payer, verifier, nonce, reward,
                    bond, deadline_ms, expires_ms, state)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'quoted')",
            )
            .bind(id.0)
            .bind(hex32(&q.chain_task))
            .bind(&q.payer)
            .bind(&q.verifier)
            .bind(int(q.nonce))
            .bind(int(q.reward))
            .bind(int(q.bond))
            .bind(int(q.deadline_ms))
            .bind(int(q.expires_ms))
            .execute(&mut *tx)
            .await?;
            Ok(id)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// The next block whose events have not been applied, if any ever were.
    pub async fn chain_cursor(&self) -> Result<Option<u64>, StoreError> {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT next_block FROM chain_cursor WHERE id = 1")
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(b,)| b.max(0) as u64))
    }

    /// Applies the `TaskSubmitted` events of one block range and moves the cursor past it, in
    /// one transaction: each published task the node quoted goes from `quoted` to `open` and
    /// its task to `queued`; an event seen again (a replay after a restart) changes nothing.
    /// Then every quote that expired by `range_end_ms` (the range's last block's time: the
    /// contract refuses a quote from its expiry on, and block times never go back) and is
    /// still unpublished lapses.
    pub async fn apply_chain_events(
        &self,
        published: &[([u8; 32], u64)],
        next_block: u64,
        range_end_ms: u64,
        now_ms: i64,
    ) -> Result<ChainProgress, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let mut progress = ChainProgress::default();
            for (id, block) in published {
                let opened: Option<(i64,)> = sqlx::query_as(
                    "UPDATE chain_tasks SET state = 'open', block = $1
                     WHERE chain_task = $2 AND state = 'quoted' RETURNING task_id",
                )
                .bind(int(*block))
                .bind(hex32(id))
                .fetch_optional(&mut *tx)
                .await?;
                match opened {
                    Some((task,)) => {
                        sqlx::query(
                            "UPDATE tasks SET state = 'queued' WHERE id = $1 AND state = $2",
                        )
                        .bind(task)
                        .bind(TaskState::Unpaid.as_str())
                        .execute(&mut *tx)
                        .await?;
                        progress.opened.push(TaskId(task));
                    }
                    None => progress.ignored.push(*id),
                }
            }
            let lapsed: Vec<(i64,)> = sqlx::query_as(
                "UPDATE chain_tasks SET state = 'lapsed'
                 WHERE state = 'quoted' AND expires_ms <= $1 RETURNING task_id",
            )
            .bind(int(range_end_ms))
            .fetch_all(&mut *tx)
            .await?;
            for (task,) in lapsed {
                sqlx::query(
                    "UPDATE tasks SET state = 'failed', cause = $1, finished_ms = $2
                     WHERE id = $3 AND state = $4",
                )
                .bind(TaskCause::Lapsed.code())
                .bind(now_ms)
                .bind(task)
                .bind(TaskState::Unpaid.as_str())
                .execute(&mut *tx)
                .await?;
                progress.lapsed.push(TaskId(task));
            }
            sqlx::query(
                "INSERT INTO chain_cursor (id, next_block) VALUES (1, $1)
                 ON CONFLICT (id) DO UPDATE SET next_block = excluded.next_block",
            )
            .bind(int(next_block))
            .execute(&mut *tx)
            .await?;
            Ok(progress)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// The fulfil outbox: open chain tasks with a verified proof, oldest deadline first.
    pub async fn chain_due(&self, limit: u32) -> Result<Vec<ChainDue>, StoreError> {
        type Row = (i64, String, i64, Option<String>, Option<String>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT c.task_id, c.chain_task, c.deadline_ms, t.proof_hash,
                (SELECT p.payout FROM leases l JOIN provers p ON p.id = l.prover_id
                  WHERE l.task_id = t.id AND l.outcome = 'done' ORDER BY l.id DESC LIMIT 1),
                t.work
             FROM chain_tasks c JOIN tasks t ON t.id = c.task_id
             WHERE c.state = 'open' AND t.state = 'done'
             ORDER BY c.deadline_ms LIMIT $1",
        )
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(task, chain_task, deadline, proof, payout, work)| {
                let proof = proof.ok_or_else(|| {
                    StoreError::Corrupt(format!("task {task} done without proof"))
                })?;
                Ok(ChainDue {
                    task: TaskId(task),
                    chain_task: parse32(&chain_task)?,
                    deadline_ms: deadline.max(0) as u64,
                    proof: proof
                        .parse()
                        .map_err(|_| StoreError::Corrupt(format!("proof hash {proof:?}")))?,
                    payout,
                    work: work.max(0) as u64,
                })
            })
            .collect()
    }

    /// Open chain tasks whose window has closed by `now_ms` without a verified proof: the
    /// node must stop proving them (the payer may claim on chain).
    pub async fn chain_overdue(&self, now_ms: i64) -> Result<Vec<TaskId>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT c.task_id FROM chain_tasks c JOIN tasks t ON t.id = c.task_id
             WHERE c.state = 'open' AND c.deadline_ms <= $1 AND t.state <> 'done' ORDER BY c.task_id",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|(t,)| TaskId(t)).collect())
    }

    /// Records the mined `fulfill` of `task`.
    pub async fn chain_fulfilled(
        &self,
        task: TaskId,
        tx_hash: Option<&str>,
        gas: Option<u64>,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        self.set_chain_state(task, "fulfilled", tx_hash, gas, note)
            .await
    }

    /// Records that `task` cannot be fulfilled in its window, and why.
    pub async fn chain_missed(&self, task: TaskId, note: &str) -> Result<bool, StoreError> {
        self.set_chain_state(task, "missed", None, None, Some(note))
            .await
    }

    async fn set_chain_state(
        &self,
        task: TaskId,
        state: &str,
        tx_hash: Option<&str>,
        gas: Option<u64>,
        note: Option<&str>,
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r = sqlx::query(
            "UPDATE chain_tasks SET state = $1, fulfil_tx = $2, fulfil_gas = $3, note = $4
             WHERE task_id = $5 AND state = 'open'",
        )
        .bind(state)
        .bind(tx_hash)
        .bind(gas.map(int))
        .bind(note)
        .bind(task.0)
        .execute(&mut *tx)
        .await
        .map(|done| done.rows_affected() == 1)
        .map_err(StoreError::from);
        crate::finish_tx(tx, r).await
    }

    /// The chain record of `task`, if it was quoted for the contract.
    pub async fn chain_task(&self, task: TaskId) -> Result<Option<ChainTaskRow>, StoreError> {
        type Row = (
            String,
            String,
            i64,
            Option<String>,
            Option<i64>,
            Option<String>,
        );
        let row: Option<Row> = sqlx::query_as(
            "SELECT chain_task, state, deadline_ms, fulfil_tx, fulfil_gas, note
             FROM chain_tasks WHERE task_id = $1",
        )
        .bind(task.0)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|(id, state, deadline, tx, gas, note)| {
            Ok(ChainTaskRow {
                task,
                chain_task: parse32(&id)?,
                state,
                deadline_ms: deadline.max(0) as u64,
                fulfil_tx: tx,
                fulfil_gas: gas.map(|g| g.max(0) as u64),
                note,
            })
        })
        .transpose()
    }

    /// Sets (or clears) the account machine `prover`'s on-chain rewards go to.
    pub async fn set_payout(
        &self,
        prover: zkpool_types::ProverId,
        payout: Option<&str>,
    ) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r = sqlx::query("UPDATE provers SET payout = $1 WHERE id = $2")
            .bind(payout)
            .bind(prover.0)
            .execute(&mut *tx)
            .await
            .map(drop)
            .map_err(StoreError::from);
        crate::finish_tx(tx, r).await
    }
}
