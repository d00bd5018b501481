//! circom's `.r1cs` constraint system (iden3 `r1csfile` format, version 1) and the check that
//! a witness satisfies it.
//!
//! Sections: 1 header (field size, prime, wire and signal counts), 2 constraints (`A`, `B`,
//! `C` linear combinations of wires), 3 wire-to-label map (ignored: labels only help debugging).
//! [`R1cs::to_bytes`] writes the format back, for generated circuits.

use ark_bn254::Fr;
use ark_ff::{PrimeField, Zero};
use rayon::prelude::*;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::binfile::{fr_standard, fr_standard_bytes, prime_bytes, write_container, BinFile};
use crate::limits::{check_count, Groth16Limits};

const ROLE: ArtifactRole = ArtifactRole::R1cs;

/// A linear combination of wires: `(wire index, coefficient)`.
pub type LinearCombination = Vec<(usize, Fr)>;

/// A parsed circom constraint system.
#[derive(Debug, Clone)]
pub struct R1cs {
    /// Wires, including the constant-one wire 0: the witness length.
    pub n_wires: usize,
    /// Public signals: public outputs then public inputs, wires `1..=n_public`.
    pub n_public: usize,
    /// Constraints `A·w * B·w = C·w`, each as `[A, B, C]`.
    pub constraints: Vec<[LinearCombination; 3]>,
}

impl R1cs {
    /// Parses and validates an `.r1cs` file within the default [`Groth16Limits`].
    pub fn parse(bytes: &[u8]) -> Result<Self, BackendError> {
        Self::parse_with(bytes, &Groth16Limits::default())
    }

    /// Parses and validates an `.r1cs` file; more wires or constraints than `limits` allow
    /// are [`BackendError::OverLimit`], refused before anything is allocated for them.
    pub fn parse_with(bytes: &[u8], limits: &Groth16Limits) -> Result<Self, BackendError> {
        let file = BinFile::parse(bytes, b"r1cs", ROLE)?;
        if file.version != 1 {
            return Err(BackendError::malformed(
                ROLE,
                format!("unsupported version {}", file.version),
            ));
        }

        let mut h = file.section(1, "header")?;
        let field_size = h.u32()?;
        if field_size != 32 {
            return Err(h.err(format!("field size {field_size}, BN254 needs 32")));
        }
        if h.bytes(32)? != prime_bytes(Fr::MODULUS) {
            return Err(h.err("the field is not BN254's scalar field (compile with -p bn128)"));
        }
        let n_wires = h.usize()?;
        let n_pub_out = h.usize()?;
        let n_pub_in = h.usize()?;
        let _n_prv_in = h.u32()?;
        let _n_labels = h.u64()?;
        let n_constraints = h.usize()?;
        let n_public = n_pub_out
            .checked_add(n_pub_in)
            .filter(|&p| p < n_wires)
            .ok_or_else(|| h.err("more public signals than wires"))?;
        check_count(
            ROLE,
            "wires",
            n_wires,
            limits.max_witness_len,
            "max_witness_len",
        )?;

        let mut c = file.section(2, "constraints")?;
        // Each constraint takes at least 12 bytes (three empty combinations) and each term 36,
        // so what is allocated stays within a small multiple of the section's size (see
        // `Weigh for R1cs`). A count the bytes cannot hold is a broken file whatever the
        // limits, so that check comes first.
        if n_constraints > c.remaining() / 12 {
            return Err(c.err(format!(
                "{n_constraints} constraints do not fit the section"
            )));
        }
        check_count(
            ROLE,
            "constraints",
            n_constraints,
            limits.max_constraints,
            "max_constraints",
        )?;
        let mut constraints = Vec::with_capacity(n_constraints);
        for _ in 0..n_constraints {
            let mut lcs: [LinearCombination; 3] = Default::default();
            for lc in &mut lcs {
                let n = c.usize()?;
                if n > c.remaining() / 36 {
                    return Err(c.err("linear combination longer than the section"));
                }
                lc.reserve_exact(n);
                for _ in 0..n {
                    let wire = c.usize()?;
                    if wire >= n_wires {
                        return Err(c.err(format!("wire {wire} out of range ({n_wires} wires)")));
                    }
                    let value = fr_standard(c.bytes(32)?)
                        .ok_or_else(|| c.err("coefficient not reduced modulo the field"))?;
                    lc.push((wire, value));
                }
            }
            constraints.push(lcs);
        }
        c.finish()?;

        Ok(Self {
            n_wires,
            n_public,
            constraints,
        })
    }

