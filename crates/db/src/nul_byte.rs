//! One rule for NUL (U+0000) in text, on both backends.
//!
//! PostgreSQL stores no NUL in `text` and no `\u0000` in `jsonb`; SQLite stores both. Left alone,
//! the same input was kept on one backend and refused with a raw database error on the other, and
//! a paid AI call whose prompt held a NUL went unrecorded on PostgreSQL. So:
//!
//! - what a caller gives (a prompt, memory content, metadata) is refused at the edge with a clear
//!   error ([`check`], [`check_json`]), before anything is sent or stored;
//! - what comes back from elsewhere (a provider's answer, an error body) is stored with each NUL
//!   replaced by U+FFFD ([`replace`], [`replace_in_json`]), so a call that was made is always
//!   recorded.

use std::borrow::Cow;

use serde_json::Value;

/// What a NUL is replaced with in stored text: the Unicode replacement character.
pub const REPLACEMENT: char = '\u{FFFD}';

/// The error line for `what` holding a NUL, or `Ok` without one.
pub fn check(what: &str, text: &str) -> Result<(), String> {
    match text.find('\0') {
        None => Ok(()),
        Some(at) => Err(format!(
            "{what} holds a NUL character (U+0000) at byte {at}; remove it (no database stores it as text)"
        )),
    }
}

/// [`check`] over every string (keys included) of a JSON value.
pub fn check_json(what: &str, value: &Value) -> Result<(), String> {
    match value {
        Value::String(s) => check(what, s),
        Value::Array(items) => items.iter().try_for_each(|v| check_json(what, v)),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            check(what, k)?;
            check_json(what, v)
        }),
        _ => Ok(()),
    }
}

/// `text` with each NUL replaced by [`REPLACEMENT`] (borrowed when it has none).
pub fn replace(text: &str) -> Cow<'_, str> {
    if text.contains('\0') {
        Cow::Owned(text.replace('\0', &REPLACEMENT.to_string()))
    } else {
        Cow::Borrowed(text)
    }
}

/// [`replace`] over every string (keys included) of a JSON value, in place.
pub fn replace_in_json(value: &mut Value) {
    match value {
        Value::String(s) => {
            if let Cow::Owned(clean) = replace(s) {
                *s = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(replace_in_json),
        Value::Object(map) => {
            let keys: Vec<String> = map.keys().filter(|k| k.contains('\0')).cloned().collect();
            for key in keys {
                if let Some(v) = map.remove(&key) {
                    map.insert(replace(&key).into_owned(), v);
                }
            }
            map.values_mut().for_each(replace_in_json);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn given_text_is_refused_and_returned_text_is_replaced() {
        assert!(check("the prompt", "fine").is_ok());
        let e = check("the prompt", "a\0b").unwrap_err();
        assert_eq!(
            e,
            "the prompt holds a NUL character (U+0000) at byte 1; remove it (no database stores it as text)"
        );
        assert!(check_json("metadata", &json!({"k": ["x", {"in\0key": 1}]})).is_err());
        assert!(check_json("metadata", &json!({"k": ["x", 1, null]})).is_ok());

        assert!(matches!(replace("none"), Cow::Borrowed("none")));
        assert_eq!(replace("a\0b\0"), "a\u{FFFD}b\u{FFFD}");
        let mut v = json!({"a\0": ["x\0", {"b": "y\0"}], "n": 1});
        replace_in_json(&mut v);
        assert_eq!(v, json!({"a\u{FFFD}": ["x\u{FFFD}", {"b": "y\u{FFFD}"}], "n": 1}));
    }
}
