//! snarkjs's JSON forms: `proof.json`, `public.json` and `verification_key.json`.
//!
//! Numbers are decimal strings; points are projective triples with `z = "1"` (affine) or the
//! point at infinity (`["0", "1", "0"]`); an Fq2 element is `[c0, c1]`.

use std::str::FromStr;

use ark_bn254::{Bn254, Fq, Fq12, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::pairing::Pairing;
use ark_ec::AffineRepr;
use ark_ff::{BigInt, PrimeField};
use ark_groth16::{Proof, VerifyingKey};
use num_bigint::BigUint;
use serde_json::{json, Value};

/// Digits of the largest decimal string read as a field element (BN254's moduli have 77).
const MAX_DIGITS: usize = 78;

/// A field element as a decimal string.
fn dec<F: PrimeField<BigInt = BigInt<4>>>(x: &F) -> Value {
    Value::String(BigUint::from(x.into_bigint()).to_string())
}

/// Parses a canonical decimal field element (below the modulus).
fn parse_dec<F: PrimeField<BigInt = BigInt<4>>>(v: &Value) -> Result<F, String> {
    let s = v
        .as_str()
        .ok_or_else(|| format!("expected a decimal string, got {v}"))?;
    // A field element has at most 78 digits: longer strings are refused before the
    // conversion, whose cost grows with the square of the length.
    if s.len() > MAX_DIGITS {
        return Err(format!("a {}-digit number is too large", s.len()));
    }
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("{s:?} is not a decimal number"));
    }
    let n = BigUint::from_str(s).map_err(|e| format!("{s:?}: {e}"))?;
    let big = BigInt::<4>::try_from(n).map_err(|_| format!("{s} is too large"))?;
    F::from_bigint(big).ok_or_else(|| format!("{s} is not below the field modulus"))
}

fn fq2(x: &Fq2) -> Value {
    json!([dec(&x.c0), dec(&x.c1)])
}

fn g1(p: &G1Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([dec(&x), dec(&y), "1"]),
        None => json!(["0", "1", "0"]),
    }
}

fn g2(p: &G2Affine) -> Value {
    match p.xy() {
        Some((x, y)) => json!([fq2(&x), fq2(&y), ["1", "0"]]),
        None => json!([["0", "0"], ["1", "0"], ["0", "0"]]),
    }
}

fn array<'a>(v: &'a Value, len: usize, what: &str) -> Result<&'a [Value], String> {
    match v.as_array() {
        Some(a) if a.len() == len => Ok(a),
        _ => Err(format!("{what}: expected an array of {len}")),
    }
}

fn parse_fq2(v: &Value, what: &str) -> Result<Fq2, String> {
    let a = array(v, 2, what)?;
    Ok(Fq2::new(parse_dec(&a[0])?, parse_dec(&a[1])?))
}

/// Whether a projective `z` says affine (`true`) or infinity (`false`).
fn is_affine(z: &Value, one: &Value, what: &str) -> Result<bool, String> {
    let zero = match one {
        Value::Array(_) => json!(["0", "0"]),
        _ => json!("0"),
    };
    if z == one {
        Ok(true)
    } else if *z == zero {
        Ok(false)
    } else {
        Err(format!("{what}: z must be 1 (affine) or 0 (infinity)"))
    }
}

fn parse_g1(v: &Value, what: &str) -> Result<G1Affine, String> {
    let a = array(v, 3, what)?;
    if !is_affine(&a[2], &json!("1"), what)? {
        return Ok(G1Affine::identity());
    }
    let p = G1Affine::new_unchecked(parse_dec::<Fq>(&a[0])?, parse_dec::<Fq>(&a[1])?);
    if !p.is_on_curve() {
        return Err(format!("{what}: not on the curve"));
    }
    Ok(p)
}

fn parse_g2(v: &Value, what: &str) -> Result<G2Affine, String> {
    let a = array(v, 3, what)?;
    if !is_affine(&a[2], &json!(["1", "0"]), what)? {
        return Ok(G2Affine::identity());
    }
    let p = G2Affine::new_unchecked(parse_fq2(&a[0], what)?, parse_fq2(&a[1], what)?);
    if !p.is_on_curve() || !p.is_in_correct_subgroup_assuming_on_curve() {
        return Err(format!("{what}: not in G2"));
    }
    Ok(p)
}

/// A proof as snarkjs writes `proof.json`.
pub fn proof_to_json(proof: &Proof<Bn254>) -> Value {
    json!({
        "pi_a": g1(&proof.a),
        "pi_b": g2(&proof.b),
        "pi_c": g1(&proof.c),
        "protocol": "groth16",
        "curve": "bn128",
    })
}

/// Parses a snarkjs `proof.json`, checking that every point is in its group.
pub fn proof_from_json(v: &Value) -> Result<Proof<Bn254>, String> {
    if let Some(p) = v.get("protocol").filter(|p| *p != "groth16") {
        return Err(format!("protocol {p} is not groth16"));
    }
    if let Some(c) = v.get("curve").filter(|c| *c != "bn128") {
        return Err(format!("curve {c} is not bn128"));
    }
    let field = |name: &str| v.get(name).ok_or_else(|| format!("missing {name}"));
    Ok(Proof {
        a: parse_g1(field("pi_a")?, "pi_a")?,
        b: parse_g2(field("pi_b")?, "pi_b")?,
        c: parse_g1(field("pi_c")?, "pi_c")?,
    })
}