    /// Number of constraints.
    pub fn n_constraints(&self) -> usize {
        self.constraints.len()
    }

    /// Constraints with at least one non-zero coefficient in `A`, `B` or `C`: what proving
    /// costs, since an empty constraint (`0 * 0 = 0`) adds nothing to the prover's sums.
    pub fn n_nonempty_constraints(&self) -> usize {
        self.constraints
            .par_iter()
            .filter(|lcs| lcs.iter().flatten().any(|(_, v)| !v.is_zero()))
            .count()
    }

    /// The constraint system as an `.r1cs` file. The public signals are all written as public
    /// outputs, the split this type does not keep; every wire is its own label.
    pub fn to_bytes(&self) -> Vec<u8> {
        let u32_bytes = |v: usize| (v as u32).to_le_bytes();
        let mut header = 32u32.to_le_bytes().to_vec();
        header.extend(prime_bytes(Fr::MODULUS));
        let n_private = self.n_wires.saturating_sub(1 + self.n_public);
        for v in [self.n_wires, self.n_public, 0, n_private] {
            header.extend(u32_bytes(v));
        }
        header.extend((self.n_wires as u64).to_le_bytes());
        header.extend(u32_bytes(self.constraints.len()));

        let mut constraints = Vec::new();
        for lc in self.constraints.iter().flatten() {
            constraints.extend(u32_bytes(lc.len()));
            for &(wire, value) in lc {
                constraints.extend(u32_bytes(wire));
                constraints.extend(fr_standard_bytes(value));
            }
        }
        let labels: Vec<u8> = (0..self.n_wires as u64)
            .flat_map(u64::to_le_bytes)
            .collect();
        write_container(b"r1cs", 1, &[(1, &header), (2, &constraints), (3, &labels)])
    }

    /// Checks that `witness` has one value per wire, starts with 1 and satisfies every
    /// constraint; the error names the first failing constraint.
    pub fn check_witness(&self, witness: &[Fr]) -> Result<(), BackendError> {
        self.check_shape(witness)?;
        let eval = |lc: &LinearCombination| {
            lc.iter().fold(Fr::zero(), |acc, (wire, coeff)| {
                acc + witness[*wire] * coeff
            })
        };
        let failing = self
            .constraints
            .par_iter()
            .position_first(|[a, b, c]| eval(a) * eval(b) != eval(c));
        match failing {
            None => Ok(()),
            Some(i) => Err(BackendError::WitnessUnsatisfied(format!(
                "constraint {i} of {} fails",
                self.constraints.len()
            ))),
        }
    }

