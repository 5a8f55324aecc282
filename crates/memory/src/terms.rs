//! Words as search terms: lowercase alphanumeric tokens, English stop words dropped, a crude
//! suffix-stripping stemmer, so that "calculate", "calculation" and "calculating" are one term.
//!
//! Used by `MemoryStub`'s word matching (feature `stubs`); deliberately small and
//! predictable rather than linguistically complete (no dictionary, English only).

/// Words too common to say anything about what a text is about.
pub const STOP_WORDS: &[&str] = &[
    "a", "about", "after", "all", "an", "and", "any", "are", "as", "at", "be", "been", "before", "but", "by",
    "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "how", "i", "if", "in", "into",
    "is", "it", "its", "me", "my", "of", "on", "or", "our", "should", "so", "than", "that", "the", "their",
    "them", "then", "there", "these", "they", "this", "those", "to", "us", "was", "we", "were", "what",
    "when", "where", "which", "who", "whom", "why", "will", "with", "would", "you", "your",
];

/// Suffixes stripped by [`stem`], longest first, with what replaces them.
const SUFFIXES: &[(&str, &str)] = &[
    ("ations", ""),
    ("ation", ""),
    ("ating", ""),
    ("ated", ""),
    ("ates", ""),
    ("ions", ""),
    ("ings", ""),
    ("ate", ""),
    ("ion", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
    ("e", ""),
];

/// A stem is never shorter than this, so short words ("use", "bar", "ema") stay whole.
const MIN_STEM: usize = 3;

/// Whether a lowercase word is in [`STOP_WORDS`].
pub fn is_stop_word(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// The crude stem of a lowercase word: the first (longest) suffix whose removal leaves at least
/// three characters is stripped; words with digits and words ending in "ss" ("class") are kept.
///
/// ```
/// use talab_memory::terms::stem;
/// assert_eq!(stem("calculate"), stem("calculation"));
/// assert_eq!(stem("refreshes"), "refresh");
/// ```
pub fn stem(word: &str) -> String {
    if word.chars().any(|c| c.is_numeric()) {
        return word.to_string();
    }
    for (suffix, replacement) in SUFFIXES {
        if *suffix == "s" && word.ends_with("ss") {
            continue;
        }
        if let Some(base) = word.strip_suffix(suffix)
            && base.chars().count() >= MIN_STEM
        {
            return format!("{base}{replacement}");
        }
    }
    word.to_string()
}

/// The search terms of a text, in order, repeats kept: lowercase alphanumeric tokens (any script),
/// stop words dropped, each stemmed.
///
/// ```
/// use talab_memory::terms::terms;
/// assert_eq!(terms("How to calculate the EMA?"), ["calcul", "ema"]);
/// ```
pub fn terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .filter(|t| !is_stop_word(t))
        .map(|t| stem(&t))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_are_sorted_for_binary_search() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(is_stop_word("how") && is_stop_word("the") && !is_stop_word("ema"));
    }

    #[test]
    fn word_families_share_a_stem() {
        for family in [
            &[
                "calculate",
                "calculation",
                "calculations",
                "calculating",
                "calculated",
                "calculates",
            ][..],
            &["refresh", "refreshes", "refreshed", "refreshing"],
            &["execute", "executed", "execution", "executes"],
            &["class", "classes"],
            &["query", "queries"],
            &["rate", "rates"],
            &["ema", "emas"],
        ] {
            let stems: Vec<String> = family.iter().map(|w| stem(w)).collect();
            assert!(stems.iter().all(|s| *s == stems[0]), "{family:?} -> {stems:?}");
        }
    }

    #[test]
    fn short_words_and_numbers_stay_whole() {
        assert_eq!(stem("use"), "use");
        assert_eq!(stem("bar"), "bar");
        assert_eq!(stem("2024s"), "2024s");
        assert_eq!(stem("4h"), "4h");
        assert_eq!(stem("bring"), "bring");
    }

    #[test]
    fn tokens_are_lowercase_alphanumeric_in_any_script() {
        assert_eq!(
            terms("BTC/ETH: 4h-EMA_21 (ta_lab2)"),
            ["btc", "eth", "4h", "ema", "21", "ta", "lab2"]
        );
        assert_eq!(terms("Ünïcödé Straße"), ["ünïcödé", "straß"]);
        assert!(terms("how to do it?").is_empty());
    }
}
