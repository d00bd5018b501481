//! Binding quotes: the pool's signed offer to prove one task for one requester for a reward,
//! under a bond, by a deadline.
//!
//! A quote binds everything that set its price: the task (digest), who asked for it (the
//! requester's access key: a quote cannot be handed on to another account) and how the pool
//! planned to prove it (the number of segments it is split into, 0 = not split).
//!
//! A quote is EIP-712 typed data, domain `{name: "zkpool", version: "1", chainId,
//! verifyingContract: pool address}`, signed with the pool's secp256k1 key as a 65-byte
//! `r ‖ s ‖ v` signature (`v` = 27/28), so that an Ethereum contract can verify the same
//! quote with `ecrecover` later. Verification recovers the signer and compares it with the
//! pool's address; the caller passes the clock and keeps the used nonces (see [`NonceBook`]).

use std::collections::HashSet;
use std::fmt;

use k256::ecdsa::{RecoveryId, Signature, SigningKey, VerifyingKey};
use rand::rngs::OsRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use zkpool_types::KeyId;

use crate::amount::Amount;
use crate::eip712::{self, hash_struct, type_hash, word_uint, Address, Domain, Word};
use crate::error::QuoteError;

/// The pool's offer for one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Hash of the task specification (inputs, circuit, proof system) the quote covers.
    #[serde(with = "hex32")]
    pub task_digest: [u8; 32],
    /// The requester the quote was made for (its access key); only it can accept the quote.
    pub requester: KeyId,
    /// Segments the pool plans to split the task into (0 = proved whole); the price and the
    /// deadline were computed for this plan.
    pub segments: u32,
    /// Reward the requester escrows.
    pub reward: Amount,
    /// Liability bond the pool stakes and forfeits if it misses the deadline.
    pub bond: Amount,
    /// End of the liability window (unix ms).
    pub deadline_ms: u64,
    /// The offer lapses at this time (unix ms) if not accepted.
    pub expires_at_ms: u64,
    /// Single-use number chosen by the pool; an accepted quote's nonce cannot be reused.
    pub nonce: u64,
    /// The pool's address (EIP-712 `verifyingContract`).
    pub pool: Address,
    /// The chain the quote is valid on (EIP-712 `chainId`).
    pub chain_id: u64,
}

impl Quote {
    /// The message's `encodeType`. Pool and chain are in the domain, not the message.
    pub const TYPE: &'static str = "Quote(bytes32 taskDigest,uint64 requester,uint32 segments,\
         uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)";

    /// The EIP-712 domain this quote is signed under.
    pub fn domain(&self) -> Domain {
        Domain {
            name: "zkpool".into(),
            version: "1".into(),
            chain_id: self.chain_id,
            verifying_contract: self.pool,
        }
    }

    /// `hashStruct(quote)`.
    ///
    /// The requester is encoded as `uint64` of its key id's bits. Key ids are database row
    /// ids and so non-negative, where this is the number itself; a negative id would still
    /// encode one-to-one (two's complement), so no two keys share an encoding.
    pub fn struct_hash(&self) -> Word {
        hash_struct(
            &type_hash(Self::TYPE),
            &[
                self.task_digest,
                word_uint(self.requester.0 as u64 as u128),
                word_uint(self.segments as u128),
                word_uint(self.reward.base_units()),
                word_uint(self.bond.base_units()),
                word_uint(self.deadline_ms as u128),
                word_uint(self.expires_at_ms as u128),
                word_uint(self.nonce as u128),
            ],
        )
    }

    /// The 32-byte digest that is signed.
    pub fn signing_digest(&self) -> Word {
        eip712::signing_digest(&self.domain().separator(), &self.struct_hash())
    }
}

/// A 65-byte recoverable secp256k1 signature `r ‖ s ‖ v`, `v` ∈ {27, 28}; hex on the wire.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct QuoteSignature(pub [u8; 65]);

impl fmt::Debug for QuoteSignature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl Serialize for QuoteSignature {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0x{}", hex::encode(self.0)))
    }
}

