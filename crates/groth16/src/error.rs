//! The errors this crate defines itself. Everything the [`zkpool_backend::ProofBackend`] trait
//! returns is a [`BackendError`]; a refused batch is richer than one of those, since it names
//! every proof that fails, so it has its own type, convertible into one.

use std::fmt;

use zkpool_backend::BackendError;

/// Faults listed in a [`BatchRejected`]'s message; the rest are counted, so that a batch of a
/// thousand bad proofs does not make a message of a thousand lines.
const LISTED: usize = 8;

/// Why [`crate::verify_batch`] refused a batch: each proof that fails, by its index in the
/// batch, and why. A batch is refused as a whole when any proof fails, but the others were
/// checked too, so a caller may accept those on their own.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} of {batch} proofs refused: {}", faults.len(), Listed(faults))]
pub struct BatchRejected {
    /// How many proofs the batch held.
    pub batch: usize,
    /// The proofs that fail, in index order; never empty.
    pub faults: Vec<BatchFault>,
}

/// One proof of a refused batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchFault {
    /// Its position in the batch.
    pub index: usize,
    /// What is wrong with it.
    pub kind: ProofFault,
}

/// What is wrong with one proof of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofFault {
    /// It comes with another number of public signals than the verifying key takes.
    #[error("{got} public signals, the verifying key takes {expected}")]
    PublicCount {
        /// Signals the proof came with.
        got: usize,
        /// Signals the verifying key takes.
        expected: usize,
    },
    /// One of its points (`"A"`, `"B"` or `"C"`) is not on its curve.
    #[error("point {0} is not on the curve")]
    NotOnCurve(&'static str),
    /// Its B point is on the curve but outside G2's prime-order subgroup, where the pairing
    /// is not bilinear and the batch's algebra would not hold.
    #[error("point B is not in G2's prime-order subgroup")]
    NotInG2,
    /// It is well formed, but the Groth16 pairing check fails for its public signals.
    #[error("the pairing check fails")]
    PairingFails,
}

impl BatchRejected {
    /// The indices of the proofs that fail, in order.
    pub fn indices(&self) -> Vec<usize> {
        self.faults.iter().map(|f| f.index).collect()
    }
}

/// The message's list: `proof 3: …; proof 9: …`, the first [`LISTED`] faults and a count.
struct Listed<'a>(&'a [BatchFault]);

impl fmt::Display for Listed<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, fault) in self.0.iter().take(LISTED).enumerate() {
            let sep = if n == 0 { "" } else { "; " };
            write!(f, "{sep}proof {}: {}", fault.index, fault.kind)?;
        }
        if self.0.len() > LISTED {
            write!(f, "; and {} more", self.0.len() - LISTED)?;
        }
        Ok(())
    }
}

/// A batch whose only faults are signal counts is a mismatch, as [`crate::verify`] reports
/// one; any other fault makes it an invalid proof.
impl From<BatchRejected> for BackendError {
    fn from(e: BatchRejected) -> Self {
        let counts_only = e
            .faults
            .iter()
            .all(|f| matches!(f.kind, ProofFault::PublicCount { .. }));
        if counts_only {
            BackendError::Mismatch(e.to_string())
        } else {
            BackendError::InvalidProof(e.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_lists_the_first_faults_and_counts_the_rest() {
        let faults = (0..10)
            .map(|index| BatchFault {
                index: index * 2,
                kind: ProofFault::PairingFails,
            })
            .collect();
        let e = BatchRejected { batch: 64, faults };
        let message = e.to_string();
        assert!(
            message
                .starts_with("10 of 64 proofs refused: proof 0: the pairing check fails; proof 2:"),
            "{message}"
        );
        assert!(message.contains("proof 14: "), "{message}");
        assert!(!message.contains("proof 16: "), "{message}");
        assert!(message.ends_with("; and 2 more"), "{message}");
        assert_eq!(e.indices(), [0, 2, 4, 6, 8, 10, 12, 14, 16, 18]);
    }
}