/// Public signals as snarkjs writes `public.json`.
pub fn public_to_json(public: &[Fr]) -> Value {
    Value::Array(public.iter().map(dec).collect())
}

/// Parses `public.json`: an array of canonical decimal strings.
pub fn public_from_json(v: &Value) -> Result<Vec<Fr>, String> {
    v.as_array()
        .ok_or("public signals must be an array")?
        .iter()
        .map(parse_dec)
        .collect()
}

/// A verifying key as `snarkjs zkey export verificationkey` writes it.
pub fn verifying_key_to_json(vk: &VerifyingKey<Bn254>) -> Value {
    let alphabeta: Fq12 = Bn254::pairing(vk.alpha_g1, vk.beta_g2).0;
    let fq6 = |x: &ark_bn254::Fq6| json!([fq2(&x.c0), fq2(&x.c1), fq2(&x.c2)]);
    json!({
        "protocol": "groth16",
        "curve": "bn128",
        "nPublic": vk.gamma_abc_g1.len() - 1,
        "vk_alpha_1": g1(&vk.alpha_g1),
        "vk_beta_2": g2(&vk.beta_g2),
        "vk_gamma_2": g2(&vk.gamma_g2),
        "vk_delta_2": g2(&vk.delta_g2),
        "vk_alphabeta_12": [fq6(&alphabeta.c0), fq6(&alphabeta.c1)],
        "IC": vk.gamma_abc_g1.iter().map(g1).collect::<Vec<_>>(),
    })
}

/// Parses a snarkjs `verification_key.json` (the fields a verifier needs; `vk_alphabeta_12`
/// is recomputed, never trusted). Every point is checked to be in its group; at most 4,096
/// public signals.
pub fn verifying_key_from_json(v: &Value) -> Result<VerifyingKey<Bn254>, String> {
    if let Some(p) = v.get("protocol").filter(|p| *p != "groth16") {
        return Err(format!("protocol {p} is not groth16"));
    }
    if let Some(c) = v.get("curve").filter(|c| *c != "bn128") {
        return Err(format!("curve {c} is not bn128"));
    }
    let field = |name: &str| v.get(name).ok_or_else(|| format!("missing {name}"));
    let ic = field("IC")?.as_array().ok_or("IC must be an array")?;
    if ic.is_empty() || ic.len() > 4_097 {
        return Err(format!("IC has {} points: 1 to 4,097 expected", ic.len()));
    }
    Ok(VerifyingKey {
        alpha_g1: parse_g1(field("vk_alpha_1")?, "vk_alpha_1")?,
        beta_g2: parse_g2(field("vk_beta_2")?, "vk_beta_2")?,
        gamma_g2: parse_g2(field("vk_gamma_2")?, "vk_gamma_2")?,
        delta_g2: parse_g2(field("vk_delta_2")?, "vk_delta_2")?,
        gamma_abc_g1: ic
            .iter()
            .enumerate()
            .map(|(i, p)| parse_g1(p, &format!("IC[{i}]")))
            .collect::<Result<_, _>>()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;

    fn sample_proof() -> Proof<Bn254> {
        let g1 = G1Affine::generator();
        let g2 = G2Affine::generator();
        Proof {
            a: (g1 * Fr::from(3u8)).into_affine(),
            b: (g2 * Fr::from(5u8)).into_affine(),
            c: g1,
        }
    }

    #[test]
    fn proof_round_trips() {
        let p = sample_proof();
        let v = proof_to_json(&p);
        assert_eq!(v["pi_a"][2], "1");
        assert_eq!(v["pi_b"][2], json!(["1", "0"]));
        assert_eq!(proof_from_json(&v).unwrap(), p);
    }

    #[test]
    fn bad_proofs_are_errors() {
        let good = proof_to_json(&sample_proof());
        let mut off_curve = good.clone();
        off_curve["pi_a"][0] = json!("1");
        assert!(proof_from_json(&off_curve).unwrap_err().contains("curve"));
        let mut not_number = good.clone();
        not_number["pi_c"][1] = json!("12x");
        assert!(proof_from_json(&not_number).is_err());
        let mut huge = good.clone();
        huge["pi_c"][1] = json!("9".repeat(100));
        assert!(proof_from_json(&huge).is_err());
        let mut long = good.clone();
        long["pi_c"][1] = json!("1".repeat(1 << 20));
        assert!(proof_from_json(&long).unwrap_err().contains("too large"));
        let mut bad_z = good.clone();
        bad_z["pi_a"][2] = json!("2");
        assert!(proof_from_json(&bad_z).is_err());
        let mut wrong_protocol = good;
        wrong_protocol["protocol"] = json!("plonk");
        assert!(proof_from_json(&wrong_protocol).is_err());
        assert!(proof_from_json(&json!({})).is_err());
    }

    #[test]
    fn public_signals_round_trip_and_reject_non_canonical() {
        let p = vec![Fr::from(0u8), -Fr::from(1u8)];
        assert_eq!(public_from_json(&public_to_json(&p)).unwrap(), p);
        let modulus = BigUint::from(Fr::MODULUS).to_string();
        assert!(public_from_json(&json!([modulus])).is_err());
        assert!(
            public_from_json(&json!([1])).is_err(),
            "numbers are not strings"
        );
        assert!(public_from_json(&json!(["-1"])).is_err());
        assert!(public_from_json(&json!("1")).is_err());
    }
}