impl<'de> Deserialize<'de> for QuoteSignature {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let mut b = [0u8; 65];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(&s), &mut b)
            .map_err(|_| serde::de::Error::custom("signature must be 65 hex bytes"))?;
        Ok(QuoteSignature(b))
    }
}

/// A quote with the pool's signature, as handed to the requester.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedQuote {
    /// The offer.
    pub quote: Quote,
    /// The pool's signature over [`Quote::signing_digest`].
    pub signature: QuoteSignature,
}

/// What the verifier expects a quote to be bound to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expected {
    /// This pool's address.
    pub pool: Address,
    /// This deployment's chain id.
    pub chain_id: u64,
    /// The access key submitting the task.
    pub requester: KeyId,
    /// Segments the node's plan for the submitted task has now (0 = not split).
    pub segments: u32,
    /// Digest of the task actually submitted.
    pub task_digest: [u8; 32],
}

impl SignedQuote {
    /// The address whose key made the signature.
    pub fn recover_signer(&self) -> Result<Address, QuoteError> {
        let sig =
            Signature::from_slice(&self.signature.0[..64]).map_err(|_| QuoteError::BadSignature)?;
        let v = match self.signature.0[64] {
            v @ (27 | 28) => v - 27,
            v @ (0 | 1) => v,
            _ => return Err(QuoteError::BadSignature),
        };
        let recid = RecoveryId::from_byte(v).ok_or(QuoteError::BadSignature)?;
        let key = VerifyingKey::recover_from_prehash(&self.quote.signing_digest(), &sig, recid)
            .map_err(|_| QuoteError::BadSignature)?;
        Ok(Address::from_public_key(&key))
    }

    /// Checks that this quote binds the pool to `expected`'s task, for `expected`'s requester
    /// and segment plan, on `expected`'s chain, and is still open at `now_ms`. Nonce reuse is
    /// the caller's check ([`NonceBook`]), because only the caller knows whether accepting the
    /// quote will be committed.
    ///
    /// Checks, in order: chain, pool (cheap and the most telling when a client points at the
    /// wrong deployment), signature and signer, requester, segments, task digest, expiry.
    pub fn verify(&self, expected: &Expected, now_ms: u64) -> Result<(), QuoteError> {
        let q = &self.quote;
        if q.chain_id != expected.chain_id {
            return Err(QuoteError::WrongChain {
                expected: expected.chain_id,
                got: q.chain_id,
            });
        }
        if q.pool != expected.pool {
            return Err(QuoteError::WrongPool {
                expected: expected.pool.to_string(),
                got: q.pool.to_string(),
            });
        }
        let signer = self.recover_signer()?;
        if signer != expected.pool {
            return Err(QuoteError::WrongSigner {
                expected: expected.pool.to_string(),
                got: signer.to_string(),
            });
        }
        if q.requester != expected.requester {
            return Err(QuoteError::WrongRequester {
                expected: expected.requester,
                got: q.requester,
            });
        }
        if q.segments != expected.segments {
            return Err(QuoteError::WrongSegments {
                expected: expected.segments,
                got: q.segments,
            });
        }
        if q.task_digest != expected.task_digest {
            return Err(QuoteError::DigestMismatch);
        }
        if now_ms >= q.expires_at_ms {
            return Err(QuoteError::Expired {
                expires_at_ms: q.expires_at_ms,
                now_ms,
            });
        }
        Ok(())
    }
}

/// The pool's quote-signing key. Its address is the pool's address.
#[derive(Clone)]
pub struct QuoteSigner {
    key: SigningKey,
    address: Address,
}

impl fmt::Debug for QuoteSigner {
    /// Shows the address only; the key never reaches a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QuoteSigner")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl QuoteSigner {
    /// A signer from a 32-byte secret scalar.
    pub fn from_bytes(secret: &[u8; 32]) -> Result<QuoteSigner, QuoteError> {
        let key = SigningKey::from_bytes(secret.into()).map_err(|_| QuoteError::BadKey)?;
        Ok(Self::from_key(key))
    }

