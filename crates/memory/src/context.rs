//! The `get_context` block: memories rendered for a prompt, the same for every backend.
//!
//! Layout: a header counting the memories found, then one block per memory in the caller's order,
//! then (when needed) a line counting the memories that did not fit the budget and a line naming
//! the ids that were not found:
//!
//! ```text
//! # Relevant memories (3)
//!
//! ## Memory 1 (Relevance: 87%)
//! type: code | source: notes/ema.md | created_at: 2026-01-26T10:00:00Z
//! EMA calculation logic: alpha = 2 / (period + 1).
//!
//! ## Memory 2 (Relevance: 100%)
//! created_at: 2026-01-27T08:30:00Z
//! Refreshed the daily EMAs for BTC and ETH.
//!
//! (1 more memory did not fit the 4000-character budget)
//! Unknown memory ids (not found): 0b7e…, 9f1c…
//! ```
//!
//! - The metadata line shows `type`, `task_type` and `source` when present (strings as they are,
//!   whitespace collapsed, at most 80 characters; other values as JSON), then `created_at` in
//!   RFC 3339 UTC. Relevance is the score as a rounded percentage.
//! - The budget counts characters (not bytes) of the whole block. Memories are never cut: the
//!   first memories in caller order that fit are shown, and the rest are counted in the final
//!   line, whose room is reserved. Only the header and the unknown-ids line are always present,
//!   even when they alone exceed a tiny budget.
//! - With no memories the block is one line, `# Relevant memories: none`, followed by the
//!   unknown-ids line when ids were asked for and not found.
//!
//! ```
//! use talab_memory::{Memory, Metadata, context::render_context};
//! let mut metadata = Metadata::new();
//! metadata.insert("type".into(), "code".into());
//! let memory = Memory {
//!     id: "4f9d8c1e-0000-4000-8000-000000000001".into(),
//!     content: "EMA calculation logic".into(),
//!     metadata,
//!     embedding: vec![],
//!     created_at: "2026-01-26T10:00:00Z".parse().unwrap(),
//!     relevance_score: 0.874,
//! };
//! let expected = concat!(
//!     "# Relevant memories (1)\n",
//!     "\n",
//!     "## Memory 1 (Relevance: 87%)\n",
//!     "type: code | created_at: 2026-01-26T10:00:00Z\n",
//!     "EMA calculation logic\n",
//!     "\n",
//!     "Unknown memory ids (not found): gone\n",
//! );
//! assert_eq!(render_context(&[memory], &["gone".to_string()], 4000), expected);
//! ```

use chrono::SecondsFormat;

use crate::Memory;

/// The character budget `get_context` uses when the caller has no better one.
pub const DEFAULT_CONTEXT_BUDGET: usize = 4000;

/// Metadata keys shown on a memory's metadata line, in this order.
pub const KEY_METADATA: [&str; 3] = ["type", "task_type", "source"];

/// The longest a metadata value is shown, in characters.
const MAX_VALUE_CHARS: usize = 80;

/// The memories of `by_id` in the order `wanted` gives, and the wanted ids it lacks: what a
/// backend that fetches many ids in one query hands to [`render_context`].
pub fn in_order(
    wanted: &[&str],
    mut by_id: std::collections::HashMap<String, Memory>,
) -> (Vec<Memory>, Vec<String>) {
    let (mut found, mut unknown) = (Vec::new(), Vec::new());
    for id in wanted {
        match by_id.remove(*id) {
            Some(memory) => found.push(memory),
            None => unknown.push(id.to_string()),
        }
    }
    (found, unknown)
}

