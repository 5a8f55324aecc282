//! What keeps a tool's answer small enough for a model's context window: every list has a default
//! and a maximum length, long texts are cut with a marker that says how to get the rest, and a
//! whole answer never exceeds [`MAX_ANSWER_CHARS`] (lists are shortened until it fits, and say so).
//!
//! Memory MCP servers most often fail their users here: a search that returns tens of thousands of
//! tokens pushes everything else out of the conversation.

use serde::Serialize;

/// Items a list or search returns when the caller gives no limit.
pub const DEFAULT_ITEMS: usize = 10;
/// The most items one call returns.
pub const MAX_ITEMS: usize = 100;
/// A memory's content longer than this is cut (`get_memory` returns it whole, up to the answer cap).
pub const PREVIEW_CHARS: usize = 1_000;
/// The most characters of JSON one tool answer holds.
pub const MAX_ANSWER_CHARS: usize = 24_000;

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

/// Drops items from the end of `list` until `answer(list)` serialises within [`MAX_ANSWER_CHARS`];
/// returns how many were dropped.
pub fn fit<T, A: Serialize>(list: &mut Vec<T>, answer: impl Fn(&[T]) -> A) -> usize {
    let mut dropped = 0;
    while !list.is_empty() && !fits(&answer(list)) {
        list.pop();
        dropped += 1;
    }
    dropped
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

/// One page of `all` from `cursor`, at most `limit` items and within the answer cap; and the
/// cursor of the next page.
pub fn page<T: Clone + Serialize>(
    all: Vec<T>,
    limit: Option<usize>,
    cursor: Option<&str>,
) -> Result<(Vec<T>, Option<String>), String> {
    let offset = self::cursor(cursor)?;
    let total = all.len();
    let mut shown: Vec<T> = all.into_iter().skip(offset).take(items(limit)).collect();
    fit(&mut shown, |shown| shown.to_vec());
    let end = offset + shown.len();
    Ok((shown, (end < total).then(|| end.to_string())))
}

/// Whether `answer` serialises within [`MAX_ANSWER_CHARS`].
pub fn fits<A: Serialize>(answer: &A) -> bool {
    size(answer) <= MAX_ANSWER_CHARS
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
    fn a_list_is_shortened_until_the_answer_fits() {
        let mut list: Vec<String> = (0..100).map(|_| "x".repeat(1_000)).collect();
        let dropped = fit(&mut list, |l| l.to_vec());
        assert!(dropped > 0);
        assert!(size(&list) <= MAX_ANSWER_CHARS);
        assert!(
            size(&list) + 1_010 > MAX_ANSWER_CHARS,
            "not shortened more than needed"
        );
    }
}
