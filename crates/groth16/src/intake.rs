//! The intake check of a zkey against its r1cs: everything about the pair that can be decided
//! from the two files alone, so that a key no honest prover can prove with is refused before
//! the pool quotes, and stakes a bond on, a task.
//!
//! ```text
//!   layout     sections 1-9 each exactly once, each exactly the size the header implies
//!   header     BN254 fields; α₁ β₁ β₂ γ₂ δ₁ δ₂ not the identity, G2 ones in the subgroup;
//!              wires, public signals and domain those of the r1cs
//!   points     every point of sections 3, 5, 8, 9 on the curve (G1's cofactor is 1)
//!   section 4  A and B equal the r1cs's, row by row, as sets; the public-input rows present
//!   B query    B2 in G2's subgroup, B1 and B2 the same multiples, δ and β pairs likewise
//!              (batched with random weights, see `batch`)
//! ```
//!
//! What it cannot decide: whether the A, C and H points are the multiples of τ the circuit
//! needs. That takes the powers of tau; a key with two H points swapped passes here and its
//! proofs fail (`tamper::swap_h_points` builds one). A second prover decides those cases.
//!
//! The check streams over the zkey's bytes instead of reusing the prover's parse. Intake runs
//! on the node, which never proves, and a parsed key at 2^20 constraints is hundreds of MiB
//! that the proving-key cache would then hold for nothing. Points are decoded, checked and
//! folded into bucket sums without being stored; only section 4 is materialised, transiently,
//! as the prover's matrices, to be compared with the r1cs. Errors are
//! [`BackendError::Malformed`] for a zkey broken by itself and [`BackendError::Mismatch`] for
//! one that disagrees with the r1cs, each naming the section, point or constraint.

use std::time::{Duration, Instant};

use ark_bn254::Fr;
use ark_ec::AffineRepr;
use ark_ff::Zero;
use ark_relations::r1cs::ConstraintMatrices;
use rand::rngs::{OsRng, StdRng};
use rand::{Rng, SeedableRng};
use rayon::prelude::*;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::batch::{self, BQuery};
use crate::binfile::{g1_montgomery, BinFile, G1_BYTES, G2_BYTES};
use crate::limits::Groth16Limits;
use crate::r1cs::{LinearCombination, R1cs};
use crate::zkey::{self, ZkeyHeader};

const ROLE: ArtifactRole = ArtifactRole::Zkey;

/// Names of sections 1-9, for errors.
const SECTIONS: [&str; 9] = [
    "header",
    "Groth16 header",
    "IC",
    "coefficients",
    "A points",
    "B1 points",
    "B2 points",
    "C points",
    "H points",
];

/// A passed check and where its time went.
#[derive(Debug, Clone, Copy, Default)]
pub struct KeyCheck {
    /// Layout, header, and the on-curve checks of sections 3, 5, 8 and 9.
    pub points: Duration,
    /// Section 4 against the r1cs.
    pub coefficients: Duration,
    /// B2 decoded, summed with random weights and the sums tested for the subgroup.
    pub g2_subgroup: Duration,
    /// B1 decoded and summed with the same weights, then the pairing check.
    pub consistency: Duration,
}

impl KeyCheck {
    /// The whole check.
    pub fn total(&self) -> Duration {
        self.points + self.coefficients + self.g2_subgroup + self.consistency
    }
}

/// Checks everything about `zkey` that can be checked from it and `r1cs`, with weights from
/// the operating system's randomness, within the default [`Groth16Limits`]. `Ok` means no
/// check found a fault, not that proofs will verify (see the module docs for what is left).
pub fn check_key(r1cs: &R1cs, zkey: &[u8]) -> Result<KeyCheck, BackendError> {
    check_key_with(r1cs, zkey, &Groth16Limits::default())
}

/// [`check_key`] within `limits`.
pub fn check_key_with(
    r1cs: &R1cs,
    zkey: &[u8],
    limits: &Groth16Limits,
) -> Result<KeyCheck, BackendError> {
    let mut rng = StdRng::from_rng(OsRng)
        .map_err(|e| BackendError::Internal(format!("no randomness for the key check: {e}")))?;
    check_key_seeded(r1cs, zkey, limits, &mut rng)
}

