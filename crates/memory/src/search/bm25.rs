//! BM25 over the stored contents, the lexical half of hybrid search: exact names, symbols and
//! paths ("ema_21", "tiingo") score here even when a vector model blurs them.
//!
//! Terms come from [`crate::terms`] (lowercase, stop words dropped, stemmed). Documents live in
//! slots parallel to the vector matrix rows and move with them (`swap_remove`).

use std::collections::HashMap;

use crate::terms;

/// Term-frequency saturation.
pub const K1: f32 = 1.2;
/// Length normalisation.
pub const B: f32 = 0.75;

/// One document's term counts and length.
#[derive(Debug, Clone, Default, PartialEq)]
struct Doc {
    tf: HashMap<String, u32>,
    len: u32,
}

/// The BM25 statistics of a set of documents.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Bm25 {
    docs: Vec<Doc>,
    df: HashMap<String, u32>,
    total_len: u64,
}

impl Bm25 {
    /// No documents.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many documents there are.
    pub fn len(&self) -> usize {
        self.docs.len()
    }

    /// Whether there are no documents.
    pub fn is_empty(&self) -> bool {
        self.docs.is_empty()
    }

    /// Appends a document (slot `len()`).
    pub fn push(&mut self, text: &str) {
        let doc = Self::doc(text);
        self.count_in(&doc);
        self.docs.push(doc);
    }

    /// Replaces the document in `slot`.
    pub fn set(&mut self, slot: usize, text: &str) {
        let old = std::mem::take(&mut self.docs[slot]);
        self.count_out(&old);
        let doc = Self::doc(text);
        self.count_in(&doc);
        self.docs[slot] = doc;
    }

    /// Removes the document in `slot`, moving the last one there.
    pub fn swap_remove(&mut self, slot: usize) {
        let old = self.docs.swap_remove(slot);
        self.count_out(&old);
    }

    /// The BM25 score of every document for `query`, in slot order (0 when no term is shared).
    pub fn scores(&self, query: &str) -> Vec<f32> {
        let mut query_terms = terms::terms(query);
        query_terms.sort_unstable();
        query_terms.dedup();
        let n = self.docs.len() as f32;
        let avg_len = if self.docs.is_empty() {
            1.0
        } else {
            (self.total_len as f32 / n).max(1.0)
        };
        let weighted: Vec<(&str, f32)> = query_terms
            .iter()
            .filter_map(|t| {
                let df = *self.df.get(t)? as f32;
                Some((t.as_str(), (1.0 + (n - df + 0.5) / (df + 0.5)).ln()))
            })
            .collect();
        self.docs
            .iter()
            .map(|doc| {
                let norm = K1 * (1.0 - B + B * doc.len as f32 / avg_len);
                weighted
                    .iter()
                    .filter_map(|(t, idf)| {
                        let tf = *doc.tf.get(*t)? as f32;
                        Some(idf * tf * (K1 + 1.0) / (tf + norm))
                    })
                    .sum()
            })
            .collect()
    }

    fn doc(text: &str) -> Doc {
        let mut doc = Doc::default();
        for term in terms::terms(text) {
            *doc.tf.entry(term).or_default() += 1;
            doc.len += 1;
        }
        doc
    }

    fn count_in(&mut self, doc: &Doc) {
        self.total_len += u64::from(doc.len);
        for term in doc.tf.keys() {
            *self.df.entry(term.clone()).or_default() += 1;
        }
    }

    fn count_out(&mut self, doc: &Doc) {
        self.total_len -= u64::from(doc.len);
        for term in doc.tf.keys() {
            if let Some(df) = self.df.get_mut(term) {
                *df -= 1;
                if *df == 0 {
                    self.df.remove(term);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_follow_the_bm25_formula() {
        let mut index = Bm25::new();
        index.push("EMA refresh for BTC");
        index.push("quota exceeded on the Gemini API");
        index.push("EMA EMA EMA bars");
        let s = index.scores("ema");
        assert_eq!(s[1], 0.0);
        // n = 3, df = 2: idf = ln(1 + 1.5/2.5); doc 0 has 3 terms (ema refresh btc), the others 4
        // (quota exceed gemini api; ema ema ema bar), so the average is 11/3.
        let idf = (1.0f32 + 1.5 / 2.5).ln();
        let expected0 = idf * 2.2 / (1.0 + 1.2 * (0.25 + 0.75 * 3.0 / (11.0 / 3.0)));
        assert!((s[0] - expected0).abs() < 1e-6, "{} vs {expected0}", s[0]);
        assert!(s[2] > s[0], "more occurrences score higher: {s:?}");
    }

    #[test]
    fn removal_and_replacement_keep_statistics_consistent() {
        let mut index = Bm25::new();
        index.push("alpha beta");
        index.push("gamma");
        index.set(1, "beta delta");
        index.swap_remove(0);
        let mut fresh = Bm25::new();
        fresh.push("beta delta");
        assert_eq!(index, fresh);
        assert_eq!(index.scores("alpha"), [0.0]);
    }
}
