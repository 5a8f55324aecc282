//! Embeddings from an OpenAI-compatible HTTP API (`POST {base}/v1/embeddings`): OpenAI, Ollama,
//! vLLM, LM Studio, TEI all speak it.
//!
//! The response is checked rather than trusted: vectors are put back in input order by `index`,
//! must all have the embedder's dimension and be finite and non-zero, and are L2-normalised here
//! (not every server normalises). Errors say what the server did (401, 429, 5xx, malformed body)
//! and never contain the API key: the key and the base URL's credentials, and any 8+-character
//! prefix of them, are masked with the shared [`Redactor`] before a body is quoted (and cut), and
//! the URL in an error is shown without user info or query.

use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;
use talab_db::redact::{Redactor, display_url};

use super::{Embedder, EmbedderIdentity};
use crate::MemoryError;

/// Default search threshold for API embedders when the config gives none. Hosted embedding
/// models (OpenAI text-embedding-3, nomic, bge) put relevant paraphrases around 0.4–0.7, so
/// 0.4 keeps them; set `default_threshold` per model when you have measured it.
pub const HTTP_DEFAULT_THRESHOLD: f32 = 0.4;
/// Inputs per request when the config gives none (OpenAI accepts up to 2048).
pub const HTTP_DEFAULT_BATCH: usize = 256;
/// Longest part of an error body quoted in an error message.
const BODY_QUOTE: usize = 300;
/// What a masked key reads as in this crate's messages.
const REDACTED: &str = "[redacted]";

/// Where and how to call the API.
#[derive(Debug, Clone)]
pub struct HttpEmbedderConfig {
    /// Base URL without the `/v1/embeddings` path, e.g. `https://api.openai.com` or
    /// `http://127.0.0.1:11434` (a trailing `/v1` is accepted too).
    pub base_url: String,
    /// Model name sent in each request, e.g. `text-embedding-3-small`.
    pub model: String,
    /// Bearer token; none for local servers.
    pub api_key: Option<String>,
    /// Identity revision: change it when the same model name starts producing other vectors.
    pub revision: String,
    /// Search threshold for this model (default [`HTTP_DEFAULT_THRESHOLD`]).
    pub default_threshold: f32,
    /// Inputs per request.
    pub batch_size: usize,
    /// Timeout of one request.
    pub timeout: Duration,
}

impl HttpEmbedderConfig {
    /// A config with the defaults: no key, revision `"1"`, threshold 0.4, 256 inputs per
    /// request, 60 s timeout.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            model: model.into(),
            api_key: None,
            revision: "1".into(),
            default_threshold: HTTP_DEFAULT_THRESHOLD,
            batch_size: HTTP_DEFAULT_BATCH,
            timeout: Duration::from_secs(60),
        }
    }

    /// Sets the bearer key.
    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into()).filter(|k| !k.is_empty());
        self
    }
}

/// An [`Embedder`] calling an OpenAI-compatible `/v1/embeddings` endpoint.
#[derive(Clone)]
pub struct HttpEmbedder {
    client: reqwest::Client,
    config: HttpEmbedderConfig,
    url: String,
    /// Masks the key and the base URL's credentials out of every error.
    redactor: Redactor,
    dim: usize,
}

impl std::fmt::Debug for HttpEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The key is deliberately left out.
        f.debug_struct("HttpEmbedder")
            .field("url", &self.url)
            .field("model", &self.config.model)
            .field("dim", &self.dim)
            .finish()
    }
}

#[derive(Deserialize)]
struct EmbeddingsResponse {
    data: Vec<EmbeddingItem>,
}

#[derive(Deserialize)]
struct EmbeddingItem {
    embedding: Vec<f32>,
    index: usize,
}

impl HttpEmbedder {
    /// An embedder whose dimension is known (e.g. 1536 for text-embedding-3-small).
    pub fn new(config: HttpEmbedderConfig, dim: usize) -> Result<Self, MemoryError> {
        let url = embeddings_url(&config.base_url);
        let fail = |message: String| MemoryError::EmbedHttp {
            url: display_url(&url),
            message,
        };
        if dim == 0 {
            return Err(fail("the embedding dimension must be at least 1".into()));
        }
        if config.batch_size == 0 {
            return Err(fail("batch_size must be at least 1".into()));
        }
        if !(-1.0..=1.0).contains(&config.default_threshold) {
            return Err(MemoryError::InvalidThreshold(config.default_threshold));
        }
        let client = reqwest::Client::builder()
            .timeout(config.timeout)
            .build()
            .map_err(|e| fail(format!("cannot build the HTTP client: {e}")))?;
        let redactor =
            Redactor::for_endpoint(&config.base_url, config.api_key.as_deref()).with_mask(REDACTED);
        Ok(Self {
            client,
            config,
            url,
            redactor,
            dim,
        })
    }

    /// An embedder whose dimension is learnt by embedding one probe text.
    pub async fn probe(config: HttpEmbedderConfig) -> Result<Self, MemoryError> {
        let mut embedder = Self::new(config, 1)?;
        let raw = embedder.request(&["dimension probe".to_string()]).await?;
        embedder.dim = raw.first().map_or(0, Vec::len);
        if embedder.dim == 0 {
            return Err(embedder.fail("the probe embedding is empty".into()));
        }
        Ok(embedder)
    }

