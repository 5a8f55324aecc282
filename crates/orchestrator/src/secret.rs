//! A secret string (an API key) that cannot leak by accident: `Debug`, `Display` and serde all
//! print `***`; only [`Secret::expose`] gives the value, at the one place that sends it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a secret prints as, everywhere (the same mask the shared redactor writes).
pub use talab_db::redact::MASK;

/// An API key or other credential.
///
/// ```
/// use talab_orchestrator::Secret;
///
/// let key = Secret::new("sk-live-123");
/// assert_eq!(format!("{key} {key:?}"), "*** ***");
/// assert_eq!(key.expose(), "sk-live-123");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself: call this only where the secret is sent to its service.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the value is empty or only spaces (treated as "not set").
    pub fn is_blank(&self) -> bool {
        self.0.trim().is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Secret(value.to_string())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl Serialize for Secret {
    /// Always `"***"`: configuration dumps and stored rows never carry the value.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(MASK)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-very-secret";

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder {
        api_key: Option<Secret>,
    }

    #[test]
    fn debug_display_and_serde_never_leak() {
        let holder = Holder {
            api_key: Some(Secret::new(KEY)),
        };
        let outputs = [
            format!("{holder:?}"),
            format!("{holder:#?}"),
            holder.api_key.as_ref().unwrap().to_string(),
            serde_json::to_string(&holder).unwrap(),
        ];
        for text in &outputs {
            assert!(!text.contains(KEY) && !text.contains("secret"), "leaked: {text}");
            assert!(text.contains(MASK), "{text}");
        }
        assert_eq!(serde_json::to_string(&holder).unwrap(), r#"{"api_key":"***"}"#);
    }

    #[test]
    fn deserializes_from_a_plain_string_and_exposes_it() {
        let holder: Holder = serde_json::from_str(&format!(r#"{{"api_key":"{KEY}"}}"#)).unwrap();
        let key = holder.api_key.unwrap();
        assert_eq!(key.expose(), KEY);
        assert!(!key.is_blank());
        assert!(Secret::new("  ").is_blank());
        assert!(serde_json::from_str::<Holder>(r#"{"api_key":42}"#).is_err());
    }
}
