//! What a call cost, from a price table in LiteLLM's `model_prices_and_context_window.json`
//! format. The built-in table (`data/model_prices.json`) is a snapshot of the three providers'
//! published per-token prices (late 2025) for their current models; prices change, so a user file
//! in the same format (e.g. LiteLLM's own, downloaded) overrides it entry by entry
//! ([`PriceTable::load`]). An unknown model costs 0 and is flagged (`known == false`), never a panic.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Value};

use crate::{OrchestratorError, Usage};

/// The built-in price table (a snapshot; see the module doc).
pub const BUILTIN_PRICES_JSON: &str = include_str!("../data/model_prices.json");

/// Per-token prices of one model, in US dollars.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct ModelPrice {
    /// `input_cost_per_token`: uncached prompt tokens.
    pub input: f64,
    /// `output_cost_per_token`: visible output tokens.
    pub output: f64,
    /// `cache_read_input_token_cost`; when absent, cache reads cost the input price.
    pub cache_read: Option<f64>,
    /// `cache_creation_input_token_cost`; when absent, cache writes cost the input price.
    pub cache_write: Option<f64>,
    /// `output_cost_per_reasoning_token`; when absent, reasoning costs the output price.
    pub reasoning: Option<f64>,
}

impl ModelPrice {
    /// The cost of `usage` at these prices.
    pub fn cost(&self, usage: &Usage) -> f64 {
        usage.input_uncached as f64 * self.input
            + usage.cache_read as f64 * self.cache_read.unwrap_or(self.input)
            + usage.cache_write as f64 * self.cache_write.unwrap_or(self.input)
            + usage.output as f64 * self.output
            + usage.reasoning as f64 * self.reasoning.unwrap_or(self.output)
    }
}

/// The cost of one call, and whether the model's price was known.
#[derive(Debug, Clone, PartialEq)]
pub struct Priced {
    /// Dollars; 0 when the model is unknown.
    pub cost_usd: f64,
    /// False when no entry matched: the cost is then 0 and should be flagged, not trusted.
    pub known: bool,
    /// The table entry used (e.g. `claude-sonnet-4-5` for `claude-sonnet-4-5-20250929`).
    pub priced_as: Option<String>,
}

/// Model → per-token prices. Keys are lower-case and without provider prefix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PriceTable {
    prices: HashMap<String, ModelPrice>,
}

impl PriceTable {
    /// The built-in snapshot only.
    pub fn builtin() -> Self {
        let mut table = PriceTable::default();
        table
            .merge_json(BUILTIN_PRICES_JSON)
            .expect("the built-in price table is valid (checked by a unit test)");
        table
    }

    /// The built-in table, overridden entry by entry by `user_file` when given.
    pub fn load(user_file: Option<&Path>) -> Result<Self, OrchestratorError> {
        let mut table = PriceTable::builtin();
        if let Some(path) = user_file {
            let what = || format!("price table {}", path.display());
            let text = std::fs::read_to_string(path).map_err(|e| OrchestratorError::Config {
                what: what(),
                reason: format!("cannot be read: {e}"),
            })?;
            table
                .merge_json(&text)
                .map_err(|reason| OrchestratorError::Config { what: what(), reason })?;
        }
        Ok(table)
    }

    /// Adds the entries of a LiteLLM-format JSON text, replacing entries of the same model.
    ///
    /// Entries with neither `input_cost_per_token` nor `output_cost_per_token` (LiteLLM's
    /// `sample_spec`, image or audio models priced otherwise) are skipped; a price that is not a
    /// non-negative number is an error naming the model and field. When a file prices a model
    /// both bare and with a provider prefix (`gemini-2.5-flash`, `gemini/gemini-2.5-flash`), the
    /// bare entry wins.
    pub fn merge_json(&mut self, text: &str) -> Result<(), String> {
        let root: Value = serde_json::from_str(text).map_err(|e| format!("is not valid JSON: {e}"))?;
        let Value::Object(entries) = root else {
            return Err("must be a JSON object of model name → prices".into());
        };
        let mut parsed: HashMap<String, (bool, ModelPrice)> = HashMap::new();
        for (name, entry) in &entries {
            if name == "sample_spec" {
                continue;
            }
            let Some(price) = parse_entry(name, entry)? else {
                continue;
            };
            let bare = strip_provider(name).to_ascii_lowercase();
            let exact = bare.len() == name.len();
            match parsed.get(&bare) {
                Some((true, _)) if !exact => {}
                _ => {
                    parsed.insert(bare, (exact, price));
                }
            }
        }
        self.prices
            .extend(parsed.into_iter().map(|(k, (_, price))| (k, price)));
        Ok(())
    }

