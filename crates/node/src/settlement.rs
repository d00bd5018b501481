//! Settlement wiring: the pure `zkpool_ledger` core made durable and driven by the node.
//!
//! ```text
//!  POST /v1/quotes ─► inspect ─► admission (queue + proving time vs window) ─► price, bond
//!                  ─► EIP-712 sign with the pool key (nonce from a reserved block)
//!  POST /v1/tasks/quoted ─► inspect ─► verify quote (chain, pool, signer, digest, expiry,
//!                  nonce unused) ─► ONE tx: task row + nonce + escrow + bond entries
//!  proof verified ─► ONE tx: task done + release entry (80 % provers, 20 % treasury, bond back)
//!  reaper ─► window closed, no proof ─► claim (refund + bond to the requester)
//!  epoch timer / admin ─► ONE tx: epoch closed + fund + Cobb–Douglas payout, next epoch opened
//! ```
//!
//! The in-memory [`Ledger`] sits behind one async mutex, loaded lazily by replaying the
//! journal on first use. Every change is plan → persist (transaction) → apply; operations
//! that need two entries plan them on a clone that replaces the ledger only after the commit.
//! Lock order is always ledger mutex, then the store's writer lock.
//!
//! Unquoted tasks (`POST /v1/tasks`) are the "free tier": they are never in the ledger, are
//! neither paid nor bonded, and count towards epoch work only. `--require-quote` turns them
//! off.

use std::collections::BTreeSet;
use std::ops::Range;
use std::time::Duration;

use tokio::sync::{Mutex, MutexGuard, OnceCell};
use zkpool_ledger::{
    Account, Amount, ChainTerms, Entry, Expected, Exponents, FleetLoad, Ledger, LedgerConfig,
    LedgerError, NonceBook, Op, PricingConfig, Quote, QuoteSigner, SignedQuote, WorkFactors,
};
use zkpool_store::{Completion, NewTask, Proved, Store};
use zkpool_types::settlement::{self as wire, BalanceView, Claimed, OpenTask, QuoteIssued, Units};
use zkpool_types::{ArtifactMap, KeyId, LeaseId, ProofSystem, TaskId};

pub use crate::epochs::{close_epoch, epoch_tick};
use crate::{ApiError, Node};

/// How many quote nonces one database write reserves.
const NONCE_BLOCK: u64 = 4_096;

/// The operator's settlement parameters; every one is a `zkpool node` flag.
#[derive(Clone, Debug)]
pub struct SettlementConfig {
    /// The pool's quote-signing key (its address is the pool's address).
    pub signer: QuoteSigner,
    /// The EIP-712 chain id quotes are signed for.
    pub chain_id: u64,
    /// Fee split and penalty mode.
    pub ledger: LedgerConfig,
    /// Prices, bond rule and admission slack.
    pub pricing: PricingConfig,
    /// How long a quote stays acceptable.
    pub quote_ttl: Duration,
    /// The longest liability window a quote may ask for.
    pub max_window: Duration,
    /// Collateral a lease of a paid task locks from the prover key's stake, in basis points
    /// of the task's bond divided by its attempts: at 10_000, the collateral of every lease
    /// the task may use adds up to its bond, so provers' faults alone cannot cost the pool
    /// more than they cost the provers.
    pub collateral_bps: u32,
    /// On `requester_fault`, the share of the reward (basis points) paid to the provers whose
    /// reports were right, for their time; the rest of the escrow goes back to the requester.
    pub fault_pay_bps: u32,
    /// How long an unstake request waits (after the key's last open lease ends) before the
    /// stake is free to withdraw.
    pub unstake_delay: Duration,
    /// Epoch length; the node closes the epoch when it has run this long.
    pub epoch_length: Duration,
    /// α per proof system (thousandths).
    pub factors: WorkFactors,
    /// Cobb–Douglas exponents (work, stake).
    pub exponents: Exponents,
    /// Reward pool per epoch, funded from the treasury (less if the treasury holds less).
    pub epoch_reward: Amount,
    /// Refuse unquoted submissions.
    pub require_quote: bool,
    /// Speed assumed for a prover with no measured history (constraints per second).
    pub assumed_prover_speed: u64,
}

