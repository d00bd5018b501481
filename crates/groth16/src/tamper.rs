//! Hostile-key builders for tests and rehearsals: each returns zkey bytes an honest prover
//! cannot prove with, made from a valid zkey by rewriting one section in the iden3 container
//! (the other sections are copied byte for byte, in their order).
//!
//! | builder                 | fault                                      | intake says       |
//! |-------------------------|--------------------------------------------|-------------------|
//! | [`keep_sections`]       | sections dropped                           | missing section   |
//! | [`alter_coefficient`]   | one section-4 value differs from the r1cs  | mismatch          |
//! | [`b2_outside_subgroup`] | a B2 point on the twist, outside G2        | not in subgroup   |
//! | [`skew_b2`]             | a B2 point doubled: in G2, but not B1's    | B1/B2 disagree    |
//! | [`degenerate_delta`]    | δ₁ = δ₂ = identity                         | identity          |
//! | [`mismatched_delta`]    | δ₂ doubled                                 | δ₁/δ₂ disagree    |
//! | [`swap_h_points`]       | two H points exchanged                     | **accepted**      |
//!
//! The last one is valid point by point and cannot be told from an honest key without the
//! powers of tau: its proofs simply fail, which is the case a second prover decides.
//!
//! Each builder fails with [`BackendError::Malformed`] when its input is not a zkey it can
//! rewrite (not a container, or no point of the kind it needs).

use ark_bn254::{Fq, Fq2, Fr, G2Affine};
use ark_ec::CurveGroup;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::binfile::{
    fr_double_montgomery, fr_double_montgomery_bytes, g2_montgomery, put_g2, write_container,
    BinFile, G1_BYTES, G2_BYTES,
};

/// Where δ₁ and δ₂ start in section 2: after the two fields (4 + 32 bytes each), the three
/// sizes, α₁, β₁, β₂ and γ₂.
const DELTA1: usize = 2 * 36 + 12 + 2 * G1_BYTES + 2 * G2_BYTES;
const DELTA2: usize = DELTA1 + G1_BYTES;

/// Only the sections listed in `ids`, in their original order.
pub fn keep_sections(zkey: &[u8], ids: &[u32]) -> Result<Vec<u8>, BackendError> {
    let sections = sections(zkey)?;
    let kept: Vec<(u32, &[u8])> = sections
        .into_iter()
        .filter(|(id, _)| ids.contains(id))
        .collect();
    Ok(write_container(b"zkey", 1, &kept))
}

/// Adds one to the first coefficient of a constraint row in section 4 (not a public-input
/// row, which the parser itself would refuse), so it no longer equals the r1cs's.
pub fn alter_coefficient(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    const ENTRY: usize = 44;
    let n_public = n_public(zkey)?;
    rewrite(zkey, 4, |body| {
        let entries = body.get(4..).unwrap_or_default();
        let row = |e: &[u8]| u32::from_le_bytes([e[4], e[5], e[6], e[7]]) as usize;
        let max_row = entries.chunks_exact(ENTRY).map(row).max();
        let n_constraints = max_row.and_then(|r| r.checked_sub(n_public));
        let first = entries
            .chunks_exact(ENTRY)
            .position(|e| n_constraints.is_some_and(|n| row(e) < n))
            .ok_or_else(|| malformed("section 4 has no constraint rows"))?;
        let at = 4 + first * ENTRY + 12;
        let value = fr_double_montgomery(&body[at..at + 32])
            .ok_or_else(|| malformed("section 4: coefficient not reduced"))?;
        body[at..at + 32].copy_from_slice(&fr_double_montgomery_bytes(value + Fr::from(1u8)));
        Ok(())
    })
}

/// Exchanges the first H point (section 9) with the first one that differs from it.
pub fn swap_h_points(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    rewrite(zkey, 9, |body| {
        let first = body
            .get(..G1_BYTES)
            .ok_or_else(|| malformed("no H points"))?;
        let other = body
            .chunks_exact(G1_BYTES)
            .position(|p| p != first)
            .ok_or_else(|| malformed("all H points are equal"))?;
        let (head, tail) = body.split_at_mut(other * G1_BYTES);
        head[..G1_BYTES].swap_with_slice(&mut tail[..G1_BYTES]);
        Ok(())
    })
}

