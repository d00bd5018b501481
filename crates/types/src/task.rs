use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{BlobHash, ProofSystem};

/// What an uploaded artifact is to a task. A task names each role at most once.
#[derive(
    Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Debug, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ArtifactRole {
    /// circom constraint system (`.r1cs`).
    R1cs,
    /// snarkjs Groth16 proving key (`.zkey`).
    Zkey,
    /// a computed witness (`.wtns`).
    Wtns,
    /// a circom witness generator (`.wasm`), used with [`ArtifactRole::Input`].
    Wasm,
    /// the circuit's input signals as JSON (`input.json`), used with [`ArtifactRole::Wasm`].
    Input,
    /// Miden assembly source defining the chunk procedure `step` of a split-provable program.
    Program,
    /// A Miden segment's input as JSON: the state before it and the chunks it consumes.
    Chunks,
}

impl ArtifactRole {
    /// The stable lower-case name used on the wire and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            ArtifactRole::R1cs => "r1cs",
            ArtifactRole::Zkey => "zkey",
            ArtifactRole::Wtns => "wtns",
            ArtifactRole::Wasm => "wasm",
            ArtifactRole::Input => "input",
            ArtifactRole::Program => "program",
            ArtifactRole::Chunks => "chunks",
        }
    }
}

/// Where a Groth16 task's witness comes from.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum WitnessSource {
    /// A `.wtns` computed by the requester.
    Wtns,
    /// A `.wasm` witness generator run on `input.json`.
    WasmAndInput,
}

/// What a requester asks the pool to prove: the proof system and the content hashes of the
/// artifacts, all uploaded beforehand. Hashes make a spec small, comparable and cacheable.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct TaskSpec {
    /// The proof system to use.
    pub system: ProofSystem,
    /// A human name for the circuit, shown in tables and on the dashboard.
    #[serde(default)]
    pub label: Option<String>,
    /// The artifacts by role.
    pub artifacts: BTreeMap<ArtifactRole, BlobHash>,
    /// For a splittable system (Miden): how many segments to aim for. `None` lets the node
    /// choose one per connected prover; segment size limits may force more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segments: Option<u32>,
    /// Proved more than once: raced by several provers, or one claim proved by several
    /// proof systems (then `system` is the first leg's and `artifacts` is empty; the legs
    /// carry their own). `None`: one prover proves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<crate::Strategy>,
}

impl TaskSpec {
    /// Whether the spec names exactly the artifacts its system needs: for Groth16 a witness
    /// source (see [`TaskSpec::witness_source`]), for Miden a program and its chunks.
    pub fn check_artifacts(&self) -> Result<(), &'static str> {
        if let Some(crate::Strategy::MultiProver { .. }) = self.strategy {
            return if self.artifacts.is_empty() {
                Ok(())
            } else {
                Err("a multi-prover task names no artifacts of its own: each leg has its own")
            };
        }
        match self.system {
            ProofSystem::Groth16 => self.witness_source().map(|_| ()),
            ProofSystem::MidenVm => {
                let has = |r| self.artifacts.contains_key(&r);
                if !has(ArtifactRole::Program) {
                    Err("a Miden task needs a program (proc step)")
                } else if !has(ArtifactRole::Chunks) {
                    Err("a Miden task needs its chunks (JSON: state_in and chunks)")
                } else if self.artifacts.len() > 2 {
                    Err("a Miden task takes only a program and chunks")
                } else {
                    Ok(())
                }
            }
        }
    }

    /// Which witness source the artifacts describe, or why they describe none or both.
    pub fn witness_source(&self) -> Result<WitnessSource, &'static str> {
        let has = |r| self.artifacts.contains_key(&r);
        match (
            has(ArtifactRole::Wtns),
            has(ArtifactRole::Wasm),
            has(ArtifactRole::Input),
        ) {
            (true, false, false) => Ok(WitnessSource::Wtns),
            (false, true, true) => Ok(WitnessSource::WasmAndInput),
            (false, true, false) => Err("a .wasm witness generator needs an input.json"),
            (false, false, true) => Err("an input.json needs a .wasm witness generator"),
            (false, false, false) => Err("no witness: give a .wtns, or a .wasm with an input.json"),
            _ => Err("give either a .wtns or a .wasm with an input.json, not both"),
        }
    }
}

