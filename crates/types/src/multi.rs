//! Tasks proved more than once: one claim proved by several proof systems (multi-prover, k of
//! n), or one task raced by several provers (first valid proof wins).
//!
//! ```text
//!   claim (function, inputs, outputs: plain values)
//!     ├─ leg 0: groth16, public signals = [out:0, in:0, …]   ─┐ each leg a task of its own,
//!     ├─ leg 1: miden, statement derived from the claim       ─┤ on a prover of another key
//!     └─ leg 2: …                                             ─┘
//!   k legs verified ─► bundle: claim + their proofs + the pool's certificate (EIP-712)
//! ```
//!
//! Both are one shape in the store: a parent task waiting in `proving` while its legs (tasks
//! with `parent_id`) run; it is done when `need` legs are. A race is `need = 1` over `m`
//! copies of one task.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use utoipa::ToSchema;

use crate::{ProofSystem, TaskId, TaskSpec};

/// Most legs one multi-prover task may have, and most provers one race may use.
pub const MAX_LEGS: u32 = 8;
/// Most values a claim may carry (inputs and outputs together).
pub const MAX_CLAIM_VALUES: usize = 4096;
/// Longest function identifier, bytes.
pub const MAX_FUNCTION_LEN: usize = 128;

/// What a task asks beyond "one prover proves it" (the default strategy).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Strategy {
    /// The same task leased to `m` provers of different keys at once; the first valid proof
    /// wins and is the only one paid, the other leases are withdrawn without penalty. Lower
    /// latency when provers' speed varies, at the cost of duplicated work the losers bear.
    Race {
        /// How many provers race, 2 to [`MAX_LEGS`].
        m: u32,
    },
    /// One claim proved by several proof systems: done when `k` of the legs verify.
    MultiProver {
        /// The statement every leg proves.
        claim: Claim,
        /// How many legs must verify, 1 to the number of legs.
        k: u32,
        /// The legs, each an implementation of the claim's function in one proof system.
        legs: Vec<Leg>,
    },
}

/// A claim about a function, independent of any proof system: `function(inputs) = outputs`.
/// Values are non-negative decimal integers (each backend says which fit its fields).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct Claim {
    /// Identifies the function (e.g. `zkml/decision-tree-d4`); a backend that derives its
    /// statement from the claim (Miden) knows the function by this name.
    pub function: String,
    /// The inputs, in the function's order.
    pub inputs: Vec<String>,
    /// The outputs, in the function's order.
    pub outputs: Vec<String>,
}

impl Claim {
    /// Checks the claim's shape: a function name of 1 to [`MAX_FUNCTION_LEN`] printable bytes,
    /// at most [`MAX_CLAIM_VALUES`] values, each a canonical decimal integer of at most 78
    /// digits (a BN254 field element has 77).
    pub fn check(&self) -> Result<(), String> {
        if self.function.is_empty()
            || self.function.len() > MAX_FUNCTION_LEN
            || !self.function.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(format!(
                "the claim's function must be 1 to {MAX_FUNCTION_LEN} printable ASCII characters"
            ));
        }
        let n = self.inputs.len() + self.outputs.len();
        if n == 0 || n > MAX_CLAIM_VALUES {
            return Err(format!(
                "a claim carries 1 to {MAX_CLAIM_VALUES} values, this one {n}"
            ));
        }
        for (what, values) in [("input", &self.inputs), ("output", &self.outputs)] {
            for (i, v) in values.iter().enumerate() {
                let canonical = !v.is_empty()
                    && v.len() <= 78
                    && v.bytes().all(|b| b.is_ascii_digit())
                    && (v == "0" || !v.starts_with('0'));
                if !canonical {
                    return Err(format!(
                        "claim {what} {i} ({v:?}) is not a canonical decimal integer"
                    ));
                }
            }
        }
        Ok(())
    }

    /// The value a reference names, if the claim has it.
    pub fn value(&self, r: ClaimRef) -> Option<&str> {
        match r {
            ClaimRef::Input(i) => self.inputs.get(i as usize),
            ClaimRef::Output(i) => self.outputs.get(i as usize),
        }
        .map(String::as_str)
    }

    /// The canonical bytes a digest of the claim is taken over: a tag, then the function,
    /// the inputs and the outputs, each length-prefixed (u32 big-endian), so no two claims
    /// share them.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        let mut out = b"zkpool.claim.v1\0".to_vec();
        let mut put = |s: &str| {
            out.extend_from_slice(&(s.len() as u32).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        };
        put(&self.function);
        for list in [&self.inputs, &self.outputs] {
            put(&list.len().to_string());
            for v in list {
                put(v);
            }
        }
        out
    }
}

/// One leg of a multi-prover task.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct Leg {
    /// What this leg proves, as a task of its system (no strategy of its own).
    #[schema(no_recursion)]
    pub spec: TaskSpec,
    /// Groth16: which claim value each public signal is, in the circuit's order
    /// (`"out:0"`, `"in:3"`); every claim value must appear. Empty for a system that derives
    /// its statement from the claim (Miden).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub signals: Vec<ClaimRef>,
}

/// One value of a claim: `in:N` (input N) or `out:N` (output N), from 0.
/// On the wire a string; the schemas of the fields that hold it say so.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub enum ClaimRef {
    /// Input N.
    Input(u32),
    /// Output N.
    Output(u32),
}

impl fmt::Display for ClaimRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClaimRef::Input(i) => write!(f, "in:{i}"),
            ClaimRef::Output(i) => write!(f, "out:{i}"),
        }
    }
}

