//! Binding quotes: the pool's signed offer to prove one task for one requester for a reward,
//! under a bond, by a deadline.
//!
//! A quote binds everything that set its price: the task (digest), who asked for it (the
//! requester's access key: a quote cannot be handed on to another account) and how the pool
//! planned to prove it (the number of segments it is split into, 0 = not split).
//!
//! A quote is EIP-712 typed data, domain `{name: "zkpool", version: "1", chainId,
//! verifyingContract}`, signed with the pool's secp256k1 key as a 65-byte `r ‖ s ‖ v`
//! signature (`v` = 27/28). The same type serves both settlements: on the embedded ledger
//! the verifying contract is the signer's own address and the on-chain terms (payer,
//! verifier, public inputs) are zero; on Ethereum it is the pool contract's address, which
//! checks the signature with `ecrecover`, takes the reward from `payer` and accepts a proof
//! only from `verifier` and only for the public inputs hashed into `public_inputs_hash`.
//! Verification recovers the signer and compares it with the expected one; the caller passes
//! the clock and keeps the used nonces (see [`NonceBook`]).

use std::collections::HashSet;
use std::fmt;

use k256::ecdsa::SigningKey;
use rand::rngs::OsRng;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use zkpool_types::KeyId;

use crate::amount::Amount;
use crate::eip712::{
    self, hash_struct, keccak256, type_hash, word_address, word_uint, Address, Domain, Word,
};
use crate::error::QuoteError;

/// The pool's offer for one task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Hash of the task specification (inputs, circuit, proof system) the quote covers.
    #[serde(with = "hex32")]
    pub task_digest: [u8; 32],
    /// The requester the quote was made for (its access key); only it can accept the quote.
    pub requester: KeyId,
    /// The requester's Ethereum account, the only one the pool contract lets publish the
    /// task and claim its window; the zero address on the embedded ledger.
    pub payer: Address,
    /// The requester's verifier contract that the pool contract calls with the proof; the
    /// zero address on the embedded ledger.
    pub verifier: Address,
    /// `keccak256` of the public inputs as packed `uint256` words ([`public_inputs_hash`]):
    /// the pool contract accepts a proof only for exactly these. Zero on the embedded ledger,
    /// where the task digest binds the statement.
    #[serde(with = "hex32")]
    pub public_inputs_hash: [u8; 32],
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
    /// The pool's address (EIP-712 `verifyingContract`): the pool contract on Ethereum, the
    /// quote signer's address on the embedded ledger.
    pub pool: Address,
    /// The chain the quote is valid on (EIP-712 `chainId`).
    pub chain_id: u64,
}

impl Quote {
    /// The message's `encodeType`. Pool and chain are in the domain, not the message.
    pub const TYPE: &'static str = "Quote(bytes32 taskDigest,uint64 requester,address payer,\
         address verifier,bytes32 publicInputsHash,uint32 segments,uint256 reward,uint256 bond,\
         uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)";

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
                word_address(&self.payer),
                word_address(&self.verifier),
                self.public_inputs_hash,
                word_uint(self.segments as u128),
                word_uint(self.reward.base_units()),
                word_uint(self.bond.base_units()),
                word_uint(self.deadline_ms as u128),
                word_uint(self.expires_at_ms as u128),
                word_uint(self.nonce as u128),
            ],
        )
    }

    /// The 32-byte digest that is signed; on Ethereum also the task's id in the pool contract.
    pub fn signing_digest(&self) -> Word {
        eip712::signing_digest(&self.domain().separator(), &self.struct_hash())
    }

    /// The on-chain terms this quote binds.
    pub fn terms(&self) -> ChainTerms {
        ChainTerms {
            payer: self.payer,
            verifier: self.verifier,
            public_inputs_hash: self.public_inputs_hash,
        }
    }
}

/// What a quote binds for settlement on Ethereum; all zero ([`ChainTerms::default`]) on the
/// embedded ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ChainTerms {
    /// The requester's Ethereum account.
    pub payer: Address,
    /// The requester's verifier contract.
    pub verifier: Address,
    /// [`public_inputs_hash`] of the statement's public inputs.
    pub public_inputs_hash: Word,
}