impl Default for SettlementConfig {
    fn default() -> Self {
        let mut factors = WorkFactors::default();
        // The Miden VM is a zkVM: α as the design's zkVM, per cycle.
        factors.set(ProofSystem::MidenVm.as_str(), 4_000);
        SettlementConfig {
            signer: QuoteSigner::random(),
            chain_id: 31_337,
            ledger: LedgerConfig::default(),
            pricing: PricingConfig::default(),
            quote_ttl: Duration::from_secs(120),
            max_window: Duration::from_secs(7 * 24 * 3600),
            collateral_bps: 10_000,
            fault_pay_bps: 2_000,
            unstake_delay: Duration::from_secs(3_600),
            epoch_length: Duration::from_secs(24 * 3600),
            factors,
            exponents: Exponents::default(),
            epoch_reward: Amount::from_tokens(1_000),
            require_quote: false,
            assumed_prover_speed: 2_000,
        }
    }
}

/// The ledger and what must change with it, behind [`Settlement::books`].
#[derive(Debug)]
pub struct Books {
    /// Balances and task/epoch settlement records.
    pub ledger: Ledger,
    /// Nonces of accepted quotes.
    nonces: NonceBook,
    /// Escrowed tasks not yet released or claimed.
    open: BTreeSet<TaskId>,
}

impl Books {
    /// Whether `task` is escrowed and not yet settled (a paid task still owed something).
    pub(crate) fn is_open(&self, task: TaskId) -> bool {
        self.open.contains(&task)
    }

    /// Stake `key` has free to lock as collateral for a new lease.
    pub(crate) fn stake_available(&self, key: KeyId) -> Amount {
        self.ledger.balance(&Account::ProverStake(key))
    }

    /// Replaces the ledger with `scratch`, on which `entries` were planned and applied, once
    /// they are committed; opens and settles the tasks they name.
    pub(crate) fn commit(&mut self, scratch: Ledger, entries: &[Entry]) {
        if entries.is_empty() {
            return;
        }
        self.ledger = scratch;
        for e in entries {
            track_open(&mut self.open, e);
        }
    }
}

/// The node's settlement state.
#[derive(Debug, Default)]
pub struct Settlement {
    books: OnceCell<Mutex<Books>>,
    /// Quote nonces reserved in the database and not yet handed out.
    nonces: std::sync::Mutex<Range<u64>>,
}

/// The books, held for one settlement step (see [`Settlement::books`]).
#[derive(Debug)]
pub struct BooksGuard<'a> {
    books: MutexGuard<'a, Books>,
    /// On a shared database, the database-wide ledger lock held with them.
    _ledger: Option<zkpool_store::LedgerLock>,
}

impl std::ops::Deref for BooksGuard<'_> {
    type Target = Books;

    fn deref(&self) -> &Books {
        &self.books
    }
}

impl std::ops::DerefMut for BooksGuard<'_> {
    fn deref_mut(&mut self) -> &mut Books {
        &mut self.books
    }
}

impl Books {
    /// Follows one committed entry: the ledger applies it, and an escrow opens its task
    /// while a release, claim, fault or concession settles it.
    fn follow(&mut self, e: &Entry) -> Result<(), LedgerError> {
        self.ledger.apply(e)?;
        track_open(&mut self.open, e);
        Ok(())
    }
}

/// Keeps `open` (escrowed tasks not yet settled) up to date with entry `e`.
fn track_open(open: &mut BTreeSet<TaskId>, e: &Entry) {
    match e.op {
        Op::Escrow { task, .. } => {
            open.insert(task);
        }
        Op::Release { task, .. }
        | Op::Claim { task, .. }
        | Op::RequesterFault { task, .. }
        | Op::Concede { task, .. } => {
            open.remove(&task);
        }
        _ => {}
    }
}

