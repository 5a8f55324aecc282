//! Content normalisation and the content hash that deduplicates memories.
//!
//! Two texts that differ only in spacing, line breaks or the Unicode form of their accents are the
//! same memory: re-running an indexer must not store its output twice. Case and punctuation are
//! kept, because they can change what a text means ("EMA" the indicator vs "ema" a name).

use sha2::{Digest, Sha256};
use unicode_normalization::UnicodeNormalization;

/// The canonical form of a content: Unicode NFC, trimmed, every run of whitespace (spaces, tabs,
/// line breaks, no-break spaces…) collapsed to one space.
///
/// ```
/// use talab_memory::normalise::normalise;
/// assert_eq!(normalise("  EMA\tcalculation\n\n logic "), "EMA calculation logic");
/// ```
pub fn normalise(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    for word in content.nfc().collect::<String>().split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}

/// The sha256 of the normalised content, as 64 lowercase hex digits.
pub fn content_hash(content: &str) -> String {
    let digest = Sha256::digest(normalise(content).as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collapses_whitespace_of_every_kind() {
        assert_eq!(normalise("a\u{00A0}\u{2003}b\r\n\tc"), "a b c");
        assert_eq!(normalise("   "), "");
        assert_eq!(normalise("one"), "one");
    }

    #[test]
    fn composes_accents() {
        let composed = "caf\u{00E9} r\u{00E9}sum\u{00E9}";
        let decomposed = "cafe\u{0301} re\u{0301}sume\u{0301}";
        assert_ne!(composed, decomposed);
        assert_eq!(normalise(decomposed), composed);
        assert_eq!(content_hash(composed), content_hash(decomposed));
    }

    #[test]
    fn keeps_case_and_punctuation() {
        assert_ne!(content_hash("EMA"), content_hash("ema"));
        assert_ne!(content_hash("EMA."), content_hash("EMA"));
        assert_eq!(
            normalise("Ünïcödé  日本語\u{3000}テキスト"),
            "Ünïcödé 日本語 テキスト"
        );
    }

    #[test]
    fn hash_is_sha256_hex_of_the_normal_form() {
        // sha256("abc"), the FIPS 180-2 test vector.
        assert_eq!(
            content_hash("  abc\n"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            content_hash("EMA  calculation"),
            content_hash("EMA calculation\n")
        );
    }
}