/// Where a task is in its life. Transitions: `Queued → Leased → Done`, `Leased → Queued` (lease
/// expired or the prover failed, attempts left), `Leased|Queued → Failed` (no attempts left or a
/// non-retryable failure). A split task goes `Proving → Done` when its segments (tasks of
/// their own, each with this life) are joined, or `Proving → Failed` when one of them fails.
/// `Done` and `Failed` are final. A task quoted for the pool contract starts `Unpaid` and is
/// queued when the requester's `submitTask` is seen on chain (or fails as `lapsed` when the
/// quote expires unpublished).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Debug, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TaskState {
    /// Quoted for settlement on chain; waiting for the requester to publish it there.
    Unpaid,
    /// Waiting for a prover.
    Queued,
    /// Held by one prover under a lease.
    Leased,
    /// Split into segments that provers are proving; joined when all are done.
    Proving,
    /// A verified proof is stored.
    Done,
    /// Given up; the reasons are recorded.
    Failed,
}

impl TaskState {
    /// Every state.
    pub const ALL: [TaskState; 6] = [
        TaskState::Unpaid,
        TaskState::Queued,
        TaskState::Leased,
        TaskState::Proving,
        TaskState::Done,
        TaskState::Failed,
    ];

    /// The stable name used on the wire and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            TaskState::Unpaid => "unpaid",
            TaskState::Queued => "queued",
            TaskState::Leased => "leased",
            TaskState::Proving => "proving",
            TaskState::Done => "done",
            TaskState::Failed => "failed",
        }
    }

    /// Parses the database form.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "unpaid" => TaskState::Unpaid,
            "queued" => TaskState::Queued,
            "leased" => TaskState::Leased,
            "proving" => TaskState::Proving,
            "done" => TaskState::Done,
            "failed" => TaskState::Failed,
            _ => return None,
        })
    }

    /// `Done` or `Failed`.
    pub fn is_final(&self) -> bool {
        matches!(self, TaskState::Done | TaskState::Failed)
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A number that grows with every lease of a task. A result is accepted only with the token of
/// the task's current, unexpired lease, so a prover whose lease expired cannot overwrite work.
#[derive(
    Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Debug, ToSchema,
)]
#[serde(transparent)]
pub struct FencingToken(pub i64);

/// What a prover agent tells the node about its machine when it connects.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct HardwareReport {
    /// The machine's name as the operator wants to see it (defaults to the hostname).
    pub name: String,
    /// Operating system and version.
    pub os: String,
    /// Logical CPU cores.
    pub cpu_cores: u32,
    /// Total memory in bytes.
    pub memory_bytes: u64,
    /// GPU names, from `nvidia-smi` when present.
    #[serde(default)]
    pub gpus: Vec<String>,
    /// Proof systems this agent can prove.
    pub systems: Vec<ProofSystem>,
    /// How many tasks the agent proves at once.
    pub jobs: u32,
    /// The agent's version.
    pub agent_version: String,
}

/// The artifacts of a task by role, as a lease grant carries them.
pub type ArtifactMap = BTreeMap<ArtifactRole, BlobHash>;

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(roles: &[ArtifactRole]) -> TaskSpec {
        TaskSpec {
            system: ProofSystem::Groth16,
            label: None,
            artifacts: roles
                .iter()
                .map(|r| (*r, BlobHash::of(r.as_str().as_bytes())))
                .collect(),
            segments: None,
            strategy: None,
        }
    }

    #[test]
    fn witness_source_needs_exactly_one_kind() {
        use ArtifactRole::*;
        assert_eq!(
            spec(&[R1cs, Zkey, Wtns]).witness_source(),
            Ok(WitnessSource::Wtns)
        );
        assert_eq!(
            spec(&[R1cs, Zkey, Wasm, Input]).witness_source(),
            Ok(WitnessSource::WasmAndInput)
        );
        assert!(spec(&[R1cs, Zkey]).witness_source().is_err());
        assert!(spec(&[R1cs, Zkey, Wasm]).witness_source().is_err());
        assert!(spec(&[R1cs, Zkey, Wtns, Wasm, Input])
            .witness_source()
            .is_err());
    }

    #[test]
    fn spec_json_uses_role_names_and_hex_hashes() {
        let s = spec(&[ArtifactRole::R1cs]);
        let json = serde_json::to_value(&s).unwrap();
        assert_eq!(json["system"], "groth16");
        assert!(json["artifacts"]["r1cs"].as_str().unwrap().len() == 64);
        let back: TaskSpec = serde_json::from_value(json).unwrap();
        assert_eq!(back, s);
    }

    #[test]
    fn task_state_round_trips() {
        for s in [
            TaskState::Queued,
            TaskState::Leased,
            TaskState::Proving,
            TaskState::Done,
            TaskState::Failed,
        ] {
            assert_eq!(TaskState::parse(s.as_str()), Some(s));
        }
        assert_eq!(TaskState::parse("nope"), None);
    }
}
