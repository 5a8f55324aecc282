//! How a memory is kept in a Chroma record, and read back.
//!
//! Chroma's record has an id, an embedding, a document and a flat metadata map whose values are
//! scalars (bool, int, float, string) or arrays of one scalar type; talab's metadata is any JSON
//! object. So a record's metadata holds:
//!
//! - `talab.metadata`: talab's metadata as JSON text, the one source it is read back from
//!   (lossless: nested objects, mixed arrays, `1` vs `1.0` all survive);
//! - `meta.<key>` for each top-level key: the value's canonical JSON text (objects' keys sorted),
//!   so an equality filter compares JSON values exactly by comparing strings (Chroma's own `$eq`
//!   finds the int 1 equal to the float 1.0, and cannot compare arrays or objects). Values longer
//!   than [`MAX_FILTERABLE`] are not copied (they stay in `talab.metadata`): filtering on one is
//!   refused rather than answered wrongly ([`super::filter`]);
//! - `talab.tags`: the memory's tags ([`crate::search::filter::tags`]) as an array of strings,
//!   absent when there are none, for `$contains`;
//! - `talab.scope`, `talab.hash` (the content hash: dedup per scope), `talab.created_us` and
//!   `talab.updated_us` (microseconds since the epoch, integers: `$gte`/`$lt` work on them),
//!   `talab.deprecated` (bool), and when deprecated `talab.deprecated_us` and
//!   `talab.deprecation_reason`;
//! - `talab.nonce`: a random value each add writes, to read back whether the record under its id
//!   is its own (see [`super::ChromaMemory::insert_at`]).
//!
//! The content is the record's document; the vector, talab's embedder's, is its embedding.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::search::filter::tags;
use crate::{FETCHED_RELEVANCE, Memory, Metadata};

pub const METADATA: &str = "talab.metadata";
pub const SCOPE: &str = "talab.scope";
pub const HASH: &str = "talab.hash";
pub const CREATED: &str = "talab.created_us";
pub const UPDATED: &str = "talab.updated_us";
pub const DEPRECATED: &str = "talab.deprecated";
pub const DEPRECATED_AT: &str = "talab.deprecated_us";
pub const DEPRECATION_REASON: &str = "talab.deprecation_reason";
pub const TAGS: &str = "talab.tags";
pub const NONCE: &str = "talab.nonce";
/// The prefix of the filterable copy of each metadata key.
pub const FIELD_PREFIX: &str = "meta.";
/// The longest canonical JSON text of a metadata value that is copied for filtering.
pub const MAX_FILTERABLE: usize = 1024;

/// A Chroma record's metadata map.
pub type ChromaMetadata = Map<String, Value>;

/// What a new or updated record says about itself besides talab's metadata.
pub struct Facts<'a> {
    pub scope: &'a str,
    pub hash: &'a str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The record metadata of a memory that is not deprecated.
pub fn to_chroma(metadata: &Metadata, facts: &Facts<'_>) -> ChromaMetadata {
    let mut out = ChromaMetadata::new();
    out.insert(
        METADATA.into(),
        Value::String(Value::Object(metadata.clone()).to_string()),
    );
    for (key, value) in metadata {
        let text = canonical(value);
        if text.len() <= MAX_FILTERABLE {
            out.insert(field(key), Value::String(text));
        }
    }
    let tags: Vec<Value> = tags(metadata)
        .into_iter()
        .map(|t| Value::String(t.to_string()))
        .collect();
    if !tags.is_empty() {
        out.insert(TAGS.into(), Value::Array(tags));
    }
    out.insert(SCOPE.into(), facts.scope.into());
    out.insert(HASH.into(), facts.hash.into());
    out.insert(CREATED.into(), micros(facts.created_at).into());
    out.insert(UPDATED.into(), micros(facts.updated_at).into());
    out.insert(DEPRECATED.into(), false.into());
    out
}

/// The changes that mark a record deprecated (Chroma's `update` merges them in).
pub fn deprecation(at: DateTime<Utc>, reason: &str) -> ChromaMetadata {
    let mut out = ChromaMetadata::new();
    out.insert(DEPRECATED.into(), true.into());
    out.insert(DEPRECATED_AT.into(), micros(at).into());
    out.insert(DEPRECATION_REASON.into(), reason.into());
    out
}

/// `new` as a change to a record holding `old`: Chroma's `update` merges maps, so every key of
/// `old` missing from `new` is set to null (removed), and the deprecation keys are kept.
pub fn replacing(old: &ChromaMetadata, mut new: ChromaMetadata) -> ChromaMetadata {
    for key in [DEPRECATED, DEPRECATED_AT, DEPRECATION_REASON] {
        if let Some(value) = old.get(key) {
            new.insert(key.into(), value.clone());
        }
    }
    for key in old.keys() {
        if !new.contains_key(key) {
            new.insert(key.clone(), Value::Null);
        }
    }
    new
}

