//! The container shared by iden3's binary formats (`.r1cs`, `.zkey`, `.wtns`), and the field
//! and point encodings inside them.
//!
//! ```text
//!   magic[4] version:u32 n_sections:u32 { id:u32 size:u64 bytes[size] } * n_sections
//! ```
//!
//! Everything is little-endian. Readers index into the in-memory bytes: artifacts arrive as
//! `Arc<[u8]>`, so copying through `io::Read` would only cost time. Every length is checked
//! before it is used, so a truncated or garbled file is an error, never a panic. The writers
//! ([`write_container`] and the point and field encoders) exist for the key generator and the
//! hostile-key builders, which must produce files the readers, and snarkjs, accept.

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

/// A parsed container: its version and sections, in file order.
#[derive(Debug)]
pub(crate) struct BinFile<'a> {
    role: ArtifactRole,
    pub version: u32,
    sections: Vec<(u32, &'a [u8])>,
}

impl<'a> BinFile<'a> {
    /// Splits `bytes` into sections after checking the magic.
    pub fn parse(
        bytes: &'a [u8],
        magic: &[u8; 4],
        role: ArtifactRole,
    ) -> Result<Self, BackendError> {
        let mut r = Cursor::new(bytes, role, "file header");
        if r.bytes(4)? != magic {
            return Err(BackendError::malformed(
                role,
                format!("bad magic: expected {:?}", String::from_utf8_lossy(magic)),
            ));
        }
        let version = r.u32()?;
        let n_sections = r.usize()?;
        // A section takes at least its 12-byte header: bound the list by the bytes present.
        if n_sections > r.remaining() / 12 {
            return Err(r.err(format!(
                "{n_sections} sections do not fit in {} bytes",
                r.remaining()
            )));
        }
        let mut sections = Vec::with_capacity(n_sections);
        for _ in 0..n_sections {
            let id = r.u32()?;
            let size = r.u64()?;
            let size = usize::try_from(size).map_err(|_| r.err("section size overflows"))?;
            r.what = "section";
            let body = r.bytes(size)?;
            r.what = "file header";
            sections.push((id, body));
        }
        Ok(Self {
            role,
            version,
            sections,
        })
    }

    /// The sections in file order, as `(id, body)`.
    pub fn sections(&self) -> &[(u32, &'a [u8])] {
        &self.sections
    }

    /// The first section with `id`, or an error naming it.
    pub fn section(&self, id: u32, name: &'static str) -> Result<Cursor<'a>, BackendError> {
        self.sections
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, body)| Cursor::new(body, self.role, name))
            .ok_or_else(|| {
                BackendError::malformed(self.role, format!("missing section {id} ({name})"))
            })
    }
}

/// A bounds-checked little-endian reader over one section.
#[derive(Debug, Clone)]
pub(crate) struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
    role: ArtifactRole,
    /// Names the section in errors.
    pub what: &'static str,
}

impl<'a> Cursor<'a> {
    pub fn new(buf: &'a [u8], role: ArtifactRole, what: &'static str) -> Self {
        Self {
            buf,
            pos: 0,
            role,
            what,
        }
    }

