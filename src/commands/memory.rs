//! `talab memory …`: the semantic memory from the terminal. Every action prints a table or a line
//! for people, or JSON with `--json`; searches say which embedder and threshold were used and how
//! many memories were left out, so an empty answer is never a mystery.

use std::io::Read;

use serde::Serialize;
use serde_json::Value;
use talab_memory::search::{Filters, SearchRequest};
use talab_memory::{Inserted, Memory, Metadata, ops::HealthOptions};

use crate::app::App;
use crate::cli::{MemoryAction, MemoryArgs};
use crate::config::Config;
use crate::exit::CliError;
use crate::{output, wiring};

/// A memory as shown: everything but the vector.
#[derive(Serialize)]
struct Shown<'a> {
    id: &'a str,
    content: &'a str,
    metadata: &'a Metadata,
    created_at: String,
    relevance_score: f32,
}

fn shown<'a>(m: &'a Memory, config: &Config) -> Shown<'a> {
    Shown {
        id: &m.id,
        content: &m.content,
        metadata: &m.metadata,
        created_at: wiring::local_time(config, m.created_at),
        relevance_score: m.relevance_score,
    }
}

/// `key=value` pairs into metadata; a value that parses as JSON (numbers, booleans, arrays)
/// keeps its type, anything else is a string.
fn parse_meta(pairs: &[String]) -> Result<Metadata, CliError> {
    let mut meta = Metadata::new();
    for pair in pairs {
        let (k, v) = pair
            .split_once('=')
            .filter(|(k, _)| !k.trim().is_empty())
            .ok_or_else(|| CliError::usage(format!("--meta {pair:?}: expected KEY=VALUE")))?;
        let value = serde_json::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.to_string()));
        meta.insert(k.trim().to_string(), value);
    }
    Ok(meta)
}