/// [`check_key_with`] with weights from `rng`.
pub(crate) fn check_key_seeded(
    r1cs: &R1cs,
    zkey: &[u8],
    limits: &Groth16Limits,
    rng: &mut impl Rng,
) -> Result<KeyCheck, BackendError> {
    let start = Instant::now();
    let file = BinFile::parse(zkey, b"zkey", ROLE)?;
    check_layout(&file)?;
    let h = zkey::header(&file)?;
    check_header(&h)?;
    check_match(r1cs, &h)?;
    zkey::check_limits(&h, limits)?;
    let n_private = h.n_vars - h.n_public - 1;
    for (id, n) in [(5, h.n_vars), (8, n_private), (9, h.domain_size)] {
        check_g1_section(&file, id, n)?;
    }
    let points = start.elapsed();

    let start = Instant::now();
    let (matrices, num_constraints) = zkey::coefficients(&file, &h, limits)?;
    if num_constraints != r1cs.n_constraints() {
        return Err(BackendError::Mismatch(format!(
            "section 4 has {num_constraints} constraints, the r1cs {}",
            r1cs.n_constraints()
        )));
    }
    compare_coefficients(r1cs, &matrices)?;
    drop(matrices);
    let coefficients = start.elapsed();

    let b1 = section_points(&file, 6, h.n_vars, G1_BYTES)?;
    let b2 = section_points(&file, 7, h.n_vars, G2_BYTES)?;
    let timing = batch::check(
        &BQuery {
            b1,
            b2,
            n: h.n_vars,
        },
        &h,
        rng,
    )?;
    Ok(KeyCheck {
        points,
        coefficients,
        g2_subgroup: timing.g2_subgroup,
        consistency: timing.consistency,
    })
}

/// Checks that a zkey was made for an r1cs, as far as the header tells.
pub(crate) fn check_match(r1cs: &R1cs, h: &ZkeyHeader) -> Result<(), BackendError> {
    let rows = r1cs.n_constraints() + r1cs.n_public + 1;
    if h.n_vars != r1cs.n_wires || h.n_public != r1cs.n_public || h.domain_size < rows {
        return Err(BackendError::Mismatch(format!(
            "the zkey is for {} wires, {} public signals and at most {} rows; the r1cs has {} \
             wires, {} public signals and {rows} rows",
            h.n_vars, h.n_public, h.domain_size, r1cs.n_wires, r1cs.n_public
        )));
    }
    Ok(())
}

/// Sections 1-9 each exactly once: snarkjs refuses a repeated section, and a reader that took
/// the first copy would check other bytes than a reader that took the last.
fn check_layout(file: &BinFile<'_>) -> Result<(), BackendError> {
    for (id, name) in (1u32..).zip(SECTIONS) {
        match file.sections().iter().filter(|(i, _)| *i == id).count() {
            1 => {}
            0 => {
                return Err(BackendError::malformed(
                    ROLE,
                    format!("missing section {id} ({name})"),
                ))
            }
            n => {
                return Err(BackendError::malformed(
                    ROLE,
                    format!("section {id} ({name}) appears {n} times"),
                ))
            }
        }
    }
    Ok(())
}

/// The verifying key's points must not be the identity: with α, β or δ zero no proof binds
/// the witness, with γ or δ zero the verifier's equation degenerates.
fn check_header(h: &ZkeyHeader) -> Result<(), BackendError> {
    let identities = [
        ("alpha1", h.vk.alpha_g1.is_zero()),
        ("beta1", h.beta_g1.is_zero()),
        ("beta2", h.vk.beta_g2.is_zero()),
        ("gamma2", h.vk.gamma_g2.is_zero()),
        ("delta1", h.delta_g1.is_zero()),
        ("delta2", h.vk.delta_g2.is_zero()),
    ];
    match identities.iter().find(|(_, zero)| *zero) {
        Some((name, _)) => Err(BackendError::malformed(
            ROLE,
            format!("section 2 (Groth16 header): {name} is the identity"),
        )),
        None => Ok(()),
    }
}

/// The body of section `id`, exactly `n` points of `size` bytes.
fn section_points<'a>(
    file: &BinFile<'a>,
    id: u32,
    n: usize,
    size: usize,
) -> Result<&'a [u8], BackendError> {
    let mut s = file.section(id, SECTIONS[id as usize - 1])?;
    zkey::points_body(&mut s, n, size)
}

/// Every point of a G1 section on the curve, checked in parallel without keeping the points.
fn check_g1_section(file: &BinFile<'_>, id: u32, n: usize) -> Result<(), BackendError> {
    let body = section_points(file, id, n, G1_BYTES)?;
    let name = SECTIONS[id as usize - 1];
    body.par_chunks_exact(G1_BYTES)
        .enumerate()
        .try_for_each(|(i, b)| {
            g1_montgomery(b).map(drop).map_err(|e| {
                BackendError::malformed(ROLE, format!("section {id} ({name}): point {i}: {e}"))
            })
        })
}

