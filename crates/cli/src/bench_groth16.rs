//! `zkpool bench groth16`: our Groth16 prover against rapidsnark and snarkjs on the same
//! circuit, key and witness, and the pool's end to end on it.
//!
//! Each run times, in turn (A B A B …, so drifts of the machine hit every tool alike):
//! our prove with the key already loaded, as the prover agent records it; arkworks' prover on
//! the same key (what zkpool used before its own MSM); `rapidsnark` and `snarkjs groth16 prove`
//! as whole processes when given; then, separately, the task end to end through a local pool
//! (node and one prover agent on loopback, the key uploaded once and cached by the agent, the
//! witness uploaded per task). Medians and ratios are printed as a table.
//!
//! Without `--r1cs/--zkey/--witness` it generates Poseidon-chain circuits (`Poseidon(2)`
//! hashes chained, 240 constraints each) filling a domain of `2^k` for each `--sizes k`:
//! compiled by `circom2` from `node_modules`, the witness computed by our wasm runner, the key
//! written by our own setup (`zkpool_groth16::synthetic::setup`; a powers-of-tau ceremony at
//! 2^20 takes hours with snarkjs). Generated circuits are kept in `--cache` for the next run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use zkpool_backend::{Artifacts, Blob, ProofBackend};
use zkpool_client::Client;
use zkpool_groth16::{
    parse_proving_key, parse_wtns, prove_arkworks, prove_timed, Groth16Backend, R1cs,
};
use zkpool_node::NodeConfig;
use zkpool_prover::Fault;
use zkpool_types::api::TaskView;
use zkpool_types::{ArtifactRole, ProofSystem, TaskSpec, TaskState};

use crate::bench::median;
use crate::demo::LocalPool;
use crate::table::Table;

/// Constraints one `Poseidon(2)` adds to the chain (circom 2, `--O2`).
const PER_HASH: usize = 240;

/// `zkpool bench groth16`.
#[derive(Args, Debug)]
pub struct Groth16BenchArgs {
    /// A circom circuit's `.r1cs`: bench this circuit (with `--zkey` and `--witness`) instead
    /// of generated ones.
    #[arg(long, requires_all = ["zkey", "witness"])]
    r1cs: Option<PathBuf>,
    /// The circuit's snarkjs `.zkey`.
    #[arg(long, requires = "r1cs")]
    zkey: Option<PathBuf>,
    /// A witness of the circuit, `.wtns`.
    #[arg(long, requires = "r1cs")]
    witness: Option<PathBuf>,
    /// Generated Poseidon chains, by the log2 of their proving domain (12 to 22).
    #[arg(long, value_delimiter = ',', default_value = "14,16")]
    sizes: Vec<u32>,
    /// A rapidsnark `prover` binary to run on the same zkey and witness (README: building
    /// rapidsnark to compare).
    #[arg(long)]
    rapidsnark: Option<PathBuf>,
    /// The snarkjs CLI to run on the same zkey and witness (default: node_modules/.bin/snarkjs
    /// when present; `--snarkjs none` to skip).
    #[arg(long)]
    snarkjs: Option<PathBuf>,
    /// Runs of each measurement (the median is reported).
    #[arg(long, default_value_t = 7)]
    runs: usize,
    /// Leave out the arkworks prover (the "before" column).
    #[arg(long)]
    no_arkworks: bool,
    /// Leave out the end to end through a local pool.
    #[arg(long)]
    no_pool: bool,
    /// Where generated circuits are kept between runs.
    #[arg(long, default_value = "target/bench-circuits")]
    cache: PathBuf,
}

/// One circuit's files.
struct Files {
    name: String,
    r1cs: PathBuf,
    zkey: PathBuf,
    wtns: PathBuf,
}

/// Runs the benchmark and prints the table.
pub async fn run(a: Groth16BenchArgs) -> anyhow::Result<()> {
    anyhow::ensure!(a.runs >= 1, "--runs must be at least 1");
    let circuits = match (&a.r1cs, &a.zkey, &a.witness) {
        (Some(r1cs), Some(zkey), Some(wtns)) => vec![Files {
            name: r1cs
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "circuit".into()),
            r1cs: r1cs.clone(),
            zkey: zkey.clone(),
            wtns: wtns.clone(),
        }],
        _ => {
            let mut v = Vec::new();
            for &k in &a.sizes {
                anyhow::ensure!((12..=22).contains(&k), "--sizes: 12 to 22, not {k}");
                v.push(poseidon_chain(&a.cache, k)?);
            }
            v
        }
    };
    let snarkjs = match &a.snarkjs {
        Some(p) if p.as_os_str() == "none" => None,
        Some(p) => Some(p.clone()),
        None => Some(PathBuf::from("node_modules/.bin/snarkjs")).filter(|p| p.exists()),
    };

    let mut table = Table::new(&["circuit", "measurement", "median", "vs rapidsnark"]);
    for c in &circuits {
        bench_one(&a, c, snarkjs.as_deref(), &mut table).await?;
    }
    println!("{table}");
    Ok(())
}