    /// An error about this section.
    pub fn err(&self, reason: impl std::fmt::Display) -> BackendError {
        BackendError::malformed(self.role, format!("{}: {reason}", self.what))
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8], BackendError> {
        if n > self.remaining() {
            return Err(self.err(format!(
                "truncated: needs {n} bytes at offset {}, has {}",
                self.pos,
                self.remaining()
            )));
        }
        let out = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub fn u32(&mut self) -> Result<u32, BackendError> {
        let b = self.bytes(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    pub fn u64(&mut self) -> Result<u64, BackendError> {
        let b = self.bytes(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    /// A `u32` count or index as `usize`.
    pub fn usize(&mut self) -> Result<usize, BackendError> {
        // u32 always fits in usize on the 32- and 64-bit targets we build for.
        Ok(self.u32()? as usize)
    }

    /// Requires that the section was consumed exactly, which catches a wrong count early.
    pub fn finish(&self) -> Result<(), BackendError> {
        if self.remaining() != 0 {
            return Err(self.err(format!("{} unexpected trailing bytes", self.remaining())));
        }
        Ok(())
    }
}

/// An iden3 container: the inverse of [`BinFile::parse`].
pub(crate) fn write_container(magic: &[u8; 4], version: u32, sections: &[(u32, &[u8])]) -> Vec<u8> {
    let len = 12 + sections.iter().map(|(_, b)| 12 + b.len()).sum::<usize>();
    let mut out = Vec::with_capacity(len);
    out.extend(magic);
    out.extend(version.to_le_bytes());
    out.extend((sections.len() as u32).to_le_bytes());
    for (id, body) in sections {
        out.extend(id.to_le_bytes());
        out.extend((body.len() as u64).to_le_bytes());
        out.extend(*body);
    }
    out
}

/// 32 little-endian bytes as a 256-bit integer. `b` must be 32 bytes long.
pub(crate) fn bigint(b: &[u8]) -> BigInt<4> {
    let mut limbs = [0u64; 4];
    for (limb, chunk) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        let mut a = [0u8; 8];
        a.copy_from_slice(chunk);
        *limb = u64::from_le_bytes(a);
    }
    BigInt::new(limbs)
}

/// The 32-byte little-endian encoding of a prime as iden3 files store it.
pub(crate) fn prime_bytes(p: BigInt<4>) -> [u8; 32] {
    let mut out = [0u8; 32];
    for (chunk, limb) in out.chunks_exact_mut(8).zip(p.0) {
        chunk.copy_from_slice(&limb.to_le_bytes());
    }
    out
}

/// An Fr in standard form (`.r1cs`, `.wtns`); `None` if not reduced.
pub(crate) fn fr_standard(b: &[u8]) -> Option<Fr> {
    Fr::from_bigint(bigint(b))
}

/// An Fr as zkey section 4 stores it: Montgomery form applied twice (snarkjs multiplies the
/// coefficients by R² so that one Montgomery multiplication yields a Montgomery-form product).
pub(crate) fn fr_double_montgomery(b: &[u8]) -> Option<Fr> {
    let raw = bigint(b);
    if raw >= Fr::MODULUS {
        return None;
    }
    Some(Fr::new_unchecked(Fr::new_unchecked(raw).into_bigint()))
}

/// An Fr in standard form, as `.r1cs` and `.wtns` files store it.
pub(crate) fn fr_standard_bytes(v: Fr) -> [u8; 32] {
    prime_bytes(v.into_bigint())
}

/// An Fr as zkey section 4 stores it, the inverse of [`fr_double_montgomery`]: the Montgomery
/// representation of the element whose value is `v`'s Montgomery representation.
pub(crate) fn fr_double_montgomery_bytes(v: Fr) -> [u8; 32] {
    // `v.0` < r, so `from_bigint` cannot fail; the fallback only keeps this total.
    let once = Fr::from_bigint(v.0).unwrap_or_default();
    prime_bytes(once.0)
}

/// An Fq in Montgomery form (zkey points); `None` if not reduced.
fn fq_montgomery(b: &[u8]) -> Option<Fq> {
    let raw = bigint(b);
    // A Montgomery representative must be below the modulus like any other.
    (raw < Fq::MODULUS).then(|| Fq::new_unchecked(raw))
}

/// Bytes of one encoded G1 point.
pub(crate) const G1_BYTES: usize = 64;
/// Bytes of one encoded G2 point.
pub(crate) const G2_BYTES: usize = 128;

/// A G1 point from `x ‖ y` in Montgomery form; all zeros is the point at infinity. BN254 G1 has
/// cofactor 1, so being on the curve is enough.
pub(crate) fn g1_montgomery(b: &[u8]) -> Result<G1Affine, &'static str> {
    let x = fq_montgomery(&b[..32]).ok_or("coordinate not reduced")?;
    let y = fq_montgomery(&b[32..64]).ok_or("coordinate not reduced")?;
    if b.iter().all(|&v| v == 0) {
        return Ok(G1Affine::identity());
    }
    // `new` would assert; a bad point in a file is an error, not a panic.
    let p = G1Affine::new_unchecked(x, y);
    if !p.is_on_curve() {
        return Err("G1 point not on the curve");
    }
    Ok(p)
}

/// A G2 point from `x.c0 ‖ x.c1 ‖ y.c0 ‖ y.c1` in Montgomery form, checked to be on the curve
/// and, when `subgroup` is set, in the prime-order subgroup (G2's cofactor is not 1).
pub(crate) fn g2_montgomery(b: &[u8], subgroup: bool) -> Result<G2Affine, &'static str> {
    let mut c = [Fq::from(0u8); 4];
    for (i, out) in c.iter_mut().enumerate() {
        *out = fq_montgomery(&b[32 * i..32 * (i + 1)]).ok_or("coordinate not reduced")?;
    }
    if b.iter().all(|&v| v == 0) {
        return Ok(G2Affine::identity());
    }
    let p = G2Affine::new_unchecked(Fq2::new(c[0], c[1]), Fq2::new(c[2], c[3]));
    if !p.is_on_curve() {
        return Err("G2 point not on the curve");
    }
    if subgroup && !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err("G2 point not in the prime-order subgroup");
    }
    Ok(p)
}

/// Appends a G1 point as zkeys store it (the inverse of [`g1_montgomery`]).
pub(crate) fn put_g1(out: &mut Vec<u8>, p: &G1Affine) {
    match p.xy() {
        Some((x, y)) => {
            out.extend(prime_bytes(x.0));
            out.extend(prime_bytes(y.0));
        }
        None => out.extend([0u8; G1_BYTES]),
    }
}

/// Appends a G2 point as zkeys store it (the inverse of [`g2_montgomery`]).
pub(crate) fn put_g2(out: &mut Vec<u8>, p: &G2Affine) {
    match p.xy() {
        Some((x, y)) => {
            for f in [x.c0, x.c1, y.c0, y.c1] {
                out.extend(prime_bytes(f.0));
            }
        }
        None => out.extend([0u8; G2_BYTES]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::{CurveGroup, PrimeGroup};
    use ark_std::UniformRand;

    fn container(magic: &[u8; 4], sections: &[(u32, &[u8])]) -> Vec<u8> {
        write_container(magic, 1, sections)
    }

    #[test]
    fn encoders_invert_the_decoders() {
        let mut rng = ark_std::test_rng();
        for _ in 0..8 {
            let v = Fr::rand(&mut rng);
            assert_eq!(
                fr_double_montgomery(&fr_double_montgomery_bytes(v)),
                Some(v)
            );
            assert_eq!(fr_standard(&fr_standard_bytes(v)), Some(v));
            let p1 = (ark_bn254::G1Projective::generator() * v).into_affine();
            let p2 = (ark_bn254::G2Projective::generator() * v).into_affine();
            let (mut b1, mut b2) = (Vec::new(), Vec::new());
            put_g1(&mut b1, &p1);
            put_g2(&mut b2, &p2);
            assert_eq!(g1_montgomery(&b1), Ok(p1));
            assert_eq!(g2_montgomery(&b2, true), Ok(p2));
        }
        let mut zero = Vec::new();
        put_g1(&mut zero, &G1Affine::identity());
        put_g2(&mut zero, &G2Affine::identity());
        assert!(zero.iter().all(|&b| b == 0));
    }

    #[test]
    fn reads_sections_and_rejects_truncation() {
        let file = container(b"test", &[(1, &[1, 0, 0, 0]), (2, &[9; 3])]);
        let bin = BinFile::parse(&file, b"test", ArtifactRole::R1cs).unwrap();
        assert_eq!(bin.section(1, "one").unwrap().u32().unwrap(), 1);
        let mut two = bin.section(2, "two").unwrap();
        assert!(two.u32().is_err(), "3 bytes are not a u32");
        assert!(bin.section(3, "three").is_err());
        for cut in 0..file.len() {
            assert!(BinFile::parse(&file[..cut], b"test", ArtifactRole::R1cs).is_err());
        }
        assert!(BinFile::parse(&file, b"tesT", ArtifactRole::R1cs).is_err());
    }

    #[test]
    fn huge_section_size_is_an_error() {
        let mut file = container(b"test", &[(1, &[0; 4])]);
        file[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(BinFile::parse(&file, b"test", ArtifactRole::Zkey).is_err());
    }

    #[test]
    fn points_off_the_curve_are_errors() {
        assert!(g1_montgomery(&[0; 64]).unwrap().is_zero());
        let mut b = [0u8; 64];
        b[0] = 1;
        assert!(g1_montgomery(&b).is_err());
        assert!(g1_montgomery(&[0xff; 64]).is_err(), "unreduced coordinates");
        let mut b2 = [0u8; 128];
        b2[5] = 7;
        assert!(g2_montgomery(&b2, true).is_err());
        assert!(g2_montgomery(&b2, false).is_err());
    }

    #[test]
    fn g2_points_outside_the_subgroup_are_caught_when_asked() {
        let point = (1u64..)
            .find_map(|i| {
                G2Affine::get_point_from_x_unchecked(Fq2::new(Fq::from(i), Fq::from(1u8)), true)
            })
            .unwrap();
        assert!(!point.is_in_correct_subgroup_assuming_on_curve());
        let (x, y) = point.xy().unwrap();
        let mut b = Vec::new();
        for f in [x.c0, x.c1, y.c0, y.c1] {
            // `.0` is the Montgomery representation, as zkeys store it.
            b.extend(prime_bytes(f.0));
        }
        assert_eq!(g2_montgomery(&b, false), Ok(point));
        assert!(g2_montgomery(&b, true).unwrap_err().contains("subgroup"));
    }

    #[test]
    fn field_elements_must_be_reduced() {
        assert!(fr_standard(&prime_bytes(Fr::MODULUS)).is_none());
        let mut one = [0u8; 32];
        one[0] = 1;
        assert_eq!(fr_standard(&one), Some(Fr::from(1u8)));
        assert!(fr_double_montgomery(&[0xff; 32]).is_none());
    }
}
