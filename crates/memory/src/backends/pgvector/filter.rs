//! Search filters as SQL: every [`Filters`] field becomes a condition the server applies, so no
//! filter is ever dropped or applied to a shortened list in the process.
//!
//! The conditions mean exactly what [`Filters::matches`] means for the embedded store:
//! metadata equality compares JSON values (`metadata -> key = value`; a containment test beside
//! it lets the GIN index narrow the rows first), a tag is a string of the `tags` array or the
//! `tags` string itself (jsonb containment of a string: `["a","b"] @> "a"` and `"a" @> "a"` hold,
//! a number 1 never matches the tag "1"), `since` is inclusive and `until` exclusive.

use talab_db::sqlx::types::Json;
use talab_db::sqlx::{Postgres, QueryBuilder};

use crate::search::{Filters, TAGS_KEY};

/// Pushes one boolean expression, never NULL, that holds iff a row passes `filters`, searching
/// `scope` when the filters name none.
pub fn push(q: &mut QueryBuilder<'_, Postgres>, filters: &Filters, scope: &str) {
    q.push("coalesce((scope = ");
    q.push_bind(filters.scope.clone().unwrap_or_else(|| scope.to_string()));
    if !filters.include_deprecated {
        q.push(" AND deprecated_at IS NULL");
    }
    if let Some(since) = filters.since {
        q.push(" AND created_at >= ").push_bind(since);
    }
    if let Some(until) = filters.until {
        q.push(" AND created_at < ").push_bind(until);
    }
    for (key, value) in &filters.metadata_eq {
        let mut pair = crate::Metadata::new();
        pair.insert(key.clone(), value.clone());
        q.push(" AND metadata @> ").push_bind(Json(pair));
        q.push(" AND metadata -> ").push_bind(key.clone());
        q.push(" = ").push_bind(Json(value.clone()));
    }
    if !filters.tags_any.is_empty() {
        q.push(" AND EXISTS (SELECT 1 FROM unnest(")
            .push_bind(filters.tags_any.clone());
        q.push("::text[]) AS wanted(tag) WHERE metadata -> ")
            .push_bind(TAGS_KEY);
        q.push(" @> to_jsonb(wanted.tag))");
    }
    if !filters.tags_all.is_empty() {
        q.push(" AND NOT EXISTS (SELECT 1 FROM unnest(")
            .push_bind(filters.tags_all.clone());
        q.push("::text[]) AS wanted(tag) WHERE NOT coalesce(metadata -> ")
            .push_bind(TAGS_KEY);
        q.push(" @> to_jsonb(wanted.tag), false))");
    }
    q.push("), false)");
}
