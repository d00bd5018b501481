//! The settlement journal, quote nonces and epochs.
//!
//! The ledger itself (`zkpool_ledger::Ledger`) is pure and lives in the node's memory; this
//! file makes it durable. Every accepted ledger operation is one row in `ledger_entries`
//! (its `Op` as JSON) plus its postings, and is written in the same transaction as the task
//! change it belongs to: a quoted task is inserted together with its escrow and bond
//! ([`Store::insert_task_with`]), a task is marked done together with its release
//! ([`Store::complete_with`]), an epoch is closed together with its payout
//! ([`Store::close_epoch`]). A crash therefore leaves either both or neither, and replaying
//! [`Store::journal`] on start rebuilds exactly the committed ledger.

use std::ops::Range;

use zkpool_ledger::{Account, Amount, Entry, Op, Posting};
use zkpool_types::{KeyId, ProverId, TaskId};

use crate::faults::CollateralMove;
use crate::tasks::{insert_task_tx, NewTask};
use crate::{Store, StoreError, Tx};

/// One posting with its entry's kind and time, for per-account reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PostingRow {
    /// The entry's sequence number.
    pub seq: u64,
    /// The entry's operation name (`release`, `pay_epoch`, `penalty`, ...).
    pub kind: String,
    /// When the entry was written (unix ms).
    pub at_ms: i64,
    /// The posting.
    pub posting: Posting,
}

/// An epoch row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochRecord {
    /// The epoch number (1, 2, ...).
    pub id: u64,
    /// Start (unix ms).
    pub started_ms: i64,
    /// Close (unix ms); `None` while open.
    pub closed_ms: Option<i64>,
    /// The settlement summary the node wrote (JSON), once closed.
    pub summary: Option<String>,
}

/// What a verified proof decided, for settlement to pay for in the same transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proved {
    /// The task (a segment's own id).
    pub task: TaskId,
    /// Its proof system's name.
    pub system: String,
    /// Its work units.
    pub work: u64,
    /// The prover key that proved it.
    pub key: KeyId,
    /// A quoted task (or a segment of one).
    pub paid: bool,
    /// For a segment: its split task, which is released at the join instead.
    pub segment_of: Option<TaskId>,
    /// Collateral freed (the prover's) or taken (contradicted artifact reports).
    pub collateral: Vec<CollateralMove>,
}

/// A finished task as an epoch counts it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DoneTask {
    /// The prover key that proved it.
    pub key: KeyId,
    /// Its proof system's name.
    pub system: String,
    /// Its size (constraints).
    pub size: u64,
    /// When it was finished (unix ms).
    pub finished_ms: i64,
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