/// Replaces the first B2 point that is not the identity (the first point if all are) by a
/// point of the twist outside G2: `x` hashed to the curve by try-and-increment, without
/// clearing the cofactor.
pub fn b2_outside_subgroup(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    let outside = (1u64..)
        .filter_map(|i| {
            G2Affine::get_point_from_x_unchecked(Fq2::new(Fq::from(i), Fq::from(7u8)), true)
        })
        .find(|p| !p.is_in_correct_subgroup_assuming_on_curve())
        .ok_or_else(|| malformed("no point found"))?;
    rewrite(zkey, 7, |body| {
        let i = first_non_identity(body).unwrap_or(0);
        let slot = body
            .get_mut(i * G2_BYTES..(i + 1) * G2_BYTES)
            .ok_or_else(|| malformed("no B2 points"))?;
        let mut point = Vec::with_capacity(G2_BYTES);
        put_g2(&mut point, &outside);
        slot.copy_from_slice(&point);
        Ok(())
    })
}

/// Doubles the first B2 point that is not the identity: still in G2, but no longer the
/// multiple of G2's generator that its B1 point is of G1's.
pub fn skew_b2(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    rewrite(zkey, 7, |body| {
        let i = first_non_identity(body).ok_or_else(|| malformed("every B2 point is zero"))?;
        let slot = &mut body[i * G2_BYTES..(i + 1) * G2_BYTES];
        double_g2(slot)
    })
}

/// Sets δ₁ and δ₂ (section 2) to the identity.
pub fn degenerate_delta(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    rewrite(zkey, 2, |body| {
        body.get_mut(DELTA1..DELTA2 + G2_BYTES)
            .ok_or_else(|| malformed("section 2 too short"))?
            .fill(0);
        Ok(())
    })
}

/// Doubles δ₂ (section 2), so that δ₁ and δ₂ are no longer the same multiple.
pub fn mismatched_delta(zkey: &[u8]) -> Result<Vec<u8>, BackendError> {
    rewrite(zkey, 2, |body| {
        let slot = body
            .get_mut(DELTA2..DELTA2 + G2_BYTES)
            .ok_or_else(|| malformed("section 2 too short"))?;
        double_g2(slot)
    })
}

fn sections(zkey: &[u8]) -> Result<Vec<(u32, &[u8])>, BackendError> {
    Ok(BinFile::parse(zkey, b"zkey", ArtifactRole::Zkey)?
        .sections()
        .to_vec())
}

/// The zkey with section `id`'s body edited by `edit`.
fn rewrite(
    zkey: &[u8],
    id: u32,
    edit: impl FnOnce(&mut Vec<u8>) -> Result<(), BackendError>,
) -> Result<Vec<u8>, BackendError> {
    let sections = sections(zkey)?;
    let at = sections
        .iter()
        .position(|(i, _)| *i == id)
        .ok_or_else(|| malformed(format!("no section {id} to rewrite")))?;
    let mut body = sections[at].1.to_vec();
    edit(&mut body)?;
    let mut out = sections;
    out[at].1 = &body;
    Ok(write_container(b"zkey", 1, &out))
}

fn n_public(zkey: &[u8]) -> Result<usize, BackendError> {
    let sections = sections(zkey)?;
    let s2 = sections
        .iter()
        .find(|(i, _)| *i == 2)
        .and_then(|(_, b)| b.get(76..80))
        .ok_or_else(|| malformed("no Groth16 header"))?;
    Ok(u32::from_le_bytes([s2[0], s2[1], s2[2], s2[3]]) as usize)
}

fn first_non_identity(b2: &[u8]) -> Option<usize> {
    b2.chunks_exact(G2_BYTES)
        .position(|p| p.iter().any(|&b| b != 0))
}

fn double_g2(slot: &mut [u8]) -> Result<(), BackendError> {
    let p = g2_montgomery(slot, false).map_err(malformed)?;
    let mut doubled = Vec::with_capacity(G2_BYTES);
    put_g2(&mut doubled, &(p + p).into_affine());
    slot.copy_from_slice(&doubled);
    Ok(())
}

fn malformed(reason: impl Into<String>) -> BackendError {
    BackendError::malformed(ArtifactRole::Zkey, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::binfile::bigint;
    use ark_ec::AffineRepr;

    #[test]
    fn offsets_match_the_parser() {
        let zkey = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/multiplier/multiplier.zkey"
        ))
        .unwrap();
        let h = crate::parse_header(&zkey).unwrap();
        assert_eq!(n_public(&zkey).unwrap(), h.n_public);
        let sections = sections(&zkey).unwrap();
        let s2 = sections.iter().find(|(i, _)| *i == 2).unwrap().1;
        let delta2 = g2_montgomery(&s2[DELTA2..DELTA2 + G2_BYTES], true).unwrap();
        assert_eq!(delta2, h.vk.delta_g2);
        assert_eq!(bigint(&s2[DELTA1..DELTA1 + 32]), h.delta_g1.x().unwrap().0);
    }
}