    /// Number of models priced.
    pub fn len(&self) -> usize {
        self.prices.len()
    }

    /// Whether no model is priced.
    pub fn is_empty(&self) -> bool {
        self.prices.is_empty()
    }

    /// The entry that prices `model`: the exact id, else without provider prefix, else without a
    /// date or version suffix (`-20250929`, `-2024-08-06`, `@20250929`, `-001`, `-latest`).
    pub fn lookup(&self, model: &str) -> Option<(&str, &ModelPrice)> {
        let lower = model.trim().to_ascii_lowercase();
        let bare = strip_provider(&lower);
        let undated = strip_version_suffix(bare);
        [Some(lower.as_str()), Some(bare), undated]
            .into_iter()
            .flatten()
            .find_map(|name| self.prices.get_key_value(name))
            .map(|(k, v)| (k.as_str(), v))
    }

    /// What `usage` on `model` cost; 0 and `known == false` for a model not in the table.
    ///
    /// ```
    /// use talab_orchestrator::{PriceTable, Usage};
    ///
    /// let table = PriceTable::builtin();
    /// let usage = Usage { input_uncached: 1_000_000, output: 1_000_000, ..Usage::default() };
    /// let priced = table.cost("claude-sonnet-4-5-20250929", &usage);
    /// assert!(priced.known);
    /// assert!((priced.cost_usd - 18.0).abs() < 1e-9);
    /// assert!(!table.cost("my-finetune", &usage).known);
    /// ```
    pub fn cost(&self, model: &str, usage: &Usage) -> Priced {
        match self.lookup(model) {
            Some((name, price)) => Priced {
                cost_usd: price.cost(usage),
                known: true,
                priced_as: Some(name.to_string()),
            },
            None => {
                tracing::warn!(model, "no price for this model: its cost is recorded as 0");
                Priced {
                    cost_usd: 0.0,
                    known: false,
                    priced_as: None,
                }
            }
        }
    }
}

fn parse_entry(name: &str, entry: &Value) -> Result<Option<ModelPrice>, String> {
    let Value::Object(fields) = entry else {
        return Err(format!("entry {name:?} is not an object"));
    };
    let field = |key: &str| number(name, fields, key);
    let input = field("input_cost_per_token")?;
    let output = field("output_cost_per_token")?;
    if input.is_none() && output.is_none() {
        return Ok(None);
    }
    Ok(Some(ModelPrice {
        input: input.unwrap_or(0.0),
        output: output.unwrap_or(0.0),
        cache_read: field("cache_read_input_token_cost")?,
        cache_write: field("cache_creation_input_token_cost")?,
        reasoning: field("output_cost_per_reasoning_token")?,
    }))
}

fn number(name: &str, fields: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match fields.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(v) if v.is_finite() && v >= 0.0 => Ok(Some(v)),
            _ => Err(format!("{name}.{key} must be a non-negative number, got {n}")),
        },
        Some(other) => Err(format!("{name}.{key} must be a number, got {other}")),
    }
}

/// `anthropic/claude-sonnet-4-5` → `claude-sonnet-4-5` (everything up to the last `/`).
fn strip_provider(model: &str) -> &str {
    model.rsplit_once('/').map_or(model, |(_, m)| m)
}

