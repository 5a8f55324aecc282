//! What the filters check on every memory of a search (scope, deprecation, creation time), kept
//! in compact columns parallel to the index's slots.
//!
//! Read from the entries instead, every memory cost a pointer chase into its own heap string (the
//! scope) and a cache line of its entry: measured with `perf` on 100k memories, comparing scopes
//! took half of a search's time, more than the int8 scan itself. Here a scope is a small integer
//! (scopes are interned; there are few), so the filter pass reads a few bytes per memory, in order.

use chrono::{DateTime, Utc};

use super::entry::IndexEntry;
use super::filter::Filters;

/// Per-slot scope id, deprecation and creation time.
#[derive(Debug, Clone, Default)]
pub struct FilterColumns {
    /// Interned scope names; a slot's scope is an index into this.
    scopes: Vec<String>,
    scope: Vec<u32>,
    deprecated: Vec<bool>,
    created_at: Vec<DateTime<Utc>>,
}

impl FilterColumns {
    pub fn reserve_exact(&mut self, rows: usize) {
        self.scope.reserve_exact(rows);
        self.deprecated.reserve_exact(rows);
        self.created_at.reserve_exact(rows);
    }

    fn intern(&mut self, scope: &str) -> u32 {
        match self.scopes.iter().position(|s| s == scope) {
            Some(i) => i as u32,
            None => {
                self.scopes.push(scope.to_string());
                (self.scopes.len() - 1) as u32
            }
        }
    }

    /// Appends the columns of a new last slot.
    pub fn push(&mut self, entry: &IndexEntry) {
        let scope = self.intern(&entry.scope);
        self.scope.push(scope);
        self.deprecated.push(entry.deprecated);
        self.created_at.push(entry.created_at);
    }

    /// Replaces the columns of `slot`.
    pub fn set(&mut self, slot: usize, entry: &IndexEntry) {
        self.scope[slot] = self.intern(&entry.scope);
        self.deprecated[slot] = entry.deprecated;
        self.created_at[slot] = entry.created_at;
    }

    pub fn set_deprecated(&mut self, slot: usize, deprecated: bool) {
        self.deprecated[slot] = deprecated;
    }

    /// Removes `slot`, moving the last slot into its place (as the index does).
    pub fn swap_remove(&mut self, slot: usize) {
        self.scope.swap_remove(slot);
        self.deprecated.swap_remove(slot);
        self.created_at.swap_remove(slot);
    }

    /// The id of a scope, None when no memory has it.
    pub fn scope_id(&self, scope: &str) -> Option<u32> {
        self.scopes.iter().position(|s| s == scope).map(|i| i as u32)
    }

    /// Whether `slot` passes the column filters, `scope` being the searched scope's id.
    #[inline]
    pub fn passes(&self, slot: usize, filters: &Filters, scope: Option<u32>) -> bool {
        filters.matches_columns(
            self.deprecated[slot],
            Some(self.scope[slot]) == scope,
            self.created_at[slot],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(scope: &str, deprecated: bool, day: u32) -> IndexEntry {
        let at: DateTime<Utc> = format!("2026-11-{day:02}T10:00:00Z").parse().unwrap();
        IndexEntry {
            id: format!("{scope}-{day}"),
            content: String::new(),
            scope: scope.into(),
            metadata: crate::Metadata::new(),
            created_at: at,
            updated_at: at,
            verified_at: None,
            deprecated,
        }
    }

    #[test]
    fn columns_follow_pushes_sets_and_swap_removes() {
        let mut c = FilterColumns::default();
        c.push(&entry("default", false, 1));
        c.push(&entry("research", false, 2));
        c.push(&entry("default", true, 3));
        let all = Filters {
            include_deprecated: true,
            ..Filters::default()
        };
        let default = c.scope_id("default");
        assert_eq!(c.scope_id("nowhere"), None);
        let passing =
            |c: &FilterColumns, f: &Filters, s| (0..3).filter(|&i| c.passes(i, f, s)).collect::<Vec<_>>();
        assert_eq!(passing(&c, &all, default), [0, 2]);
        assert_eq!(
            passing(&c, &Filters::default(), default),
            [0],
            "deprecated excluded by default"
        );
        assert_eq!(passing(&c, &all, c.scope_id("research")), [1]);
        let since = Filters {
            since: Some("2026-11-02T00:00:00Z".parse().unwrap()),
            ..all.clone()
        };
        assert_eq!(passing(&c, &since, default), [2]);

        c.swap_remove(0);
        assert_eq!(
            (0..2).filter(|&i| c.passes(i, &all, default)).collect::<Vec<_>>(),
            [0],
            "the last slot moved into slot 0"
        );
        c.set(1, &entry("default", false, 4));
        c.set_deprecated(0, false);
        assert_eq!(
            (0..2)
                .filter(|&i| c.passes(i, &Filters::default(), default))
                .count(),
            2
        );
    }
}