async fn bench_one(
    a: &Groth16BenchArgs,
    c: &Files,
    snarkjs: Option<&Path>,
    table: &mut Table,
) -> anyhow::Result<()> {
    let read = |p: &Path| std::fs::read(p).with_context(|| format!("cannot read {}", p.display()));
    let (r1cs, zkey, wtns) = (read(&c.r1cs)?, read(&c.zkey)?, read(&c.wtns)?);
    let n_constraints = R1cs::parse(&r1cs)?.n_constraints();
    let key = parse_proving_key(&zkey)?;
    let witness = parse_wtns(&wtns)?;
    let label = format!(
        "{} ({n_constraints} constraints, 2^{})",
        c.name,
        key.domain_size.trailing_zeros()
    );
    eprintln!("{label}: warming up…");

    // Built as an agent builds it: at 2^20 the default cache cannot hold the parsed r1cs and
    // proving key together, and every prove would parse both again.
    let backend = Groth16Backend::with_limits(crate::prover_groth16_limits());
    let mut art = Artifacts::default();
    art.insert(ArtifactRole::R1cs, Blob::new(r1cs.clone()));
    art.insert(ArtifactRole::Zkey, Blob::new(zkey.clone()));
    art.insert(ArtifactRole::Wtns, Blob::new(wtns.clone()));
    backend.prove(&art)?; // parses and caches the key, as an agent's first task does

    let mut ours = Vec::new();
    let mut phases = (Vec::new(), Vec::new());
    let mut arkworks = Vec::new();
    let mut rapid = Vec::new();
    let mut snark = Vec::new();
    for run in 0..a.runs {
        eprintln!("{label}: run {}/{}", run + 1, a.runs);
        ours.push(time_ms(|| backend.prove(&art).map(drop))?);
        let (_, p) = prove_timed(&key, &witness)?;
        phases.0.push(p.witness_map.as_secs_f64() * 1e3);
        phases.1.push(p.msm.as_secs_f64() * 1e3);
        if !a.no_arkworks {
            arkworks.push(time_ms(|| prove_arkworks(&key, &witness).map(drop))?);
        }
        if let Some(bin) = &a.rapidsnark {
            rapid.push(process_ms(Command::new(bin).args(paths(c)))?);
        }
        if let Some(bin) = snarkjs {
            snark.push(process_ms(
                Command::new(bin).args(["groth16", "prove"]).args(paths(c)),
            )?);
        }
    }
    let base = (!rapid.is_empty()).then(|| median(&rapid));
    let mut row = |what: &str, v: f64| {
        let ratio = base.map(|b| format!("{:.2}×", v / b)).unwrap_or_default();
        table.row(vec![
            label.clone(),
            what.into(),
            format!("{v:.1} ms"),
            ratio,
        ]);
    };
    let ours_ms = median(&ours);
    row(
        "zkpool prove (key cached, as the agent records it)",
        ours_ms,
    );
    row("  of which witness map (FFTs)", median(&phases.0));
    row("  of which the five MSMs", median(&phases.1));
    if !arkworks.is_empty() {
        row("arkworks prover, same key (before)", median(&arkworks));
    }
    if let Some(b) = base {
        row("rapidsnark prover (whole process)", b);
    }
    if !snark.is_empty() {
        row("snarkjs groth16 prove", median(&snark));
    }
    if !a.no_pool {
        eprintln!("{label}: end to end through a local pool…");
        let e2e = pool_ms(&r1cs, &zkey, &wtns, a.runs).await?;
        row("zkpool end to end (node + one prover, loopback)", e2e.total);
        table.row(vec![
            label.clone(),
            "  end to end ÷ prove".into(),
            format!(
                "{:.3}× (+{:.1} ms)",
                e2e.total / ours_ms,
                e2e.total - ours_ms
            ),
            String::new(),
        ]);
        table.row(vec![
            label.clone(),
            "  submit / pool / prove in the agent / answer".into(),
            format!(
                "{:.0} / {:.0} / {:.0} / {:.0} ms",
                e2e.submit, e2e.pool, e2e.prove, e2e.answer
            ),
            String::new(),
        ]);
    }
    Ok(())
}

/// `zkey wtns proof.json public.json`, the arguments rapidsnark and snarkjs share.
fn paths(c: &Files) -> Vec<PathBuf> {
    let dir = std::env::temp_dir();
    vec![
        c.zkey.clone(),
        c.wtns.clone(),
        dir.join(format!("zkpool-bench-{}-proof.json", std::process::id())),
        dir.join(format!("zkpool-bench-{}-public.json", std::process::id())),
    ]
}