    /// What [`R1cs::check_witness`] checks before the constraints: one value per wire, the
    /// first equal to 1.
    pub fn check_shape(&self, witness: &[Fr]) -> Result<(), BackendError> {
        if witness.len() != self.n_wires {
            return Err(BackendError::Mismatch(format!(
                "witness has {} values, the circuit {} wires",
                witness.len(),
                self.n_wires
            )));
        }
        if witness.first() != Some(&Fr::from(1u8)) {
            return Err(BackendError::WitnessUnsatisfied(
                "witness[0] must be 1".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// out = a * b, with wires [1, out, a, b] and out public.
    fn tiny_r1cs() -> Vec<u8> {
        let fe = |v: u8| {
            let mut b = [0u8; 32];
            b[0] = v;
            b
        };
        let mut header = 32u32.to_le_bytes().to_vec();
        header.extend(prime_bytes(Fr::MODULUS));
        for v in [4u32, 1, 0, 2] {
            header.extend(v.to_le_bytes());
        }
        header.extend(4u64.to_le_bytes());
        header.extend(1u32.to_le_bytes());
        let mut cons = Vec::new();
        for wire in [2u32, 3, 1] {
            cons.extend(1u32.to_le_bytes());
            cons.extend(wire.to_le_bytes());
            cons.extend(fe(1));
        }
        let mut out = b"r1cs".to_vec();
        out.extend(1u32.to_le_bytes());
        out.extend(2u32.to_le_bytes());
        for (id, body) in [(1u32, header), (2, cons)] {
            out.extend(id.to_le_bytes());
            out.extend((body.len() as u64).to_le_bytes());
            out.extend(body);
        }
        out
    }

    #[test]
    fn parses_and_checks_a_witness() {
        let r = R1cs::parse(&tiny_r1cs()).unwrap();
        assert_eq!((r.n_wires, r.n_public, r.n_constraints()), (4, 1, 1));
        let w = |v: [u64; 4]| v.map(Fr::from).to_vec();
        r.check_witness(&w([1, 6, 2, 3])).unwrap();
        let err = r.check_witness(&w([1, 7, 2, 3])).unwrap_err();
        assert!(err.to_string().contains("constraint 0"), "{err}");
        assert!(matches!(
            r.check_witness(&w([2, 6, 2, 3])),
            Err(BackendError::WitnessUnsatisfied(_))
        ));
        assert!(matches!(
            r.check_witness(&[Fr::from(1u8)]),
            Err(BackendError::Mismatch(_))
        ));
    }

    #[test]
    fn writes_what_it_parses_and_counts_nonempty_constraints() {
        let mut r = R1cs::parse(&tiny_r1cs()).unwrap();
        assert_eq!(
            R1cs::parse(&r.to_bytes()).unwrap().constraints,
            r.constraints
        );
        assert_eq!(r.n_nonempty_constraints(), 1);
        // Padding: an empty constraint and one with only zero coefficients.
        r.constraints.push(Default::default());
        r.constraints
            .push([vec![(1, Fr::zero())], Vec::new(), vec![(2, Fr::zero())]]);
        let padded = R1cs::parse(&r.to_bytes()).unwrap();
        assert_eq!(
            (padded.n_constraints(), padded.n_nonempty_constraints()),
            (3, 1)
        );
    }

    #[test]
    fn every_truncation_is_an_error() {
        let file = tiny_r1cs();
        for cut in 0..file.len() {
            assert!(R1cs::parse(&file[..cut]).is_err(), "cut at {cut}");
        }
    }

    /// Offset of the header's constraint count: container and section headers, then field
    /// size, prime, four counts and the label count.
    const N_CONSTRAINTS: usize = 12 + 12 + 4 + 32 + 16 + 8;

    #[test]
    fn a_constraint_count_the_bytes_cannot_hold_is_malformed_before_any_limit() {
        let mut file = tiny_r1cs();
        file[N_CONSTRAINTS..N_CONSTRAINTS + 4].copy_from_slice(&(1u32 << 30).to_le_bytes());
        let err = R1cs::parse(&file).unwrap_err();
        assert_eq!(err.code(), "malformed_artifact", "{err}");
        assert!(
            err.to_string()
                .contains("1073741824 constraints do not fit"),
            "{err}"
        );
        let none = Groth16Limits {
            max_constraints: 0,
            ..Groth16Limits::default()
        };
        let err = R1cs::parse_with(&file, &none).unwrap_err();
        assert_eq!(
            err.code(),
            "malformed_artifact",
            "the lie is found first: {err}"
        );
    }

    #[test]
    fn circuits_over_the_limits_are_refused() {
        let file = tiny_r1cs();
        let limits = |max_constraints, max_witness_len| Groth16Limits {
            max_constraints,
            max_witness_len,
            ..Groth16Limits::default()
        };
        assert!(R1cs::parse_with(&file, &limits(1, 4)).is_ok());
        for (tight, field) in [
            (limits(0, 4), "max_constraints"),
            (limits(1, 3), "max_witness_len"),
        ] {
            let err = R1cs::parse_with(&file, &tight).unwrap_err();
            assert!(
                matches!(err, BackendError::OverLimit { role: ROLE, .. }),
                "{err}"
            );
            assert!(err.to_string().contains(field), "{err}");
        }
    }

    #[test]
    fn wire_out_of_range_and_wrong_prime_are_errors() {
        let mut file = tiny_r1cs();
        let len = file.len();
        // The last term's wire index sits 36 bytes before the end.
        file[len - 36] = 9;
        assert!(R1cs::parse(&file)
            .unwrap_err()
            .to_string()
            .contains("out of range"));
        let mut file = tiny_r1cs();
        file[12 + 12 + 4] ^= 1;
        assert!(R1cs::parse(&file)
            .unwrap_err()
            .to_string()
            .contains("BN254"));
    }
}
