//! snarkjs's Groth16 `.zkey` proving key.
//!
//! ```text
//!   1 header        protocol (1 = groth16)
//!   2 groth header  n8q q n8r r n_vars n_public domain_size α₁ β₁ β₂ γ₂ δ₁ δ₂
//!   3 IC            (n_public + 1) × G1          ─┐
//!   4 coefficients  A and B matrices, Fr (R²)     │
//!   5 A             n_vars × G1                   │ ProvingKey<Bn254>
//!   6 B1            n_vars × G1                   │ + ConstraintMatrices
//!   7 B2            n_vars × G2                   │
//!   8 C             (n_vars - n_public - 1) × G1  │
//!   9 H             domain_size × G1             ─┘
//!  10 contributions (ignored)
//! ```
//!
//! Points are stored affine in Montgomery form, so they load without a multiplication; the
//! on-curve checks are the cost, spread over rayon's threads. G2 points of the verifying key
//! are also checked to lie in the prime-order subgroup; the B2 query points are not here: one
//! check per point would cost more than the parse, so the intake check (`crate::intake`)
//! tests them in batches, once per artifact pair, before a task is accepted.
//!
//! [`parse_header`] reads only sections 1-3, enough to verify and to check that a zkey belongs
//! to an `.r1cs`. [`ZkeyProvingKey::to_bytes`] writes a key back in snarkjs's layout.

use ark_bn254::{Bn254, Fq, Fr, G1Affine, G2Affine};
use ark_ff::{One, PrimeField};
use ark_groth16::{ProvingKey, VerifyingKey};
use ark_relations::r1cs::ConstraintMatrices;
use rayon::prelude::*;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::binfile::{
    fr_double_montgomery, fr_double_montgomery_bytes, g1_montgomery, g2_montgomery, prime_bytes,
    put_g1, put_g2, write_container, BinFile, Cursor, G1_BYTES, G2_BYTES,
};
use crate::limits::{check_count, Groth16Limits};

const ROLE: ArtifactRole = ArtifactRole::Zkey;

/// The largest FFT domain BN254's scalar field supports (two-adicity 28).
const MAX_DOMAIN_LOG: u32 = 28;

/// What the first three sections say: sizes and the verifying key.
#[derive(Debug, Clone)]
pub struct ZkeyHeader {
    /// Wires of the circuit, the witness length.
    pub n_vars: usize,
    /// Public signals (outputs then inputs).
    pub n_public: usize,
    /// The QAP evaluation domain, a power of two ≥ constraints + public signals + 1.
    pub domain_size: usize,
    /// The verifying key, `gamma_abc_g1` being snarkjs's `IC`.
    pub vk: VerifyingKey<Bn254>,
    pub(crate) beta_g1: G1Affine,
    pub(crate) delta_g1: G1Affine,
}

/// A fully parsed zkey: what the prover needs.
#[derive(Debug)]
pub struct ZkeyProvingKey {
    /// The key in arkworks' form.
    pub pk: ProvingKey<Bn254>,
    /// The `A` and `B` matrices of section 4, without snarkjs's public-input rows (the
    /// [`crate::CircomReduction`] adds those itself); `C` is left empty because snarkjs derives
    /// `C·w` from `A·w * B·w`.
    pub matrices: ConstraintMatrices<Fr>,
    /// Constraints of the circuit, without the public-input rows.
    pub num_constraints: usize,
    /// Public signals.
    pub n_public: usize,
    /// The QAP domain size.
    pub domain_size: usize,
}

/// Reads sections 1-3 of a zkey within the default [`Groth16Limits`].
pub fn parse_header(bytes: &[u8]) -> Result<ZkeyHeader, BackendError> {
    parse_header_with(bytes, &Groth16Limits::default())
}

/// Reads sections 1-3 of a zkey; a circuit larger than `limits` allow is
/// [`BackendError::OverLimit`].
pub fn parse_header_with(bytes: &[u8], limits: &Groth16Limits) -> Result<ZkeyHeader, BackendError> {
    let file = BinFile::parse(bytes, b"zkey", ROLE)?;
    let h = header(&file)?;
    check_limits(&h, limits)?;
    Ok(h)
}

/// Reads a whole zkey within the default [`Groth16Limits`].
pub fn parse_proving_key(bytes: &[u8]) -> Result<ZkeyProvingKey, BackendError> {
    parse_proving_key_with(bytes, &Groth16Limits::default())
}

