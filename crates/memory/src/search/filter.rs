//! Search filters: which stored memories a search may return at all, before any scoring.
//!
//! Tags are the strings of the `tags` metadata array (a single string counts as one tag).
//! Metadata equality compares JSON values exactly (`{"task_type": "ema_refresh"}`).

use chrono::{DateTime, Utc};

use crate::Metadata;

/// The metadata key holding a memory's tags.
pub const TAGS_KEY: &str = "tags";

/// Restrictions on the memories a search may return; the default restricts nothing but
/// deprecation (deprecated memories are excluded unless asked for).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Every key must be present with exactly this value.
    pub metadata_eq: Metadata,
    /// At least one of these tags (ignored when empty).
    pub tags_any: Vec<String>,
    /// All of these tags.
    pub tags_all: Vec<String>,
    /// Created at or after.
    pub since: Option<DateTime<Utc>>,
    /// Created strictly before.
    pub until: Option<DateTime<Utc>>,
    /// The scope searched; `None` means the manager's own scope.
    pub scope: Option<String>,
    /// Also return deprecated memories.
    pub include_deprecated: bool,
}

/// What a filter needs to know about one stored memory.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// Its metadata.
    pub metadata: &'a Metadata,
    /// Its scope.
    pub scope: &'a str,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// Whether it is deprecated.
    pub deprecated: bool,
}

impl Filters {
    /// Whether the memory passes every filter; `default_scope` stands in for `scope: None`.
    pub fn matches(&self, c: &Candidate<'_>, default_scope: &str) -> bool {
        let in_scope = c.scope == self.scope.as_deref().unwrap_or(default_scope);
        self.matches_columns(c.deprecated, in_scope, c.created_at) && self.matches_metadata(c.metadata)
    }

    /// The checks on a memory's flags: deprecation, scope (`in_scope`: already compared by the
    /// caller), creation time.
    #[inline]
    pub fn matches_columns(&self, deprecated: bool, in_scope: bool, created_at: DateTime<Utc>) -> bool {
        (!deprecated || self.include_deprecated)
            && in_scope
            && self.since.is_none_or(|since| created_at >= since)
            && self.until.is_none_or(|until| created_at < until)
    }

    /// Whether any filter reads metadata (equality or tags); when none does, a search needs only
    /// [`matches_columns`](Self::matches_columns).
    pub fn reads_metadata(&self) -> bool {
        !self.metadata_eq.is_empty() || !self.tags_any.is_empty() || !self.tags_all.is_empty()
    }

    /// The metadata-equality and tag checks.
    pub fn matches_metadata(&self, metadata: &Metadata) -> bool {
        if !self.metadata_eq.iter().all(|(k, v)| metadata.get(k) == Some(v)) {
            return false;
        }
        if self.tags_any.is_empty() && self.tags_all.is_empty() {
            return true;
        }
        let tags = tags(metadata);
        (self.tags_any.is_empty() || self.tags_any.iter().any(|t| tags.contains(&t.as_str())))
            && self.tags_all.iter().all(|t| tags.contains(&t.as_str()))
    }
}

/// The tags of a memory: the strings of its `tags` array, or its `tags` string.
pub fn tags(metadata: &Metadata) -> Vec<&str> {
    match metadata.get(TAGS_KEY) {
        Some(serde_json::Value::Array(values)) => values.iter().filter_map(|v| v.as_str()).collect(),
        Some(serde_json::Value::String(tag)) => vec![tag.as_str()],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_filter_restricts() {
        let metadata = json!({"task_type": "ema_refresh", "tags": ["btc", "daily"]});
        let metadata = metadata.as_object().unwrap();
        let at: DateTime<Utc> = "2026-11-20T10:00:00Z".parse().unwrap();
        let c = Candidate {
            metadata,
            scope: "default",
            created_at: at,
            deprecated: false,
        };
        let pass = |f: Filters| f.matches(&c, "default");
        assert!(pass(Filters::default()));
        let eq = |v: serde_json::Value| json!({"task_type": v}).as_object().unwrap().clone();
        assert!(pass(Filters {
            metadata_eq: eq(json!("ema_refresh")),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            metadata_eq: eq(json!("bars")),
            ..Default::default()
        }));
        let tags = |t: &[&str]| t.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(pass(Filters {
            tags_any: tags(&["eth", "btc"]),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            tags_any: tags(&["eth"]),
            ..Default::default()
        }));
        assert!(pass(Filters {
            tags_all: tags(&["daily", "btc"]),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            tags_all: tags(&["daily", "eth"]),
            ..Default::default()
        }));
        assert!(pass(Filters {
            since: Some(at),
            until: Some(at + chrono::Duration::seconds(1)),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            since: Some(at + chrono::Duration::seconds(1)),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            until: Some(at),
            ..Default::default()
        }));
        assert!(!pass(Filters {
            scope: Some("other".into()),
            ..Default::default()
        }));
        let deprecated = Candidate {
            deprecated: true,
            ..c
        };
        assert!(!Filters::default().matches(&deprecated, "default"));
        assert!(
            Filters {
                include_deprecated: true,
                ..Default::default()
            }
            .matches(&deprecated, "default")
        );
    }
}
