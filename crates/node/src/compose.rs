//! Tasks proved more than once, in the node: multi-prover tasks (one claim, k of n legs in
//! different proof systems) and races (m provers on one task, the first valid proof wins).
//!
//! ```text
//!  submit ─► each leg prepared as a task of its own (blobs owned, inspected, a Miden leg
//!            executed and split) ─► backend.encodes_claim: the leg's statement states the
//!            claim, or 422 claim_mismatch ─► ONE tx: parent 'proving' + legs (+ segments)
//!  leg verified (verify.rs, before the upload is answered; or a split leg's join)
//!         ─► try_finish: `need` legs done?
//!         ─► bundle: claim + each verified leg's key, statement and proof + the pool's
//!            EIP-712 certificate ─► ONE tx: parent done, other legs stopped, release to the
//!            verified legs' keys by α-weighted work
//!  reaper ─► finishes that a crash interrupted
//! ```
//!
//! The store guards the rest: a key takes at most one leg of a group, a leg is refused once
//! the group has the legs it needs (a race's loser is never paid), and a leg that fails for
//! good fails the group only when too few legs are left.

use axum::http::StatusCode;
use zkpool_ledger::certificate::CertificateTerms;
use zkpool_ledger::eip712::keccak256;
use zkpool_ledger::Op;
use zkpool_store::{GroupFinish, GroupParts, NewGroup, NewLeg, NewTask};
use zkpool_types::{
    Bundle, BundleLeg, Certificate, Claim, Composition, KeyId, Leg, Strategy, TaskId, TaskSpec,
    MAX_LEGS,
};

use crate::{ApiError, Node};

/// Prepares a task whose spec has a strategy: every leg checked like a task of its own.
pub(crate) async fn prepare(
    node: &Node,
    requester: KeyId,
    spec: TaskSpec,
) -> Result<NewTask, ApiError> {
    let strategy = spec
        .strategy
        .clone()
        .ok_or_else(|| ApiError::internal("compose::prepare without a strategy"))?;
    match strategy {
        Strategy::Race { m } => prepare_race(node, requester, spec, m).await,
        Strategy::MultiProver { claim, k, legs } => {
            prepare_multi(node, requester, spec, &claim, k, &legs).await
        }
    }
}

fn bad_spec(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("bad_spec", message)
}

async fn prepare_race(
    node: &Node,
    requester: KeyId,
    spec: TaskSpec,
    m: u32,
) -> Result<NewTask, ApiError> {
    if !(2..=MAX_LEGS).contains(&m) {
        return Err(bad_spec(format!(
            "a race needs 2 to {MAX_LEGS} provers, not {m}"
        )));
    }
    let inner = TaskSpec {
        strategy: None,
        ..spec.clone()
    };
    let task = Box::pin(crate::requester_api::prepare_task(node, requester, inner)).await?;
    if !task.segments.is_empty() {
        return Err(bad_spec(
            "a race applies to tasks proved whole; a split task already spreads over provers",
        ));
    }
    let label = spec.label.clone().unwrap_or_else(|| "task".into());
    let legs = (0..m)
        .map(|i| NewLeg {
            spec: TaskSpec {
                label: Some(format!("{label} [racer {}/{m}]", i + 1)),
                ..task.spec.clone()
            },
            work: task.work,
            memory_bytes: task.memory_bytes,
            statement: task.statement.clone(),
            segments: Vec::new(),
        })
        .collect();
    Ok(NewTask {
        requester,
        spec,
        work: task.work,
        memory_bytes: task.memory_bytes,
        statement: task.statement,
        max_attempts: node.config.max_attempts,
        segments: Vec::new(),
        group: Some(NewGroup {
            composition: Composition::Race { m },
            legs,
        }),
    })
}