/// The model id without a trailing date or version, if it has one.
fn strip_version_suffix(model: &str) -> Option<&str> {
    if let Some(base) = model.strip_suffix("-latest") {
        return Some(base);
    }
    // -YYYY-MM-DD (OpenAI snapshots).
    if model.len() > 11 {
        let (base, tail) = model.split_at(model.len() - 11);
        let b = tail.as_bytes();
        let date_shape = b[0] == b'-'
            && b[5] == b'-'
            && b[8] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| matches!(i, 0 | 5 | 8) || c.is_ascii_digit());
        if date_shape {
            return Some(base);
        }
    }
    // -YYYYMMDD (Anthropic), @YYYYMMDD (Vertex), -MMDD (older OpenAI), -001 (Gemini versions).
    let cut = model.rfind(['-', '@'])?;
    let tail = &model[cut + 1..];
    let versionish = matches!(tail.len(), 3 | 4 | 6 | 8) && tail.bytes().all(|c| c.is_ascii_digit());
    (cut > 0 && versionish).then(|| &model[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usage(input_uncached: u64, cache_read: u64, cache_write: u64, output: u64, reasoning: u64) -> Usage {
        Usage {
            input_uncached,
            cache_read,
            cache_write,
            output,
            reasoning,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    #[test]
    fn builtin_table_parses_and_prices_every_provider() {
        let table = PriceTable::builtin();
        assert_eq!(table.len(), 18);
        // Claude Sonnet 4.5: $3 / $15 per million, cache read $0.30, cache write $3.75.
        let u = usage(1_000, 2_000, 500, 300, 0);
        let p = table.cost("claude-sonnet-4-5", &u);
        let expected = 1_000.0 * 3e-6 + 2_000.0 * 3e-7 + 500.0 * 3.75e-6 + 300.0 * 1.5e-5;
        assert!(close(p.cost_usd, expected), "{p:?}");
        assert!(close(expected, 0.009_975));
        // GPT-4o: $2.50 / $10, cached $1.25.
        let p = table.cost("gpt-4o", &usage(800, 200, 0, 100, 0));
        assert!(close(p.cost_usd, 800.0 * 2.5e-6 + 200.0 * 1.25e-6 + 100.0 * 1e-5));
        // Gemini 2.5 Flash: $0.30 / $2.50, thinking billed as output.
        let p = table.cost("gemini-2.5-flash", &usage(1_000, 0, 0, 100, 400));
        assert!(close(p.cost_usd, 1_000.0 * 3e-7 + 500.0 * 2.5e-6));
        assert!(close(p.cost_usd, 0.001_55));
    }

    #[test]
    fn dated_and_prefixed_ids_resolve_to_the_base_model() {
        let table = PriceTable::builtin();
        for (id, base) in [
            ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
            ("anthropic/claude-haiku-4-5-20251001", "claude-haiku-4-5"),
            ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
            ("gpt-4o-2024-08-06", "gpt-4o"),
            ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),
            ("openai/gpt-4.1", "gpt-4.1"),
            ("gemini/gemini-2.5-flash", "gemini-2.5-flash"),
            ("models/gemini-2.0-flash-001", "gemini-2.0-flash"),
            ("GPT-5", "gpt-5"),
            ("claude-3-5-haiku-latest", "claude-3-5-haiku"),
        ] {
            assert_eq!(table.lookup(id).map(|(k, _)| k), Some(base), "{id}");
        }
        // A different model is never mistaken for its neighbour.
        assert_eq!(table.lookup("gpt-4o-mini").unwrap().0, "gpt-4o-mini");
        assert_eq!(table.lookup("claude-opus-4"), None);
        assert_eq!(table.lookup("gpt-4"), None);
    }

    #[test]
    fn unknown_model_is_free_and_flagged() {
        let p = PriceTable::builtin().cost("llama3.1:8b", &usage(10_000, 0, 0, 500, 0));
        assert_eq!(
            p,
            Priced {
                cost_usd: 0.0,
                known: false,
                priced_as: None
            }
        );
        let p = PriceTable::default().cost("", &Usage::default());
        assert!(!p.known);
    }

    #[test]
    fn user_entries_override_and_add_in_litellm_format() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("prices.json");
        std::fs::write(
            &path,
            r#"{
              "sample_spec": {"input_cost_per_token": 0.0, "max_tokens": "LEGACY parameter"},
              "anthropic/claude-sonnet-4-5": {"input_cost_per_token": 4e-06, "output_cost_per_token": 2e-05},
              "llama3.1:8b": {"input_cost_per_token": 1e-08, "output_cost_per_token": 2e-08,
                              "output_cost_per_reasoning_token": 5e-08},
              "dall-e-3": {"mode": "image_generation", "output_cost_per_image": 0.04},
              "gemini-2.5-pro": {"input_cost_per_token": 1e-06, "output_cost_per_token": 1e-05},
              "gemini/gemini-2.5-pro": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-05}
            }"#,
        )
        .unwrap();
        let table = PriceTable::load(Some(&path)).unwrap();
        assert_eq!(table.len(), 19);
        let sonnet = table.lookup("claude-sonnet-4-5-20250929").unwrap().1;
        assert_eq!(
            (sonnet.input, sonnet.output, sonnet.cache_read),
            (4e-6, 2e-5, None)
        );
        // No cache price given: cache tokens cost the input price.
        assert!(close(sonnet.cost(&usage(0, 1_000, 1_000, 0, 0)), 2_000.0 * 4e-6));
        let llama = table.cost("llama3.1:8b", &usage(1_000, 0, 0, 10, 10));
        assert!(llama.known && close(llama.cost_usd, 1_000.0 * 1e-8 + 10.0 * 2e-8 + 10.0 * 5e-8));
        assert_eq!(table.lookup("gemini-2.5-pro").unwrap().1.input, 1e-6);
        assert_eq!(table.lookup("dall-e-3"), None);
        // Untouched built-ins stay.
        assert_eq!(table.lookup("gpt-4o").unwrap().1.input, 2.5e-6);
    }

    #[test]
    fn bad_user_files_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nope.json");
        let e = PriceTable::load(Some(&missing)).unwrap_err().to_string();
        assert!(
            e.starts_with(&format!("price table {}: cannot be read", missing.display())),
            "{e}"
        );

        let mut t = PriceTable::default();
        let e = t
            .merge_json(r#"{"m": {"input_cost_per_token": "3e-6"}}"#)
            .unwrap_err();
        assert_eq!(e, r#"m.input_cost_per_token must be a number, got "3e-6""#);
        let e = t
            .merge_json(r#"{"m": {"output_cost_per_token": -1}}"#)
            .unwrap_err();
        assert_eq!(e, "m.output_cost_per_token must be a non-negative number, got -1");
        assert!(t.merge_json("[1]").unwrap_err().contains("JSON object"));
        assert!(t.merge_json("{").unwrap_err().starts_with("is not valid JSON"));
        assert!(t.is_empty());
    }

    #[test]
    fn suffix_stripping_only_removes_dates_and_versions() {
        assert_eq!(strip_version_suffix("gpt-4-0613"), Some("gpt-4"));
        assert_eq!(strip_version_suffix("o3-2025-04-16"), Some("o3"));
        assert_eq!(strip_version_suffix("claude-opus-4-1"), None);
        assert_eq!(strip_version_suffix("gemini-2.5-flash"), None);
        assert_eq!(strip_version_suffix("20250929"), None);
    }
}

/// The engine's ledger prices calls through this table: a model it does not know is `None`,
/// which the ledger records as $0 with `priced_known = false`.
impl crate::PriceLookup for PriceTable {
    fn cost_usd(&self, _platform: crate::Platform, model: &str, usage: &Usage) -> Option<f64> {
        self.lookup(model).map(|(_, price)| price.cost(usage))
    }
}

#[cfg(test)]
mod price_lookup_tests {
    use super::*;
    use crate::{Platform, PriceLookup};

    #[test]
    fn the_ledger_prices_known_models_and_flags_unknown_ones() {
        let table = PriceTable::builtin();
        let usage = Usage {
            input_uncached: 1_000_000,
            ..Usage::default()
        };
        let direct = table.cost("claude-sonnet-4-5", &usage);
        assert!(direct.known);
        assert_eq!(
            table.cost_usd(Platform::Claude, "claude-sonnet-4-5-20250929", &usage),
            Some(direct.cost_usd)
        );
        assert_eq!(table.cost_usd(Platform::Chatgpt, "my-finetune", &usage), None);
    }
}
