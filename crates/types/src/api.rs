//! Request and response bodies of the node's HTTP API (`/v1/...`). See the README's API table.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ArtifactMap, BlobHash, FencingToken, HardwareReport, KeyId, LeaseId, ProofSystem, ProverId,
    TaskCause, TaskId, TaskSpec, TaskState,
};

/// Every error the API returns: a stable machine-readable `code` and a message for people.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct ErrorBody {
    /// Stable, snake_case; clients match on it.
    pub code: String,
    /// What went wrong and, where possible, what to do.
    pub message: String,
}

/// Who an access key belongs to. Each endpoint accepts one or more roles.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The pool operator: issues keys, sees everything.
    Admin,
    /// A ZKP project that submits tasks.
    Requester,
    /// A prover operator's machine(s).
    Prover,
}

impl Role {
    /// The stable name used on the wire and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Requester => "requester",
            Role::Prover => "prover",
        }
    }

    /// Parses the stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "admin" => Role::Admin,
            "requester" => Role::Requester,
            "prover" => Role::Prover,
            _ => return None,
        })
    }
}

/// `POST /v1/keys` (admin).
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct CreateKeyRequest {
    /// The role the key grants.
    pub role: Role,
    /// A name for people: the machine, team or project.
    pub name: String,
}

/// The answer to [`CreateKeyRequest`]: the only time the secret is shown.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct CreatedKey {
    /// The key's row.
    pub id: KeyId,
    /// Its role.
    pub role: Role,
    /// Its name.
    pub name: String,
    /// The bearer token, `zkp_<role>_<random>`; stored hashed only.
    pub secret: String,
}

/// `PUT /v1/blobs` answer: where the upload is stored.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct BlobStored {
    /// sha256 of the bytes.
    pub hash: BlobHash,
    /// Length in bytes.
    pub size: u64,
    /// True when the node had these bytes already and stored nothing new.
    pub existed: bool,
}

/// `POST /v1/tasks` (requester).
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct SubmitRequest {
    /// What to prove.
    pub spec: TaskSpec,
}

/// The answer to [`SubmitRequest`].
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct Submitted {
    /// The new task.
    pub task_id: TaskId,
    /// Work units the backend measured (constraints for Groth16).
    pub work: u64,
}

/// A task as the API shows it.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, ToSchema)]
pub struct TaskView {
    /// The task.
    pub id: TaskId,
    /// Its proof system.
    pub system: ProofSystem,
    /// The circuit's human name, if given.
    pub label: Option<String>,
    /// Where it is.
    pub state: TaskState,
    /// Work units (constraints for Groth16).
    pub work: u64,
    /// Leases handed out so far.
    pub attempts: u32,
    /// Leases allowed before the task fails.
    pub max_attempts: u32,
    /// The prover holding or having completed it.
    pub prover: Option<ProverId>,
    /// That prover's machine name.
    pub prover_name: Option<String>,
    /// Proving time the prover reported for the accepted proof, milliseconds.
    pub prove_ms: Option<u64>,
    /// Time the node spent verifying the accepted proof, milliseconds.
    pub verify_ms: Option<u64>,
    /// Submission time, Unix milliseconds.
    pub created_ms: i64,
    /// Completion time, Unix milliseconds.
    pub finished_ms: Option<i64>,
    /// Why earlier attempts failed, oldest first.
    pub failures: Vec<String>,
    /// For a segment: the split task it belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<TaskId>,
    /// For a segment: its position in the chain, from 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segment: Option<u32>,
    /// For a split task: its segments in chain order, each with its own prover, work (rows),
    /// time and attempts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub segments: Vec<TaskView>,
    /// Why the task ended (`None` while it runs): proved, or whose fault it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<TaskCause>,
    /// For a multi-prover or racing task: how its legs (in `segments`) make it done.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composition: Option<crate::Composition>,
}