/// `keccak256(abi.encodePacked(uint256[] inputs))`: each input one 32-byte big-endian word, as
/// the pool contract hashes the public signals it is handed with a proof.
pub fn public_inputs_hash(inputs: &[Word]) -> Word {
    keccak256(&inputs.concat())
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
    /// This pool's address (the EIP-712 verifying contract).
    pub pool: Address,
    /// The address of the pool's quote-signing key (equal to `pool` on the embedded ledger).
    pub signer: Address,
    /// The on-chain terms the settlement expects (zero on the embedded ledger).
    pub terms: ChainTerms,
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
        crate::certificate::recover(&self.quote.signing_digest(), &self.signature)
    }

    /// Checks that this quote binds the pool to `expected`'s task, for `expected`'s requester
    /// and segment plan, on `expected`'s chain, and is still open at `now_ms`. Nonce reuse is
    /// the caller's check ([`NonceBook`]), because only the caller knows whether accepting the
    /// quote will be committed.
    ///
    /// Checks, in order: chain, pool (cheap and the most telling when a client points at the
    /// wrong deployment), signature and signer, requester, segments, task digest, on-chain
    /// terms, expiry.
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
        if signer != expected.signer {
            return Err(QuoteError::WrongSigner {
                expected: expected.signer.to_string(),
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
        if q.terms() != expected.terms {
            return Err(QuoteError::WrongTerms);
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

    /// Signs `quote` (deterministic RFC 6979 nonce, low-s, as the pool contract requires).
    /// The quote's `pool` is its verifying contract: this signer's own address on the embedded
    /// ledger, the pool contract's on Ethereum.
    pub fn sign(&self, quote: Quote) -> Result<SignedQuote, QuoteError> {
        let signature = self.sign_digest(&quote.signing_digest())?;
        Ok(SignedQuote { quote, signature })
    }

    /// Signs a 32-byte EIP-712 digest (a quote's, a certificate's): `r ‖ s ‖ v`, low-s.
    pub fn sign_digest(&self, digest: &Word) -> Result<QuoteSignature, QuoteError> {
        let (sig, recid) = self
            .key
            .sign_prehash_recoverable(digest)
            .map_err(|_| QuoteError::BadSignature)?;
        let mut bytes = [0u8; 65];
        bytes[..64].copy_from_slice(&sig.to_bytes());
        bytes[64] = 27 + recid.to_byte();
        Ok(QuoteSignature(bytes))
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
            payer: Address::default(),
            verifier: Address::default(),
            public_inputs_hash: [0; 32],
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
            signer: pool,
            terms: ChainTerms::default(),
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
        e.terms.payer = signer(3).address();
        assert_eq!(signed.verify(&e, NOW).unwrap_err().code(), "wrong_terms");
        let mut e = expected(s.address());
        e.task_digest = [8; 32];
        assert_eq!(
            signed.verify(&e, NOW).unwrap_err().code(),
            "digest_mismatch"
        );
    }

    #[test]
    fn a_contract_as_verifying_contract_still_needs_the_pool_signer() {
        // On Ethereum the domain names the pool contract; the signer is the pool's key.
        let (s, contract) = (signer(1), signer(4).address());
        let signed = s.sign(quote_for(contract)).unwrap();
        let mut e = expected(contract);
        e.signer = s.address();
        signed.verify(&e, NOW).unwrap();
        e.signer = contract;
        assert_eq!(signed.verify(&e, NOW).unwrap_err().code(), "wrong_signer");
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
            "4b5ce434c0f24d63dd83a2fc0cc85c2fe88e7bb035c440b0460026f9587865d6"
        );
        assert_eq!(
            hex(q.domain().separator()),
            "a5625605294eae55c7396c3258ea9273d53758f6fddc57ccf072b2bffa6bf65d"
        );
        assert_eq!(
            hex(q.struct_hash()),
            "bd01849ff533daff6f7615ed4027a273139cb5eff0defdcf048b3db696e56ebb"
        );
        assert_eq!(
            hex(q.signing_digest()),
            "f88f6bbc0f9501d95b2da97d236db7ad6b737ef25a44c86a4401ba596ace6fac"
        );
    }

    /// The pool contract's own EIP-712 vector (contracts/test, `ZkPool.hashQuote`), with
    /// every on-chain term set: the contract and this crate agree on the task id.
    #[test]
    fn quote_digest_matches_the_pool_contract() {
        let word = |s: &str| -> Word {
            let mut w = [0u8; 32];
            hex::decode_to_slice(s.strip_prefix("0x").unwrap(), &mut w).unwrap();
            w
        };
        let public = [
            word("0x000277953b808f06cc395373d5ce03b8ea83aae7229be3fd49bed2e106000000"),
            word_uint(3),
        ];
        let q = Quote {
            task_digest: word("0x0102030405060708091011121314151617181920212223242526272829303132"),
            requester: KeyId(7),
            payer: "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
                .parse()
                .unwrap(),
            verifier: "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512"
                .parse()
                .unwrap(),
            public_inputs_hash: public_inputs_hash(&public),
            segments: 4,
            reward: Amount::from_base_units(1_000_000),
            bond: Amount::from_base_units(5_000_000),
            deadline_ms: 1_700_000_600_000,
            expires_at_ms: 1_700_000_060_000,
            nonce: 42,
            pool: "0x5FbDB2315678afecb367f032d93F642f64180aa3"
                .parse()
                .unwrap(),
            chain_id: 31_337,
        };
        let hex = |w: Word| format!("0x{}", hex::encode(w));
        assert_eq!(
            hex(q.public_inputs_hash),
            "0x320ad2e29357d5969e5fef50bebdb1d467ec85339a94f2eb6d447929a30945fb"
        );
        assert_eq!(
            hex(q.struct_hash()),
            "0xff6f20fd0d1ab72c60d708430264f905c56f1b93247626ae39ecfddac7dc0956"
        );
        assert_eq!(
            hex(q.signing_digest()),
            "0xec4a9ed5da42df45fe386de702852c2fa73c39669e4467cc40684adf629fca70"
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
        let expected = "Quote(bytes32 taskDigest,uint64 requester,address payer,address verifier,bytes32 publicInputsHash,uint32 segments,uint256 reward,uint256 bond,uint64 deadlineMs,uint64 expiresAtMs,uint64 nonce)";
        assert_eq!(Quote::TYPE, expected);
    }
}