/// The name of the filterable copy of metadata `key`.
pub fn field(key: &str) -> String {
    format!("{FIELD_PREFIX}{key}")
}

/// A JSON value's text with every object's keys in order, so equal values give equal texts.
pub fn canonical(value: &Value) -> String {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            let inner: Vec<String> = entries
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(items) => format!("[{}]", items.iter().map(canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Microseconds since the epoch, as stored.
pub fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A record read back: the memory, and what the record says about it.
pub struct Stored {
    pub memory: Memory,
    pub scope: String,
    pub hash: String,
    /// The record's metadata as stored (for an update's [`replacing`]).
    pub raw: ChromaMetadata,
}

/// The memory a record holds (`relevance_score` [`FETCHED_RELEVANCE`]); a record talab did not
/// write says so (the error names what is missing).
pub fn from_chroma(
    id: String,
    document: Option<String>,
    raw: Option<ChromaMetadata>,
    embedding: Option<Vec<f32>>,
) -> Result<Stored, String> {
    let not_ours = |what: &str| format!("record {id} was not written by talab ({what})");
    let raw = raw.ok_or_else(|| not_ours("it has no metadata"))?;
    let text = |key: &str| {
        raw.get(key)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| not_ours(&format!("no {key}")))
    };
    let metadata = match serde_json::from_str(&text(METADATA)?) {
        Ok(Value::Object(map)) => map,
        _ => return Err(not_ours(&format!("{METADATA} is not a JSON object"))),
    };
    let created = raw
        .get(CREATED)
        .and_then(Value::as_i64)
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(|| not_ours(&format!("no {CREATED}")))?;
    let (scope, hash) = (text(SCOPE)?, text(HASH)?);
    let content = document.ok_or_else(|| not_ours("it has no document"))?;
    Ok(Stored {
        memory: Memory {
            id,
            content,
            metadata,
            embedding: embedding.unwrap_or_default(),
            created_at: created,
            relevance_score: FETCHED_RELEVANCE,
        },
        scope,
        hash,
        raw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn equal_values_have_equal_texts_and_different_values_do_not() {
        assert_eq!(
            canonical(&json!({"b": [1, {"y": 2, "x": 1}], "a": "s"})),
            r#"{"a":"s","b":[1,{"x":1,"y":2}]}"#
        );
        assert_ne!(canonical(&json!(1)), canonical(&json!(1.0)));
        assert_ne!(canonical(&json!(1)), canonical(&json!("1")));
    }

    #[test]
    fn a_record_round_trips_and_long_values_are_not_filterable() {
        let long = "x".repeat(MAX_FILTERABLE);
        let metadata = json!({"n": 1.0, "tags": ["btc", 3, "daily"], "long": long, "o": {"k": [1]}});
        let metadata = metadata.as_object().unwrap().clone();
        let at = DateTime::from_timestamp_micros(1_700_000_000_123_456).unwrap();
        let facts = Facts {
            scope: "s",
            hash: "h",
            created_at: at,
            updated_at: at,
        };
        let raw = to_chroma(&metadata, &facts);
        assert_eq!(raw[TAGS], json!(["btc", "daily"]));
        assert_eq!(raw["meta.n"], json!("1.0"));
        assert!(
            !raw.contains_key("meta.long"),
            "longer than the limit once quoted"
        );
        let back = from_chroma("id".into(), Some("c".into()), Some(raw), None).unwrap();
        assert_eq!(back.memory.metadata, metadata);
        assert_eq!((back.memory.created_at, back.scope.as_str()), (at, "s"));
    }

    #[test]
    fn an_update_removes_dropped_keys_and_keeps_the_deprecation() {
        let at = DateTime::from_timestamp_micros(0).unwrap();
        let facts = Facts {
            scope: "s",
            hash: "h",
            created_at: at,
            updated_at: at,
        };
        let mut old = to_chroma(json!({"a": 1}).as_object().unwrap(), &facts);
        old.extend(deprecation(at, "old"));
        let new = replacing(&old, to_chroma(json!({"b": 2}).as_object().unwrap(), &facts));
        assert_eq!(new["meta.a"], Value::Null);
        assert_eq!(new["meta.b"], json!("2"));
        assert_eq!(new[DEPRECATED], json!(true));
        assert_eq!(new[DEPRECATION_REASON], json!("old"));
    }
}
