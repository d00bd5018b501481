//! What the intake check costs against a proof, on synthetic multiplication chains whose B
//! query is dense (the worst case for the G2 work). Prints one table row per size: the key's
//! setup, one proof with the key already parsed, the check at first sight with its phases
//! (shares of the check), a cached check, and what testing every B2 point for the subgroup one
//! by one would cost instead (ark-bn254's ψ test timed on a sample, single-threaded).
//!
//! `cargo bench -p zkpool-groth16 --bench intake [-- 14 16 18]` (log2 of the QAP domain;
//! default 14, 16, 18).

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ark_ec::AffineRepr;
use rand::rngs::OsRng;
use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_groth16::{check_key, parse_proving_key, synthetic, Groth16Backend, R1cs};
use zkpool_types::ArtifactRole;

/// Cached lookups averaged per row.
const LOOKUPS: u32 = 1000;
/// B2 points timed one by one to estimate the per-point subgroup test.
const SAMPLE: usize = 512;

fn main() {
    let logs: Vec<u32> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let logs = if logs.is_empty() {
        vec![14, 16, 18]
    } else {
        logs
    };
    println!(
        "| domain | setup s | zkey MiB | prove ms | intake ms | % of prove | points | \
         coeffs | G2 subgroup | pairing+MSM | cached µs | per-point ψ ms |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for log in logs {
        row(log);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn row(log: u32) {
    let n = (1usize << log) - 3;
    let t = Instant::now();
    let c = synthetic::multiplication_chain(n, &mut OsRng).expect("setup");
    let setup = t.elapsed();
    let zkey_mib = c.zkey.len() as f64 / (1 << 20) as f64;
    let r1cs = R1cs::parse(&c.r1cs).expect("r1cs");

    // The per-point alternative: ark-bn254's ψ test on a sample, scaled to all B2 points.
    let key = parse_proving_key(&c.zkey).expect("zkey");
    let points: Vec<_> = key.pk.b_g2_query.iter().filter(|p| !p.is_zero()).collect();
    let t = Instant::now();
    let sample = points.len().min(SAMPLE);
    for p in &points[..sample] {
        assert!(p.is_in_correct_subgroup_assuming_on_curve());
    }
    let per_point = t.elapsed().as_secs_f64() / sample as f64 * points.len() as f64;
    drop(key);

    let check = check_key(&r1cs, &c.zkey).expect("intake");

    let mut a = Artifacts::default();
    a.insert(ArtifactRole::R1cs, Blob::new(c.r1cs));
    a.insert(ArtifactRole::Zkey, Blob::new(c.zkey));
    a.insert(ArtifactRole::Wtns, Blob::new(c.wtns));
    let backend = Groth16Backend::new();
    backend.check_key(&a).expect("first sight");
    let t = Instant::now();
    for _ in 0..LOOKUPS {
        backend.check_key(&a).expect("cached");
    }
    let cached = t.elapsed() / LOOKUPS;

    let statement = backend.inspect(&a).expect("inspect").statement;
    backend.prove(&a).expect("prove (parses the key)");
    let t = Instant::now();
    let proof = backend.prove(&a).expect("prove");
    let prove = t.elapsed();
    backend.verify(&a, &statement, &proof).expect("verify");

    let total = check.total();
    let share = |d: Duration| format!("{:.0} ({:.0}%)", ms(d), 100.0 * ms(d) / ms(total));
    println!(
        "| 2^{log} | {:.1} | {zkey_mib:.0} | {:.0} | {:.0} | {:.0}% | {} | {} | {} | {} | {:.1} | {:.0} |",
        setup.as_secs_f64(),
        ms(prove),
        ms(total),
        100.0 * ms(total) / ms(prove),
        share(check.points),
        share(check.coefficients),
        share(check.g2_subgroup),
        share(check.consistency),
        cached.as_secs_f64() * 1e6,
        per_point * 1e3,
    );
}