/// Renders memories (already in the caller's order) and the ids that were not found as a
/// prompt-ready block within `budget_chars` characters; see the [module docs](self) for the format.
pub fn render_context(memories: &[Memory], unknown_ids: &[String], budget_chars: usize) -> String {
    let unknown = unknown_line(unknown_ids);
    if memories.is_empty() {
        return format!("# Relevant memories: none\n{unknown}");
    }
    let header = format!("# Relevant memories ({})\n", memories.len());
    // The trailer (what did not fit, what was not found) follows a blank line. Room is reserved for
    // the longest "did not fit" line this call could need, so adding it never breaks the budget.
    let reserve = 1 + chars(&omitted_line(memories.len(), true, budget_chars));
    let mut used = chars(&header)
        + if unknown.is_empty() {
            0
        } else {
            1 + chars(&unknown)
        };
    let mut body = String::new();
    let mut shown = 0;
    for (i, memory) in memories.iter().enumerate() {
        let block = render_block(i + 1, memory);
        let len = chars(&block);
        let more_after = i + 1 < memories.len();
        if used + len + if more_after { reserve } else { 0 } > budget_chars {
            break;
        }
        used += len;
        body.push_str(&block);
        shown += 1;
    }
    let omitted = memories.len() - shown;
    let mut trailer = String::new();
    if omitted > 0 {
        trailer.push_str(&omitted_line(omitted, shown > 0, budget_chars));
    }
    trailer.push_str(&unknown);
    let mut out = header + &body;
    if !trailer.is_empty() {
        out.push('\n');
        out.push_str(&trailer);
    }
    out
}

fn render_block(position: usize, memory: &Memory) -> String {
    let mut meta: Vec<String> = KEY_METADATA
        .iter()
        .filter_map(|key| {
            let value = memory.metadata.get(*key)?;
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some(format!("{key}: {}", shorten(&text)))
        })
        .collect();
    meta.push(format!(
        "created_at: {}",
        memory.created_at.to_rfc3339_opts(SecondsFormat::Secs, true)
    ));
    format!(
        "\n## Memory {position} (Relevance: {}%)\n{}\n{}\n",
        percent(memory.relevance_score),
        meta.join(" | "),
        memory.content.trim_end()
    )
}

/// A score as a whole percentage; a score that is not a number shows as 0. Computed in f32, so a
/// score written 0.705 shows as 71% (in f64 its nearest f32, 0.70499998…, would show as 70%).
fn percent(score: f32) -> i64 {
    if score.is_finite() {
        (score * 100.0).round().clamp(-100.0, 100.0) as i64
    } else {
        0
    }
}

