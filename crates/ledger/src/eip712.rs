//! EIP-712 typed-data hashing, written out so that an Ethereum contract (or any wallet
//! library) can check the pool's quotes later: `keccak256("\x19\x01" ‖ domainSeparator ‖
//! hashStruct(message))`, with `hashStruct(s) = keccak256(typeHash ‖ encodeData(s))`.
//!
//! Only the field encodings quotes need are here (uint, address, bytes32, string); the tests
//! validate them against the EIP's own "Mail" example.

use std::fmt;
use std::str::FromStr;

use k256::ecdsa::VerifyingKey;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha3::{Digest, Keccak256};

use crate::error::QuoteError;

/// One 32-byte ABI word or hash.
pub type Word = [u8; 32];

/// Keccak-256 (Ethereum's, not NIST SHA3-256).
pub fn keccak256(data: &[u8]) -> Word {
    Keccak256::digest(data).into()
}

/// `typeHash = keccak256(encodeType)`, e.g. `"Mail(Person from,…)Person(…)"`.
pub fn type_hash(encode_type: &str) -> Word {
    keccak256(encode_type.as_bytes())
}

/// `uintN` for N ≤ 256 from a u128: big-endian, left-padded.
pub fn word_uint(v: u128) -> Word {
    let mut w = [0u8; 32];
    w[16..].copy_from_slice(&v.to_be_bytes());
    w
}

/// `address`: the 20 bytes, left-padded.
pub fn word_address(a: &Address) -> Word {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// `string` and `bytes` are encoded as the keccak of their contents.
pub fn word_string(s: &str) -> Word {
    keccak256(s.as_bytes())
}

/// `hashStruct = keccak256(typeHash ‖ field words…)`; nested structs are passed as their own
/// `hashStruct`.
pub fn hash_struct(type_hash: &Word, fields: &[Word]) -> Word {
    let mut h = Keccak256::new();
    h.update(type_hash);
    for f in fields {
        h.update(f);
    }
    h.finalize().into()
}

/// The digest a wallet signs: `keccak256("\x19\x01" ‖ domainSeparator ‖ structHash)`.
pub fn signing_digest(domain_separator: &Word, struct_hash: &Word) -> Word {
    let mut h = Keccak256::new();
    h.update([0x19, 0x01]);
    h.update(domain_separator);
    h.update(struct_hash);
    h.finalize().into()
}

/// The EIP-712 domain with the four fields quotes use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// Human-readable signing domain (`"zkpool"` for quotes).
    pub name: String,
    /// Version of the message format (`"1"`).
    pub version: String,
    /// The chain the signature is valid on; stops replays across chains.
    pub chain_id: u64,
    /// The contract (here: the pool's address) that verifies the signature.
    pub verifying_contract: Address,
}

impl Domain {
    /// The domain's `encodeType`.
    pub const TYPE: &'static str =
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)";

    /// `domainSeparator = hashStruct(domain)`.
    pub fn separator(&self) -> Word {
        hash_struct(
            &type_hash(Self::TYPE),
            &[
                word_string(&self.name),
                word_string(&self.version),
                word_uint(self.chain_id as u128),
                word_address(&self.verifying_contract),
            ],
        )
    }
}

/// A 20-byte Ethereum address. Displayed and serialised as lower-case `0x…` hex; parsing
/// accepts any case (the EIP-55 checksum is not verified).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Address(pub [u8; 20]);

impl Address {
    /// The address of a secp256k1 public key: the last 20 bytes of the keccak of the
    /// uncompressed point without its `0x04` prefix.
    pub fn from_public_key(key: &VerifyingKey) -> Address {
        let point = key.to_encoded_point(false);
        let hash = keccak256(&point.as_bytes()[1..]);
        let mut a = [0u8; 20];
        a.copy_from_slice(&hash[12..]);
        Address(a)
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{}", hex::encode(self.0))
    }
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl FromStr for Address {
    type Err = QuoteError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut a = [0u8; 20];
        hex::decode_to_slice(s.strip_prefix("0x").unwrap_or(s), &mut a)
            .map_err(|_| QuoteError::Parse("address"))?;
        Ok(Address(a))
    }
}

impl Serialize for Address {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Address {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k256::ecdsa::{RecoveryId, Signature, SigningKey};

    fn h(s: &str) -> Word {
        let mut w = [0u8; 32];
        hex::decode_to_slice(s.trim_start_matches("0x"), &mut w).unwrap();
        w
    }

    fn addr(s: &str) -> Address {
        s.parse().unwrap()
    }

    const PERSON: &str = "Person(string name,address wallet)";
    const MAIL: &str =
        "Mail(Person from,Person to,string contents)Person(string name,address wallet)";

    fn person(name: &str, wallet: &str) -> Word {
        hash_struct(
            &type_hash(PERSON),
            &[word_string(name), word_address(&addr(wallet))],
        )
    }

    fn mail_domain() -> Domain {
        Domain {
            name: "Ether Mail".into(),
            version: "1".into(),
            chain_id: 1,
            verifying_contract: addr("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"),
        }
    }

    fn mail_hash() -> Word {
        hash_struct(
            &type_hash(MAIL),
            &[
                person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"),
                person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"),
                word_string("Hello, Bob!"),
            ],
        )
    }

    /// The published vector from EIP-712 (`assets/eip-712/Example.js`).
    #[test]
    fn eip712_mail_example_matches_the_published_vector() {
        assert_eq!(
            type_hash(MAIL),
            h("a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2")
        );
        assert_eq!(
            mail_domain().separator(),
            h("f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
        );
        assert_eq!(
            mail_hash(),
            h("c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e")
        );
        assert_eq!(
            signing_digest(&mail_domain().separator(), &mail_hash()),
            h("be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
        );
    }

    /// The EIP signs the Mail with `keccak256("cow")` as private key; its signature recovers
    /// to Cow's address, and our (RFC 6979 deterministic) signature is the same one.
    #[test]
    fn eip712_mail_signature_recovers_cow() {
        let digest = signing_digest(&mail_domain().separator(), &mail_hash());
        let key = SigningKey::from_bytes(&keccak256(b"cow").into()).unwrap();
        let cow = addr("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
        assert_eq!(Address::from_public_key(key.verifying_key()), cow);

        let r = h("4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d");
        let s = h("07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562");
        let sig = Signature::from_scalars(r, s).unwrap();
        let recid = RecoveryId::from_byte(28 - 27).unwrap();
        let vk = VerifyingKey::recover_from_prehash(&digest, &sig, recid).unwrap();
        assert_eq!(Address::from_public_key(&vk), cow);

        let (ours, our_id) = key.sign_prehash_recoverable(&digest).unwrap();
        assert_eq!(ours, sig);
        assert_eq!(our_id, recid);
    }

    #[test]
    fn address_parses_any_case_and_displays_lower() {
        let a = addr("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");
        assert_eq!(a.to_string(), "0xcd2a3d9f938e13cd947ec05abc7fe734df8dd826");
        assert!("0x1234".parse::<Address>().is_err());
        assert!("zz2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"
            .parse::<Address>()
            .is_err());
    }
}