/// Section 4's `A` and `B` rows against the r1cs's, each compared as the function of the
/// witness it computes: terms on one wire summed, zero terms dropped, order ignored.
fn compare_coefficients(r1cs: &R1cs, m: &ConstraintMatrices<Fr>) -> Result<(), BackendError> {
    let differs = |i: usize| {
        let [a, b, _] = &r1cs.constraints[i];
        if !same_lc(&m.a[i], a) {
            Some("A")
        } else if !same_lc(&m.b[i], b) {
            Some("B")
        } else {
            None
        }
    };
    let first = (0..r1cs.n_constraints())
        .into_par_iter()
        .find_first(|&i| differs(i).is_some());
    match first {
        None => Ok(()),
        Some(i) => Err(BackendError::Mismatch(format!(
            "constraint {i}: the zkey's {} coefficients (section 4) differ from the r1cs's",
            differs(i).unwrap_or("A")
        ))),
    }
}

fn same_lc(zkey: &[(Fr, usize)], r1cs: &LinearCombination) -> bool {
    // Fast path, without allocating: circom and snarkjs write each row sorted by wire, without
    // repeats or zeros, and such a form is unique.
    let zkey_canonical =
        zkey.windows(2).all(|w| w[0].1 < w[1].1) && zkey.iter().all(|(v, _)| !v.is_zero());
    let r1cs_canonical =
        r1cs.windows(2).all(|w| w[0].0 < w[1].0) && r1cs.iter().all(|(_, v)| !v.is_zero());
    if zkey_canonical && r1cs_canonical {
        return zkey.len() == r1cs.len()
            && zkey
                .iter()
                .zip(r1cs)
                .all(|(&(v, s), &(w, u))| s == w && v == u);
    }
    normalise(zkey.iter().map(|&(v, s)| (s, v)).collect()) == normalise(r1cs.clone())
}

/// Sorted by wire, terms on one wire summed, zero terms dropped.
fn normalise(mut terms: Vec<(usize, Fr)>) -> Vec<(usize, Fr)> {
    terms.sort_unstable_by_key(|t| t.0);
    let mut out: Vec<(usize, Fr)> = Vec::with_capacity(terms.len());
    for (wire, value) in terms {
        match out.last_mut() {
            Some(last) if last.0 == wire => last.1 += value,
            _ => out.push((wire, value)),
        }
    }
    out.retain(|(_, v)| !v.is_zero());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(file: &str) -> Vec<u8> {
        let path = format!(
            "{}/../../fixtures/multiplier/{file}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(path).unwrap()
    }

    #[test]
    fn rows_compare_as_functions_of_the_witness() {
        let one = Fr::from(1u8);
        let two = Fr::from(2u8);
        let r1cs: LinearCombination = vec![(2, one), (5, two)];
        assert!(same_lc(&[(two, 5), (one, 2)], &r1cs), "order ignored");
        assert!(
            same_lc(&[(one, 5), (one, 2), (one, 5)], &r1cs),
            "repeats summed"
        );
        assert!(
            same_lc(&[(one, 2), (Fr::zero(), 3), (two, 5)], &r1cs),
            "zeros dropped"
        );
        assert!(!same_lc(&[(one, 2)], &r1cs));
        assert!(!same_lc(&[(one, 2), (one, 5)], &r1cs));
        assert!(!same_lc(&[(one, 2), (two, 6)], &r1cs));
    }

    #[test]
    fn the_fixture_passes_and_a_foreign_r1cs_does_not() {
        let r1cs = R1cs::parse(&fixture("multiplier.r1cs")).unwrap();
        let zkey = fixture("multiplier.zkey");
        let mut rng = StdRng::seed_from_u64(1);
        let check = check_key_seeded(&r1cs, &zkey, &Groth16Limits::default(), &mut rng).unwrap();
        assert!(check.total() >= check.points);

        let mut other = r1cs.clone();
        other.constraints[7][1][0].1 += Fr::from(1u8);
        let err = check_key_seeded(&other, &zkey, &Groth16Limits::default(), &mut rng).unwrap_err();
        assert!(matches!(err, BackendError::Mismatch(_)), "{err}");
        assert!(
            err.to_string().contains("constraint 7: the zkey's B"),
            "{err}"
        );
    }

    #[test]
    fn a_repeated_section_is_refused() {
        let zkey = fixture("multiplier.zkey");
        let file = BinFile::parse(&zkey, b"zkey", ROLE).unwrap();
        let mut sections = file.sections().to_vec();
        sections.push(sections[5]);
        let twice = crate::binfile::write_container(b"zkey", 1, &sections);
        let r1cs = R1cs::parse(&fixture("multiplier.r1cs")).unwrap();
        let err = check_key(&r1cs, &twice).unwrap_err();
        assert!(err.to_string().contains("appears 2 times"), "{err}");
    }
}