/// A prover machine as the API shows it.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, ToSchema)]
pub struct ProverView {
    /// The prover.
    pub id: ProverId,
    /// Its machine name.
    pub name: String,
    /// True when it has heartbeated recently.
    pub online: bool,
    /// Its hardware report.
    pub hardware: HardwareReport,
    /// Tasks it holds now.
    pub current_tasks: Vec<TaskId>,
    /// Proofs accepted.
    pub tasks_done: u64,
    /// Work units (constraints) in accepted proofs.
    pub work_done: u64,
    /// Sum of reported proving time of accepted proofs, milliseconds.
    pub busy_ms: u64,
    /// Leases that expired, failed, or returned an invalid proof.
    pub failures: u64,
    /// Invalid proofs uploaded (a subset of `failures`).
    pub invalid_proofs: u64,
    /// Last heartbeat, Unix milliseconds.
    pub last_seen_ms: i64,
}

/// `GET /v1/status`.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct StatusView {
    /// Tasks visible to the caller, newest first.
    pub tasks: Vec<TaskView>,
    /// All provers.
    pub provers: Vec<ProverView>,
}

/// `POST /v1/provers/hello` (prover): register or re-register a machine.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct Hello {
    /// The machine.
    pub hardware: HardwareReport,
    /// The operator's Ethereum account (`0x` + 20 bytes) that the pool contract credits this
    /// machine's share of rewards to; a node settling on chain refuses machines without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payout: Option<String>,
}

/// The answer to [`Hello`].
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct Welcome {
    /// The machine's id; the same name under the same key gets the same id back.
    pub prover_id: ProverId,
    /// How often to heartbeat.
    pub heartbeat_ms: u64,
    /// How long a lease lives without a heartbeat.
    pub lease_ttl_ms: u64,
}

/// Query of `GET /v1/tasks/{id}`: with `wait_ms`, the node answers once the task has ended or
/// the wait is over, whichever comes first (it caps the wait).
#[derive(Clone, Serialize, Deserialize, Debug, Default, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskWait {
    /// Long-poll time, milliseconds; absent or 0 answers at once.
    #[serde(default)]
    pub wait_ms: u64,
}

/// `POST /v1/provers/{id}/lease` (prover): ask for work, waiting up to `wait_ms`.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct LeaseRequest {
    /// Long-poll time; the node caps it.
    pub wait_ms: u64,
}

/// A task leased to a prover. `204 No Content` when there was none within the wait.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct LeaseGrant {
    /// The lease.
    pub lease_id: LeaseId,
    /// Present with the result; a stale token is refused.
    pub token: FencingToken,
    /// The task.
    pub task_id: TaskId,
    /// Its proof system.
    pub system: ProofSystem,
    /// Its circuit name.
    pub label: Option<String>,
    /// What to download.
    pub artifacts: ArtifactMap,
    /// Work units.
    pub work: u64,
    /// Lease lifetime without a heartbeat.
    pub ttl_ms: u64,
    /// The public statement the proof must prove, hex: an honest agent verifies its own
    /// proof against it before uploading, and reports an artifact fault when it does not hold.
    #[serde(default, with = "hex_bytes")]
    #[schema(value_type = String, pattern = "^([0-9a-f]{2})*$")]
    pub statement: Vec<u8>,
    /// Collateral locked from the key's stake for this lease (base units; 0 for a free-tier
    /// task): given back with a valid proof, taken for an invalid one or an expired lease.
    #[serde(default)]
    pub collateral: u64,
}

/// Bytes as lower-case hex in JSON.
mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// `POST /v1/provers/{id}/heartbeat` (prover).
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct Heartbeat {
    /// Leases the agent is working on; each is extended.
    pub leases: Vec<LeaseId>,
}

/// The answer to [`Heartbeat`].
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct HeartbeatAck {
    /// Leases that are no longer the prover's (expired or the task ended): stop working on them.
    pub revoked: Vec<LeaseId>,
}

/// Query of `POST /v1/leases/{id}/result`; the body is the proof bytes.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultMeta {
    /// The lease's fencing token.
    pub token: i64,
    /// How long proving took on the prover, milliseconds.
    pub prove_ms: u64,
}

/// The answer to an accepted result.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct ResultAccepted {
    /// The task now done.
    pub task_id: TaskId,
    /// Node-side verification time, milliseconds.
    pub verify_ms: u64,
}

