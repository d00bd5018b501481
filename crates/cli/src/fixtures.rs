//! Circuits bundled into the binary for `zkpool demo` and `zkpool bench`: real circom
//! artifacts from `fixtures/` (rebuilt by `scripts/build-fixtures.sh`).

use anyhow::Context;

/// One bundled circuit.
#[derive(Debug, Clone, Copy)]
pub struct Circuit {
    /// Its name.
    pub name: &'static str,
    /// `.r1cs`.
    pub r1cs: &'static [u8],
    /// snarkjs `.zkey`.
    pub zkey: &'static [u8],
    /// witness generator `.wasm`.
    pub wasm: &'static [u8],
    /// A witness for `input`.
    pub wtns: &'static [u8],
    /// The inputs the `.wtns` was computed from.
    pub input: &'static [u8],
}

macro_rules! circuit {
    ($name:literal) => {
        Circuit {
            name: $name,
            r1cs: include_bytes!(concat!("../../../fixtures/", $name, "/", $name, ".r1cs")),
            zkey: include_bytes!(concat!("../../../fixtures/", $name, "/", $name, ".zkey")),
            wasm: include_bytes!(concat!("../../../fixtures/", $name, "/", $name, ".wasm")),
            wtns: include_bytes!(concat!("../../../fixtures/", $name, "/", $name, ".wtns")),
            input: include_bytes!(concat!("../../../fixtures/", $name, "/input.json")),
        }
    };
}

/// A chain of 100 multiplications (~100 constraints).
pub const MULTIPLIER: Circuit = circuit!("multiplier");
/// A chain of 18 Poseidon(2) hashes (over 2^12 constraints).
pub const POSEIDON_CHAIN: Circuit = circuit!("poseidon_chain");
/// A depth-4 decision tree over four features for a batch of 16 samples, model, samples and
/// classes all public (4,405 constraints): the multi-prover demo's Groth16 leg.
pub const IRIS_TREE: Circuit = circuit!("iris_tree");

impl Circuit {
    /// The circuit's `input.json` with every top-level number shifted by `delta`, so each demo
    /// task proves a different statement.
    pub fn input_variant(&self, delta: u64) -> anyhow::Result<Vec<u8>> {
        let mut v: serde_json::Value =
            serde_json::from_slice(self.input).context("bundled input.json")?;
        if let Some(obj) = v.as_object_mut() {
            for value in obj.values_mut() {
                let n = match value {
                    serde_json::Value::Number(n) => n.as_u64(),
                    serde_json::Value::String(s) => s.parse::<u64>().ok(),
                    _ => None,
                };
                if let Some(n) = n {
                    *value = serde_json::Value::String((n + delta).to_string());
                }
            }
        }
        Ok(serde_json::to_vec(&v)?)
    }
}