    /// A fresh random key from the operating system's generator.
    pub fn random() -> QuoteSigner {
        Self::from_key(SigningKey::random(&mut OsRng))
    }

    fn from_key(key: SigningKey) -> QuoteSigner {
        let address = Address::from_public_key(key.verifying_key());
        QuoteSigner { key, address }
    }

    /// The 32 secret bytes, for the node to store in its key file.
    pub fn secret_bytes(&self) -> [u8; 32] {
        self.key.to_bytes().into()
    }

    /// The pool's address.
    pub fn address(&self) -> Address {
        self.address
    }

    /// Signs `quote` (deterministic RFC 6979 nonce, low-s). The quote must name this
    /// signer's address as its pool, or a verifier would reject it as `wrong_signer`.
    pub fn sign(&self, quote: Quote) -> Result<SignedQuote, QuoteError> {
        if quote.pool != self.address {
            return Err(QuoteError::WrongPool {
                expected: self.address.to_string(),
                got: quote.pool.to_string(),
            });
        }
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(&quote.signing_digest())
            .map_err(|_| QuoteError::BadSignature)?;
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&sig.to_bytes());
        bytes[64] = 27 + recid.to_byte();
        Ok(SignedQuote {
            quote,
            signature: QuoteSignature(bytes),
        })
    }
}

/// The nonces of accepted quotes. Pure: the node persists accepted nonces with the task and
/// rebuilds the book with [`NonceBook::from_iter`] on restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonceBook {
    used: HashSet<u64>,
}

impl NonceBook {
    /// An empty book.
    pub fn new() -> NonceBook {
        NonceBook::default()
    }

    /// Refuses a nonce that was already used.
    pub fn check_unused(&self, nonce: u64) -> Result<(), QuoteError> {
        if self.used.contains(&nonce) {
            Err(QuoteError::NonceReused(nonce))
        } else {
            Ok(())
        }
    }

    /// Marks `nonce` used, refusing it if it already was.
    pub fn consume(&mut self, nonce: u64) -> Result<(), QuoteError> {
        if self.used.insert(nonce) {
            Ok(())
        } else {
            Err(QuoteError::NonceReused(nonce))
        }
    }

    /// How many nonces were used.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// True when no nonce was used yet.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

impl FromIterator<u64> for NonceBook {
    fn from_iter<I: IntoIterator<Item = u64>>(iter: I) -> Self {
        NonceBook {
            used: iter.into_iter().collect(),
        }
    }
}

mod hex32 {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("0x{}", hex::encode(v)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s = String::deserialize(d)?;
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(&s), &mut b)
            .map_err(|_| serde::de::Error::custom("expected 32 hex bytes"))?;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_700_000_000_000;

    fn signer(seed: u8) -> QuoteSigner {
        QuoteSigner::from_bytes(&[seed; 32]).unwrap()
    }

    const REQUESTER: KeyId = KeyId(5);

    fn quote_for(pool: Address) -> Quote {
        Quote {
            task_digest: [7; 32],
            requester: REQUESTER,
            segments: 3,
            reward: Amount::from_tokens(5),
            bond: Amount::from_tokens(10),
            deadline_ms: NOW + 60_000,
            expires_at_ms: NOW + 5_000,
            nonce: 42,
            pool,
            chain_id: 31_337,
        }
    }

    fn expected(pool: Address) -> Expected {
        Expected {
            pool,
            chain_id: 31_337,
            requester: REQUESTER,
            segments: 3,
            task_digest: [7; 32],
        }
    }

    #[test]
    fn signed_quote_verifies_and_survives_json() {
        let s = signer(1);
        let signed = s.sign(quote_for(s.address())).unwrap();
        assert!(matches!(signed.signature.0[64], 27 | 28));
        signed.verify(&expected(s.address()), NOW).unwrap();
        let json = serde_json::to_string(&signed).unwrap();
        let back: SignedQuote = serde_json::from_str(&json).unwrap();
        assert_eq!(back, signed);
        back.verify(&expected(s.address()), NOW).unwrap();
        assert_eq!(
            QuoteSigner::from_bytes(&s.secret_bytes())
                .unwrap()
                .address(),
            s.address()
        );
    }

