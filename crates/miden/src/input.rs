//! Reading a [`SegmentInput`] ([`ArtifactRole::Chunks`] JSON) within [`MidenLimits`].
//!
//! The chunks are decoded through a seed that counts as it goes, so an upload of millions of
//! tiny chunks is refused at the first chunk past [`MidenLimits::max_chunks`], not after
//! gigabytes of vectors were allocated for it.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserializer;
use zkpool_backend::BackendError;
use zkpool_types::ArtifactRole;

use crate::{Chunk, MidenLimits, SegmentInput, State};

impl SegmentInput {
    /// Parses a [`SegmentInput`], refusing it as soon as it has more chunks, or a longer
    /// chunk, than `limits` allow ([`BackendError::OverLimit`]). JSON that is not a segment
    /// input, or has no chunks, is [`BackendError::Malformed`].
    pub fn from_json(bytes: &[u8], limits: &MidenLimits) -> Result<Self, BackendError> {
        let over = RefCell::new(None);
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let parsed = InputSeed {
            limits,
            over: &over,
        }
        .deserialize(&mut de)
        .and_then(|input| de.end().map(|()| input));
        let input = match (parsed, over.into_inner()) {
            (_, Some(reason)) => {
                return Err(BackendError::over_limit(ArtifactRole::Chunks, reason))
            }
            (Err(e), None) => {
                return Err(BackendError::malformed(ArtifactRole::Chunks, e.to_string()))
            }
            (Ok(input), None) => input,
        };
        if input.chunks.is_empty() {
            return Err(BackendError::malformed(
                ArtifactRole::Chunks,
                "a segment needs at least one chunk",
            ));
        }
        Ok(input)
    }
}

/// Decodes a [`SegmentInput`] object. The limit that stopped it, if one did, is left in
/// `over`: serde errors carry only text, and a refusal must not read as malformed JSON.
struct InputSeed<'a> {
    limits: &'a MidenLimits,
    over: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for InputSeed<'_> {
    type Value = SegmentInput;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<SegmentInput, D::Error> {
        d.deserialize_struct("SegmentInput", &["state_in", "chunks"], self)
    }
}

impl<'de> Visitor<'de> for InputSeed<'_> {
    type Value = SegmentInput;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a segment input {\"state_in\": [4 elements], \"chunks\": [[...], ...]}")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<SegmentInput, A::Error> {
        let mut state_in: Option<State> = None;
        let mut chunks: Option<Vec<Chunk>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "state_in" if state_in.is_none() => state_in = Some(map.next_value()?),
                "chunks" if chunks.is_none() => {
                    chunks = Some(map.next_value_seed(ChunksSeed {
                        limits: self.limits,
                        over: self.over,
                    })?)
                }
                "state_in" | "chunks" => {
                    return Err(de::Error::custom(format!("duplicate field `{key}`")))
                }
                // Unknown fields are ignored, as the derived decoder did.
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(SegmentInput {
            state_in: state_in.ok_or_else(|| de::Error::missing_field("state_in"))?,
            chunks: chunks.ok_or_else(|| de::Error::missing_field("chunks"))?,
        })
    }
}

/// Decodes the chunk list, stopping at the first chunk past either limit.
struct ChunksSeed<'a> {
    limits: &'a MidenLimits,
    over: &'a RefCell<Option<String>>,
}

impl ChunksSeed<'_> {
    fn refuse<E: de::Error>(&self, reason: String) -> E {
        let e = E::custom(&reason);
        *self.over.borrow_mut() = Some(reason);
        e
    }
}