impl Settlement {
    /// The books for one settlement step: planning, committing and applying entries, or
    /// reading balances.
    ///
    /// The first call replays the journal. On a database other replicas write too
    /// (PostgreSQL), the database is the one truth and this copy a cache: each call first
    /// takes the database-wide ledger lock, then reads the entries other replicas committed
    /// since and follows them, so the step plans against every committed balance and no other
    /// replica plans until it is done. The journal's sequence number is the primary key of
    /// its entries, so a plan made on a stale copy could not commit anyway: it would fail on
    /// the duplicate sequence number, refusing rather than spending twice.
    pub async fn books(
        &self,
        store: &Store,
        config: &SettlementConfig,
    ) -> Result<BooksGuard<'_>, ApiError> {
        let cell = self
            .books
            .get_or_try_init(|| async {
                let journal = store.journal().await?;
                let ledger = Ledger::replay(config.ledger, &journal).map_err(ApiError::internal)?;
                let mut open = BTreeSet::new();
                for e in &journal {
                    track_open(&mut open, e);
                }
                let nonces = store.used_nonces().await?.into_iter().collect();
                tracing::info!(
                    entries = journal.len(),
                    open_tasks = open.len(),
                    "ledger replayed"
                );
                Ok::<_, ApiError>(Mutex::new(Books {
                    ledger,
                    nonces,
                    open,
                }))
            })
            .await?;
        let mut books = cell.lock().await;
        let ledger = store.lock_ledger().await?;
        if ledger.is_some() {
            let news = store.journal_since(books.ledger.next_seq()).await?;
            let mut escrowed = Vec::new();
            for e in &news {
                books.follow(e).map_err(ApiError::internal)?;
                if let Op::Escrow { task, .. } = e.op {
                    escrowed.push(task);
                }
            }
            for n in store.nonces_of(&escrowed).await? {
                if books.nonces.check_unused(n).is_ok() {
                    books.nonces.consume(n)?;
                }
            }
            if !news.is_empty() {
                tracing::debug!(
                    entries = news.len(),
                    "followed ledger entries other replicas committed"
                );
            }
        }
        Ok(BooksGuard {
            books,
            _ledger: ledger,
        })
    }

    async fn next_nonce(&self, store: &Store) -> Result<u64, ApiError> {
        if let Some(n) = self.lock_nonces().next() {
            return Ok(n);
        }
        let block = store.reserve_nonces(NONCE_BLOCK).await?;
        let mut range = self.lock_nonces();
        // Another request may have refilled meanwhile; the newer block is as good.
        *range = block;
        range
            .next()
            .ok_or_else(|| ApiError::internal("empty nonce block"))
    }

    fn lock_nonces(&self) -> std::sync::MutexGuard<'_, Range<u64>> {
        self.nonces.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub(crate) fn units(a: Amount) -> Units {
    Units(a.base_units())
}

/// The digest a quote binds: proof system, every artifact's hash by role, and the public
/// statement the backend derived. Keccak-256 so a contract can recompute it.
pub fn task_digest(system: ProofSystem, artifacts: &ArtifactMap, statement: &[u8]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(64 + artifacts.len() * 48 + statement.len());
    buf.extend_from_slice(b"zkpool.task.v1\0");
    buf.extend_from_slice(system.as_str().as_bytes());
    buf.push(0);
    for (role, hash) in artifacts {
        buf.extend_from_slice(role.as_str().as_bytes());
        buf.push(b'=');
        buf.extend_from_slice(&hash.0);
    }
    buf.extend_from_slice(&(statement.len() as u64).to_be_bytes());
    buf.extend_from_slice(statement);
    zkpool_ledger::eip712::keccak256(&buf)
}

/// The ledger's quote as it travels (same JSON shape, pinned by a test).
pub fn quote_to_wire(q: &SignedQuote) -> Result<wire::SignedQuote, ApiError> {
    serde_json::to_value(q)
        .and_then(serde_json::from_value)
        .map_err(ApiError::internal)
}

/// The wire quote as the ledger's type; malformed hex is the client's error.
pub fn quote_from_wire(q: &wire::SignedQuote) -> Result<SignedQuote, ApiError> {
    serde_json::to_value(q)
        .and_then(serde_json::from_value)
        .map_err(|e| ApiError::bad_request("bad_quote", format!("malformed quote: {e}")))
}

/// α-weighted work of a task of `size` in `system`.
pub(crate) fn alpha_work(
    cfg: &SettlementConfig,
    system: ProofSystem,
    size: u64,
) -> Result<u64, ApiError> {
    let w = cfg.factors.work(system.as_str(), size)?;
    Ok(u64::try_from(w.max(1)).unwrap_or(u64::MAX))
}

