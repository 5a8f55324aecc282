//! The lexical fallback embedder: hashed word stems and character n-grams, no weights to load.
//!
//! It lets a store work offline on first run, before any model is installed. It captures shared
//! words and word fragments ("refresh"/"refreshed", "EMA_21"/"ema21"), not meaning: callers
//! announce when it is in use, and `talab memory reindex` moves a store to a real model later.

use async_trait::async_trait;

use crate::embed::{Embedder, EmbedderIdentity};
use crate::search::hybrid::Fusion;
use crate::{MemoryError, terms};

/// The identity name of [`LexicalEmbedder`] vectors.
pub const LEXICAL_NAME: &str = "lexical-hash";
/// Bumped whenever the features or hashing change (old vectors then need a reindex).
pub const LEXICAL_REVISION: &str = "1";
/// Vector length: enough buckets that collisions between a few hundred features stay rare.
pub const LEXICAL_DIM: usize = 512;
/// The default search threshold, measured on `tests/fixtures/labelled_set.json` (paraphrased
/// queries): relevant (query, memory) pairs score p10 −0.01, p20 0.054, median 0.138, so 0.05
/// keeps about four in five of them. Hashed features only overlap where words or fragments are
/// shared, so these scores are far lower than a sentence model's: 0.7 would drop nearly all.
pub const LEXICAL_THRESHOLD: f32 = 0.05;

/// Weight of a whole (stemmed) word feature.
const WORD_WEIGHT: f32 = 1.0;
/// Weight of one character trigram of a word: fragments add partial matches ("ema21" ~ "ema").
const TRIGRAM_WEIGHT: f32 = 0.35;
/// Weight of two consecutive words, so phrases ("rate limit") count beyond their words.
const BIGRAM_WEIGHT: f32 = 0.5;

/// Deterministic bag-of-features embedder: every feature is hashed (FNV-1a, 64 bits) to one of
/// [`LEXICAL_DIM`] buckets with a sign from another bit (signed hashing keeps collisions from
/// adding up), term counts are damped with `1 + ln(tf)`, and the vector is L2-normalised.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_memory::{Embedder, embed::lexical::LexicalEmbedder};
/// let e = LexicalEmbedder::new();
/// let v = e.embed(&["EMA refresh for BTC".to_string(), "refreshed the BTC EMAs".to_string()]).await?;
/// let cosine: f32 = v[0].iter().zip(&v[1]).map(|(a, b)| a * b).sum();
/// assert!(cosine > 0.5, "{cosine}");
/// # Ok::<(), talab_memory::MemoryError>(())
/// # }).unwrap();
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LexicalEmbedder;

impl LexicalEmbedder {
    /// The embedder (it has no configuration).
    pub fn new() -> Self {
        LexicalEmbedder
    }

    /// The vector of one text.
    pub fn embed_one(text: &str) -> Vec<f32> {
        let mut counts: std::collections::HashMap<u64, f32> = std::collections::HashMap::new();
        let mut add = |feature: &str, weight: f32| {
            *counts.entry(fnv1a(feature.as_bytes())).or_default() += weight;
        };
        let words = terms::terms(text);
        for word in &words {
            add(&format!("w:{word}"), WORD_WEIGHT);
            let chars: Vec<char> = format!("<{word}>").chars().collect();
            for gram in chars.windows(3) {
                add(&format!("c:{}", gram.iter().collect::<String>()), TRIGRAM_WEIGHT);
            }
        }
        for pair in words.windows(2) {
            add(&format!("b:{} {}", pair[0], pair[1]), BIGRAM_WEIGHT);
        }
        if words.is_empty() {
            // Only stop words or symbols: fall back on the trimmed text itself, so the vector is
            // still a unit vector and identical texts still match.
            add(&format!("t:{}", text.trim().to_lowercase()), WORD_WEIGHT);
        }
        let mut vector = vec![0.0f32; LEXICAL_DIM];
        // Summing in hash order keeps the result independent of HashMap iteration order.
        let mut features: Vec<(u64, f32)> = counts.into_iter().collect();
        features.sort_unstable_by_key(|(h, _)| *h);
        for (hash, weight) in features {
            let bucket = (hash % LEXICAL_DIM as u64) as usize;
            let sign = if hash >> 63 == 1 { -1.0 } else { 1.0 };
            // Damped: a word said five times is not five times as telling.
            let damped = if weight > 1.0 { 1.0 + weight.ln() } else { weight };
            vector[bucket] += sign * damped;
        }
        normalise(&mut vector);
        vector
    }
}

/// Scales a vector to unit length (a zero vector is left as it is).
pub(crate) fn normalise(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
}

/// 64-bit FNV-1a: tiny, stable across platforms and releases (unlike std's hasher).
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

#[async_trait]
impl Embedder for LexicalEmbedder {
    fn identity(&self) -> EmbedderIdentity {
        EmbedderIdentity {
            name: LEXICAL_NAME.to_string(),
            revision: LEXICAL_REVISION.to_string(),
            dim: LEXICAL_DIM,
        }
    }

    fn default_threshold(&self) -> f32 {
        LEXICAL_THRESHOLD
    }

    /// Rank fusion: this embedder's cosine is a bag of words too, worth no more than its rank.
    fn fusion(&self) -> Fusion {
        crate::search::hybrid::LEXICAL
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        Ok(texts.iter().map(|t| Self::embed_one(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &str, b: &str) -> f32 {
        let (x, y) = (LexicalEmbedder::embed_one(a), LexicalEmbedder::embed_one(b));
        x.iter().zip(&y).map(|(a, b)| a * b).sum()
    }

    #[test]
    fn vectors_are_unit_length_and_deterministic() {
        for text in ["EMA refresh for BTC", "the", "?!", "Ünïcödé Straße 4h"] {
            let v = LexicalEmbedder::embed_one(text);
            assert_eq!(v.len(), LEXICAL_DIM);
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{text}: {norm}");
            assert_eq!(v, LexicalEmbedder::embed_one(text));
        }
        // Pinned: a change of features or hashing must bump LEXICAL_REVISION.
        let v = LexicalEmbedder::embed_one("ema");
        let nonzero = v.iter().filter(|x| **x != 0.0).count();
        assert_eq!(nonzero, 4, "1 word + 3 trigrams <em, ema, ma>");
    }

    #[test]
    fn shared_words_score_higher_than_unrelated_text() {
        let related = cos("EMA refresh completed for BTC", "refreshing the BTC EMAs");
        let unrelated = cos(
            "EMA refresh completed for BTC",
            "orchestrator quota exceeded on Gemini",
        );
        assert!(related > 0.4, "{related}");
        assert!(unrelated < 0.15, "{unrelated}");
        assert!((cos("same text", "same text") - 1.0).abs() < 1e-5);
    }
}