/// One line, whitespace collapsed, at most [`MAX_VALUE_CHARS`] characters (an ellipsis marks a cut).
fn shorten(value: &str) -> String {
    let flat = value.split_whitespace().collect::<Vec<_>>().join(" ");
    if chars(&flat) <= MAX_VALUE_CHARS {
        return flat;
    }
    let mut cut: String = flat.chars().take(MAX_VALUE_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn omitted_line(count: usize, after_shown: bool, budget_chars: usize) -> String {
    let more = if after_shown { "more " } else { "" };
    let noun = if count == 1 { "memory" } else { "memories" };
    format!("({count} {more}{noun} did not fit the {budget_chars}-character budget)\n")
}

fn unknown_line(unknown_ids: &[String]) -> String {
    if unknown_ids.is_empty() {
        return String::new();
    }
    format!("Unknown memory ids (not found): {}\n", unknown_ids.join(", "))
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Metadata;

    fn memory(n: u32, content: &str, score: f32, meta: &[(&str, serde_json::Value)]) -> Memory {
        Memory {
            id: format!("00000000-0000-4000-8000-00000000000{n}"),
            content: content.to_string(),
            metadata: meta
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect::<Metadata>(),
            embedding: vec![],
            created_at: format!("2026-01-2{n}T10:00:00.123456Z").parse().unwrap(),
            relevance_score: score,
        }
    }

    fn three() -> Vec<Memory> {
        vec![
            memory(
                1,
                "EMA calculation logic: alpha = 2 / (period + 1).\n",
                0.874,
                &[
                    ("source", "notes/ema.md".into()),
                    ("type", "code".into()),
                    ("tags", serde_json::json!(["ema"])),
                ],
            ),
            memory(
                2,
                "Refreshed the daily EMAs for BTC and ETH.",
                1.0,
                &[
                    ("task_type", "ema_refresh".into()),
                    ("symbols", serde_json::json!(["BTC", "ETH"])),
                ],
            ),
            memory(3, "Bars are built from CoinMarketCap daily quotes.", 0.705, &[]),
        ]
    }

    #[test]
    fn snapshot_everything_fits() {
        let expected = "# Relevant memories (3)\n\
            \n\
            ## Memory 1 (Relevance: 87%)\n\
            type: code | source: notes/ema.md | created_at: 2026-01-21T10:00:00Z\n\
            EMA calculation logic: alpha = 2 / (period + 1).\n\
            \n\
            ## Memory 2 (Relevance: 100%)\n\
            task_type: ema_refresh | created_at: 2026-01-22T10:00:00Z\n\
            Refreshed the daily EMAs for BTC and ETH.\n\
            \n\
            ## Memory 3 (Relevance: 71%)\n\
            created_at: 2026-01-23T10:00:00Z\n\
            Bars are built from CoinMarketCap daily quotes.\n\
            \n\
            Unknown memory ids (not found): missing-1, missing-2\n";
        let unknown = vec!["missing-1".to_string(), "missing-2".to_string()];
        let out = render_context(&three(), &unknown, DEFAULT_CONTEXT_BUDGET);
        assert_eq!(out, expected);
    }

    #[test]
    fn snapshot_budget_counts_what_did_not_fit() {
        let expected = "# Relevant memories (3)\n\
            \n\
            ## Memory 1 (Relevance: 87%)\n\
            type: code | source: notes/ema.md | created_at: 2026-01-21T10:00:00Z\n\
            EMA calculation logic: alpha = 2 / (period + 1).\n\
            \n\
            (2 more memories did not fit the 250-character budget)\n";
        let out = render_context(&three(), &[], 250);
        assert_eq!(out, expected);
        assert!(out.chars().count() <= 250, "{}", out.chars().count());
    }

    #[test]
    fn budget_is_never_exceeded_and_memories_never_cut() {
        let memories = three();
        let full = render_context(&memories, &[], usize::MAX);
        for budget in 0..=full.chars().count() + 5 {
            let out = render_context(&memories, &[], budget);
            let shown = out.matches("## Memory ").count();
            for m in &memories[..shown] {
                assert!(out.contains(m.content.trim_end()), "budget {budget}: {out}");
            }
            if shown > 0 {
                assert!(out.chars().count() <= budget, "budget {budget}: {out}");
            }
            if shown < memories.len() {
                let n = memories.len() - shown;
                assert!(out.contains(&format!("({n} ")), "budget {budget}: {out}");
            } else {
                assert_eq!(out, full, "budget {budget}");
            }
        }
    }

    #[test]
    fn nothing_fits_says_how_many() {
        assert_eq!(
            render_context(&three(), &[], 10),
            "# Relevant memories (3)\n\n(3 memories did not fit the 10-character budget)\n"
        );
    }

    #[test]
    fn no_memories_is_one_line() {
        assert_eq!(
            render_context(&[], &[], DEFAULT_CONTEXT_BUDGET),
            "# Relevant memories: none\n"
        );
        assert_eq!(
            render_context(&[], &["x".to_string()], DEFAULT_CONTEXT_BUDGET),
            "# Relevant memories: none\nUnknown memory ids (not found): x\n"
        );
    }

    #[test]
    fn budget_counts_characters_not_bytes() {
        let m = memory(1, &"é".repeat(100), 1.0, &[]);
        let out = render_context(&[m], &[], 200);
        assert!(out.contains(&"é".repeat(100)), "{out}");
        assert!(out.len() > 200 && out.chars().count() <= 200);
    }

    #[test]
    fn metadata_values_are_flattened_and_shortened() {
        let long = format!("line one\nline two {}", "x".repeat(200));
        let m = memory(
            1,
            "c",
            f32::NAN,
            &[("source", long.into()), ("type", serde_json::json!(3))],
        );
        let out = render_context(&[m], &[], DEFAULT_CONTEXT_BUDGET);
        assert!(out.contains("## Memory 1 (Relevance: 0%)"), "{out}");
        let meta = out.lines().nth(3).unwrap();
        assert!(
            meta.starts_with("type: 3 | source: line one line two xxx"),
            "{meta}"
        );
        let source = meta.split(" | ").nth(1).unwrap().trim_start_matches("source: ");
        assert_eq!(source.chars().count(), MAX_VALUE_CHARS);
        assert!(source.ends_with('…'));
    }
}
