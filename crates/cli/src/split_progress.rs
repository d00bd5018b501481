//! Following a split task in the terminal: one progress bar per segment, with the prover that
//! holds it, its attempt and an estimate of how far it is, and a head line for the join.
//!
//! The node does not know how far a prover is inside a proof, so a bar's position is elapsed
//! time against an estimate: the segment's rows at the holding prover's measured speed (its
//! work done over its busy time), or [`DEFAULT_MS_PER_ROW`] for a machine without history. A
//! bar never shows done before the node has verified the segment.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use zkpool_client::Client;
use zkpool_types::api::TaskView;
use zkpool_types::{ProverId, TaskId, TaskState};

use crate::table::ms;

/// Miden proving cost on one core, measured by `zkpool bench --split` (≈ 0.16 ms per padded
/// row; 0.2 leaves room for slower machines).
pub const DEFAULT_MS_PER_ROW: f64 = 0.2;

/// Bar positions are per mille of the estimate.
const SCALE: u64 = 1000;

/// One line about a segment.
fn describe_segment(s: &TaskView, n: usize) -> String {
    let i = s.segment.map_or(0, |i| i + 1);
    let head = format!("segment {i}/{n} {:>7} rows", s.work);
    let prover = s.prover_name.as_deref().unwrap_or("?");
    match s.state {
        TaskState::Queued if s.attempts > 0 => format!(
            "{head}  queued again (attempt {} of {} failed: {})",
            s.attempts,
            s.max_attempts,
            s.failures.last().map(String::as_str).unwrap_or("?")
        ),
        TaskState::Queued | TaskState::Unpaid => format!("{head}  waiting for a prover"),
        TaskState::Leased => format!(
            "{head}  proving on {prover} (attempt {}/{})",
            s.attempts, s.max_attempts
        ),
        TaskState::Done => format!(
            "{head}  proved by {prover} in {}, verified in {}",
            s.prove_ms.map(ms).unwrap_or_default(),
            s.verify_ms.map(ms).unwrap_or_default()
        ),
        TaskState::Failed => format!(
            "{head}  failed: {}",
            s.failures.last().map(String::as_str).unwrap_or("?")
        ),
        TaskState::Proving => format!("{head}  proving"),
    }
}

/// Milliseconds a prover takes per row, from its record.
async fn prover_speeds(client: &Client) -> HashMap<ProverId, f64> {
    let Ok(status) = client.status().await else {
        return HashMap::new();
    };
    status
        .provers
        .iter()
        .filter(|p| p.work_done > 0 && p.busy_ms > 0)
        .map(|p| (p.id, p.busy_ms as f64 / p.work_done as f64))
        .collect()
}

/// Where a segment's bar stands, per mille: elapsed against the estimate while it is being
/// proved, capped below done; full once verified.
fn position(s: &TaskView, since: Option<Instant>, ms_per_row: f64) -> u64 {
    match (s.state, since) {
        (TaskState::Done, _) => SCALE,
        (TaskState::Leased, Some(t)) => {
            let expected = (s.work.next_power_of_two() as f64 * ms_per_row).max(1.0);
            let frac = t.elapsed().as_millis() as f64 / expected;
            ((frac * SCALE as f64) as u64).min(SCALE * 99 / 100)
        }
        _ => 0,
    }
}

/// Follows split task `id` until it is final, with one bar per segment and one for the join.
pub async fn watch_split(client: &Client, id: TaskId, limit: Duration) -> anyhow::Result<TaskView> {
    let multi = MultiProgress::new();
    let head = multi.add(ProgressBar::new(1));
    head.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{wide_bar}] {pos}/{len} segments {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let style = ProgressStyle::with_template("  [{bar:20}] {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    let mut bars: Vec<ProgressBar> = Vec::new();
    // When this watcher first saw each segment under its current lease attempt.
    let mut started: HashMap<(TaskId, u32), Instant> = HashMap::new();
    let mut speeds = prover_speeds(client).await;
    let mut polls = 0u32;
    let deadline = Instant::now() + limit;
    loop {
        let v = client.task(id).await?;
        let n = v.segments.len();
        while bars.len() < n {
            bars.push(multi.add(ProgressBar::new(SCALE).with_style(style.clone())));
        }
        head.set_length(n.max(1) as u64);
        // Speeds change slowly: refresh them every 20 polls (3 s).
        polls = (polls + 1) % 20;
        if polls == 0 {
            speeds = prover_speeds(client).await;
        }
        for (s, bar) in v.segments.iter().zip(&bars) {
            if s.state == TaskState::Leased {
                started
                    .entry((s.id, s.attempts))
                    .or_insert_with(Instant::now);
            }
            let ms_per_row = s
                .prover
                .and_then(|p| speeds.get(&p).copied())
                .unwrap_or(DEFAULT_MS_PER_ROW);
            let since = started.get(&(s.id, s.attempts)).copied();
            bar.set_position(position(s, since, ms_per_row));
            bar.set_message(describe_segment(s, n));
            if s.state.is_final() && !bar.is_finished() {
                bar.finish();
            }
        }
        let proved = v
            .segments
            .iter()
            .filter(|s| s.state == TaskState::Done)
            .count();
        head.set_position(proved as u64);
        head.set_message(match v.state {
            _ if proved < n => "proved".to_string(),
            TaskState::Done => format!(
                "proved; joined and verified in {}",
                v.verify_ms.map(ms).unwrap_or_default()
            ),
            TaskState::Failed => "proved; join failed".to_string(),
            _ => "proved; joining".to_string(),
        });
        if v.state.is_final() {
            for b in &bars {
                if !b.is_finished() {
                    b.abandon();
                }
            }
            head.finish();
            println!();
            return Ok(v);
        }
        anyhow::ensure!(
            Instant::now() < deadline,
            "task {id} did not finish within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(state: TaskState, work: u64) -> TaskView {
        TaskView {
            id: TaskId(2),
            system: zkpool_types::ProofSystem::MidenVm,
            label: None,
            state,
            work,
            attempts: 1,
            max_attempts: 3,
            prover: Some(ProverId(1)),
            prover_name: Some("rig-1".into()),
            prove_ms: None,
            verify_ms: None,
            created_ms: 0,
            finished_ms: None,
            failures: Vec::new(),
            parent: Some(TaskId(1)),
            segment: Some(0),
            segments: Vec::new(),
            composition: None,
            cause: None,
        }
    }

    #[test]
    fn a_bar_is_full_only_once_verified() {
        let long_ago = Instant::now().checked_sub(Duration::from_secs(60));
        let s = segment(TaskState::Leased, 1000);
        // Far past its estimate, a segment still being proved stays below done.
        assert_eq!(position(&s, long_ago, 0.2), SCALE * 99 / 100);
        assert_eq!(position(&s, None, 0.2), 0);
        assert_eq!(
            position(&segment(TaskState::Queued, 1000), long_ago, 0.2),
            0
        );
        assert_eq!(position(&segment(TaskState::Done, 1000), None, 0.2), SCALE);
        let fresh = position(&s, Some(Instant::now()), 1e6);
        assert!(fresh < 10, "{fresh}");
    }
}
