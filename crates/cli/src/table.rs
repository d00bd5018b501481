//! Plain text tables for terminal summaries.

use std::fmt;

/// A table with a header row; columns sized to fit.
#[derive(Debug)]
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column names.
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    /// Adds a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

impl fmt::Display for Table {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut width: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate() {
                if i < width.len() {
                    width[i] = width[i].max(c.chars().count());
                }
            }
        }
        let line = |f: &mut fmt::Formatter<'_>, cells: &[String]| -> fmt::Result {
            let parts: Vec<String> = cells
                .iter()
                .zip(&width)
                .map(|(c, w)| format!("{c:<w$}", w = *w))
                .collect();
            writeln!(f, "  {}", parts.join("  ").trim_end())
        };
        line(f, &self.header)?;
        let rule: Vec<String> = width.iter().map(|w| "─".repeat(*w)).collect();
        writeln!(f, "  {}", rule.join("  "))?;
        for r in &self.rows {
            line(f, r)?;
        }
        Ok(())
    }
}

/// Milliseconds as a short human duration.
pub fn ms(v: u64) -> String {
    if v < 1000 {
        format!("{v} ms")
    } else {
        format!("{:.2} s", v as f64 / 1000.0)
    }
}

/// The prover machines: hardware, what each holds now, what it did and how often it failed.
pub fn provers_table(provers: &[zkpool_types::api::ProverView]) -> Table {
    let mut t = Table::new(&[
        "prover", "name", "online", "cores", "memory", "current", "done", "work", "busy",
        "failures", "invalid",
    ]);
    for p in provers {
        t.row(vec![
            p.id.to_string(),
            p.name.clone(),
            if p.online { "yes" } else { "no" }.into(),
            p.hardware.cpu_cores.to_string(),
            format!(
                "{:.1} GiB",
                p.hardware.memory_bytes as f64 / (1u64 << 30) as f64
            ),
            p.current_tasks
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .join(","),
            p.tasks_done.to_string(),
            p.work_done.to_string(),
            ms(p.busy_ms),
            p.failures.to_string(),
            p.invalid_proofs.to_string(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_align() {
        let mut t = Table::new(&["a", "bb"]);
        t.row(vec!["xxx".into(), "y".into()]);
        let s = t.to_string();
        let lines: Vec<&str> = s.lines().collect();
        assert_eq!(lines[0], "  a    bb");
        assert_eq!(lines[2], "  xxx  y");
        assert_eq!(ms(1500), "1.50 s");
    }
}
