//! `zkpool node` flags for what one caller may ask of the node: request budgets, the
//! inspection cap, connection timeouts, storage quota and retention.

use std::time::Duration;

use clap::Args;
use zkpool_groth16::Groth16Limits;
use zkpool_miden::MidenLimits;
use zkpool_node::{ConnLimits, GuardConfig, NodeConfig, Rate};

/// Limits on hostile or runaway load. Defaults suit a public pool on one machine.
#[derive(Args, Debug, Clone)]
#[command(next_help_heading = "Limits")]
pub struct LimitArgs {
    /// Request budget of each requester key: RATE/BURST, requests per second and at once.
    /// Past it the node answers 429 with Retry-After.
    #[arg(long, value_name = "RATE/BURST", default_value = "20/200", value_parser = parse_rate)]
    pub requester_rate: Rate,
    /// Request budget of each prover key (heartbeats, lease polls, results, downloads).
    #[arg(long, value_name = "RATE/BURST", default_value = "50/500", value_parser = parse_rate)]
    pub prover_rate: Rate,
    /// Request budget of each admin key.
    #[arg(long, value_name = "RATE/BURST", default_value = "100/1000", value_parser = parse_rate)]
    pub admin_rate: Rate,
    /// Request budget of each source address for requests without a valid key, and for the
    /// public dashboard.
    #[arg(long, value_name = "RATE/BURST", default_value = "10/50", value_parser = parse_rate)]
    pub anonymous_rate: Rate,
    /// Task inspections (the checks behind submits and quotes) run at once; past it the node
    /// answers 503 with Retry-After.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub max_inspections: usize,
    /// Milliseconds a 429 is held before it is sent, so clients retrying in a loop wait
    /// instead of spinning the node.
    #[arg(long = "tarpit", value_name = "MS", default_value_t = 1000)]
    pub tarpit_ms: u64,
    /// Seconds a client may take to send a request's headers, leave a connection idle, or
    /// pause inside a request body, before the connection is cut.
    #[arg(long = "idle-timeout", value_name = "SECS", default_value_t = 30)]
    pub idle_timeout_secs: u64,
    /// Open connections one source address may hold; more are closed at once.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub max_connections_per_addr: usize,
    /// Most bytes one requester key's uploads may take on disk (K, M, G suffixes). Past it an
    /// upload gets 413 quota_exceeded.
    #[arg(long = "requester-quota", value_name = "BYTES", default_value = "4G", value_parser = parse_size)]
    pub requester_quota_bytes: u64,
    /// Seconds an artifact or proof no live task needs is kept after its last use before the
    /// collector removes it.
    #[arg(long = "blob-retention", value_name = "SECS", default_value_t = 7 * 24 * 3600)]
    pub blob_retention_secs: u64,
    /// Groth16: most linear memory a circom witness generator may use (K/M/G); more is
    /// refused with over_limit.
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_size)]
    pub wasm_memory: u64,
    /// Groth16: most wasm instructions one witness computation may run.
    #[arg(long, value_name = "N", default_value_t = Groth16Limits::default().wasm_fuel)]
    pub wasm_fuel: u64,
    /// Groth16: most wires (witness values) a circuit may have.
    #[arg(long, value_name = "N", default_value_t = Groth16Limits::default().max_witness_len)]
    pub max_witness: usize,
    /// Groth16: most constraints a circuit may have.
    #[arg(long, value_name = "N", default_value_t = Groth16Limits::default().max_constraints)]
    pub max_constraints: usize,
    /// Groth16: most bytes of input.json.
    #[arg(long, value_name = "BYTES", default_value = "16M", value_parser = parse_size)]
    pub max_input_json: u64,
    /// Groth16: bytes of parsed constraint systems and keys kept between requests.
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_size)]
    pub parsed_cache: u64,
    /// Miden: most trace rows one task may take over all its chunks (its execution at submit
    /// stops there, with over_limit).
    #[arg(long, value_name = "ROWS", default_value_t = MidenLimits::default().max_task_rows)]
    pub max_task_rows: u64,
    /// Miden: most trace rows one chunk may take.
    #[arg(long, value_name = "ROWS", default_value_t = MidenLimits::default().max_chunk_rows)]
    pub max_chunk_rows: u64,
    /// Miden: most memory one execution at submit may use to measure a trace (K/M/G).
    #[arg(long, value_name = "BYTES", default_value = "1G", value_parser = parse_size)]
    pub submit_memory: u64,
    /// Miden: most chunks per task.
    #[arg(long, value_name = "N", default_value_t = MidenLimits::default().max_chunks)]
    pub max_chunks: usize,
    /// Miden: most field elements per chunk.
    #[arg(long, value_name = "N", default_value_t = MidenLimits::default().max_chunk_len)]
    pub max_chunk_len: usize,
    /// Miden: most bytes of `step` program source.
    #[arg(long, value_name = "BYTES", default_value = "1M", value_parser = parse_size)]
    pub max_program_bytes: u64,
    /// Miden: most operations of the program with its repeats unrolled (bounds assembly).
    #[arg(long, value_name = "N", default_value_t = MidenLimits::default().max_program_ops)]
    pub max_program_ops: u64,
}