impl FromStr for ClaimRef {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a claim value: write in:N or out:N");
        let (kind, n) = s.split_once(':').ok_or_else(bad)?;
        if n.is_empty() || n.len() > 4 || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        let n: u32 = n.parse().map_err(|_| bad())?;
        match kind {
            "in" => Ok(ClaimRef::Input(n)),
            "out" => Ok(ClaimRef::Output(n)),
            _ => Err(bad()),
        }
    }
}

impl Serialize for ClaimRef {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClaimRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

/// How a task with several legs is composed, as its view shows it.
#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Composition {
    /// Multi-prover: done when `k` of the `n` legs verify.
    AllOf {
        /// Legs needed.
        k: u32,
        /// Legs in all.
        n: u32,
    },
    /// Competing provers: done with the first of `m` racers' valid proofs.
    Race {
        /// Racers.
        m: u32,
    },
}

impl Composition {
    /// How many legs must be done.
    pub fn need(&self) -> u32 {
        match self {
            Composition::AllOf { k, .. } => *k,
            Composition::Race { .. } => 1,
        }
    }

    /// How many legs there are.
    pub fn legs(&self) -> u32 {
        match self {
            Composition::AllOf { n, .. } => *n,
            Composition::Race { m } => *m,
        }
    }

    /// The stable database form: `all_of:K:N` or `race:M`.
    pub fn code(&self) -> String {
        match self {
            Composition::AllOf { k, n } => format!("all_of:{k}:{n}"),
            Composition::Race { m } => format!("race:{m}"),
        }
    }

    /// Parses [`Composition::code`].
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.split(':');
        let c = match (parts.next()?, parts.next(), parts.next()) {
            ("all_of", Some(k), Some(n)) => Composition::AllOf {
                k: k.parse().ok()?,
                n: n.parse().ok()?,
            },
            ("race", Some(m), None) => Composition::Race { m: m.parse().ok()? },
            _ => return None,
        };
        parts.next().is_none().then_some(c)
    }
}

/// What a multi-prover task delivers: the claim, every verified leg's proof, and the pool's
/// certificate over them. `zkpool verify bundle.json` checks it offline.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct Bundle {
    /// The multi-prover task.
    pub task: TaskId,
    /// What was proved.
    pub claim: Claim,
    /// Legs that had to verify.
    pub k: u32,
    /// Legs the task had.
    pub n: u32,
    /// The verified legs, by leg index.
    pub legs: Vec<BundleLeg>,
    /// The pool's attestation.
    pub certificate: Certificate,
}

/// One verified leg in a [`Bundle`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct BundleLeg {
    /// Its index among the task's legs, from 0.
    pub index: u32,
    /// Its proof system.
    pub system: ProofSystem,
    /// How its public signals map to the claim (Groth16), as submitted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(value_type = Vec<String>)]
    pub signals: Vec<ClaimRef>,
    /// What the backend verified the proof against: for Groth16 the snarkjs verification key
    /// (JSON, as `snarkjs zkey export verificationkey` writes it); empty for Miden, whose
    /// program is bound by the statement.
    #[serde(default)]
    pub verifying_key: serde_json::Value,
    /// The statement the proof proves (Groth16: `public.json`; Miden: the chain statement).
    pub statement: serde_json::Value,
    /// The proof (Groth16: snarkjs `{proof, public}` JSON; Miden: the joined chain proof).
    pub proof: serde_json::Value,
}

/// The pool's EIP-712 signature over a bundle: claim digest, `k`, `n` and each verified
/// leg's digest (its index, system, verifying key, statement and proof).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Debug, ToSchema)]
pub struct Certificate {
    /// `0x` + 32 bytes: keccak256 of the claim's canonical bytes.
    pub claim_digest: String,
    /// `0x` + 32 bytes per verified leg, in the bundle's order.
    pub legs: Vec<String>,
    /// The pool's address (`0x` + 20 bytes): who signed.
    pub pool: String,
    /// The chain id of the signing domain.
    pub chain_id: u64,
    /// `0x` + 65 bytes, `r ‖ s ‖ v`.
    pub signature: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claim() -> Claim {
        Claim {
            function: "f".into(),
            inputs: vec!["1".into(), "22".into()],
            outputs: vec!["0".into()],
        }
    }

    #[test]
    fn claim_refs_round_trip_and_refuse_junk() {
        for r in [ClaimRef::Input(0), ClaimRef::Output(12)] {
            assert_eq!(r.to_string().parse::<ClaimRef>(), Ok(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(serde_json::from_str::<ClaimRef>(&json).unwrap(), r);
        }
        for bad in ["in", "in:", "x:1", "in:-1", "in:99999", "in:1:2", "out: 1"] {
            assert!(bad.parse::<ClaimRef>().is_err(), "{bad}");
        }
    }

    #[test]
    fn claims_must_be_canonical_decimals() {
        assert!(claim().check().is_ok());
        for bad in ["", "01", "-1", "1.0", "0x1", &"9".repeat(79)] {
            let mut c = claim();
            c.inputs[1] = bad.to_string();
            assert!(c.check().is_err(), "{bad:?}");
        }
        let mut c = claim();
        c.function = String::new();
        assert!(c.check().is_err());
    }

    #[test]
    fn canonical_bytes_separate_inputs_from_outputs() {
        let a = claim();
        let mut b = claim();
        b.outputs.insert(0, b.inputs.pop().unwrap());
        assert_ne!(a.canonical_bytes(), b.canonical_bytes());
    }

    #[test]
    fn compositions_round_trip() {
        for c in [
            Composition::AllOf { k: 2, n: 3 },
            Composition::Race { m: 4 },
        ] {
            assert_eq!(Composition::parse(&c.code()), Some(c));
        }
        assert_eq!(Composition::parse("race:1:2"), None);
        assert_eq!(Composition::parse("all_of:2"), None);
    }
}
