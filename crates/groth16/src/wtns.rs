//! snarkjs's `.wtns` witness file (version 2): section 1 holds the field (element size and
//! prime) and the witness length, section 2 the values in standard form, little-endian.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::binfile::{fr_standard, prime_bytes, BinFile};
use crate::limits::{check_count, Groth16Limits};

const ROLE: ArtifactRole = ArtifactRole::Wtns;

/// Parses a `.wtns` file into the witness, wire 0 first, within the default
/// [`Groth16Limits`].
pub fn parse_wtns(bytes: &[u8]) -> Result<Vec<Fr>, BackendError> {
    parse_wtns_with(bytes, &Groth16Limits::default())
}

/// Parses a `.wtns` file into the witness; more values than `limits.max_witness_len` are
/// [`BackendError::OverLimit`].
pub fn parse_wtns_with(bytes: &[u8], limits: &Groth16Limits) -> Result<Vec<Fr>, BackendError> {
    let file = BinFile::parse(bytes, b"wtns", ROLE)?;
    if file.version != 2 {
        return Err(BackendError::malformed(
            ROLE,
            format!("unsupported version {}", file.version),
        ));
    }
    let mut h = file.section(1, "header")?;
    let n8 = h.u32()?;
    if n8 != 32 {
        return Err(h.err(format!("field size {n8}, BN254 needs 32")));
    }
    if h.bytes(32)? != prime_bytes(Fr::MODULUS) {
        return Err(h.err("the field is not BN254's scalar field"));
    }
    let n = h.usize()?;

    let mut v = file.section(2, "values")?;
    if v.remaining() != n.saturating_mul(32) {
        return Err(v.err(format!(
            "{} bytes for {n} values of 32 bytes",
            v.remaining()
        )));
    }
    check_count(ROLE, "values", n, limits.max_witness_len, "max_witness_len")?;
    (0..n)
        .map(|i| {
            fr_standard(v.bytes(32)?)
                .ok_or_else(|| v.err(format!("value {i} not reduced modulo the field")))
        })
        .collect()
}

/// Encodes a witness as a `.wtns` file, byte for byte as snarkjs writes it.
pub fn write_wtns(witness: &[Fr]) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + 32 * witness.len());
    out.extend(b"wtns");
    out.extend(2u32.to_le_bytes());
    out.extend(2u32.to_le_bytes());
    out.extend(1u32.to_le_bytes());
    out.extend(40u64.to_le_bytes());
    out.extend(32u32.to_le_bytes());
    out.extend(prime_bytes(Fr::MODULUS));
    out.extend((witness.len() as u32).to_le_bytes());
    out.extend(2u32.to_le_bytes());
    out.extend((32 * witness.len() as u64).to_le_bytes());
    for w in witness {
        out.extend(w.into_bigint().to_bytes_le());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let w: Vec<Fr> = [1u64, 5, 7, u64::MAX].into_iter().map(Fr::from).collect();
        let bytes = write_wtns(&w);
        assert_eq!(parse_wtns(&bytes).unwrap(), w);
    }

    #[test]
    fn truncated_or_garbled_is_malformed() {
        let bytes = write_wtns(&[Fr::from(1u8), Fr::from(2u8)]);
        for cut in 0..bytes.len() {
            assert!(
                matches!(
                    parse_wtns(&bytes[..cut]),
                    Err(BackendError::Malformed { .. })
                ),
                "cut at {cut}"
            );
        }
        let mut bad = bytes.clone();
        bad[0] = b'x';
        assert!(parse_wtns(&bad).is_err());
        let mut unreduced = bytes;
        let n = unreduced.len();
        unreduced[n - 32..].fill(0xff);
        assert!(parse_wtns(&unreduced)
            .unwrap_err()
            .to_string()
            .contains("value 1"));
    }
}
