//! The data the memory contract speaks of: [`Memory`], its [`Metadata`], the seed's defaults, and
//! the input checks every backend applies alike. Apart from the trait ([`crate::MemoryManager`]) so
//! that the search types, which hold memories, and the trait, which returns search outcomes, do not
//! import each other.

use chrono::{DateTime, Utc};

use crate::MemoryError;

/// Free-form context stored with a memory: tags, source, task type… Always a JSON object.
pub type Metadata = serde_json::Map<String, serde_json::Value>;

/// The threshold `search` uses when the caller has no better one (the seed's default).
pub const DEFAULT_THRESHOLD: f32 = 0.7;
/// How many hits `search` returns when the caller has no better number (the seed's default).
pub const DEFAULT_LIMIT: usize = 10;
/// The relevance a memory carries when it was fetched by id rather than found by a search: it was
/// asked for by name, so it is fully relevant.
pub const FETCHED_RELEVANCE: f32 = 1.0;

/// One remembered piece of text.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Memory {
    /// A UUID v4, as text.
    pub id: String,
    /// The text as it was added.
    pub content: String,
    /// Context stored with it (a JSON object).
    pub metadata: Metadata,
    /// Its vector representation; empty when it has none (not embedded, or a stub).
    pub embedding: Vec<f32>,
    /// When it was first added (UTC, microsecond precision on every backend).
    pub created_at: DateTime<Utc>,
    /// From a search: how well it matched the query (higher is better; a similarity in [-1, 1]).
    /// Fetched by id: [`FETCHED_RELEVANCE`].
    pub relevance_score: f32,
}

/// Refuses content that is empty or only whitespace, or holds a NUL (stored on neither backend:
/// see `talab_db::nul_byte`).
pub fn validate_content(content: &str) -> Result<(), MemoryError> {
    if content.trim().is_empty() {
        return Err(MemoryError::EmptyContent);
    }
    talab_db::nul_byte::check("the content", content).map_err(MemoryError::NulInText)
}

/// Refuses metadata with a NUL in any key or string value, on every backend alike.
pub fn validate_metadata(metadata: &crate::Metadata) -> Result<(), MemoryError> {
    metadata.iter().try_for_each(|(key, value)| {
        talab_db::nul_byte::check("a metadata key", key).map_err(MemoryError::NulInText)?;
        talab_db::nul_byte::check_json("the metadata", value).map_err(MemoryError::NulInText)
    })
}

/// Refuses a scope name that is empty or only whitespace, or holds a NUL.
pub fn validate_scope(scope: &str) -> Result<(), MemoryError> {
    if scope.trim().is_empty() {
        return Err(MemoryError::InvalidScope(scope.to_string()));
    }
    talab_db::nul_byte::check("the scope", scope).map_err(MemoryError::NulInText)
}

/// Refuses an empty query.
pub fn validate_query(query: &str) -> Result<(), MemoryError> {
    if query.trim().is_empty() {
        return Err(MemoryError::EmptyQuery);
    }
    Ok(())
}

/// Refuses a threshold that is not a number in [-1, 1], the range of every relevance score.
pub fn validate_threshold(threshold: f32) -> Result<(), MemoryError> {
    if !threshold.is_finite() || !(-1.0..=1.0).contains(&threshold) {
        return Err(MemoryError::InvalidThreshold(threshold));
    }
    Ok(())
}

/// Now, truncated to whole microseconds: the precision PostgreSQL keeps, so a memory reads back
/// exactly as it was written on every backend.
pub fn now_micros() -> DateTime<Utc> {
    use chrono::SubsecRound;
    Utc::now().trunc_subsecs(6)
}

/// The ids in caller order without repeats (the first occurrence wins), for `get_context`.
pub fn unique_ids(ids: &[String]) -> Vec<&str> {
    let mut seen = std::collections::HashSet::new();
    ids.iter()
        .map(String::as_str)
        .filter(|id| seen.insert(*id))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_refuses_bad_input() {
        assert!(matches!(
            validate_content(" \n\t"),
            Err(MemoryError::EmptyContent)
        ));
        assert!(validate_content(" x ").is_ok());
        assert!(matches!(validate_query(""), Err(MemoryError::EmptyQuery)));
        for bad in [f32::NAN, f32::INFINITY, 1.01, -1.5] {
            assert!(
                matches!(validate_threshold(bad), Err(MemoryError::InvalidThreshold(_))),
                "{bad}"
            );
        }
        for good in [-1.0, 0.0, DEFAULT_THRESHOLD, 1.0] {
            assert!(validate_threshold(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn unique_ids_keep_first_occurrence_order() {
        let ids: Vec<String> = ["b", "a", "b", "c", "a"].map(String::from).to_vec();
        assert_eq!(unique_ids(&ids), ["b", "a", "c"]);
    }

    #[test]
    fn now_micros_has_no_nanoseconds() {
        use chrono::Timelike;
        assert_eq!(now_micros().nanosecond() % 1000, 0);
    }
}
