use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A proof system the pool can schedule. Each has one backend crate.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProofSystem {
    /// Groth16 over BN254 with circom/snarkjs artifacts.
    Groth16,
    /// Miden VM STARK proofs of Miden assembly programs, split into chained segments.
    #[serde(rename = "miden")]
    MidenVm,
}

impl ProofSystem {
    /// Every system this build knows, in a stable order.
    pub const ALL: [ProofSystem; 2] = [ProofSystem::Groth16, ProofSystem::MidenVm];

    /// The stable lower-case name used on the wire and in the database.
    pub fn as_str(&self) -> &'static str {
        match self {
            ProofSystem::Groth16 => "groth16",
            ProofSystem::MidenVm => "miden",
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
#[error("unknown proof system {0:?} (known: groth16, miden)")]
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_name_parse_and_serde_agree() {
        for p in ProofSystem::ALL {
            assert_eq!(p.as_str().parse::<ProofSystem>(), Ok(p));
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(json, format!("\"{}\"", p.as_str()));
        }
        assert!("plonk".parse::<ProofSystem>().is_err());
    }
}
