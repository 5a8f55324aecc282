//! Masking credentials out of text that leaves the process: error messages, logs, stored rows.
//!
//! Every client that holds a credential (the orchestrator's AI adapters, the memory crate's
//! embeddings client) quotes what a server answered when a call fails, and servers sometimes echo
//! the key they were sent. Masking only the whole key is not enough: a quote cut to a few dozen
//! characters keeps the key's first characters, which is most of it. So [`Redactor::redact`] masks
//! any run of 8 or more characters that is a prefix of a known secret ([`MIN_PREFIX`]), and
//! [`Redactor::quote`] masks *before* it cuts.
//!
//! Secrets also hide in URLs (`https://user:password@host/v1?key=…`), so a redactor learns the
//! password (or a bare token in the user part) and the credential-like query values of each base
//! URL it is given ([`Redactor::with_url`]); [`display_url`] shows a URL without them.
//!
//! This lives in `talab-db`, the foundation crate that both `talab-memory` and
//! `talab-orchestrator` depend on, so that the one masking rule is written once and shared without
//! making either of those crates depend on the other. It uses nothing from the database layer.
//!
//! ```
//! use talab_db::redact::Redactor;
//!
//! let r = Redactor::new().with_secret("sk-live-0123456789abcdef");
//! // A server echoed the key, then the quote was cut: the prefix is masked all the same.
//! assert_eq!(r.redact("bad key sk-live-0123456"), "bad key ***");
//! assert_eq!(r.quote("error: sk-live-0123456789abcdef is revoked", 10), "error: ***…");
//! ```

/// What a masked secret prints as, everywhere.
pub const MASK: &str = "***";

/// The shortest prefix of a secret that is masked on its own. Shorter runs (`sk-`, `AIza`) are
/// shared by every key of a provider and say nothing about this one; a whole secret shorter than
/// this is still masked wherever it appears in full.
pub const MIN_PREFIX: usize = 8;

/// Masks known secrets, and any 8+-character prefix of one, out of text.
#[derive(Clone)]
pub struct Redactor {
    secrets: Vec<String>,
    mask: &'static str,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor {
            secrets: Vec::new(),
            mask: MASK,
        }
    }
}

impl std::fmt::Debug for Redactor {
    /// How many secrets are known, never what they are.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("secrets", &self.secrets.len())
            .finish()
    }
}

impl Redactor {
    /// A redactor that knows no secret yet (it changes nothing).
    pub fn new() -> Self {
        Self::default()
    }

    /// Writes `mask` instead of [`MASK`] (a crate whose messages already promise another marker).
    pub fn with_mask(mut self, mask: &'static str) -> Self {
        self.mask = mask;
        self
    }

    /// Adds a secret; blank values are ignored.
    pub fn with_secret(mut self, secret: impl AsRef<str>) -> Self {
        let secret = secret.as_ref().trim();
        if !secret.is_empty() && !self.secrets.iter().any(|s| s == secret) {
            self.secrets.push(secret.to_string());
        }
        self
    }

    /// Adds the credentials a URL carries: the password of `user:password@` (or the user part
    /// when it stands alone, as tokens do in `https://TOKEN@host`), and the values of
    /// credential-like query parameters (`key`, `api_key`, `token`, `secret`, `password`, `sig`…;
    /// see [`is_credential_name`]).
    pub fn with_url(self, url: &str) -> Self {
        url_credentials(url)
            .into_iter()
            .fold(self, |r, secret| r.with_secret(secret))
    }

    /// The redactor of an HTTP client: its API key (if any) and the credentials of its base URL.
    pub fn for_endpoint(base_url: &str, api_key: Option<&str>) -> Self {
        api_key
            .into_iter()
            .fold(Self::new().with_url(base_url), Self::with_secret)
    }

    /// Whether no secret is known.
    pub fn is_empty(&self) -> bool {
        self.secrets.is_empty()
    }

