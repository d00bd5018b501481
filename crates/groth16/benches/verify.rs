//! Verification throughput on the multiplier fixture's key: proofs one by one (on one thread,
//! and spread over rayon's threads) against `verify_batch` in batches of 64, 256 and 1024, and
//! a batch of 1024 with one bad proof, which the batch must search for. Prints one table row per
//! mode: proofs per second, microseconds per proof and the gain over one-by-one on all threads.
//!
//! `RAYON_NUM_THREADS=2 cargo bench -p zkpool-groth16 --bench verify [-- 64 256 1024]`
//! (batch sizes; default 64, 256, 1024).

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ark_bn254::{Bn254, Fr};
use ark_ec::{AffineRepr, CurveGroup};
use ark_groth16::{prepare_verifying_key, PreparedVerifyingKey, Proof};
use rayon::prelude::*;
use zkpool_groth16::{compute_witness, parse_proving_key, prove, verify, verify_batch};

/// Distinct proofs made; larger batches are not needed for the numbers to settle.
const POOL: usize = 1024;
/// Each mode runs for at least this long.
const RUN: Duration = Duration::from_secs(2);

type Item = (Proof<Bn254>, Vec<Fr>);

fn fixture(file: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/multiplier/{file}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn main() {
    let sizes: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let sizes = if sizes.is_empty() {
        vec![64, 256, 1024]
    } else {
        sizes
    };
    let (pvk, pool) = proofs(sizes.iter().copied().max().unwrap_or(0).max(POOL));

    println!(
        "multiplier key, {} public signals, {} rayon threads, {} distinct proofs",
        pool[0].1.len(),
        rayon::current_num_threads(),
        pool.len()
    );
    println!("| mode | batch | proofs/s | µs/proof | vs one by one, all threads |");
    println!("|---|---|---|---|---|");
    let sequential = rate(&pool, 1, |items| {
        for (proof, public) in items {
            assert!(verify(&pvk, proof, public).unwrap());
        }
    });
    let parallel = rate(&pool, pool.len(), |items| {
        assert!(items
            .par_iter()
            .all(|(proof, public)| verify(&pvk, proof, public).unwrap()));
    });
    row("one by one, one thread", "1", sequential, parallel);
    row("one by one, par_iter", "1", parallel, parallel);
    for &n in &sizes {
        let r = rate(&pool, n, |items| verify_batch(&pvk, items).unwrap());
        row("verify_batch", &n.to_string(), r, parallel);
    }
    let n = *sizes.iter().max().unwrap_or(&POOL);
    let mut bad = pool[..n].to_vec();
    bad[n / 3].0.a = (bad[n / 3].0.a + ark_bn254::G1Affine::generator()).into_affine();
    let r = rate(&bad, n, |items| {
        assert_eq!(verify_batch(&pvk, items).unwrap_err().indices(), [n / 3]);
    });
    row("verify_batch, 1 bad", &n.to_string(), r, parallel);
}

/// `count` proofs of the multiplier with distinct inputs, made on all threads.
fn proofs(count: usize) -> (PreparedVerifyingKey<Bn254>, Vec<Item>) {
    let key = parse_proving_key(&fixture("multiplier.zkey")).unwrap();
    let wasm = fixture("multiplier.wasm");
    let items = (0..count)
        .into_par_iter()
        .map(|i| {
            let input = format!(r#"{{"a": "{}", "k": [[2, 3], [{i}, 7]]}}"#, i + 1);
            let w = compute_witness(&wasm, input.as_bytes()).unwrap();
            (prove(&key, &w).unwrap(), w[1..=key.n_public].to_vec())
        })
        .collect();
    (prepare_verifying_key(&key.pk.vk), items)
}

/// Proofs per second of `check` run on consecutive `batch`-sized slices of `pool`, round and
/// round, for at least [`RUN`].
fn rate(pool: &[Item], batch: usize, check: impl Fn(&[Item])) -> f64 {
    let start = Instant::now();
    let mut done = 0usize;
    while start.elapsed() < RUN {
        for items in pool.chunks_exact(batch) {
            check(items);
            done += items.len();
        }
    }
    done as f64 / start.elapsed().as_secs_f64()
}

fn row(mode: &str, batch: &str, rate: f64, baseline: f64) {
    println!(
        "| {mode} | {batch} | {rate:.0} | {:.0} | {:.2}x |",
        1e6 / rate,
        rate / baseline
    );
}