fn one_line(text: &str, width: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(width) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

pub async fn run(app: &App, args: MemoryArgs) -> Result<(), CliError> {
    let config = app.config();
    let json = args.json;
    if let MemoryAction::Reindex = args.action {
        // Not through the manager: opening it refuses a store made by another embedder, which is
        // exactly what a reindex repairs.
        return wiring::reindex_memory(app, json).await;
    }
    let manager = app.memory().await?;
    match args.action {
        MemoryAction::Add {
            content,
            meta,
            tags,
            scope,
        } => {
            let content = match content.filter(|c| c != "-") {
                Some(c) => c,
                None => {
                    let mut buf = String::new();
                    std::io::stdin()
                        .read_to_string(&mut buf)
                        .map_err(|e| CliError::usage(format!("cannot read the content from stdin: {e}")))?;
                    buf
                }
            };
            let mut metadata = parse_meta(&meta)?;
            if !tags.is_empty() {
                metadata.insert(talab_memory::search::TAGS_KEY.into(), Value::from(tags));
            }
            let Inserted { id, created } = match scope.as_deref() {
                Some(scope) => manager.insert_in(scope, &content, metadata).await?,
                None => manager.insert(&content, metadata).await?,
            };
            if json {
                output::json(&serde_json::json!({ "id": id, "created": created }))
            } else {
                println!(
                    "{id}{}",
                    if created {
                        ""
                    } else {
                        " (already stored: same content)"
                    }
                );
                Ok(())
            }
        }
        MemoryAction::Search {
            query,
            threshold,
            limit,
            mode,
            meta,
            tags,
            since,
            until,
            include_deprecated,
            scope,
        } => {
            let tz = wiring::timezone(config);
            let request = SearchRequest {
                query,
                threshold,
                limit,
                mode: mode.into(),
                filters: Filters {
                    metadata_eq: parse_meta(&meta)?,
                    tags_all: tags,
                    since: since.map(|d| talab_memory::time_phrase::start_of_day(d, tz)),
                    until: until.map(|d| talab_memory::time_phrase::start_of_day(d, tz)),
                    include_deprecated,
                    scope,
                    ..Filters::default()
                },
            };
            let outcome = manager.search_with(&request).await?;
            if json {
                let hits: Vec<Shown<'_>> = outcome.hits.iter().map(|m| shown(m, config)).collect();
                return output::json(&serde_json::json!({
                    "hits": hits,
                    "threshold_used": outcome.threshold_used,
                    "below_threshold": outcome.below_threshold,
                    "filtered_out": outcome.filtered_out,
                    "embedder": outcome.embedder,
                }));
            }
            if !outcome.hits.is_empty() {
                let mut table = output::table(["score", "id", "created", "content"]);
                for m in &outcome.hits {
                    table.add_row([
                        format!("{:.3}", m.relevance_score),
                        m.id.clone(),
                        wiring::local_time(config, m.created_at),
                        one_line(&m.content, 90),
                    ]);
                }
                println!("{table}");
            }
            println!(
                "{} hit(s) with {} (threshold {:.2}{}); {} below the threshold, {} filtered out",
                outcome.hits.len(),
                outcome
                    .embedder
                    .as_ref()
                    .map_or_else(|| "the backend's own ranking".to_string(), ToString::to_string),
                outcome.threshold_used,
                if threshold.is_none() {
                    ", the embedder's default"
                } else {
                    ""
                },
                outcome.below_threshold,
                outcome.filtered_out
            );
            Ok(())
        }
        MemoryAction::Context { ids, budget } => {
            let text = manager.context_within(&ids, budget).await?;
            if json {
                output::json(&serde_json::json!({ "context": text }))
            } else {
                print!("{text}");
                Ok(())
            }
        }
        MemoryAction::List { offset, limit } => {
            let page = manager.list(offset, limit).await?;
            if json {
                let items: Vec<Shown<'_>> = page.memories.iter().map(|m| shown(m, config)).collect();
                return output::json(&serde_json::json!({
                    "memories": items, "offset": page.offset, "total": page.total, "next_offset": page.next_offset(),
                }));
            }
            let mut table = output::table(["id", "created", "content"]);
            for m in &page.memories {
                table.add_row([
                    m.id.clone(),
                    wiring::local_time(config, m.created_at),
                    one_line(&m.content, 90),
                ]);
            }
            println!("{table}");
            let shown_to = page.offset + page.memories.len() as u64;
            match page.next_offset() {
                Some(next) => println!(
                    "{}–{} of {}; next page: --offset {next}",
                    page.offset + 1,
                    shown_to,
                    page.total
                ),
                None => println!("{} of {} shown", page.memories.len(), page.total),
            }
            Ok(())
        }
        MemoryAction::Get { id } => {
            let m = manager.get(&id).await?;
            if json {
                return output::json(&shown(&m, config));
            }
            println!(
                "id:       {}\ncreated:  {}\nmetadata: {}\n\n{}",
                m.id,
                wiring::local_time(config, m.created_at),
                Value::Object(m.metadata.clone()),
                m.content
            );
            Ok(())
        }
        MemoryAction::Deprecate { id, reason } => {
            manager.deprecate(&id, &reason).await?;
            done(json, &id, "deprecated")
        }
        MemoryAction::Delete { id } => {
            manager.delete(&id).await?;
            done(json, &id, "deleted")
        }
        MemoryAction::History { id } => {
            let events = manager.history(&id).await?;
            if json {
                return output::json(&events);
            }
            let mut table = output::table(["when", "event", "detail"]);
            for e in &events {
                table.add_row([
                    wiring::local_time(config, e.at),
                    e.event.clone(),
                    one_line(&e.detail.to_string(), 90),
                ]);
            }
            println!("{table}");
            Ok(())
        }
        MemoryAction::Stats => {
            let info = manager.describe().await?;
            if app.backend() != talab_memory::manager_sql::EMBEDDED {
                if json {
                    return output::json(&info);
                }
                let embedder = info.embedder.map_or("its own".to_string(), |e| e.to_string());
                println!(
                    "{} memories\nbackend: {} at {}\nembedder: {embedder}",
                    info.count, info.backend, info.location
                );
                return Ok(());
            }
            let stats = app.embedded("talab memory stats").await?.stats().await?;
            if json {
                let mut shown = serde_json::json!(stats);
                shown["backend"] = serde_json::json!(info.backend);
                shown["location"] = serde_json::json!(info.location);
                return output::json(&shown);
            }
            println!("backend: {} at {}", info.backend, info.location);
            println!(
                "{} memories ({} deprecated, {} not searchable with the current embedder)\nembedder: {}\ntext: {} bytes, vectors: {} bytes",
                stats.total,
                stats.deprecated,
                stats.not_searchable,
                stats.embedder,
                stats.content_bytes,
                stats.vector_bytes
            );
            let mut table = output::table(["type", "memories"]);
            for (kind, n) in &stats.by_type {
                table.add_row([kind.clone(), n.to_string()]);
            }
            println!("{table}");
            Ok(())
        }
        MemoryAction::Health => {
            let report = app
                .embedded("talab memory health")
                .await?
                .health(&HealthOptions::default())
                .await?;
            output::json(&report)
        }
        MemoryAction::Reindex => unreachable!("handled before the manager is opened"),
    }
}

fn done(json: bool, id: &str, what: &str) -> Result<(), CliError> {
    if json {
        output::json(&serde_json::json!({ "id": id, what: true }))
    } else {
        println!("{id} {what}");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn meta_values_keep_json_types_and_bad_pairs_are_refused() {
        let m = parse_meta(&[
            "type=code".into(),
            "rows=18204".into(),
            "ok=true".into(),
            "s=[\"BTC\"]".into(),
        ])
        .unwrap();
        assert_eq!(m["type"], "code");
        assert_eq!(m["rows"], 18204);
        assert_eq!(m["ok"], true);
        assert_eq!(m["s"][0], "BTC");
        assert!(parse_meta(&["novalue".into()]).is_err());
        assert!(parse_meta(&["=x".into()]).is_err());
    }

    #[test]
    fn one_line_flattens_and_cuts_on_characters() {
        assert_eq!(one_line("a\n b  c", 10), "a b c");
        assert_eq!(one_line("ééééé", 3), "ééé…");
    }
}