/// `POST /v1/leases/{id}/failure` (prover): the prover could not prove the task.
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct FailureReport {
    /// The lease's fencing token.
    pub token: i64,
    /// What went wrong.
    pub reason: String,
    /// What the agent says went wrong. Evidence for the node, never a verdict: an artifact
    /// report is decided by a second prover of another key.
    #[serde(default)]
    pub kind: ReportKind,
}

/// What kind of failure a prover reports.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Debug, Default, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    /// The artifacts cannot be proved: they are malformed, inconsistent, the witness does not
    /// satisfy the circuit, or the agent's own proof of them did not verify.
    ArtifactFault,
    /// Something on this machine went wrong (crash, out of memory, download failed): the
    /// task should go to another prover; the artifacts are not in question.
    #[default]
    ProverError,
}

/// `GET /v1/dashboard` (public): the fleet and the work in flight, machine names and counters
/// only (no labels, artifacts, proofs or keys).
#[derive(Clone, Serialize, Deserialize, Debug, ToSchema)]
pub struct DashboardView {
    /// Every prover machine.
    pub provers: Vec<ProverView>,
    /// Tasks per state as requesters see them: a split task counts once (`proving` while its
    /// segments run); its segments show in `splits`.
    pub tasks_by_state: std::collections::BTreeMap<String, u64>,
    /// Finished tasks per cause (`proved`, `requester_fault`, `prover_fault`, `pool_fault`):
    /// whose fault the failures were.
    #[serde(default)]
    pub tasks_by_cause: std::collections::BTreeMap<String, u64>,
    /// The newest split tasks, each with its segments.
    pub splits: Vec<SplitProgress>,
    /// The node's clock, Unix milliseconds.
    pub now_ms: i64,
    /// Verified proofs (segments count one each) per minute over the last hour, oldest first:
    /// 60 values, the last one the minute in progress.
    #[serde(default)]
    pub proofs_per_minute: Vec<u64>,
    /// Tasks waiting in the queue, sampled once a minute over the last hour: (minute start,
    /// Unix ms; depth), oldest first. Minutes the node was down have no sample.
    #[serde(default)]
    pub queue_depth: Vec<(i64, u64)>,
    /// The Proof-of-ZK-Work epoch in progress.
    #[serde(default)]
    pub epoch: Option<EpochNow>,
}

/// The epoch in progress, as the dashboard shows it.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct EpochNow {
    /// Its number.
    pub epoch: u64,
    /// When it started, Unix ms.
    pub started_ms: i64,
    /// How long it runs, ms.
    pub length_ms: u64,
    /// α-weighted work that counts towards it so far (paid, proved, each statement once).
    pub work: u64,
    /// Prover keys with work in it so far.
    pub provers: u64,
    /// The reward pool it will pay at its close, base units (the configured reward, or what
    /// the treasury holds if that is less).
    pub reward_pool: crate::settlement::Units,
}

/// `GET /v1/keys`: a key without its secret.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct KeyInfo {
    /// Its id.
    pub id: KeyId,
    /// Its role.
    pub role: Role,
    /// Its name.
    pub name: String,
}

/// `GET /v1/me`: who a key is.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, Eq, ToSchema)]
pub struct MeView {
    /// The key's id.
    pub key: KeyId,
    /// Its name.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// For a prover key, the machines that said hello with it.
    pub machines: Vec<ProverId>,
}

/// A split task on the dashboard.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, ToSchema)]
pub struct SplitProgress {
    /// The split task.
    pub task: TaskId,
    /// Where it is.
    pub state: TaskState,
    /// Join time, once joined, milliseconds.
    pub join_ms: Option<u64>,
    /// Its segments in chain order.
    pub segments: Vec<SegmentProgress>,
}

/// One segment on the dashboard.
#[derive(Clone, Serialize, Deserialize, Debug, PartialEq, ToSchema)]
pub struct SegmentProgress {
    /// The segment's own task (what provers lease).
    pub task: TaskId,
    /// Where it is.
    pub state: TaskState,
    /// The machine holding or having proved it.
    pub prover: Option<String>,
    /// Its trace rows.
    pub rows: u64,
    /// Prove time of the accepted proof, milliseconds.
    pub prove_ms: Option<u64>,
    /// Leases used so far.
    pub attempts: u32,
}