    /// The full endpoint URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    fn fail(&self, message: String) -> MemoryError {
        MemoryError::EmbedHttp {
            url: display_url(&self.url),
            message: self.redactor.redact(&message),
        }
    }

    /// One request; vectors in input order, not yet checked for dimension or normalised.
    async fn request(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        let body = serde_json::json!({ "model": self.config.model, "input": texts });
        let mut request = self.client.post(&self.url).json(&body);
        if let Some(key) = &self.config.api_key {
            request = request.bearer_auth(key);
        }
        let response = request
            .send()
            .await
            .map_err(|e| self.fail(format!("request failed: {}", e.without_url())))?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let text = response
            .text()
            .await
            .map_err(|e| self.fail(format!("cannot read the response body: {e}")))?;
        if !status.is_success() {
            return Err(self.fail(self.status_message(status, retry_after, &text)));
        }
        let parsed: EmbeddingsResponse = serde_json::from_str(&text).map_err(|e| {
            self.fail(format!(
                "the response is not an embeddings response ({e}); body starts with: {}",
                self.quote(&text)
            ))
        })?;
        self.in_input_order(parsed.data, texts.len())
    }

    fn status_message(&self, status: reqwest::StatusCode, retry_after: Option<String>, body: &str) -> String {
        let code = status.as_u16();
        let detail = self.quote(body);
        match code {
            401 | 403 => format!(
                "HTTP {code}: the server refused the credentials; check the API key configured for this \
                 endpoint ({}) — server said: {detail}",
                if self.config.api_key.is_some() {
                    "a key was sent"
                } else {
                    "no key was sent"
                }
            ),
            429 => format!(
                "HTTP 429: rate limited or out of quota; wait{} and retry, or lower the batch size — server said: {detail}",
                retry_after
                    .map(|s| format!(" {s} s (Retry-After)"))
                    .unwrap_or_default()
            ),
            500..=599 => {
                format!("HTTP {code}: the embeddings server failed; retry later — server said: {detail}")
            }
            404 => format!(
                "HTTP 404: no embeddings endpoint here; check the base URL and model name — server said: {detail}"
            ),
            _ => format!("HTTP {code}: server said: {detail}"),
        }
    }

    /// Sorts by `index`, requiring exactly the indices `0..expected`.
    fn in_input_order(
        &self,
        mut data: Vec<EmbeddingItem>,
        expected: usize,
    ) -> Result<Vec<Vec<f32>>, MemoryError> {
        if data.len() != expected {
            return Err(self.fail(format!(
                "sent {expected} inputs but got {} embeddings back",
                data.len()
            )));
        }
        data.sort_by_key(|item| item.index);
        if let Some((position, item)) = data.iter().enumerate().find(|(i, item)| item.index != *i) {
            return Err(self.fail(format!(
                "embedding indices are not 0..{expected}: position {position} has index {}",
                item.index
            )));
        }
        Ok(data.into_iter().map(|item| item.embedding).collect())
    }

    /// Checks the dimension and finiteness of a vector and L2-normalises it.
    fn normalised(&self, mut vector: Vec<f32>, input: usize) -> Result<Vec<f32>, MemoryError> {
        if vector.len() != self.dim {
            return Err(self.fail(format!(
                "embedding {input} has {} dimensions, expected {} (model {}); a store cannot mix dimensions",
                vector.len(),
                self.dim,
                self.config.model
            )));
        }
        let norm = vector
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum::<f64>()
            .sqrt();
        if !norm.is_finite() || norm == 0.0 {
            return Err(self.fail(format!("embedding {input} is zero or not finite (norm {norm})")));
        }
        vector.iter_mut().for_each(|x| *x = (f64::from(*x) / norm) as f32);
        Ok(vector)
    }

    /// The start of a server's body for a message, masked before it is cut.
    fn quote(&self, body: &str) -> String {
        match self.redactor.quote(body, BODY_QUOTE) {
            quoted if quoted.is_empty() => "(empty body)".into(),
            quoted => quoted,
        }
    }
}

#[async_trait]
impl Embedder for HttpEmbedder {
    fn identity(&self) -> EmbedderIdentity {
        EmbedderIdentity {
            name: format!("openai:{}", self.config.model),
            revision: self.config.revision.clone(),
            dim: self.dim,
        }
    }

    fn default_threshold(&self) -> f32 {
        self.config.default_threshold
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(self.config.batch_size) {
            for vector in self.request(chunk).await? {
                out.push(self.normalised(vector, out.len())?);
            }
        }
        Ok(out)
    }
}

/// `{base}/v1/embeddings`, accepting a base that already ends in `/v1`.
fn embeddings_url(base: &str) -> String {
    let base = base.trim_end_matches('/');
    if base.ends_with("/v1") {
        format!("{base}/embeddings")
    } else {
        format!("{base}/v1/embeddings")
    }
}