/// What the scheduler knows about provers that can run `system`, in α-weighted work units:
/// each online prover's measured speed (work done / busy time, or the configured assumption
/// when it has no history) and the work already queued.
async fn fleet_load(node: &Node, system: ProofSystem) -> Result<FleetLoad, ApiError> {
    let cfg = &node.config.settlement;
    let alpha = cfg.factors.alpha_milli(system.as_str()).unwrap_or(0);
    let since = node.now_ms() - crate::admin::online_window(node);
    let mut fleet = FleetLoad::default();
    for (systems, work_done, busy_ms) in node.store.prover_speeds(since).await? {
        if !systems.split(',').any(|s| s == system.as_str()) {
            continue;
        }
        let speed = if work_done > 0 && busy_ms > 0 {
            (work_done as u128 * 1_000 / busy_ms as u128).max(1) as u64
        } else {
            cfg.assumed_prover_speed
        };
        let wps = speed.saturating_mul(alpha);
        fleet.capacity_wps = fleet.capacity_wps.saturating_add(wps);
        fleet.fastest_prover_wps = fleet.fastest_prover_wps.max(wps);
    }
    for (s, w) in node.store.pending_work().await? {
        let a = cfg.factors.alpha_milli(&s).unwrap_or(0);
        fleet.queued_work = fleet.queued_work.saturating_add(w.saturating_mul(a));
    }
    Ok(fleet)
}

/// Prices, admits and signs a quote for an inspected task, for the embedded ledger.
pub async fn issue_quote(
    node: &Node,
    task: &NewTask,
    window_ms: u64,
) -> Result<QuoteIssued, ApiError> {
    let cfg = &node.config.settlement;
    let (signed, work, estimated_ms) = price_and_sign(
        node,
        task,
        window_ms,
        ChainTerms::default(),
        (cfg.signer.address(), cfg.chain_id),
    )
    .await?;
    Ok(QuoteIssued {
        signed: quote_to_wire(&signed)?,
        work,
        estimated_ms,
    })
}

/// Admits `task` against the window, prices it and signs the quote with `terms` for the
/// EIP-712 domain `(verifying contract, chain id)`: the pool key's own address on the
/// embedded ledger, the pool contract on chain. Returns the quote, its work and the
/// completion estimate.
pub(crate) async fn price_and_sign(
    node: &Node,
    task: &NewTask,
    window_ms: u64,
    terms: ChainTerms,
    (pool, chain_id): (zkpool_ledger::Address, u64),
) -> Result<(SignedQuote, u64, u64), ApiError> {
    let cfg = &node.config.settlement;
    let max = cfg.max_window.as_millis() as u64;
    if window_ms == 0 || window_ms > max {
        return Err(ApiError::bad_request(
            "bad_window",
            format!("the liability window must be 1 ms to {max} ms (node flag --max-window)"),
        ));
    }
    let fleet = fleet_load(node, task.spec.system).await?;
    let multi = task
        .group
        .as_ref()
        .filter(|g| matches!(g.composition, zkpool_types::Composition::AllOf { .. }));
    let (work, offer) = if let Some(group) = multi {
        // Multi-prover: every leg is proved (in parallel, on different provers), each split
        // leg's segments in parallel too; the reward covers all of them.
        let mut units = Vec::new();
        for leg in &group.legs {
            if leg.segments.is_empty() {
                units.push(alpha_work(cfg, leg.spec.system, leg.work)?);
            }
            for s in &leg.segments {
                units.push(alpha_work(cfg, leg.spec.system, s.work)?);
            }
        }
        let offer = cfg.pricing.admit_segments(&fleet, &units, window_ms)?;
        (units.iter().fold(0u64, |a, &w| a.saturating_add(w)), offer)
    } else if task.segments.is_empty() {
        // A race is priced as the one task it delivers: the losers' work is theirs.
        let work = alpha_work(cfg, task.spec.system, task.work)?;
        (work, cfg.pricing.admit(&fleet, work, window_ms)?)
    } else {
        // Split proving: the segments are proved in parallel, so the window must fit the
        // largest one (or the whole spread over the fleet), not the whole task on one machine.
        let segments = task
            .segments
            .iter()
            .map(|s| alpha_work(cfg, task.spec.system, s.work))
            .collect::<Result<Vec<_>, _>>()?;
        let offer = cfg.pricing.admit_segments(&fleet, &segments, window_ms)?;
        (
            segments.iter().fold(0u64, |a, &w| a.saturating_add(w)),
            offer,
        )
    };
    let now = node.now_ms() as u64;
    let deadline_ms = now.saturating_add(window_ms);
    let quote = Quote {
        requester: task.requester,
        payer: terms.payer,
        verifier: terms.verifier,
        public_inputs_hash: terms.public_inputs_hash,
        segments: segment_count(task),
        task_digest: task_digest(task.spec.system, &task.spec.artifacts, &task.statement),
        reward: offer.price,
        bond: offer.bond,
        deadline_ms,
        expires_at_ms: now
            .saturating_add(cfg.quote_ttl.as_millis() as u64)
            .min(deadline_ms),
        nonce: node.settlement.next_nonce(&node.store).await?,
        pool,
        chain_id,
    };
    let signed = cfg.signer.sign(quote)?;
    Ok((signed, work, offer.estimated_ms))
}