    #[test]
    fn expired_quote_is_refused() {
        let s = signer(1);
        let signed = s.sign(quote_for(s.address())).unwrap();
        let err = signed
            .verify(&expected(s.address()), NOW + 5_000)
            .unwrap_err();
        assert_eq!(err.code(), "expired");
    }

    #[test]
    fn other_signer_is_refused() {
        let (pool, mallory) = (signer(1), signer(2));
        // Mallory signs a quote naming the real pool by forging the bytes past `sign`'s check.
        let q = quote_for(pool.address());
        let (sig, recid) = mallory
            .key
            .sign_prehash_recoverable(&q.signing_digest())
            .unwrap();
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&sig.to_bytes());
        bytes[64] = 27 + recid.to_byte();
        let forged = SignedQuote {
            quote: q,
            signature: QuoteSignature(bytes),
        };
        let err = forged.verify(&expected(pool.address()), NOW).unwrap_err();
        assert_eq!(err.code(), "wrong_signer");
        assert_eq!(forged.recover_signer().unwrap(), mallory.address());
    }

    #[test]
    fn tampered_fields_do_not_verify() {
        let s = signer(1);
        let mut signed = s.sign(quote_for(s.address())).unwrap();
        signed.quote.reward = Amount::from_tokens(1);
        let err = signed.verify(&expected(s.address()), NOW).unwrap_err();
        assert_eq!(err.code(), "wrong_signer");
    }

    #[test]
    fn other_chain_pool_or_task_is_refused() {
        let s = signer(1);
        let signed = s.sign(quote_for(s.address())).unwrap();
        let mut e = expected(s.address());
        e.chain_id = 1;
        assert_eq!(signed.verify(&e, NOW).unwrap_err().code(), "wrong_chain");
        let mut e = expected(s.address());
        e.pool = signer(3).address();
        assert_eq!(signed.verify(&e, NOW).unwrap_err().code(), "wrong_pool");
        let mut e = expected(s.address());
        e.task_digest = [8; 32];
        assert_eq!(
            signed.verify(&e, NOW).unwrap_err().code(),
            "digest_mismatch"
        );
        // Signing a quote that names another pool is refused up front.
        let err = s.sign(quote_for(signer(3).address())).unwrap_err();
        assert_eq!(err.code(), "wrong_pool");
    }

    #[test]
    fn other_requester_or_segments_is_refused() {
        let s = signer(1);
        let signed = s.sign(quote_for(s.address())).unwrap();
        let mut e = expected(s.address());
        e.requester = KeyId(6);
        let err = signed.verify(&e, NOW).unwrap_err();
        assert_eq!(
            err,
            QuoteError::WrongRequester {
                expected: KeyId(6),
                got: REQUESTER
            }
        );
        assert_eq!(err.code(), "wrong_requester");
        // Checked before the digest and the expiry.
        e.task_digest = [8; 32];
        assert_eq!(
            signed.verify(&e, NOW + 5_000).unwrap_err().code(),
            "wrong_requester"
        );

        let mut e = expected(s.address());
        e.segments = 0;
        let err = signed.verify(&e, NOW).unwrap_err();
        assert_eq!(err.code(), "wrong_segments");
        e.task_digest = [8; 32];
        assert_eq!(
            signed.verify(&e, NOW + 5_000).unwrap_err().code(),
            "wrong_segments"
        );
    }

    #[test]
    fn requester_and_segments_are_signed() {
        // Editing either after signing breaks the signature, so a quote cannot be handed on
        // to another key or re-planned without the pool.
        let s = signer(1);
        let signed = s.sign(quote_for(s.address())).unwrap();
        let mut other = signed.clone();
        other.quote.requester = KeyId(6);
        let mut e = expected(s.address());
        e.requester = KeyId(6);
        assert_eq!(other.verify(&e, NOW).unwrap_err().code(), "wrong_signer");
        let mut other = signed;
        other.quote.segments = 0;
        let mut e = expected(s.address());
        e.segments = 0;
        assert_eq!(other.verify(&e, NOW).unwrap_err().code(), "wrong_signer");
    }

