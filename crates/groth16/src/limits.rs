//! The operator's limits on what one request can make this backend do.
//!
//! Two kinds of refusal keep intake's work bounded, each checked before the allocation or the
//! run it guards:
//!
//! ```text
//!   header promises more than the file's bytes hold   BackendError::Malformed  (whatever the limits)
//!   file asks for more than the operator allows       BackendError::OverLimit  (names the limit)
//! ```
//!
//! The first needs no configuration: a decoder never allocates more than a small multiple of
//! the bytes it was given. The second is [`Groth16Limits`].

use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

const MIB: usize = 1 << 20;

/// Limits on the memory and work one request can cause. A request past one is refused with
/// [`BackendError::OverLimit`], whose reason names the field, its value and what was asked.
///
/// The defaults fit circom circuits of a few million constraints on a machine with a few GiB
/// to spare; raise them for bigger circuits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Groth16Limits {
    /// Bytes the witness generator's linear memory may reach, declared or grown. Default
    /// 1 GiB: circom's generators for a few million constraints use a few hundred MiB (the
    /// fixtures here stay within a few MiB).
    pub wasm_memory_bytes: usize,
    /// Wasm instructions one witness computation may execute. Default 2·10¹¹: far above what
    /// circuits with millions of constraints need, low enough that an endless loop ends
    /// within minutes.
    pub wasm_fuel: u64,
    /// Wires a circuit may have, so values a witness may hold: bounds the r1cs wire count,
    /// the zkey's, a `.wtns`'s length, the generator's `getWitnessSize`, and the number of
    /// values in `input.json`. Default 2²⁵.
    pub max_witness_len: usize,
    /// Constraints a circuit may have, in the r1cs and in the zkey's section 4; the zkey's
    /// domain may be the power of two that just holds them. Default 2²⁵.
    pub max_constraints: usize,
    /// Bytes of `input.json`, checked before it is parsed: a parsed JSON value takes up to
    /// about 20 times its text. Default 16 MiB, far above what circom circuits take as input.
    pub max_input_bytes: usize,
    /// Bytes of parsed artifacts (constraint systems, proving keys, verifying keys) kept
    /// between requests, all kinds together in one least-recently-used cache. A parsed value
    /// larger than this is used once and not kept. Default 1 GiB.
    pub cache_bytes: usize,
}

impl Default for Groth16Limits {
    fn default() -> Self {
        Self {
            wasm_memory_bytes: 1 << 30,
            wasm_fuel: 200_000_000_000,
            max_witness_len: 1 << 25,
            max_constraints: 1 << 25,
            max_input_bytes: 16 * MIB,
            cache_bytes: 1 << 30,
        }
    }
}

impl Groth16Limits {
    /// The largest QAP domain a circuit within these limits with `n_public` public signals
    /// needs: its rows are the constraints, one per public signal and the constant one.
    pub(crate) fn max_domain_size(&self, n_public: usize) -> usize {
        self.max_constraints
            .saturating_add(n_public)
            .saturating_add(1)
            .checked_next_power_of_two()
            .unwrap_or(usize::MAX)
    }
}

/// `Err(OverLimit)` when a file asks for more than `limit` of something.
pub(crate) fn check_count(
    role: ArtifactRole,
    what: &str,
    asked: usize,
    limit: usize,
    field: &str,
) -> Result<(), BackendError> {
    if asked > limit {
        return Err(BackendError::over_limit(
            role,
            format!("{asked} {what}, over the limit of {limit} (Groth16Limits::{field})"),
        ));
    }
    Ok(())
}

/// Bytes in MiB for messages, rounded up so that a refusal never reads "0 MiB".
pub(crate) fn mib(bytes: usize) -> usize {
    bytes.div_ceil(MIB)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_limit() {
        assert!(check_count(ArtifactRole::R1cs, "constraints", 4, 4, "max_constraints").is_ok());
        let err =
            check_count(ArtifactRole::R1cs, "constraints", 5, 4, "max_constraints").unwrap_err();
        assert_eq!(err.code(), "over_limit");
        assert!(err.to_string().contains("max_constraints"), "{err}");
        assert_eq!(mib(1), 1);
        assert_eq!(mib(1 << 30), 1024);
        let small = Groth16Limits {
            max_constraints: 100,
            ..Groth16Limits::default()
        };
        assert_eq!(small.max_domain_size(27), 128);
        assert_eq!(small.max_domain_size(28), 256);
    }
}