/// Accepts a quote: verifies it against the task actually submitted, then inserts the task,
/// marks the nonce used and escrows reward and bond, all in one transaction.
pub async fn accept_quote(
    node: &Node,
    task: &NewTask,
    quote: &wire::SignedQuote,
) -> Result<TaskId, ApiError> {
    let cfg = &node.config.settlement;
    let sq = quote_from_wire(quote)?;
    let now = node.now_ms();
    let expected = Expected {
        pool: cfg.signer.address(),
        signer: cfg.signer.address(),
        terms: ChainTerms::default(),
        chain_id: cfg.chain_id,
        requester: task.requester,
        segments: segment_count(task),
        task_digest: task_digest(task.spec.system, &task.spec.artifacts, &task.statement),
    };
    sq.verify(&expected, now as u64)?;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    books.nonces.check_unused(sq.quote.nonce)?;
    let q = sq.quote.clone();
    let collateral = lease_collateral(cfg, q.bond, task.max_attempts);
    let mut scratch = books.ledger.clone();
    let id = node
        .store
        .insert_task_with(task, q.nonce, collateral, now, |id| {
            let escrow = scratch.execute(Op::Escrow {
                task: id,
                requester: task.requester,
                amount: q.reward,
                deadline_ms: q.deadline_ms,
                now_ms: now as u64,
            })?;
            let bond = scratch.execute(Op::StakeBond {
                task: id,
                amount: q.bond,
            })?;
            Ok::<_, LedgerError>(vec![escrow, bond])
        })
        .await??;
    books.ledger = scratch;
    books.nonces.consume(q.nonce)?;
    books.open.insert(id);
    tracing::info!(task = %id, reward = %q.reward, bond = %q.bond, deadline_ms = q.deadline_ms,
        nonce = q.nonce, collateral_units = collateral,
        "quote accepted: reward escrowed, bond staked");
    Ok(id)
}

/// The segment count a quote binds: 0 for a task proved whole.
pub(crate) fn segment_count(task: &NewTask) -> u32 {
    u32::try_from(task.segments.len()).unwrap_or(u32::MAX)
}

/// Collateral one lease of a paid task locks (base units): `collateral_bps` of the bond over
/// the task's attempts, rounded up so that the attempts together cover it.
pub(crate) fn lease_collateral(cfg: &SettlementConfig, bond: Amount, attempts: u32) -> u64 {
    let scaled = bond
        .base_units()
        .saturating_mul(u128::from(cfg.collateral_bps))
        / 10_000;
    let per = scaled.div_ceil(u128::from(attempts.max(1)));
    u64::try_from(per).unwrap_or(u64::MAX)
}

/// Marks each task done with its verified proof (the uploads verified together, see
/// `gather.rs`) and, in one transaction, gives the provers' collateral back, slashes
/// artifact reports the proofs contradicted, and releases the escrow of each paid whole task
/// (a segment's split task is released at the join). A proof for a paid task whose window
/// has closed is refused: the task ends as the pool's fault and the requester is paid its
/// refund and the bond. The answers are in the completions' order.
pub(crate) async fn complete_many(node: &Node, cs: &[Completion]) -> Vec<Result<TaskId, ApiError>> {
    crate::gather::each_or_all(cs.len(), complete_batch(node, cs).await)
}

