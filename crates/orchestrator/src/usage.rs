//! Token usage normalised across providers: each provider counts cached and reasoning tokens its
//! own way (OpenAI's prompt count includes cached tokens, Anthropic's excludes them), so adapters
//! convert to one struct whose fields never overlap, and costs and quotas are computed once.

use serde::{Deserialize, Serialize};

/// Tokens of one call, by kind. The kinds are disjoint: every billed token is in exactly one field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Prompt tokens read neither from nor into a cache.
    #[serde(default)]
    pub input_uncached: u64,
    /// Prompt tokens served from the provider's cache.
    #[serde(default)]
    pub cache_read: u64,
    /// Prompt tokens written into the provider's cache.
    #[serde(default)]
    pub cache_write: u64,
    /// Visible output tokens (reasoning excluded).
    #[serde(default)]
    pub output: u64,
    /// Reasoning ("thinking") tokens, billed as output.
    #[serde(default)]
    pub reasoning: u64,
}

impl Usage {
    /// Every token of the call.
    ///
    /// ```
    /// let u = talab_orchestrator::Usage { input_uncached: 10, cache_read: 5, cache_write: 1, output: 7, reasoning: 3 };
    /// assert_eq!(u.total(), 26);
    /// ```
    pub fn total(&self) -> u64 {
        self.input().saturating_add(self.billed_output())
    }

    /// All prompt tokens: uncached, cache reads and cache writes.
    pub fn input(&self) -> u64 {
        self.input_uncached
            .saturating_add(self.cache_read)
            .saturating_add(self.cache_write)
    }

    /// Tokens billed at the output price: visible output and reasoning.
    pub fn billed_output(&self) -> u64 {
        self.output.saturating_add(self.reasoning)
    }
}

impl std::ops::Add for Usage {
    type Output = Usage;

    fn add(self, rhs: Usage) -> Usage {
        Usage {
            input_uncached: self.input_uncached.saturating_add(rhs.input_uncached),
            cache_read: self.cache_read.saturating_add(rhs.cache_read),
            cache_write: self.cache_write.saturating_add(rhs.cache_write),
            output: self.output.saturating_add(rhs.output),
            reasoning: self.reasoning.saturating_add(rhs.reasoning),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_count_each_kind_once() {
        let u = Usage {
            input_uncached: 100,
            cache_read: 40,
            cache_write: 10,
            output: 25,
            reasoning: 5,
        };
        assert_eq!(u.input(), 150);
        assert_eq!(u.billed_output(), 30);
        assert_eq!(u.total(), 180);
        assert_eq!((u + u).total(), 360);
        assert_eq!(Usage::default().total(), 0);
    }

    #[test]
    fn totals_saturate_instead_of_overflowing() {
        let u = Usage {
            input_uncached: u64::MAX,
            output: 1,
            ..Usage::default()
        };
        assert_eq!(u.total(), u64::MAX);
    }

    #[test]
    fn missing_fields_deserialize_as_zero() {
        let u: Usage = serde_json::from_str(r#"{"output":3}"#).unwrap();
        assert_eq!(
            u,
            Usage {
                output: 3,
                ..Usage::default()
            }
        );
    }
}
