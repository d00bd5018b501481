//! Prove time on a circuit's key and witness (for instance those `zkpool bench groth16` keeps in
//! `target/bench-circuits`), by phase: the witness map and the five MSMs, medians of the runs.
//! Each proof is checked against the key's verifying key before it is timed again.
//!
//! `cargo bench -p zkpool-groth16 --bench prove -- <circuit.zkey> <witness.wtns> [runs]`
//! (default 7 runs). Built by `cargo build --benches` it also runs under `perf record` or
//! `valgrind --tool=callgrind`, where instruction counts are steadier than wall time.

// Tests unwrap freely: a panic is the failure report.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use ark_groth16::prepare_verifying_key;
use zkpool_groth16::{parse_proving_key, parse_wtns, prove_timed, verify};

fn main() {
    // `cargo bench` passes `--bench`; anything starting with `--` is cargo's, not ours.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let [zkey, wtns, rest @ ..] = args.as_slice() else {
        // Nothing to measure without a circuit: `cargo bench --workspace` runs this too.
        eprintln!("prove: give <circuit.zkey> <witness.wtns> [runs] to time a circuit");
        return;
    };
    let runs: usize = rest.first().map_or(7, |r| r.parse().unwrap());
    let key = parse_proving_key(&std::fs::read(zkey).unwrap()).unwrap();
    let witness = parse_wtns(&std::fs::read(wtns).unwrap()).unwrap();
    let pvk = prepare_verifying_key(&key.pk.vk);
    let public = &witness[1..=key.n_public];

    let mut map = Vec::new();
    let mut msm = Vec::new();
    let mut total = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let (proof, phases) = prove_timed(&key, &witness).unwrap();
        total.push(start.elapsed());
        map.push(phases.witness_map);
        msm.push(phases.msm);
        assert!(
            verify(&pvk, &proof, public).unwrap(),
            "the proof must verify"
        );
    }
    println!(
        "{} constraints, {} wires, {} rayon threads, {runs} runs: prove {:.1} ms \
         (witness map {:.1} ms, MSMs {:.1} ms)",
        key.num_constraints,
        witness.len(),
        rayon::current_num_threads(),
        ms(median(&mut total)),
        ms(median(&mut map)),
        ms(median(&mut msm)),
    );
}

fn median(v: &mut [Duration]) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}