async fn complete_batch(
    node: &Node,
    cs: &[Completion],
) -> Result<Vec<Result<TaskId, ApiError>>, ApiError> {
    let cfg = &node.config.settlement;
    let leases: Vec<LeaseId> = cs.iter().map(|c| c.lease).collect();
    let roots = node.store.lease_roots(&leases, node.now_ms()).await?;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms();
    let mut answers: Vec<Result<TaskId, ApiError>> = Vec::with_capacity(cs.len());
    let mut batch = Vec::with_capacity(cs.len());
    let mut slots = Vec::with_capacity(cs.len());
    for (i, (c, root)) in cs.iter().zip(roots).enumerate() {
        let root = match root {
            Ok(root) => root,
            Err(e) => {
                answers.push(Err(e.into()));
                continue;
            }
        };
        let late = books.is_open(root)
            && books
                .ledger
                .task(root)
                .is_some_and(|r| r.deadline_ms <= now.max(0) as u64);
        if late {
            answers.push(
                match claim_locked(node, &mut books, root, now.max(0) as u64).await {
                    Ok(_) => Err(ApiError::new(
                        axum::http::StatusCode::CONFLICT,
                        "window_closed",
                        format!("the liability window of {root} closed before this proof arrived"),
                    )),
                    Err(e) => Err(e),
                },
            );
            continue;
        }
        answers.push(Ok(TaskId(0)));
        batch.push(c.clone());
        slots.push(i);
    }
    let mut scratch = books.ledger.clone();
    let mut planned = Vec::new();
    let done = node
        .store
        .complete_batch(&batch, now, |p| match plan_proved(&books, &mut scratch, p, now) {
            Ok(e) => {
                planned.extend(e.iter().cloned());
                e
            }
            Err(e) => {
                // Unreachable for a consistent ledger (the window was checked under the same
                // lock); the proof stands, and the escrow waits for the reaper's claim.
                tracing::error!(task = %p.task, error = %e, "proof accepted but its settlement refused");
                Vec::new()
            }
        })
        .await?;
    let released: BTreeSet<TaskId> = planned
        .iter()
        .filter_map(|e| match e.op {
            Op::Release { task, .. } => Some(task),
            _ => None,
        })
        .collect();
    books.commit(scratch, &planned);
    for ((slot, c), result) in slots.into_iter().zip(&batch).zip(done) {
        answers[slot] = result.map_err(ApiError::from);
        if let Ok(task) = &answers[slot] {
            if released.contains(task) {
                tracing::info!(%task, prover = %c.prover, "task paid: reward released, bond returned");
            }
        }
    }
    Ok(answers)
}

/// The entries a verified proof needs: collateral movements, and the release of a paid whole
/// task.
fn plan_proved(
    books: &Books,
    scratch: &mut Ledger,
    p: &Proved,
    now: i64,
) -> Result<Vec<Entry>, LedgerError> {
    let mut out = Vec::new();
    for m in &p.collateral {
        out.push(scratch.execute(crate::liability::collateral_op(m))?);
    }
    if p.segment_of.is_none() && books.is_open(p.task) {
        out.push(scratch.execute(Op::Release {
            task: p.task,
            work: vec![(p.key, p.work.max(1))],
            now_ms: now.max(0) as u64,
        })?);
    }
    Ok(out)
}

/// Refund plus bond to the requester of a task whose window closed without a proof; the
/// task ends as the pool's fault and its leases are withdrawn, in the same transaction.
pub async fn claim(node: &Node, task: TaskId, now: u64) -> Result<Claimed, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    claim_locked(node, &mut books, task, now).await
}

async fn claim_locked(
    node: &Node,
    books: &mut Books,
    task: TaskId,
    now: u64,
) -> Result<Claimed, ApiError> {
    // Refusals (not yet due, already settled, unknown) come from the ledger before any write.
    books.ledger.plan(Op::Claim { task, now_ms: now })?;
    let rec = *books
        .ledger
        .task(task)
        .ok_or_else(|| ApiError::internal("claimed task has no record"))?;
    let escrow = books.ledger.balance(&Account::Escrow(task));
    let bond = books.ledger.balance(&Account::Bond(task));
    crate::liability::end_as_pool_fault(node, books, task, crate::liability::PoolFaultBy::Claim)
        .await?;
    tracing::warn!(%task, requester = %rec.requester, refund = %escrow, %bond,
        "liability window closed without a proof (pool_fault): requester refunded and paid the bond");
    Ok(Claimed {
        task,
        refund: units(escrow),
        bond: units(bond),
    })
}

/// Claims every open task whose window has closed (the reaper calls this).
pub async fn auto_claim(node: &Node) -> Result<usize, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms() as u64;
    let due: Vec<TaskId> = books
        .open
        .iter()
        .filter(|t| books.ledger.task(**t).is_some_and(|r| r.deadline_ms <= now))
        .copied()
        .collect();
    for t in &due {
        claim_locked(node, &mut books, *t, now).await?;
    }
    Ok(due.len())
}