async fn prepare_multi(
    node: &Node,
    requester: KeyId,
    spec: TaskSpec,
    claim: &Claim,
    k: u32,
    legs: &[Leg],
) -> Result<NewTask, ApiError> {
    claim.check().map_err(bad_spec)?;
    let n = legs.len() as u32;
    if !(2..=MAX_LEGS).contains(&n) {
        return Err(bad_spec(format!(
            "a multi-prover task has 2 to {MAX_LEGS} legs, not {n}"
        )));
    }
    if k == 0 || k > n {
        return Err(bad_spec(format!(
            "k must be between 1 and the number of legs ({n}), not {k}"
        )));
    }
    if spec.segments.is_some() {
        return Err(bad_spec(
            "`segments` belongs on a leg, not on the multi-prover task",
        ));
    }
    if spec.system != legs[0].spec.system {
        return Err(bad_spec(
            "a multi-prover task's system must be its first leg's",
        ));
    }
    let mut new_legs = Vec::with_capacity(legs.len());
    let mut digests = Vec::with_capacity(legs.len());
    for (i, leg) in legs.iter().enumerate() {
        if leg.spec.strategy.is_some() {
            return Err(bad_spec(format!("leg {i} has a strategy of its own")));
        }
        let backend = node.backends.get(leg.spec.system).cloned().ok_or_else(|| {
            ApiError::bad_request(
                "unsupported_system",
                format!("leg {i}: this pool does not run {}", leg.spec.system),
            )
        })?;
        let task = Box::pin(crate::requester_api::prepare_task(
            node,
            requester,
            leg.spec.clone(),
        ))
        .await
        .map_err(|e| e.context(format!("leg {i}")))?;
        let (claim2, signals, statement) =
            (claim.clone(), leg.signals.clone(), task.statement.clone());
        tokio::task::spawn_blocking(move || backend.encodes_claim(&claim2, &signals, &statement))
            .await
            .map_err(ApiError::internal)?
            .map_err(|e| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "claim_mismatch",
                    format!(
                        "leg {i} ({}) does not prove the claim: {e}",
                        leg.spec.system
                    ),
                )
            })?;
        digests.push(serde_json::json!({
            "system": leg.spec.system,
            "digest": hex::encode(crate::settlement::task_digest(
                task.spec.system,
                &task.spec.artifacts,
                &task.statement
            )),
            "signals": leg.signals,
        }));
        new_legs.push(NewLeg {
            spec: task.spec,
            work: task.work,
            memory_bytes: task.memory_bytes,
            statement: task.statement,
            segments: task.segments,
        });
    }
    // The task's own statement binds the claim and every leg (what a quote's digest covers).
    let statement = serde_json::json!({
        "claim": hex::encode(keccak256(&claim.canonical_bytes())),
        "k": k,
        "legs": digests,
    })
    .to_string()
    .into_bytes();
    let work = alpha_sum(node, &new_legs)?;
    let memory_bytes = new_legs.iter().map(|l| l.memory_bytes).max().unwrap_or(0);
    tracing::info!(legs = n, k, function = %claim.function, "multi-prover task checked: every leg proves the claim");
    Ok(NewTask {
        requester,
        spec,
        work,
        memory_bytes,
        statement,
        max_attempts: node.config.max_attempts,
        segments: Vec::new(),
        group: Some(NewGroup {
            composition: Composition::AllOf { k, n },
            legs: new_legs,
        }),
    })
}

/// The legs' work in one unit: α-weighted, since constraints and trace rows do not add up.
fn alpha_sum(node: &Node, legs: &[NewLeg]) -> Result<u64, ApiError> {
    let f = &node.config.settlement.factors;
    let mut sum = 0u64;
    for l in legs {
        let w = f.work(l.spec.system.as_str(), l.work)?;
        sum = sum.saturating_add(u64::try_from(w).unwrap_or(u64::MAX));
    }
    Ok(sum)
}

/// Finishes every group with the legs it needs (the reaper's sweep).
pub(crate) async fn finish_ready(node: &Node) -> Result<(), ApiError> {
    for task in node.store.groups_ready().await? {
        try_finish(node, task).await?;
    }
    Ok(())
}

/// Finishes group `task` when `need` legs are done: builds and stores the bundle, then in one
/// transaction marks the task done, stops the other legs and releases the reward.
pub(crate) async fn try_finish(node: &Node, task: TaskId) -> Result<(), ApiError> {
    let Some(parts) = node.store.group_ready(task).await? else {
        return Ok(());
    };
    let bundle = match parts.composition {
        // A race delivers the winner's proof as it is: the requester asked for one proof.
        Composition::Race { .. } => {
            let leg = parts
                .legs
                .first()
                .ok_or_else(|| ApiError::internal(format!("race {task} has no winner")))?;
            leg.proof
        }
        Composition::AllOf { .. } => {
            let bytes = bundle(node, &parts).await?;
            node.store.put_blob(&bytes, node.now_ms()).await?.hash
        }
    };
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let done = node
        .store
        .finish_group_with(task, &bundle, now, |f| {
            planned = plan_finish(node, &books, &mut scratch, f, now)?;
            Ok::<_, ApiError>(planned.clone())
        })
        .await??;
    books.commit(scratch, &planned);
    if done {
        let legs: Vec<u32> = parts.legs.iter().map(|l| l.index).collect();
        tracing::info!(%task, composition = %parts.composition.code(), ?legs,
            "legs verified; task done, the other legs stopped");
    }
    Ok(())
}