    /// `text` with every occurrence of a known secret, and of any prefix of one that is at least
    /// [`MIN_PREFIX`] characters long, replaced by the mask ([`MASK`] unless set). At each position the longest match
    /// wins.
    pub fn redact(&self, text: &str) -> String {
        if self.secrets.is_empty() {
            return text.to_string();
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(c) = rest.chars().next() {
            match self.match_len(rest) {
                Some(len) => {
                    out.push_str(self.mask);
                    rest = &rest[len..];
                }
                None => {
                    out.push(c);
                    rest = &rest[c.len_utf8()..];
                }
            }
        }
        out
    }

    /// The trimmed `text`, masked and then cut to at most `max_chars` characters (an ellipsis
    /// marks a cut). Masking first is the point: a cut can never leave part of a secret behind.
    pub fn quote(&self, text: &str, max_chars: usize) -> String {
        let masked = self.redact(text.trim());
        match masked.char_indices().nth(max_chars) {
            Some((cut, _)) => format!("{}…", &masked[..cut]),
            None => masked,
        }
    }

    /// The byte length of the longest secret prefix `text` starts with, when it is masked: the
    /// whole secret, or at least [`MIN_PREFIX`] characters of it.
    fn match_len(&self, text: &str) -> Option<usize> {
        self.secrets
            .iter()
            .filter_map(|secret| {
                let (bytes, chars) = common_prefix(text, secret);
                (bytes > 0 && (bytes == secret.len() || chars >= MIN_PREFIX)).then_some(bytes)
            })
            .max()
    }
}

/// The common prefix of `a` and `b`, in bytes and in characters.
fn common_prefix(a: &str, b: &str) -> (usize, usize) {
    a.chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .fold((0, 0), |(bytes, chars), (x, _)| (bytes + x.len_utf8(), chars + 1))
}

/// Whether a name (a URL query parameter, an environment variable) says its value is a
/// credential: one of its words (split at `_`, `-` and `.`, any case) is `key`, `apikey`,
/// `token`, `secret`, `password`, `passwd`, `pass`, `pwd`, `auth`, `sig`, `signature` or
/// `credential(s)`. `ANTHROPIC_API_KEY`, `CLAUDE_CODE_OAUTH_TOKEN`, `?key=` and `?access_token=`
/// are; `XAUTHORITY` and `model` are not.
pub fn is_credential_name(name: &str) -> bool {
    const WORDS: [&str; 13] = [
        "key",
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "pass",
        "pwd",
        "auth",
        "sig",
        "signature",
        "credential",
        "credentials",
    ];
    name.split(['_', '-', '.'])
        .any(|word| WORDS.iter().any(|w| word.eq_ignore_ascii_case(w)))
}

/// The credentials in a URL: the password of its user info (or the user part when there is no
/// password), and the values of its credential-like query parameters (percent-encoded as written).
pub fn url_credentials(url: &str) -> Vec<String> {
    let mut out = Vec::new();
    let without_fragment = url.split('#').next().unwrap_or_default();
    let (base, query) = match without_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (without_fragment, None),
    };
    let after_scheme = base.split_once("://").map_or(base, |(_, rest)| rest);
    let authority = after_scheme.split('/').next().unwrap_or_default();
    if let Some((userinfo, _host)) = authority.rsplit_once('@') {
        match userinfo.split_once(':') {
            Some((_, password)) if !password.is_empty() => out.push(password.to_string()),
            Some((user, _)) => out.push(user.to_string()),
            None => out.push(userinfo.to_string()),
        }
    }
    for pair in query.into_iter().flat_map(|q| q.split('&')) {
        if let Some((name, value)) = pair.split_once('=')
            && is_credential_name(name)
            && !value.is_empty()
        {
            out.push(value.to_string());
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

/// A URL fit to show: without its user info, query and fragment.
///
/// ```
/// assert_eq!(talab_db::redact::display_url("https://a:b@host:1/v1?key=s#f"), "https://host:1/v1");
/// ```
pub fn display_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-api03-Zx9Qw8Er7Ty6";

    #[test]
    fn masks_the_whole_secret_and_every_long_enough_prefix() {
        let r = Redactor::new().with_secret(KEY);
        assert_eq!(r.redact(&format!("a {KEY} b {KEY}")), "a *** b ***");
        // Every prefix of 8+ characters is masked, wherever it appears.
        for len in MIN_PREFIX..=KEY.len() {
            let text = format!("key={}|", &KEY[..len]);
            assert_eq!(r.redact(&text), "key=***|", "prefix of {len}");
        }
        // Seven characters are what every key of the provider shares: left alone.
        assert_eq!(r.redact("sk-ant-"), "sk-ant-");
        assert_eq!(r.redact("no secret here"), "no secret here");
    }

    #[test]
    fn a_short_secret_is_masked_only_whole() {
        let r = Redactor::new().with_secret("abc123");
        assert_eq!(r.redact("x abc123 abc12"), "x *** abc12");
        assert!(Redactor::new().with_secret("  ").is_empty());
        let marked = Redactor::new().with_secret("abc123").with_mask("[redacted]");
        assert_eq!(marked.redact("abc123"), "[redacted]");
    }

    #[test]
    fn quote_masks_before_it_cuts() {
        let r = Redactor::new().with_secret(KEY);
        let body = format!("Internal error while checking {KEY}: upstream timeout");
        // Cut first, the first 20 characters of the key would survive the cut.
        let quoted = r.quote(&body, 33);
        assert_eq!(quoted, "Internal error while checking ***…");
        assert_eq!(r.quote("  short  ", 60), "short");
    }

    #[test]
    fn urls_give_their_password_token_and_credential_query_values() {
        assert_eq!(
            url_credentials("https://user:p4ssw0rd-long@host/v1?api_key=k3y-value&model=x&token=t0k#frag"),
            ["p4ssw0rd-long", "k3y-value", "t0k"]
        );
        assert_eq!(url_credentials("https://ghp_TOKEN123@host"), ["ghp_TOKEN123"]);
        assert!(url_credentials("http://127.0.0.1:11434/v1?model=llama").is_empty());
        let r = Redactor::new().with_url("https://u:hunter2-is-long@proxy/v1?key=AIzaSecretValue");
        assert_eq!(
            r.redact("denied for hunter2-is and AIzaSecret"),
            "denied for *** and ***"
        );
        assert_eq!(display_url("https://a:b@host:1/v1?key=s#f"), "https://host:1/v1");
        for name in [
            "ANTHROPIC_API_KEY",
            "CLAUDE_CODE_OAUTH_TOKEN",
            "access_token",
            "apiKey",
            "sig",
        ] {
            assert!(is_credential_name(name), "{name}");
        }
        for name in ["XAUTHORITY", "model", "CLAUDE_CONFIG_DIR", "api-version"] {
            assert!(!is_credential_name(name), "{name}");
        }
        assert_eq!(display_url("localhost:8080/x?k=1"), "localhost:8080/x");
    }

    #[test]
    fn debug_shows_no_secret() {
        let r = Redactor::new().with_secret(KEY);
        assert!(!format!("{r:?}").contains("sk-ant"));
    }
}