    /// Hashes of `quote_for` under the pool address `0x5fbd…0aa3`, computed independently
    /// with pycryptodome's Keccak-256 from the EIP-712 rules, not with this crate.
    #[test]
    fn quote_hashes_match_independent_vectors() {
        let pool: Address = "0x5fbdb2315678afecb367f032d93f642f64180aa3"
            .parse()
            .unwrap();
        let q = quote_for(pool);
        let hex = |w: Word| hex::encode(w);
        assert_eq!(
            hex(type_hash(Quote::TYPE)),
            "517201e29fc46b242edcc3c65b1301eb8ae6326763e2c47bebcb4f36d7e7aaf7"
        );
        assert_eq!(
            hex(q.domain().separator()),
            "a5625605294eae55c7396c3258ea9273d53758f6fddc57ccf072b2bffa6bf65d"
        );
        assert_eq!(
            hex(q.struct_hash()),
            "a6c849472c724d6fd352dc885f263d5457241ee011b60ba2854bbd6d83373b68"
        );
        assert_eq!(
            hex(q.signing_digest()),
            "69d25cabc4a53c251012fd1dfb280ed9f5dc8348fb8f4419ac00e2947517259b"
        );
    }

    /// The wire type (`zkpool_types::settlement::SignedQuote`) has the same JSON shape, so
    /// the node converts between the two through JSON without losing or adding a field.
    #[test]
    fn wire_quote_has_the_same_json_shape() {
        use zkpool_types::settlement as wire;

        let s = signer(9);
        let mut q = quote_for(s.address());
        q.bond = Amount::MAX;
        let signed = s.sign(q).unwrap();
        let ledger_json = serde_json::to_value(&signed).unwrap();
        let wire: wire::SignedQuote = serde_json::from_value(ledger_json.clone()).unwrap();
        assert_eq!(wire.quote.requester, REQUESTER);
        assert_eq!(wire.quote.segments, 3);
        let wire_json = serde_json::to_value(&wire).unwrap();
        assert_eq!(wire_json, ledger_json);
        let back: SignedQuote = serde_json::from_value(wire_json).unwrap();
        assert_eq!(back, signed);
        assert_eq!(ledger_json["quote"]["requester"], 5);
    }

    #[test]
    fn malformed_signatures_are_bad_signature() {
        let s = signer(1);
        let mut signed = s.sign(quote_for(s.address())).unwrap();
        signed.signature.0[64] = 5;
        assert_eq!(signed.recover_signer().unwrap_err().code(), "bad_signature");
        signed.signature = QuoteSignature([0; 65]);
        assert_eq!(signed.recover_signer().unwrap_err().code(), "bad_signature");
        assert!(serde_json::from_str::<QuoteSignature>("\"0x12\"").is_err());
        assert_eq!(
            QuoteSigner::from_bytes(&[0; 32]).unwrap_err().code(),
            "bad_key"
        );
    }

    #[test]
    fn nonces_are_single_use() {
        let mut book = NonceBook::new();
        book.check_unused(42).unwrap();
        book.consume(42).unwrap();
        assert_eq!(book.check_unused(42), Err(QuoteError::NonceReused(42)));
        assert_eq!(book.consume(42).unwrap_err().code(), "nonce_reused");
        let restored: NonceBook = [42, 43].into_iter().collect();
        assert_eq!(
            restored.check_unused(43).unwrap_err().code(),
            "nonce_reused"
        );
        assert_eq!(restored.len(), 2);
    }

    #[test]
    fn type_string_is_the_documented_one() {
        let expected = "Quote(bytes32 taskDigest,uint64 requester,uint32 segments,uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)";
        assert_eq!(Quote::TYPE, expected);
    }
}