/// The wall time of `f` in ms.
fn time_ms(f: impl FnOnce() -> Result<(), zkpool_backend::BackendError>) -> anyhow::Result<f64> {
    let s = Instant::now();
    f()?;
    Ok(s.elapsed().as_secs_f64() * 1e3)
}

/// Runs `cmd` to its end: its wall time in ms, or its output as the error if it failed.
pub(crate) fn process_ms(cmd: &mut Command) -> anyhow::Result<f64> {
    let s = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("cannot run {:?}", cmd.get_program()))?;
    let t = s.elapsed().as_secs_f64() * 1e3;
    anyhow::ensure!(
        out.status.success(),
        "{:?} failed: {}{}",
        cmd.get_program(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(t)
}

/// Where an end-to-end task's time went, in ms (medians over the runs).
struct EndToEnd {
    /// Submit → the requester sees it done.
    total: f64,
    /// The witness's upload and the submit call (the node's intake).
    submit: f64,
    /// Queued → done at the node, less the prove time the agent reported: lease wake-up,
    /// downloads, the agent's checks, the proof's upload, verification, completion.
    pool: f64,
    /// The prove time the agent reported.
    prove: f64,
    /// Done at the node → the requester's long-poll answers.
    answer: f64,
}

/// Submit → done through a local pool with one prover agent (medians of `runs`, after one
/// warm-up task that lets the agent load the key).
async fn pool_ms(r1cs: &[u8], zkey: &[u8], wtns: &[u8], runs: usize) -> anyhow::Result<EndToEnd> {
    let config = NodeConfig {
        lease_ttl: Duration::from_secs(60),
        max_upload_bytes: 4 << 30,
        ..NodeConfig::default()
    };
    let pool = LocalPool::with_config(None, config).await?;
    let agent = pool.spawn_prover("bench-rig", Fault::None).await?;
    let client = &pool.requester;
    let r1cs = client.upload(r1cs.to_vec()).await?;
    let zkey = client.upload(zkey.to_vec()).await?;
    let mut t: [Vec<f64>; 5] = Default::default();
    for run in 0..=runs {
        let s = Instant::now();
        let mut spec = TaskSpec {
            system: ProofSystem::Groth16,
            label: Some("bench".into()),
            artifacts: BTreeMap::new(),
            segments: None,
            strategy: None,
        };
        spec.artifacts.insert(ArtifactRole::R1cs, r1cs);
        spec.artifacts.insert(ArtifactRole::Zkey, zkey);
        spec.artifacts
            .insert(ArtifactRole::Wtns, client.upload(wtns.to_vec()).await?);
        let id = client.submit(spec).await?.task_id;
        let submit = s.elapsed().as_secs_f64() * 1e3;
        let v = wait_done(client, id).await?;
        let total = s.elapsed().as_secs_f64() * 1e3;
        if run > 0 {
            let at_node = (v.finished_ms.unwrap_or(v.created_ms) - v.created_ms) as f64;
            let prove = v.prove_ms.unwrap_or(0) as f64;
            for (i, x) in [
                total,
                submit,
                at_node - prove,
                prove,
                total - submit - at_node,
            ]
            .into_iter()
            .enumerate()
            {
                t[i].push(x);
            }
        }
    }
    agent.abort();
    pool.stop().await;
    Ok(EndToEnd {
        total: median(&t[0]),
        submit: median(&t[1]),
        pool: median(&t[2]),
        prove: median(&t[3]),
        answer: median(&t[4]),
    })
}

/// Waits as `zkpool submit --wait` does.
async fn wait_done(client: &Client, id: zkpool_types::TaskId) -> anyhow::Result<TaskView> {
    loop {
        let v = client.task_wait(id, Duration::from_secs(1)).await?;
        match v.state {
            TaskState::Done => return Ok(v),
            TaskState::Failed => anyhow::bail!("bench task failed: {:?}", v.failures),
            _ => {}
        }
    }
}

/// A Poseidon chain filling a domain of `2^k`, generated once into `cache`.
fn poseidon_chain(cache: &Path, k: u32) -> anyhow::Result<Files> {
    let name = format!("poseidon_chain_2e{k}");
    let dir = cache.join(&name);
    let files = Files {
        name: name.clone(),
        r1cs: dir.join(format!("{name}.r1cs")),
        zkey: dir.join(format!("{name}.zkey")),
        wtns: dir.join(format!("{name}.wtns")),
    };
    if files.r1cs.exists() && files.zkey.exists() && files.wtns.exists() {
        return Ok(files);
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (r1cs, witness) = if k <= LARGEST_COMPILED {
        compile_chain(&dir, &name, k)?
    } else {
        // circom2 (wasm, 4 GiB of memory) cannot compile a million constraints: copies of the
        // largest chain it can compile, side by side, fill the domain instead.
        let base = poseidon_chain(cache, LARGEST_COMPILED)?;
        let r1cs = R1cs::parse(&std::fs::read(&base.r1cs)?)?;
        let witness = parse_wtns(&std::fs::read(&base.wtns)?)?;
        eprintln!(
            "{name}: {} copies of {}",
            1 << (k - LARGEST_COMPILED),
            base.name
        );
        side_by_side(&r1cs, &witness, 1 << (k - LARGEST_COMPILED))
    };
    r1cs.check_witness(&witness)?;
    std::fs::write(&files.r1cs, r1cs.to_bytes())?;
    std::fs::write(&files.wtns, zkpool_groth16::write_wtns(&witness))?;
    eprintln!(
        "{name}: writing a key for {} constraints with our own setup (minutes at 2^20)…",
        r1cs.n_constraints()
    );
    let zkey = zkpool_groth16::synthetic::setup(&r1cs, &mut rand::rngs::OsRng)?;
    let tmp = files.zkey.with_extension("zkey.partial");
    std::fs::write(&tmp, zkey)?;
    std::fs::rename(&tmp, &files.zkey)?;
    Ok(files)
}

/// The largest domain whose Poseidon chain circom2 compiles here.
const LARGEST_COMPILED: u32 = 18;

/// A chain of `⌊(2^k - 3) / 240⌋` Poseidon hashes compiled by circom2 into `dir`, and its
/// witness computed by our wasm runner.
fn compile_chain(dir: &Path, name: &str, k: u32) -> anyhow::Result<(R1cs, Vec<ark_bn254::Fr>)> {
    let circom = PathBuf::from("node_modules/.bin/circom2");
    anyhow::ensure!(
        circom.exists(),
        "generating circuits needs circom2: run `npm ci` at the repository root (or pass \
         --r1cs, --zkey and --witness)"
    );
    // The domain holds the constraints plus one row per public input and the constant.
    let hashes = ((1usize << k) - 3) / PER_HASH;
    let source = dir.join(format!("{name}.circom"));
    std::fs::write(
        &source,
        format!(
            "pragma circom 2.1.0;\ninclude \"circomlib/circuits/poseidon.circom\";\n\
             template PoseidonChain(n) {{\n  signal input seed;\n  signal input secret;\n  \
             signal output out;\n  component h[n];\n  signal s[n + 1];\n  s[0] <== seed;\n  \
             for (var i = 0; i < n; i++) {{\n    h[i] = Poseidon(2);\n    \
             h[i].inputs[0] <== s[i];\n    h[i].inputs[1] <== secret;\n    \
             s[i + 1] <== h[i].out;\n  }}\n  out <== s[n];\n}}\n\
             component main {{public [seed]}} = PoseidonChain({hashes});\n"
        ),
    )?;
    eprintln!("{name}: compiling {hashes} Poseidon hashes with circom2…");
    let out = Command::new(&circom)
        .arg(&source)
        .args(["--O2", "--r1cs", "--wasm", "-l", "node_modules", "-o"])
        .arg(dir)
        .output()
        .context("cannot run circom2")?;
    anyhow::ensure!(
        out.status.success(),
        "circom2 failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let r1cs = R1cs::parse(&std::fs::read(dir.join(format!("{name}.r1cs")))?)?;
    eprintln!("{name}: computing the witness…");
    let wasm = std::fs::read(dir.join(format!("{name}_js/{name}.wasm")))?;
    let witness =
        zkpool_groth16::compute_witness(&wasm, br#"{"seed": "12345", "secret": "67890"}"#)?;
    Ok((r1cs, witness))
}

/// `copies` independent copies of a circuit in one: the constant wire shared, the first copy's
/// public signals kept public, every other wire its own, constraints one copy after another.
fn side_by_side(
    r1cs: &R1cs,
    witness: &[ark_bn254::Fr],
    copies: usize,
) -> (R1cs, Vec<ark_bn254::Fr>) {
    let own = r1cs.n_wires - 1;
    let mut out = R1cs {
        n_wires: 1 + own * copies,
        n_public: r1cs.n_public,
        constraints: Vec::with_capacity(r1cs.constraints.len() * copies),
    };
    let mut w = Vec::with_capacity(out.n_wires);
    w.push(witness[0]);
    for copy in 0..copies {
        let offset = copy * own;
        let wire = |i: usize| if i == 0 { 0 } else { i + offset };
        out.constraints.extend(r1cs.constraints.iter().map(|lcs| {
            lcs.clone()
                .map(|lc| lc.into_iter().map(|(i, v)| (wire(i), v)).collect())
        }));
        w.extend_from_slice(&witness[1..]);
    }
    (out, w)
}
