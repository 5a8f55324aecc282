//! The embeddings client never quotes any 8+-character prefix of its key or of the password in
//! its base URL, even when the server echoes them in a long error body that the message cuts.

use talab_memory::embed::http::{HttpEmbedder, HttpEmbedderConfig};
use talab_memory::{Embedder, MemoryError};
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, ResponseTemplate};

const KEY: &str = "sk-embed-7Hq2Lm9Xc4Vb8Nz1";
const PASSWORD: &str = "proxy-pass-5Rt6Yu7Io8";
/// No run of this many leading characters of a secret may appear in a message.
const MIN_PREFIX: usize = 8;

fn leaked_prefix<'a>(secret: &'a str, text: &str) -> Option<&'a str> {
    (MIN_PREFIX..=secret.len())
        .map(|n| &secret[..n])
        .find(|p| text.contains(p))
}

#[tokio::test]
async fn a_500_echoing_the_key_and_url_password_leaves_no_prefix_of_either() {
    let server = MockServer::start().await;
    // Servers echo a key partly ("Incorrect API key provided: sk-proj-abc…") or whole; the quote
    // is cut at 300 characters, which here falls inside the whole key.
    let partial = &KEY[..12];
    let body = format!(
        "Incorrect API key provided: {partial}…; {}: key {KEY} password {PASSWORD}",
        "x".repeat(240)
    );
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500).set_body_string(body))
        .mount(&server)
        .await;
    let base = server
        .uri()
        .replace("http://", &format!("http://talab:{PASSWORD}@"));
    let config = HttpEmbedderConfig::new(base, "text-embedding-3-small").with_api_key(KEY);
    let embedder = HttpEmbedder::new(config, 3).unwrap();

    let error = embedder
        .embed(&["hello".to_string()])
        .await
        .expect_err("a 500 is an error");
    assert!(matches!(error, MemoryError::EmbedHttp { .. }), "{error:?}");
    for text in [error.to_string(), format!("{error:?}")] {
        assert!(text.contains("HTTP 500"), "{text}");
        assert_eq!(leaked_prefix(KEY, &text), None, "part of the key in: {text}");
        assert_eq!(
            leaked_prefix(PASSWORD, &text),
            None,
            "part of the URL password in: {text}"
        );
    }
}