/// Moves money in from outside (admin). A deposit to `prover_stake:p-N` is a deposit to the
/// prover's balance and a stake of it, two entries in one transaction.
pub async fn deposit(node: &Node, to: Account, amount: Amount) -> Result<wire::Moved, ApiError> {
    let Account::ProverStake(prover) = to else {
        return move_money(node, Op::Deposit { to, amount }, to).await;
    };
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let mut scratch = books.ledger.clone();
    let entries = vec![
        scratch.execute(Op::Deposit {
            to: Account::Prover(prover),
            amount,
        })?,
        scratch.execute(Op::ProverStake { prover, amount })?,
    ];
    node.store.append_entries(&entries, node.now_ms()).await?;
    books.ledger = scratch;
    Ok(wire::Moved {
        account: to.to_string(),
        balance: units(books.ledger.balance(&to)),
        seq: entries[1].seq,
    })
}

/// Moves money out of `from`.
pub async fn withdraw(node: &Node, from: Account, amount: Amount) -> Result<wire::Moved, ApiError> {
    move_money(node, Op::Withdraw { from, amount }, from).await
}

async fn move_money(node: &Node, op: Op, account: Account) -> Result<wire::Moved, ApiError> {
    let cfg = &node.config.settlement;
    let mut books = node.settlement.books(&node.store, cfg).await?;
    let entry = books.ledger.plan(op)?;
    node.store
        .append_entries(std::slice::from_ref(&entry), node.now_ms())
        .await?;
    books.ledger.apply(&entry).map_err(ApiError::internal)?;
    Ok(wire::Moved {
        account: account.to_string(),
        balance: units(books.ledger.balance(&account)),
        seq: entry.seq,
    })
}

/// A requester's available, escrowed and claimable money.
pub async fn balance(node: &Node, key: KeyId) -> Result<BalanceView, ApiError> {
    let cfg = &node.config.settlement;
    let books = node.settlement.books(&node.store, cfg).await?;
    let now = node.now_ms() as u64;
    let (mut escrowed, mut claimable) = (Amount::ZERO, Amount::ZERO);
    let mut open_tasks = Vec::new();
    for t in &books.open {
        let Some(rec) = books.ledger.task(*t).filter(|r| r.requester == key) else {
            continue;
        };
        if rec.deadline_ms <= now {
            claimable = claimable.checked_add(rec.reward)?.checked_add(rec.bond)?;
        } else {
            escrowed = escrowed.checked_add(rec.reward)?;
        }
        open_tasks.push(OpenTask {
            task: *t,
            reward: units(rec.reward),
            bond: units(rec.bond),
            deadline_ms: rec.deadline_ms,
        });
    }
    Ok(BalanceView {
        key,
        available: units(books.ledger.balance(&Account::Requester(key))),
        escrowed: units(escrowed),
        claimable: units(claimable),
        open_tasks,
    })
}

/// Moves `amount` of a prover key's balance into its stake, which backs the collateral its
/// leases of paid tasks lock.
pub async fn stake(node: &Node, key: KeyId, amount: Amount) -> Result<wire::Moved, ApiError> {
    move_money(
        node,
        Op::ProverStake {
            prover: key,
            amount,
        },
        Account::ProverStake(key),
    )
    .await
}

/// Moves `amount` of a prover key's stake back to its balance, once nothing can still be
/// charged to it: no collateral locked (open leases, reports awaiting a verdict) and no paid
/// lease ended within the unstake delay. Otherwise `409 unstake_not_yet`, saying when.
pub async fn unstake(node: &Node, key: KeyId, amount: Amount) -> Result<wire::Moved, ApiError> {
    let (locked, last_end) = node.store.key_collateral(key).await?;
    let delay = node.config.settlement.unstake_delay.as_millis() as i64;
    let now = node.now_ms();
    if locked > 0 {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "unstake_not_yet",
            format!(
                "{} of this key's stake is locked as collateral by open leases; unstake once \
                 they end and {} s have passed",
                Amount::from_base_units(u128::from(locked)),
                delay / 1_000
            ),
        ));
    }
    if let Some(end) = last_end.filter(|e| now < e.saturating_add(delay)) {
        return Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "unstake_not_yet",
            format!(
                "this key's last paid lease ended {} s ago; stake unlocks {} s after it \
                 (node flag --unstake-delay)",
                (now - end) / 1_000,
                delay / 1_000
            ),
        ));
    }
    move_money(
        node,
        Op::ProverUnstake {
            prover: key,
            amount,
        },
        Account::Prover(key),
    )
    .await
}