pub(crate) async fn append_tx(
    tx: &mut Tx,
    entries: &[Entry],
    now_ms: i64,
) -> Result<(), StoreError> {
    // Multi-row inserts, a few hundred rows a statement: a batch of completions appends its
    // entries in two round trips, not two per entry and posting.
    const ROWS: usize = 200;
    let mut ops = Vec::with_capacity(entries.len());
    for e in entries {
        ops.push(serde_json::to_string(&e.op).map_err(corrupt)?);
    }
    for (chunk, ops) in entries.chunks(ROWS).zip(ops.chunks(ROWS)) {
        let sql = format!(
            "INSERT INTO ledger_entries (seq, kind, op, at_ms) VALUES {}",
            crate::value_rows(1, chunk.len(), 4)
        );
        let mut q = sqlx::query(&sql);
        for (e, op) in chunk.iter().zip(ops) {
            q = q.bind(e.seq as i64).bind(e.op.name()).bind(op).bind(now_ms);
        }
        q.execute(&mut **tx).await?;
    }
    let postings: Vec<(i64, i64, &Posting)> = entries
        .iter()
        .flat_map(|e| {
            e.postings
                .iter()
                .enumerate()
                .map(move |(i, p)| (e.seq as i64, i as i64, p))
        })
        .collect();
    for chunk in postings.chunks(ROWS) {
        let sql = format!(
            "INSERT INTO ledger_postings (seq, idx, from_acct, to_acct, amount) VALUES {}",
            crate::value_rows(1, chunk.len(), 5)
        );
        let mut q = sqlx::query(&sql);
        for (seq, idx, p) in chunk {
            q = q
                .bind(*seq)
                .bind(*idx)
                .bind(p.from.to_string())
                .bind(p.to.to_string())
                .bind(p.amount.base_units().to_string());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

fn posting(from: &str, to: &str, amount: &str) -> Result<Posting, StoreError> {
    Ok(Posting {
        from: from.parse().map_err(corrupt)?,
        to: to.parse().map_err(corrupt)?,
        amount: amount.parse::<Amount>().map_err(corrupt)?,
    })
}

impl Store {
    /// Every journal entry in `seq` order, for `Ledger::replay` on start.
    pub async fn journal(&self) -> Result<Vec<Entry>, StoreError> {
        self.journal_since(0).await
    }

    /// The journal entries from `seq` on, in order: what another replica committed since this
    /// one last read (`seq` = its ledger's next sequence number).
    pub async fn journal_since(&self, seq: u64) -> Result<Vec<Entry>, StoreError> {
        let from = i64::try_from(seq).map_err(corrupt)?;
        let ops: Vec<(i64, String)> =
            sqlx::query_as("SELECT seq, op FROM ledger_entries WHERE seq >= $1 ORDER BY seq")
                .bind(from)
                .fetch_all(&self.pool)
                .await?;
        let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
            "SELECT seq, from_acct, to_acct, amount FROM ledger_postings WHERE seq >= $1
             ORDER BY seq, idx",
        )
        .bind(from)
        .fetch_all(&self.pool)
        .await?;
        let mut entries = Vec::with_capacity(ops.len());
        for (i, (seq, op)) in ops.into_iter().enumerate() {
            // Entries are dense from 0, so the journal from `from` has no gaps; checked.
            if seq != from + i as i64 {
                return Err(corrupt(format!(
                    "journal entry {seq} where {} was due",
                    from + i as i64
                )));
            }
            let op: Op = serde_json::from_str(&op).map_err(corrupt)?;
            entries.push(Entry {
                seq: seq as u64,
                op,
                postings: Vec::new(),
            });
        }
        for (seq, from_acct, to, amount) in rows {
            // A posting committed after the entries were read belongs to a later read.
            let Some(e) = usize::try_from(seq - from)
                .ok()
                .and_then(|i| entries.get_mut(i))
            else {
                if seq >= from + entries.len() as i64 {
                    continue;
                }
                return Err(corrupt(format!("posting of unknown entry {seq}")));
            };
            e.postings.push(posting(&from_acct, &to, &amount)?);
        }
        Ok(entries)
    }

    /// Appends entries that belong to no task change (deposits, withdrawals, claims,
    /// penalties), in one transaction.
    pub async fn append_entries(&self, entries: &[Entry], now_ms: i64) -> Result<(), StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            append_tx(&mut tx, entries, now_ms).await?;
            Ok(())
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Postings from or to any of `accounts`, oldest first.
    pub async fn postings_of(&self, accounts: &[Account]) -> Result<Vec<PostingRow>, StoreError> {
        let mut out = Vec::new();
        for a in accounts {
            let name = a.to_string();
            let rows: Vec<(i64, String, i64, String, String, String)> = sqlx::query_as(
                "SELECT p.seq, e.kind, e.at_ms, p.from_acct, p.to_acct, p.amount
                 FROM ledger_postings p JOIN ledger_entries e ON e.seq = p.seq
                 WHERE p.from_acct = $1 OR p.to_acct = $1 ORDER BY p.seq, p.idx",
            )
            .bind(&name)
            .fetch_all(&self.pool)
            .await?;
            for (seq, kind, at_ms, from, to, amount) in rows {
                out.push(PostingRow {
                    seq: seq as u64,
                    kind,
                    at_ms,
                    posting: posting(&from, &to, &amount)?,
                });
            }
        }
        out.sort_by_key(|r| r.seq);
        out.dedup();
        Ok(out)
    }

    /// Hands out `block` fresh quote nonces. Crash-safe: a restart reserves a new block
    /// past every nonce ever handed out, so a nonce is never issued twice.
    pub async fn reserve_nonces(&self, block: u64) -> Result<Range<u64>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r = sqlx::query_scalar(
            "UPDATE settlement_meta SET value = value + $1 WHERE name = 'quote_nonce_next'
             RETURNING value",
        )
        .bind(block as i64)
        .fetch_one(&mut *tx)
        .await
        .map_err(StoreError::from);
        let end: i64 = crate::finish_tx(tx, r).await?;
        let end = end as u64;
        Ok(end - block..end)
    }

    /// Nonces of every accepted quote, to rebuild the node's `NonceBook`.
    pub async fn used_nonces(&self) -> Result<Vec<u64>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as("SELECT nonce FROM quote_nonces")
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(|(n,)| n as u64).collect())
    }

    /// The quote nonces `tasks` were accepted with (tasks without one are left out).
    pub async fn nonces_of(&self, tasks: &[TaskId]) -> Result<Vec<u64>, StoreError> {
        let mut out = Vec::with_capacity(tasks.len());
        for t in tasks {
            let n: Option<i64> =
                sqlx::query_scalar("SELECT nonce FROM quote_nonces WHERE task_id = $1")
                    .bind(t.0)
                    .fetch_optional(&self.pool)
                    .await?;
            out.extend(n.map(|n| n as u64));
        }
        Ok(out)
    }

    /// Inserts a paid task and, in the same transaction, the ledger entries `plan` returns for
    /// its new id (escrow and bond) and the quote's nonce as used. Each lease of the task (or
    /// of each of its segments) will lock `collateral` base units from the prover key's
    /// stake. If `plan` refuses, nothing is written and its error comes back as the inner
    /// `Err`.
    pub async fn insert_task_with<E>(
        &self,
        t: &NewTask,
        nonce: u64,
        collateral: u64,
        now_ms: i64,
        plan: impl FnOnce(TaskId) -> Result<Vec<Entry>, E>,
    ) -> Result<Result<TaskId, E>, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let id = insert_task_tx(&mut tx, t, now_ms).await?;
            sqlx::query(
                "UPDATE tasks SET paid = 1, collateral = $1
                 WHERE id = $2 OR parent_id = $2 OR group_id = $2",
            )
            .bind(i64::try_from(collateral).unwrap_or(i64::MAX))
            .bind(id.0)
            .execute(&mut *tx)
            .await?;
            let entries = match plan(id) {
                Ok(e) => e,
                Err(e) => return Ok(Err(e)),
            };
            sqlx::query("INSERT INTO quote_nonces (nonce, task_id, used_ms) VALUES ($1, $2, $3)")
                .bind(nonce as i64)
                .bind(id.0)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            append_tx(&mut tx, &entries, now_ms).await?;
            Ok(Ok(id))
        }
        .await;
        crate::finish_planned(tx, r).await
    }

    /// The open epoch, opening epoch 1 at `now_ms` if there is none yet.
    pub async fn current_epoch(&self, now_ms: i64) -> Result<EpochRecord, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            sqlx::query(
                "INSERT INTO epochs (id, started_ms) SELECT 1, $1
                 WHERE NOT EXISTS (SELECT 1 FROM epochs)",
            )
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
            let row: (i64, i64) = sqlx::query_as(
                "SELECT id, started_ms FROM epochs WHERE closed_ms IS NULL ORDER BY id DESC LIMIT 1",
            )
            .fetch_one(&mut *tx)
            .await?;
            Ok(row)
        }
        .await;
        let (id, started) = crate::finish_tx(tx, r).await?;
        Ok(EpochRecord {
            id: id as u64,
            started_ms: started,
            closed_ms: None,
            summary: None,
        })
    }

    /// Every epoch, oldest first.
    pub async fn epochs(&self) -> Result<Vec<EpochRecord>, StoreError> {
        let rows: Vec<(i64, i64, Option<i64>, Option<String>)> =
            sqlx::query_as("SELECT id, started_ms, closed_ms, summary FROM epochs ORDER BY id")
                .fetch_all(&self.pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, started_ms, closed_ms, summary)| EpochRecord {
                id: id as u64,
                started_ms,
                closed_ms,
                summary,
            })
            .collect())
    }

    /// Paid tasks proved in `[from_ms, to_ms)`, with the key that proved each: what an epoch's
    /// Proof-of-ZK-Work counts. Free-tier tasks earn no epoch work (anyone could submit them
    /// to themselves), nor do segments of a split task that was not delivered, and a statement
    /// (system, artifacts, public statement) counts once per epoch however often it is
    /// submitted: only its first proof in the window is listed.
    pub async fn done_tasks(&self, from_ms: i64, to_ms: i64) -> Result<Vec<DoneTask>, StoreError> {
        let rows: Vec<(i64, String, String, Vec<u8>, i64, i64)> = sqlx::query_as(
            "SELECT l.key_id, t.system, t.spec, t.statement, t.work, t.finished_ms
             FROM tasks t JOIN leases l ON l.id = t.lease_id
             WHERE t.state = 'done' AND t.cause = 'proved' AND t.paid = 1 AND l.key_id IS NOT NULL
               AND (t.parent_id IS NULL
                    OR EXISTS (SELECT 1 FROM tasks p WHERE p.id = t.parent_id AND p.cause = 'proved'))
               AND t.finished_ms >= $1 AND t.finished_ms < $2 ORDER BY t.finished_ms, t.id",
        )
        .bind(from_ms)
        .bind(to_ms)
        .fetch_all(&self.pool)
        .await?;
        let mut seen = std::collections::HashSet::new();
        let mut out = Vec::with_capacity(rows.len());
        for (key, system, spec, statement, size, finished_ms) in rows {
            let spec: zkpool_types::TaskSpec = serde_json::from_str(&spec).map_err(corrupt)?;
            // The label is the requester's free text: it must not make a repeat look new.
            if !seen.insert((system.clone(), spec.artifacts, statement)) {
                continue;
            }
            out.push(DoneTask {
                key: KeyId(key),
                system,
                size: size.max(0) as u64,
                finished_ms,
            });
        }
        Ok(out)
    }

    /// Closes epoch `id` at `now_ms` with its payout entries and opens the next one, in one
    /// transaction. Returns `false` (and writes nothing) when the epoch was already closed,
    /// so an epoch settles exactly once even when two closers race or a node restarts.
    pub async fn close_epoch(
        &self,
        id: u64,
        now_ms: i64,
        summary: &str,
        entries: &[Entry],
    ) -> Result<bool, StoreError> {
        let (_w, mut tx) = self.begin_write().await?;
        let r: Result<_, StoreError> = async {
            let n = sqlx::query(
                "UPDATE epochs SET closed_ms = $1, summary = $2 WHERE id = $3 AND closed_ms IS NULL",
            )
            .bind(now_ms)
            .bind(summary)
            .bind(id as i64)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Ok(false);
            }
            append_tx(&mut tx, entries, now_ms).await?;
            sqlx::query("INSERT INTO epochs (id, started_ms) VALUES ($1, $2)")
                .bind(id as i64 + 1)
                .bind(now_ms)
                .execute(&mut *tx)
                .await?;
            Ok(true)
        }
        .await;
        crate::finish_tx(tx, r).await
    }

    /// Measured speed inputs of provers seen since `since_ms`: their proof systems
    /// (comma-separated names), work done and busy time.
    pub async fn prover_speeds(
        &self,
        since_ms: i64,
    ) -> Result<Vec<(String, u64, u64)>, StoreError> {
        let rows: Vec<(String, i64, i64)> = sqlx::query_as(
            "SELECT systems, work_done, busy_ms FROM provers WHERE last_seen_ms >= $1",
        )
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(s, w, b)| (s, w.max(0) as u64, b.max(0) as u64))
            .collect())
    }

    /// Work not yet proved (queued or leased tasks), summed per proof system.
    pub async fn pending_work(&self) -> Result<Vec<(String, u64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT system, CAST(SUM(work) AS BIGINT) FROM tasks WHERE state IN ('queued', 'leased') GROUP BY system",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(s, w)| (s, w.max(0) as u64))
            .collect())
    }

    /// Provers registered with `key` (all provers for `None`): id and machine name.
    pub async fn provers_of(
        &self,
        key: Option<zkpool_types::KeyId>,
    ) -> Result<Vec<(ProverId, String, zkpool_types::KeyId)>, StoreError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT id, name, key_id FROM provers WHERE ($1 IS NULL OR key_id = $1) ORDER BY id",
        )
        .bind(key.map(|k| k.0))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, name, k)| (ProverId(id), name, zkpool_types::KeyId(k)))
            .collect())
    }
}