/// Collateral back for the stopped legs, and the release of a paid task to the verified
/// legs' keys in α-weighted work.
fn plan_finish(
    node: &Node,
    books: &crate::settlement::Books,
    scratch: &mut zkpool_ledger::Ledger,
    f: &GroupFinish,
    now: i64,
) -> Result<Vec<zkpool_ledger::Entry>, ApiError> {
    let mut out = Vec::new();
    for m in &f.collateral {
        out.push(scratch.execute(crate::liability::collateral_op(m))?);
    }
    if books.is_open(f.task) {
        let mut by_key: std::collections::BTreeMap<KeyId, u64> = Default::default();
        for (key, system, work) in &f.shares {
            let w = crate::settlement::alpha_work(&node.config.settlement, *system, *work)?;
            let e = by_key.entry(*key).or_default();
            *e = e.saturating_add(w);
        }
        out.push(scratch.execute(Op::Release {
            task: f.task,
            work: by_key.into_iter().collect(),
            now_ms: now.max(0) as u64,
        })?);
    }
    Ok(out)
}

/// The bundle of a multi-prover task: the claim, each verified leg's verifying key,
/// statement and proof, and the pool's certificate over them.
async fn bundle(node: &Node, parts: &GroupParts) -> Result<Vec<u8>, ApiError> {
    let Some(Strategy::MultiProver { claim, k, legs }) = &parts.spec.strategy else {
        return Err(ApiError::internal(format!(
            "group {} has no multi-prover spec",
            parts.task
        )));
    };
    let mut out = Vec::with_capacity(parts.legs.len());
    let mut digests = Vec::with_capacity(parts.legs.len());
    for leg in &parts.legs {
        let backend = node
            .backends
            .get(leg.spec.system)
            .cloned()
            .ok_or_else(|| ApiError::internal(format!("no backend for {}", leg.spec.system)))?;
        let vk = match backend.verifier_id(&leg.spec.artifacts) {
            // Kept since intake or the leg's verification: no artifact read again.
            Some(id) => node
                .artifacts
                .verifying_key(&backend, id, &leg.spec.artifacts)
                .await?
                .bytes
                .to_vec(),
            None => {
                let artifacts = node.artifacts.load(&leg.spec.artifacts).await?;
                tokio::task::spawn_blocking(move || backend.verifying_key(&artifacts))
                    .await
                    .map_err(ApiError::internal)??
            }
        };
        let proof = node
            .store
            .read_blob(&leg.proof)
            .await?
            .ok_or_else(|| ApiError::internal(format!("proof blob {} missing", leg.proof)))?;
        let signals = legs
            .get(leg.index as usize)
            .map(|l| l.signals.clone())
            .unwrap_or_default();
        let bl = BundleLeg {
            index: leg.index,
            system: leg.spec.system,
            signals,
            verifying_key: json_or_null(&vk)?,
            statement: json_or_null(&leg.statement)?,
            proof: json_or_null(&proof)?,
        };
        digests.push(zkpool_ledger::certificate::leg_digest(&bl));
        out.push(bl);
    }
    let cfg = &node.config.settlement;
    let terms = CertificateTerms {
        task: parts.task.0 as u64,
        claim: keccak256(&claim.canonical_bytes()),
        k: *k,
        n: legs.len() as u32,
        legs: digests.clone(),
        pool: cfg.signer.address(),
        chain_id: cfg.chain_id,
    };
    let signature = terms.sign(&cfg.signer)?;
    let bundle = Bundle {
        task: parts.task,
        claim: claim.clone(),
        k: *k,
        n: legs.len() as u32,
        legs: out,
        certificate: Certificate {
            claim_digest: format!("0x{}", hex::encode(terms.claim)),
            legs: digests
                .iter()
                .map(|d| format!("0x{}", hex::encode(d)))
                .collect(),
            pool: terms.pool.to_string(),
            chain_id: terms.chain_id,
            signature: format!("0x{}", hex::encode(signature.0)),
        },
    };
    serde_json::to_vec(&bundle).map_err(ApiError::internal)
}

fn json_or_null(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    if bytes.is_empty() {
        return Ok(serde_json::Value::Null);
    }
    serde_json::from_slice(bytes).map_err(ApiError::internal)
}