/// Reads a whole zkey; a circuit larger than `limits` allow is [`BackendError::OverLimit`],
/// refused before its points are decoded.
pub fn parse_proving_key_with(
    bytes: &[u8],
    limits: &Groth16Limits,
) -> Result<ZkeyProvingKey, BackendError> {
    let file = BinFile::parse(bytes, b"zkey", ROLE)?;
    let h = header(&file)?;
    let n_private = h.n_vars - h.n_public - 1;
    let points = [
        (5, "A points", h.n_vars, G1_BYTES),
        (6, "B1 points", h.n_vars, G1_BYTES),
        (7, "B2 points", h.n_vars, G2_BYTES),
        (8, "C points", n_private, G1_BYTES),
        (9, "H points", h.domain_size, G1_BYTES),
    ];
    // Sizes first, limits second, decoding last: a file whose header its sections do not back
    // is malformed whatever the limits.
    for (id, name, n, size) in points {
        points_body(&mut file.section(id, name)?, n, size)?;
    }
    check_limits(&h, limits)?;

    let (a_query, b_g1_query, b_g2_query, l_query, h_query) = (
        g1_section(&file, 5, "A points", h.n_vars)?,
        g1_section(&file, 6, "B1 points", h.n_vars)?,
        g2_section(&file, 7, "B2 points", h.n_vars)?,
        g1_section(&file, 8, "C points", n_private)?,
        g1_section(&file, 9, "H points", h.domain_size)?,
    );
    let (matrices, num_constraints) = coefficients(&file, &h, limits)?;

    Ok(ZkeyProvingKey {
        pk: ProvingKey {
            vk: h.vk,
            beta_g1: h.beta_g1,
            delta_g1: h.delta_g1,
            a_query,
            b_g1_query,
            b_g2_query,
            h_query,
            l_query,
        },
        matrices,
        num_constraints,
        n_public: h.n_public,
        domain_size: h.domain_size,
    })
}

impl ZkeyProvingKey {
    /// The key as a snarkjs `.zkey`: sections 1-9 in order, coefficients as snarkjs lays them
    /// out (each constraint's `A` then `B` entries, then the public-input rows). There is no
    /// section 10: only snarkjs's ceremony verification reads the contributions.
    pub fn to_bytes(&self) -> Vec<u8> {
        let pk = &self.pk;
        let n_vars = pk.a_query.len();
        let u32_bytes = |v: usize| (v as u32).to_le_bytes();

        let mut s2 = Vec::with_capacity(660);
        for modulus in [prime_bytes(Fq::MODULUS), prime_bytes(Fr::MODULUS)] {
            s2.extend(32u32.to_le_bytes());
            s2.extend(modulus);
        }
        for v in [n_vars, self.n_public, self.domain_size] {
            s2.extend(u32_bytes(v));
        }
        put_g1(&mut s2, &pk.vk.alpha_g1);
        put_g1(&mut s2, &pk.beta_g1);
        put_g2(&mut s2, &pk.vk.beta_g2);
        put_g2(&mut s2, &pk.vk.gamma_g2);
        put_g1(&mut s2, &pk.delta_g1);
        put_g2(&mut s2, &pk.vk.delta_g2);

        let m = &self.matrices;
        let n_entries = m.a.iter().chain(&m.b).map(Vec::len).sum::<usize>() + self.n_public + 1;
        let mut s4 = Vec::with_capacity(4 + 44 * n_entries);
        s4.extend(u32_bytes(n_entries));
        let mut entry = |matrix: u32, row: usize, signal: usize, value: Fr| {
            s4.extend(matrix.to_le_bytes());
            s4.extend(u32_bytes(row));
            s4.extend(u32_bytes(signal));
            s4.extend(fr_double_montgomery_bytes(value));
        };
        for (row, (a, b)) in m.a.iter().zip(&m.b).enumerate() {
            for (matrix, lc) in [(0, a), (1, b)] {
                for &(value, signal) in lc {
                    entry(matrix, row, signal, value);
                }
            }
        }
        for i in 0..=self.n_public {
            entry(0, self.num_constraints + i, i, Fr::one());
        }

        let g1s = |points: &[G1Affine]| {
            let mut out = Vec::with_capacity(points.len() * G1_BYTES);
            points.iter().for_each(|p| put_g1(&mut out, p));
            out
        };
        let mut s7 = Vec::with_capacity(n_vars * G2_BYTES);
        pk.b_g2_query.iter().for_each(|p| put_g2(&mut s7, p));
        let sections = [
            (1, 1u32.to_le_bytes().to_vec()),
            (2, s2),
            (3, g1s(&pk.vk.gamma_abc_g1)),
            (4, s4),
            (5, g1s(&pk.a_query)),
            (6, g1s(&pk.b_g1_query)),
            (7, s7),
            (8, g1s(&pk.l_query)),
            (9, g1s(&pk.h_query)),
        ];
        let refs: Vec<(u32, &[u8])> = sections.iter().map(|(id, b)| (*id, &b[..])).collect();
        write_container(b"zkey", 1, &refs)
    }
}

