//! `zkpool verify result.bin`: a requester checks a split (Miden) task's delivered result on
//! its own machine, without trusting the pool (a multi-prover `bundle.json` goes to
//! [`crate::bundle`]). Every segment's STARK proof is verified and the
//! chain of states is checked; `--program` and `--chunks` additionally pin the result to the
//! program and input the requester submitted.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use zkpool_miden::{ChainProof, ChainStatement, SegmentInput};

/// `zkpool verify`.
#[derive(Args, Debug)]
pub struct VerifyArgs {
    /// The result of a split task (`result.bin`) or of a multi-prover task (`bundle.json`), as
    /// `zkpool submit --wait` writes it.
    pub result: PathBuf,
    /// Bundle: the pool's address (`0x` + 20 bytes) the certificate must be signed by.
    #[arg(long, value_name = "ADDRESS")]
    pub pool_address: Option<String>,
    /// Bundle: your own Groth16 verification key (`verification_key.json`); every Groth16
    /// leg must use one of those given (repeat the flag for several).
    #[arg(long, value_name = "FILE")]
    pub vkey: Vec<PathBuf>,
    /// The `step` program that was submitted: the result must prove exactly this program.
    #[arg(long)]
    pub program: Option<PathBuf>,
    /// The input that was submitted (`{"state_in": …, "chunks": …}`): the result must start from
    /// its state and consume exactly its chunks.
    #[arg(long)]
    pub chunks: Option<PathBuf>,
}

fn read(path: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
}

/// What a verified result proves, checked against the requester's own program and input.
pub fn check(
    result: &[u8],
    program: Option<&str>,
    input: Option<&SegmentInput>,
) -> anyhow::Result<(ChainStatement, usize)> {
    let chain = ChainProof::from_bytes(result).context("not a zkpool split-proof result")?;
    zkpool_miden::verify_chain(&chain).context("the result does not verify")?;
    let st = chain.statement;
    if let Some(source) = program {
        let hash = zkpool_miden::assemble(source)
            .context("the --program file does not assemble")?
            .hash()
            .to_hex();
        anyhow::ensure!(
            hash == st.program_hash,
            "the result proves program {}, not the given program {hash}",
            st.program_hash
        );
    }
    if let Some(input) = input {
        anyhow::ensure!(
            input.state_in == st.initial_state,
            "the result starts from state {:?}, not the input's {:?}",
            st.initial_state,
            input.state_in
        );
        anyhow::ensure!(
            input.chunks.len() as u64 == st.chunks,
            "the result consumes {} chunks, the input has {}",
            st.chunks,
            input.chunks.len()
        );
    }
    Ok((st, chain.segments.len()))
}

/// Verifies and prints what the result proves.
pub fn run(a: VerifyArgs) -> anyhow::Result<()> {
    let result = read(&a.result)?;
    if serde_json::from_slice::<serde_json::Value>(&result)
        .is_ok_and(|v| v.get("certificate").is_some())
    {
        return run_bundle(&a, &result);
    }
    let program = match &a.program {
        Some(p) => Some(
            String::from_utf8(read(p)?)
                .with_context(|| format!("{} is not UTF-8 text", p.display()))?,
        ),
        None => None,
    };
    let input: Option<SegmentInput> = match &a.chunks {
        Some(p) => Some(serde_json::from_slice(&read(p)?).with_context(|| {
            format!(
                "{} is not a chunks file ({{\"state_in\": […], \"chunks\": […]}})",
                p.display()
            )
        })?),
        None => None,
    };
    let started = std::time::Instant::now();
    let (st, segments) = check(&result, program.as_deref(), input.as_ref())?;
    println!(
        "OK: {segments} segment proofs verified and chained in {} ms",
        started.elapsed().as_millis()
    );
    println!("  program        {}", st.program_hash);
    println!("  initial state  {:?}", st.initial_state);
    println!("  chunks         {}", st.chunks);
    println!("  output state   {:?}", st.claimed_output);
    if program.is_none() || input.is_none() {
        println!(
            "  (compare the program and initial state with yours, or pass --program and --chunks)"
        );
    }
    Ok(())
}

/// `zkpool verify bundle.json`.
fn run_bundle(a: &VerifyArgs, bytes: &[u8]) -> anyhow::Result<()> {
    let pool = a
        .pool_address
        .as_deref()
        .map(|s| {
            s.parse::<zkpool_ledger::Address>()
                .map_err(|e| anyhow::anyhow!("--pool-address {s}: {e}"))
        })
        .transpose()?;
    let mut vkeys = Vec::new();
    for p in &a.vkey {
        vkeys.push(
            serde_json::from_slice(&read(p)?)
                .with_context(|| format!("{} is not a verification key (JSON)", p.display()))?,
        );
    }
    let started = std::time::Instant::now();
    let c = crate::bundle::check(bytes, pool, &vkeys)?;
    let b = &c.bundle;
    println!(
        "OK: {} of {} legs verified against the claim in {} ms; certificate signed by {}",
        b.legs.len(),
        b.n,
        started.elapsed().as_millis(),
        c.signer
    );
    println!(
        "  claim     {}({} inputs) = {} outputs",
        b.claim.function,
        b.claim.inputs.len(),
        b.claim.outputs.len()
    );
    for leg in &b.legs {
        println!("  leg {}    {}", leg.index, leg.system);
    }
    if pool.is_none() {
        println!("  (compare the signer with the pool's address, or pass --pool-address)");
    }
    Ok(())
}
