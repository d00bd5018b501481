//! The pool's certificate over a multi-prover bundle: EIP-712 typed data
//! `Certificate(uint64 task,bytes32 claim,uint32 k,uint32 n,bytes32[] legs)` in the quotes'
//! domain (`zkpool`, `1`, chain id, the pool's address), signed with the quote key. A contract
//! checks it the way rollups check an attestation: recover the signer, compare it with the
//! pool's address, and compare the claim digest with the claim it expects.

use k256::ecdsa::{RecoveryId, Signature, VerifyingKey};

use zkpool_types::{Bundle, BundleLeg};

use crate::eip712::{self, hash_struct, keccak256, type_hash, word_uint, Address, Domain, Word};
use crate::error::QuoteError;
use crate::quote::{QuoteSignature, QuoteSigner};

/// What the pool attests about a multi-prover task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertificateTerms {
    /// The multi-prover task's id.
    pub task: u64,
    /// keccak256 of the claim's canonical bytes.
    pub claim: Word,
    /// Legs that had to verify.
    pub k: u32,
    /// Legs the task had.
    pub n: u32,
    /// The digest of each verified leg, in the bundle's order.
    pub legs: Vec<Word>,
    /// The pool's address (the domain's verifying contract).
    pub pool: Address,
    /// The domain's chain id.
    pub chain_id: u64,
}

impl CertificateTerms {
    /// The message's `encodeType`.
    pub const TYPE: &'static str =
        "Certificate(uint64 task,bytes32 claim,uint32 k,uint32 n,bytes32[] legs)";

    /// `hashStruct(certificate)`; the `bytes32[]` is the keccak of its words concatenated.
    pub fn struct_hash(&self) -> Word {
        hash_struct(
            &type_hash(Self::TYPE),
            &[
                word_uint(u128::from(self.task)),
                self.claim,
                word_uint(u128::from(self.k)),
                word_uint(u128::from(self.n)),
                keccak256(&self.legs.concat()),
            ],
        )
    }

    /// The digest that is signed.
    pub fn signing_digest(&self) -> Word {
        let domain = Domain {
            name: "zkpool".into(),
            version: "1".into(),
            chain_id: self.chain_id,
            verifying_contract: self.pool,
        };
        eip712::signing_digest(&domain.separator(), &self.struct_hash())
    }

    /// Signs the terms with the pool's key.
    pub fn sign(&self, signer: &QuoteSigner) -> Result<QuoteSignature, QuoteError> {
        signer.sign_digest(&self.signing_digest())
    }

    /// The address that made `signature` over these terms.
    pub fn recover(&self, signature: &QuoteSignature) -> Result<Address, QuoteError> {
        recover(&self.signing_digest(), signature)
    }
}

/// A leg's digest in the certificate: keccak256 over its index, system, signals, verifying
/// key, statement and proof, each length-prefixed in its JSON text as the bundle carries it.
pub fn leg_digest(leg: &BundleLeg) -> Word {
    let mut buf = b"zkpool.leg.v1\0".to_vec();
    let mut put = |bytes: &[u8]| {
        buf.extend_from_slice(&(bytes.len() as u64).to_be_bytes());
        buf.extend_from_slice(bytes);
    };
    put(&leg.index.to_be_bytes());
    put(leg.system.as_str().as_bytes());
    let signals: Vec<String> = leg.signals.iter().map(ToString::to_string).collect();
    put(signals.join(",").as_bytes());
    put(leg.verifying_key.to_string().as_bytes());
    put(leg.statement.to_string().as_bytes());
    put(leg.proof.to_string().as_bytes());
    keccak256(&buf)
}

/// The terms a bundle's certificate signs, recomputed from the bundle itself: the claim's
/// digest and every leg's. Fails on an address that does not parse.
pub fn bundle_terms(bundle: &Bundle) -> Result<CertificateTerms, QuoteError> {
    Ok(CertificateTerms {
        task: bundle.task.0 as u64,
        claim: keccak256(&bundle.claim.canonical_bytes()),
        k: bundle.k,
        n: bundle.n,
        legs: bundle.legs.iter().map(leg_digest).collect(),
        pool: bundle.certificate.pool.parse()?,
        chain_id: bundle.certificate.chain_id,
    })
}

/// The address whose key signed `digest` with `signature` (`v` 27/28 or 0/1).
pub fn recover(digest: &Word, signature: &QuoteSignature) -> Result<Address, QuoteError> {
    let sig = Signature::from_slice(&signature.0[..64]).map_err(|_| QuoteError::BadSignature)?;
    let v = match signature.0[64] {
        v @ (27 | 28) => v - 27,
        v @ (0 | 1) => v,
        _ => return Err(QuoteError::BadSignature),
    };
    let recid = RecoveryId::from_byte(v).ok_or(QuoteError::BadSignature)?;
    let key = VerifyingKey::recover_from_prehash(digest, &sig, recid)
        .map_err(|_| QuoteError::BadSignature)?;
    Ok(Address::from_public_key(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn terms(signer: &QuoteSigner) -> CertificateTerms {
        CertificateTerms {
            task: 7,
            claim: keccak256(b"claim"),
            k: 2,
            n: 3,
            legs: vec![keccak256(b"a"), keccak256(b"b")],
            pool: signer.address(),
            chain_id: 1,
        }
    }

    #[test]
    fn a_certificate_recovers_its_signer_and_nothing_else_does() {
        let signer = QuoteSigner::random();
        let t = terms(&signer);
        let sig = t.sign(&signer).unwrap();
        assert_eq!(t.recover(&sig).unwrap(), signer.address());
        let mut dropped = t.clone();
        dropped.legs.pop();
        assert_ne!(dropped.recover(&sig).ok(), Some(signer.address()));
        let mut k = t.clone();
        k.k = 1;
        assert_ne!(k.recover(&sig).ok(), Some(signer.address()));
        let mut bad = sig;
        bad.0[64] = 9;
        assert!(t.recover(&bad).is_err());
    }
}