/// Sections 1-3 of a parsed container.
pub(crate) fn header(file: &BinFile<'_>) -> Result<ZkeyHeader, BackendError> {
    if file.version != 1 {
        return Err(BackendError::malformed(
            ROLE,
            format!("unsupported version {}", file.version),
        ));
    }
    let mut s1 = file.section(1, "header")?;
    let protocol = s1.u32()?;
    if protocol != 1 {
        return Err(s1.err(format!("protocol {protocol} is not Groth16 (1)")));
    }
    s1.finish()?;

    let mut s = file.section(2, "Groth16 header")?;
    let n8q = s.u32()?;
    if n8q != 32 || s.bytes(32)? != prime_bytes(Fq::MODULUS) {
        return Err(s.err("the base field is not BN254's"));
    }
    let n8r = s.u32()?;
    if n8r != 32 || s.bytes(32)? != prime_bytes(Fr::MODULUS) {
        return Err(s.err("the scalar field is not BN254's"));
    }
    let n_vars = s.usize()?;
    let n_public = s.usize()?;
    let domain_size = s.usize()?;
    if n_public >= n_vars {
        return Err(s.err(format!("{n_public} public signals but {n_vars} wires")));
    }
    if !domain_size.is_power_of_two() || domain_size > 1 << MAX_DOMAIN_LOG {
        return Err(s.err(format!(
            "domain size {domain_size} is not a power of two ≤ 2^28"
        )));
    }
    let alpha_g1 = g1(&mut s, "alpha1")?;
    let beta_g1 = g1(&mut s, "beta1")?;
    let beta_g2 = g2(&mut s, "beta2")?;
    let gamma_g2 = g2(&mut s, "gamma2")?;
    let delta_g1 = g1(&mut s, "delta1")?;
    let delta_g2 = g2(&mut s, "delta2")?;
    s.finish()?;

    let gamma_abc_g1 = g1_section(file, 3, "IC", n_public + 1)?;
    Ok(ZkeyHeader {
        n_vars,
        n_public,
        domain_size,
        vk: VerifyingKey {
            alpha_g1,
            beta_g2,
            gamma_g2,
            delta_g2,
            gamma_abc_g1,
        },
        beta_g1,
        delta_g1,
    })
}

/// A circuit larger than `limits` allow is [`BackendError::OverLimit`].
pub(crate) fn check_limits(h: &ZkeyHeader, limits: &Groth16Limits) -> Result<(), BackendError> {
    check_count(
        ROLE,
        "wires",
        h.n_vars,
        limits.max_witness_len,
        "max_witness_len",
    )?;
    check_count(
        ROLE,
        "rows in the domain",
        h.domain_size,
        limits.max_domain_size(h.n_public),
        "max_constraints",
    )
}

fn g1(s: &mut Cursor<'_>, name: &str) -> Result<G1Affine, BackendError> {
    let b = s.bytes(G1_BYTES)?;
    g1_montgomery(b).map_err(|e| s.err(format!("{name}: {e}")))
}

fn g2(s: &mut Cursor<'_>, name: &str) -> Result<G2Affine, BackendError> {
    let b = s.bytes(G2_BYTES)?;
    g2_montgomery(b, true).map_err(|e| s.err(format!("{name}: {e}")))
}

/// A section of exactly `n` G1 points, decoded in parallel.
fn g1_section(
    file: &BinFile<'_>,
    id: u32,
    name: &'static str,
    n: usize,
) -> Result<Vec<G1Affine>, BackendError> {
    let mut s = file.section(id, name)?;
    let body = points_body(&mut s, n, G1_BYTES)?;
    body.par_chunks_exact(G1_BYTES)
        .enumerate()
        .map(|(i, b)| g1_montgomery(b).map_err(|e| s.err(format!("point {i}: {e}"))))
        .collect()
}