impl LimitArgs {
    /// Writes the limits into `config`.
    pub fn apply(&self, config: &mut NodeConfig) -> anyhow::Result<()> {
        anyhow::ensure!(
            self.max_inspections >= 1,
            "--max-inspections must be at least 1"
        );
        anyhow::ensure!(
            self.idle_timeout_secs >= 1,
            "--idle-timeout must be at least 1 second"
        );
        anyhow::ensure!(
            self.max_connections_per_addr >= 1,
            "--max-connections-per-addr must be at least 1"
        );
        config.guard = GuardConfig {
            requester: self.requester_rate,
            prover: self.prover_rate,
            admin: self.admin_rate,
            anonymous: self.anonymous_rate,
            max_inspections: self.max_inspections,
            tarpit: Duration::from_millis(self.tarpit_ms),
        };
        config.conn = ConnLimits {
            idle_timeout: Duration::from_secs(self.idle_timeout_secs),
            max_per_addr: self.max_connections_per_addr,
        };
        config.requester_quota_bytes = self.requester_quota_bytes;
        config.blob_retention = Duration::from_secs(self.blob_retention_secs);
        Ok(())
    }
}

fn size(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

impl LimitArgs {
    /// What the node's Miden backend may spend on one task's program and chunks.
    pub fn miden(&self) -> MidenLimits {
        MidenLimits {
            max_task_rows: self.max_task_rows,
            max_chunk_rows: self.max_chunk_rows,
            submit_memory_bytes: self.submit_memory,
            max_chunks: self.max_chunks,
            max_chunk_len: self.max_chunk_len,
            max_program_bytes: size(self.max_program_bytes),
            max_program_ops: self.max_program_ops,
        }
    }

    /// What the node's Groth16 backend may spend on one task's artifacts.
    pub fn groth16(&self) -> Groth16Limits {
        Groth16Limits {
            wasm_memory_bytes: size(self.wasm_memory),
            wasm_fuel: self.wasm_fuel,
            max_witness_len: self.max_witness,
            max_constraints: self.max_constraints,
            max_input_bytes: size(self.max_input_json),
            cache_bytes: size(self.parsed_cache),
        }
    }
}

/// `RATE/BURST`: a positive rate per second (a decimal) and a burst of at least one.
pub(crate) fn parse_rate(s: &str) -> Result<Rate, String> {
    let (rate, burst) = s
        .split_once('/')
        .ok_or_else(|| format!("{s:?} is not RATE/BURST, e.g. 20/200"))?;
    let rate: f64 = rate
        .trim()
        .parse()
        .map_err(|_| format!("rate {rate:?} is not a number"))?;
    let burst: u32 = burst
        .trim()
        .parse()
        .map_err(|_| format!("burst {burst:?} is not a whole number"))?;
    if !(rate.is_finite() && rate > 0.0) || burst == 0 {
        return Err(format!(
            "{s:?}: the rate must be above 0 and the burst at least 1"
        ));
    }
    Ok(Rate::new(rate, burst))
}

/// Bytes, with an optional K, M or G suffix (powers of 1024).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (digits, shift) = match t.char_indices().last() {
        Some((i, 'K' | 'k')) => (&t[..i], 10),
        Some((i, 'M' | 'm')) => (&t[..i], 20),
        Some((i, 'G' | 'g')) => (&t[..i], 30),
        _ => (t, 0),
    };
    let n: u64 = digits
        .trim()
        .parse()
        .map_err(|_| format!("{s:?} is not a size in bytes (e.g. 4G, 512M, 65536)"))?;
    n.checked_mul(1 << shift)
        .ok_or_else(|| format!("{s:?} is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_sizes_parse_or_say_why_not() {
        assert_eq!(parse_rate("20/200").unwrap(), Rate::new(20.0, 200));
        assert_eq!(parse_rate("0.5/1").unwrap(), Rate::new(0.5, 1));
        assert!(parse_rate("20").unwrap_err().contains("RATE/BURST"));
        assert!(parse_rate("0/5").is_err());
        assert!(parse_rate("5/0").is_err());
        assert!(parse_rate("nan/5").is_err());
        assert_eq!(parse_size("4G").unwrap(), 4 << 30);
        assert_eq!(parse_size("512m").unwrap(), 512 << 20);
        assert_eq!(parse_size("65536").unwrap(), 65536);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("99999999999999G")
            .unwrap_err()
            .contains("too large"));
    }
}