impl<'de> DeserializeSeed<'de> for ChunksSeed<'_> {
    type Value = Vec<Chunk>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Chunk>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChunksSeed<'_> {
    type Value = Vec<Chunk>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of chunks")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Chunk>, A::Error> {
        let mut chunks = Vec::new();
        while let Some(chunk) = seq.next_element_seed(ChunkSeed {
            max_len: self.limits.max_chunk_len,
            index: chunks.len(),
            over: self.over,
        })? {
            if chunks.len() == self.limits.max_chunks {
                return Err(self.refuse(format!(
                    "more than max_chunks {} chunks: submit it as several tasks",
                    self.limits.max_chunks
                )));
            }
            chunks.push(chunk);
        }
        Ok(chunks)
    }
}

/// Decodes one chunk, stopping at its first element past `max_len`.
struct ChunkSeed<'a> {
    max_len: usize,
    index: usize,
    over: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for ChunkSeed<'_> {
    type Value = Chunk;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Chunk, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ChunkSeed<'_> {
    type Value = Chunk;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a chunk: a list of field elements")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Chunk, A::Error> {
        let mut chunk = Vec::new();
        while let Some(v) = seq.next_element::<u64>()? {
            if chunk.len() == self.max_len {
                let reason = format!(
                    "chunk {} has more than max_chunk_len {} elements",
                    self.index, self.max_len
                );
                let e = de::Error::custom(&reason);
                *self.over.borrow_mut() = Some(reason);
                return Err(e);
            }
            chunk.push(v);
        }
        Ok(chunk)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max_chunks: usize, max_chunk_len: usize) -> MidenLimits {
        MidenLimits {
            max_chunks,
            max_chunk_len,
            ..MidenLimits::default()
        }
    }

    #[test]
    fn reads_what_serde_writes() {
        let input = SegmentInput {
            state_in: [1, 2, 3, 4],
            chunks: vec![vec![5, 6], vec![7]],
        };
        let bytes = serde_json::to_vec(&input).unwrap();
        assert_eq!(
            SegmentInput::from_json(&bytes, &limits(2, 2)).unwrap(),
            input
        );
        let reordered =
            br#"{"chunks": [[5, 6], [7]], "extra": {"a": 1}, "state_in": [1, 2, 3, 4]}"#;
        assert_eq!(
            SegmentInput::from_json(reordered, &limits(2, 2)).unwrap(),
            input
        );
    }

    #[test]
    fn counts_past_the_limits_are_over_limit_not_malformed() {
        let bytes = br#"{"state_in": [1, 2, 3, 4], "chunks": [[1], [2], [3]]}"#;
        let err = SegmentInput::from_json(bytes, &limits(2, 8)).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
        assert!(err.to_string().contains("max_chunks 2"), "{err}");
        let bytes = br#"{"state_in": [1, 2, 3, 4], "chunks": [[1], [2, 3, 4]]}"#;
        let err = SegmentInput::from_json(bytes, &limits(8, 2)).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
        assert!(err.to_string().contains("chunk 1"), "{err}");
        // Refused at the first chunk past the cap, even though the JSON goes on (and breaks).
        let bytes = br#"{"state_in": [1, 2, 3, 4], "chunks": [[1], [2], [3], not json"#;
        let err = SegmentInput::from_json(bytes, &limits(2, 8)).unwrap_err();
        assert_eq!(err.code(), "over_limit", "{err}");
    }

    #[test]
    fn bad_json_is_malformed() {
        for bad in [
            &b"{not json"[..],
            br#"{"state_in": [1, 2, 3], "chunks": [[1]]}"#,
            br#"{"state_in": [1, 2, 3, 4]}"#,
            br#"{"state_in": [1, 2, 3, 4], "chunks": []}"#,
            br#"{"state_in": [1, 2, 3, 4], "chunks": [[1]]} trailing"#,
            br#"{"state_in": [1, 2, 3, 4], "chunks": [[1]], "chunks": [[2]]}"#,
            br#"{"state_in": [1, 2, 3, 4], "chunks": [[-1]]}"#,
        ] {
            let err = SegmentInput::from_json(bad, &limits(8, 8)).unwrap_err();
            assert_eq!(err.code(), "malformed_artifact", "{err}");
        }
    }
}