/// A section of exactly `n` G2 points, decoded in parallel; on the curve, not subgroup-checked
/// (see the module docs).
fn g2_section(
    file: &BinFile<'_>,
    id: u32,
    name: &'static str,
    n: usize,
) -> Result<Vec<G2Affine>, BackendError> {
    let mut s = file.section(id, name)?;
    let body = points_body(&mut s, n, G2_BYTES)?;
    body.par_chunks_exact(G2_BYTES)
        .enumerate()
        .map(|(i, b)| g2_montgomery(b, false).map_err(|e| s.err(format!("point {i}: {e}"))))
        .collect()
}

/// The body of a section that must hold exactly `n` points of `size` bytes.
pub(crate) fn points_body<'a>(
    s: &mut Cursor<'a>,
    n: usize,
    size: usize,
) -> Result<&'a [u8], BackendError> {
    if s.remaining() != n.saturating_mul(size) {
        return Err(s.err(format!(
            "{} bytes for {n} points of {size} bytes",
            s.remaining()
        )));
    }
    s.bytes(n * size)
}

/// Section 4: `(matrix, constraint, signal, value)` entries of `A` (0) and `B` (1). snarkjs
/// appends one row per public signal and the constant one, `A[n_constraints + i][i] = 1`; those
/// rows tell us the constraint count and are checked, then dropped.
pub(crate) fn coefficients(
    file: &BinFile<'_>,
    h: &ZkeyHeader,
    limits: &Groth16Limits,
) -> Result<(ConstraintMatrices<Fr>, usize), BackendError> {
    const ENTRY: usize = 12 + 32;
    let mut s = file.section(4, "coefficients")?;
    let n = s.usize()?;
    if s.remaining() != n.saturating_mul(ENTRY) {
        return Err(s.err(format!("{} bytes for {n} entries", s.remaining())));
    }
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let matrix = s.u32()?;
        let constraint = s.usize()?;
        let signal = s.usize()?;
        let value = fr_double_montgomery(s.bytes(32)?)
            .ok_or_else(|| s.err("coefficient not reduced modulo the field"))?;
        if matrix > 1 {
            return Err(s.err(format!("matrix {matrix} is neither A (0) nor B (1)")));
        }
        if signal >= h.n_vars {
            return Err(s.err(format!("signal {signal} out of range ({} wires)", h.n_vars)));
        }
        entries.push((matrix, constraint, signal, value));
    }

    let max_row = entries.iter().map(|e| e.1).max().unwrap_or(0);
    let num_constraints = max_row
        .checked_sub(h.n_public)
        .ok_or_else(|| s.err("no public-input rows"))?;
    let rows = num_constraints + h.n_public + 1;
    if rows.next_power_of_two() != h.domain_size {
        return Err(s.err(format!(
            "{rows} rows need a domain of {}, the header says {}",
            rows.next_power_of_two(),
            h.domain_size
        )));
    }
    // One row is allocated per constraint, entries or not: the domain must be backed by the
    // H section's bytes, one point per row, before a row index taken from an entry can size
    // an allocation.
    let h_points = file.section(9, "H points")?.remaining() / G1_BYTES;
    if h.domain_size > h_points {
        return Err(s.err(format!(
            "a domain of {} rows, but section 9 holds {h_points} points",
            h.domain_size
        )));
    }
    check_count(
        ROLE,
        "constraints",
        num_constraints,
        limits.max_constraints,
        "max_constraints",
    )?;

    let mut a = vec![Vec::new(); num_constraints];
    let mut b = vec![Vec::new(); num_constraints];
    let mut input_rows = vec![false; h.n_public + 1];
    for (matrix, constraint, signal, value) in entries {
        if constraint < num_constraints {
            let m = if matrix == 0 { &mut a } else { &mut b };
            m[constraint].push((value, signal));
            continue;
        }
        let i = constraint - num_constraints;
        if matrix != 0 || signal != i || !value.is_one() || input_rows[i] {
            return Err(s.err(format!("unexpected entry in public-input row {i}")));
        }
        input_rows[i] = true;
    }
    if !input_rows.iter().all(|&x| x) {
        return Err(s.err("a public-input row is missing"));
    }

    let a_num_non_zero = a.iter().map(Vec::len).sum();
    let b_num_non_zero = b.iter().map(Vec::len).sum();
    let matrices = ConstraintMatrices {
        num_instance_variables: h.n_public + 1,
        num_witness_variables: h.n_vars - h.n_public - 1,
        num_constraints,
        a_num_non_zero,
        b_num_non_zero,
        c_num_non_zero: 0,
        a,
        b,
        c: Vec::new(),
    };
    Ok((matrices, num_constraints))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> Vec<u8> {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/multiplier/multiplier.zkey"
        );
        std::fs::read(path).unwrap()
    }

    /// The fixture with `edit` applied to section `id`.
    fn with_section(id: u32, edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
        let zkey = fixture();
        let file = BinFile::parse(&zkey, b"zkey", ROLE).unwrap();
        let mut sections: Vec<(u32, Vec<u8>)> = file
            .sections()
            .iter()
            .map(|(i, b)| (*i, b.to_vec()))
            .collect();
        let (_, body) = sections.iter_mut().find(|(i, _)| *i == id).unwrap();
        edit(body);
        let refs: Vec<(u32, &[u8])> = sections.iter().map(|(i, b)| (*i, &b[..])).collect();
        write_container(b"zkey", 1, &refs)
    }

    /// Sets section 2's counts, `n_vars`, `n_public`, `domain_size`, given as `(index, value)`.
    fn set_counts(counts: &[(usize, u32)]) -> Vec<u8> {
        with_section(2, |b| {
            for &(field, value) in counts {
                // After the two fields, each a size and a prime.
                let at = 72 + 4 * field;
                b[at..at + 4].copy_from_slice(&value.to_le_bytes());
            }
        })
    }

    fn is_malformed(result: Result<impl std::fmt::Debug, BackendError>, says: &str) {
        match result {
            Err(e @ BackendError::Malformed { .. }) => assert!(e.to_string().contains(says), "{e}"),
            other => panic!("expected malformed ({says}), got {other:?}"),
        }
    }

    #[test]
    fn counts_the_sections_do_not_back_are_malformed_whatever_the_limits() {
        let tight = Groth16Limits {
            max_constraints: 1,
            max_witness_len: 1,
            ..Groth16Limits::default()
        };
        let wires = set_counts(&[(0, 1 << 30)]);
        is_malformed(parse_proving_key(&wires), "for 1073741824 points");
        is_malformed(
            parse_proving_key_with(&wires, &tight),
            "for 1073741824 points",
        );
        let domain = set_counts(&[(2, 1 << 28)]);
        is_malformed(
            parse_proving_key_with(&domain, &tight),
            "for 268435456 points",
        );
        let public = set_counts(&[(0, 1 << 21), (1, 1 << 20)]);
        is_malformed(parse_header(&public), "for 1048577 points");
        // Section 4 claims more entries than it holds.
        let entries = with_section(4, |b| b[..4].copy_from_slice(&(1u32 << 31).to_le_bytes()));
        is_malformed(parse_proving_key(&entries), "for 2147483648 entries");
    }

    #[test]
    fn a_row_index_past_the_domain_sizes_nothing() {
        // An entry's row is the constraint count's only source: a huge one must be refused
        // before rows are allocated.
        let far = with_section(4, |b| {
            b[4 + 4..4 + 8].copy_from_slice(&(1u32 << 30).to_le_bytes())
        });
        is_malformed(parse_proving_key(&far), "rows need a domain");
    }

    #[test]
    fn keys_over_the_limits_are_refused() {
        let zkey = fixture();
        let key = parse_proving_key(&zkey).unwrap();
        let exact = Groth16Limits {
            max_constraints: key.num_constraints,
            max_witness_len: key.pk.a_query.len(),
            ..Groth16Limits::default()
        };
        parse_proving_key_with(&zkey, &exact).unwrap();
        for (tight, field) in [
            (
                Groth16Limits {
                    max_witness_len: exact.max_witness_len - 1,
                    ..exact
                },
                "max_witness_len",
            ),
            (
                Groth16Limits {
                    max_constraints: exact.max_constraints / 4,
                    ..exact
                },
                "max_constraints",
            ),
        ] {
            for err in [
                parse_header_with(&zkey, &tight).unwrap_err(),
                parse_proving_key_with(&zkey, &tight).unwrap_err(),
            ] {
                assert_eq!(err.code(), "over_limit", "{err}");
                assert!(err.to_string().contains(field), "{err}");
            }
        }
    }
}
