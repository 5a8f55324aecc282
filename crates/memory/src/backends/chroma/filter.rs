//! Search filters as a Chroma `where` clause: every [`Filters`] field becomes a condition the
//! server applies, and one it cannot apply is refused before anything is searched, never dropped.
//!
//! The conditions mean what [`Filters::matches`] means for the embedded store, over the record
//! fields of [`super::record`]: the scope, `talab.deprecated = false` unless deprecated memories
//! are asked for, `since` inclusive and `until` exclusive on the creation time in microseconds,
//! metadata equality as equality of canonical JSON texts (so `1`, `1.0` and `"1"` differ, and an
//! array equals only the same array), a tag as `$contains` on the `talab.tags` array (whole tags
//! only).
//!
//! What cannot be expressed: equality with a value whose JSON text is longer than
//! [`MAX_FILTERABLE`] (such values are not copied into filterable fields; see [`super::record`]).

use serde_json::{Value, json};

use super::record::{self, CREATED, DEPRECATED, MAX_FILTERABLE, SCOPE, TAGS};
use crate::MemoryError;
use crate::search::Filters;

/// The `where` clause of `filters`, searching `scope` when the filters name none.
pub fn where_clause(filters: &Filters, scope: &str) -> Result<Value, MemoryError> {
    let scope = filters.scope.as_deref().unwrap_or(scope);
    let mut all = vec![json!({ SCOPE: { "$eq": scope } })];
    if !filters.include_deprecated {
        all.push(json!({ DEPRECATED: { "$eq": false } }));
    }
    if let Some(since) = filters.since {
        all.push(json!({ CREATED: { "$gte": record::micros(since) } }));
    }
    if let Some(until) = filters.until {
        all.push(json!({ CREATED: { "$lt": record::micros(until) } }));
    }
    for (key, value) in &filters.metadata_eq {
        let text = record::canonical(value);
        if text.len() > MAX_FILTERABLE {
            return Err(MemoryError::InvalidSearch(format!(
                "the chroma backend cannot filter on metadata {key:?} equal to a value of {} \
                 characters of JSON: only values up to {MAX_FILTERABLE} are kept in filterable \
                 fields; filter on a shorter value (nothing was searched)",
                text.len()
            )));
        }
        all.push(json!({ record::field(key): { "$eq": text } }));
    }
    let has = |tag: &String| json!({ TAGS: { "$contains": tag } });
    match filters.tags_any.as_slice() {
        [] => {}
        [one] => all.push(has(one)),
        many => all.push(json!({ "$or": many.iter().map(has).collect::<Vec<_>>() })),
    }
    all.extend(filters.tags_all.iter().map(has));
    Ok(match all.len() {
        1 => all.remove(0),
        _ => json!({ "$and": all }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_is_the_scope_without_deprecated_memories() {
        assert_eq!(
            where_clause(&Filters::default(), "default").unwrap(),
            json!({"$and": [{"talab.scope": {"$eq": "default"}}, {"talab.deprecated": {"$eq": false}}]})
        );
        let everything = Filters {
            include_deprecated: true,
            scope: Some("research".into()),
            ..Filters::default()
        };
        assert_eq!(
            where_clause(&everything, "default").unwrap(),
            json!({"talab.scope": {"$eq": "research"}})
        );
    }

    #[test]
    fn tags_and_values_become_conditions() {
        let filters = Filters {
            metadata_eq: json!({"n": 1}).as_object().unwrap().clone(),
            tags_any: vec!["a".into(), "b".into()],
            tags_all: vec!["c".into()],
            include_deprecated: true,
            ..Filters::default()
        };
        assert_eq!(
            where_clause(&filters, "s").unwrap(),
            json!({"$and": [
                {"talab.scope": {"$eq": "s"}},
                {"meta.n": {"$eq": "1"}},
                {"$or": [{"talab.tags": {"$contains": "a"}}, {"talab.tags": {"$contains": "b"}}]},
                {"talab.tags": {"$contains": "c"}},
            ]})
        );
    }
}
