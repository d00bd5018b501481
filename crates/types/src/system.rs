use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A proof system the pool can schedule. Each has one backend crate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProofSystem {
    /// Groth16 over BN254 with circom/snarkjs artifacts.
    Groth16,
}

impl ProofSystem {
    /// Every system this build knows, in a stable order.
    pub const ALL: [ProofSystem; 1] = [ProofSystem::Groth16];

    /// The stable lower-case name used on the wire and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProofSystem::Groth16 => "groth16",
        }
    }
}

impl fmt::Display for ProofSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ProofSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A proof-system name this build does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown proof system {0:?} (known: groth16)")]
pub struct ParseProofSystemError(pub String);

impl FromStr for ProofSystem {
    type Err = ParseProofSystemError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProofSystem::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ParseProofSystemError(s.to_string()))
    }
}
