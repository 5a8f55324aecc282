//! What keeps a tool's answer small enough for a model's context window: every list has a default
//! and a maximum length, long texts are cut with a marker that says how to get the rest, and a
//! whole answer never exceeds the configured cap ([`Bounds`], `mcp.max_answer_chars`): lists are
//! shortened until it fits, and say so.
//!
//! Memory MCP servers most often fail their users here: a search that returns tens of thousands of
//! tokens pushes everything else out of the conversation.
//!
//! The cap counts the answer's JSON, which is what a client hands the model. The protocol carries
//! it twice (as structured content and, for older clients, as the same JSON in a text block).

use serde::Serialize;

/// Items a list or search returns when the caller gives no limit.
pub const DEFAULT_ITEMS: usize = 10;
/// The most items one call returns.
pub const MAX_ITEMS: usize = 100;
/// A memory's content longer than this is cut (`get_memory` returns it whole, up to the answer cap).
pub const PREVIEW_CHARS: usize = 1_000;
/// The answer cap when the configuration sets none.
pub const DEFAULT_MAX_ANSWER_CHARS: usize = 24_000;
/// The smallest cap the configuration may set: one search hit with a cut content and its
/// metadata must still fit, or a page could hold nothing and its cursor would not move.
pub const MIN_ANSWER_CHARS: usize = 4_000;

/// The number of items to return: the caller's, within 1..=[`MAX_ITEMS`], else the default.
pub fn items(asked: Option<usize>) -> usize {
    asked.unwrap_or(DEFAULT_ITEMS).clamp(1, MAX_ITEMS)
}

/// `text` cut to `max` characters, with a marker naming how to read the rest; and whether it was cut.
pub fn preview(text: &str, max: usize, rest: &str) -> (String, bool) {
    if text.chars().count() <= max {
        return (text.to_string(), false);
    }
    let head: String = text.chars().take(max).collect();
    (format!("{head}… [cut at {max} characters; {rest}]"), true)
}

/// The offset a cursor this server gave stands for (none: the start).
pub fn cursor(cursor: Option<&str>) -> Result<usize, String> {
    match cursor {
        Some(c) => c
            .parse()
            .map_err(|_| format!("cursor '{c}' is not one this server gave")),
        None => Ok(0),
    }
}

/// The answer cap of one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// The most characters of JSON one tool answer holds.
    pub max_answer_chars: usize,
}

impl Default for Bounds {
    fn default() -> Self {
        Bounds {
            max_answer_chars: DEFAULT_MAX_ANSWER_CHARS,
        }
    }
}

impl Bounds {
    /// The cap from `mcp.max_answer_chars` (the configuration checks its minimum).
    pub fn from_config(config: &crate::config::Config) -> Self {
        config
            .mcp_max_answer_chars
            .value
            .map_or_else(Bounds::default, |n| Bounds {
                max_answer_chars: usize::try_from(n).unwrap_or(usize::MAX),
            })
    }

    /// The most characters one long text in an answer (a whole memory, an answer, a context
    /// block) may take: half the cap, leaving room for the rest of the answer and its escapes.
    pub fn text_chars(&self) -> usize {
        self.max_answer_chars / 2
    }

    /// Drops items from the end of `list` until `answer(list)` serialises within the cap; returns
    /// how many were dropped.
    pub fn fit<T, A: Serialize>(&self, list: &mut Vec<T>, answer: impl Fn(&[T]) -> A) -> usize {
        let mut dropped = 0;
        while !list.is_empty() && !self.fits(&answer(list)) {
            list.pop();
            dropped += 1;
        }
        dropped
    }

    /// One page of `all` from `cursor`, at most `limit` items and within the cap; and the cursor
    /// of the next page.
    pub fn page<T: Clone + Serialize>(
        &self,
        all: Vec<T>,
        limit: Option<usize>,
        cursor: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), String> {
        let offset = self::cursor(cursor)?;
        let total = all.len();
        let mut shown: Vec<T> = all.into_iter().skip(offset).take(items(limit)).collect();
        self.fit(&mut shown, |shown| shown.to_vec());
        let end = offset + shown.len();
        Ok((shown, (end < total).then(|| end.to_string())))
    }

    /// Whether `answer` serialises within the cap.
    pub fn fits<A: Serialize>(&self, answer: &A) -> bool {
        size(answer) <= self.max_answer_chars
    }
}

fn size<A: Serialize>(answer: &A) -> usize {
    serde_json::to_string(answer).map_or(usize::MAX, |s| s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_are_clamped_and_defaulted() {
        assert_eq!(items(None), DEFAULT_ITEMS);
        assert_eq!(items(Some(0)), 1);
        assert_eq!(items(Some(10_000)), MAX_ITEMS);
    }

    #[test]
    fn long_text_is_cut_on_a_character_boundary_with_a_marker() {
        let (short, cut) = preview("héllo", 10, "x");
        assert_eq!((short.as_str(), cut), ("héllo", false));
        let (long, cut) = preview(&"é".repeat(50), 10, "call get_memory");
        assert!(cut && long.starts_with(&"é".repeat(10)) && long.contains("call get_memory"));
    }

    #[test]
    fn a_list_is_shortened_until_the_answer_fits_the_cap_given() {
        for cap in [MIN_ANSWER_CHARS, DEFAULT_MAX_ANSWER_CHARS, 50_000] {
            let bounds = Bounds {
                max_answer_chars: cap,
            };
            let mut list: Vec<String> = (0..100).map(|_| "x".repeat(1_000)).collect();
            let dropped = bounds.fit(&mut list, |l| l.to_vec());
            assert!(dropped > 0);
            assert!(size(&list) <= cap);
            assert!(size(&list) + 1_010 > cap, "not shortened more than needed");
        }
    }

    #[test]
    fn a_page_stops_where_the_cap_does_and_its_cursor_goes_on_from_there() {
        let bounds = Bounds {
            max_answer_chars: MIN_ANSWER_CHARS,
        };
        let all: Vec<String> = (0..20).map(|i| format!("{i:02}{}", "y".repeat(998))).collect();
        let (first, next) = bounds.page(all.clone(), Some(20), None).unwrap();
        assert_eq!(first.len(), 3, "3 items of 1,002 characters fit in 4,000");
        assert_eq!(next.as_deref(), Some("3"));
        let (second, _) = bounds.page(all, Some(20), next.as_deref()).unwrap();
        assert!(second[0].starts_with("03"));
    }
}
