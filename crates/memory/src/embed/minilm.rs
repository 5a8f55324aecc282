//! all-MiniLM-L6-v2 in pure Rust: the sentence-transformers model run with candle on the CPU.
//!
//! BERT (6 layers, 384 dims) over the model's own `tokenizer.json`, mean pooling over the
//! attention mask, L2 norm, inputs truncated at 256 tokens, as sentence-transformers does. The
//! tokenizer file ships with fixed padding to 128 tokens and truncation at 128; both are replaced
//! (pad to the longest of each batch, truncate at 256), and pooling only counts real tokens:
//! averaging over `[PAD]` makes unrelated sentences score ~0.85. Work runs on a blocking thread;
//! candle's matrix products use every core (rayon / gemm threads).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use sha2::{Digest, Sha256};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::locate::locate_model_dir;
use super::{Embedder, EmbedderIdentity};
use crate::MemoryError;

/// The identity name of this embedder.
pub const MINILM_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";
/// Vector length of all-MiniLM-L6-v2.
pub const MINILM_DIM: usize = 384;
/// Longest input in tokens (special tokens included); longer texts are truncated, as in
/// sentence-transformers (`max_seq_length = 256`).
pub const MINILM_MAX_TOKENS: usize = 256;
/// Texts per forward pass. Inputs are sorted by length first, so each batch pads little.
pub const MINILM_BATCH: usize = 32;
/// Default search threshold for MiniLM cosines: 0.30.
///
/// Measured on the labelled pairs of `tests/embed_minilm.rs` (`threshold_separates_labelled_pairs`,
/// same numbers from sentence-transformers): 12 paraphrases about EMAs, bars, runs and
/// orchestration score 0.33–0.78 (the lowest, 0.33, is "exponential moving averages" vs "EMA");
/// 12 unrelated pairs, half of them from the same quant vocabulary, score −0.05–0.23. 0.30 keeps
/// every paraphrase and drops every unrelated pair with ~0.07 margin on both sides. Same-topic
/// but different-fact pairs score 0.22–0.53, so they may show up: for a memory that is wanted
/// (related context), and hybrid ranking puts the exact match first. The contract's 0.7 would
/// drop 8 of the 12 paraphrases with this model.
pub const MINILM_DEFAULT_THRESHOLD: f32 = 0.30;

/// The all-MiniLM-L6-v2 embedder. Cheap to clone (the model is shared).
#[derive(Clone)]
pub struct MiniLmEmbedder {
    model: Arc<Model>,
    identity: EmbedderIdentity,
}

struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    device: Device,
    dir: PathBuf,
}

impl std::fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("identity", &self.identity)
            .field("dir", &self.model.dir)
            .finish()
    }
}

impl MiniLmEmbedder {
    /// Finds the model (see [`super::locate`]) and loads it.
    pub fn locate_and_load() -> Result<Self, MemoryError> {
        Self::load(&locate_model_dir()?)
    }

    /// Loads the model from a directory holding `config.json`, `tokenizer.json` and
    /// `model.safetensors` (memory-mapped). The revision is a sha256 prefix of the weights file,
    /// so a different model under the same name is detected by the store.
    pub fn load(dir: &Path) -> Result<Self, MemoryError> {
        let fail = |message: String| MemoryError::EmbedModel {
            dir: dir.display().to_string(),
            message,
        };
        let read =
            |name: &str| std::fs::read(dir.join(name)).map_err(|e| fail(format!("cannot read {name}: {e}")));

        let config: Config = serde_json::from_slice(&read("config.json")?)
            .map_err(|e| fail(format!("config.json is not a BERT config: {e}")))?;
        if config.hidden_size != MINILM_DIM {
            return Err(fail(format!(
                "config.json has hidden_size {}, but all-MiniLM-L6-v2 has {MINILM_DIM}",
                config.hidden_size
            )));
        }
        let tokenizer = load_tokenizer(&read("tokenizer.json")?).map_err(fail)?;
        let weights = dir.join("model.safetensors");
        let revision =
            file_revision(&weights).map_err(|e| fail(format!("cannot read model.safetensors: {e}")))?;

        let device = Device::Cpu;
        // SAFETY: the weights file is mapped read-only; like every mmap it must not be truncated
        // while loaded, which holds for a model directory nobody rewrites in place.
        let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[&weights], DType::F32, &device) }
            .map_err(|e| fail(format!("cannot map model.safetensors: {e}")))?;
        let bert = BertModel::load(vb, &config)
            .map_err(|e| fail(format!("model.safetensors does not fit config.json: {e}")))?;

        let identity = EmbedderIdentity {
            name: MINILM_NAME.into(),
            revision,
            dim: MINILM_DIM,
        };
        Ok(Self {
            model: Arc::new(Model {
                bert,
                tokenizer,
                device,
                dir: dir.to_path_buf(),
            }),
            identity,
        })
    }

    /// The directory the model was loaded from.
    pub fn model_dir(&self) -> &Path {
        &self.model.dir
    }

    /// Embeds on the calling thread (blocking). [`Embedder::embed`] runs this on a blocking
    /// thread so async callers are not stalled.
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        self.model.embed(texts)
    }
}

#[async_trait]
impl Embedder for MiniLmEmbedder {
    fn identity(&self) -> EmbedderIdentity {
        self.identity.clone()
    }

    fn default_threshold(&self) -> f32 {
        MINILM_DEFAULT_THRESHOLD
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = Arc::clone(&self.model);
        let texts = texts.to_vec();
        tokio::task::spawn_blocking(move || model.embed(&texts))
            .await
            .map_err(|e| MemoryError::EmbedModel {
                dir: self.model.dir.display().to_string(),
                message: format!("the embedding thread failed: {e}"),
            })?
    }
}

/// The tokenizer with padding to the longest of each batch and truncation at 256 tokens
/// (replacing the file's fixed 128-token padding and 128-token truncation).
fn load_tokenizer(json: &[u8]) -> Result<Tokenizer, String> {
    let mut tokenizer =
        Tokenizer::from_bytes(json).map_err(|e| format!("tokenizer.json cannot be read: {e}"))?;
    let (pad_id, pad_token) = match tokenizer.get_padding() {
        Some(p) => (p.pad_id, p.pad_token.clone()),
        None => (0, "[PAD]".to_string()),
    };
    tokenizer.with_padding(Some(PaddingParams {
        strategy: PaddingStrategy::BatchLongest,
        pad_id,
        pad_token,
        ..PaddingParams::default()
    }));
    tokenizer
        .with_truncation(Some(TruncationParams {
            max_length: MINILM_MAX_TOKENS,
            ..TruncationParams::default()
        }))
        .map_err(|e| format!("cannot set truncation: {e}"))?;
    Ok(tokenizer)
}

/// First 12 hex digits of the sha256 of a file.
fn file_revision(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher)?;
    let digest = hasher.finalize();
    Ok(digest.iter().take(6).map(|b| format!("{b:02x}")).collect())
}

impl Model {
    fn fail(&self, message: String) -> MemoryError {
        MemoryError::EmbedModel {
            dir: self.dir.display().to_string(),
            message,
        }
    }

    /// Sorts the inputs by length, runs them in batches of [`MINILM_BATCH`] and puts the vectors
    /// back in input order.
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, MemoryError> {
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| texts[i].len());
        let mut out = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(MINILM_BATCH) {
            let batch: Vec<&str> = chunk.iter().map(|&i| texts[i].as_str()).collect();
            let vectors = self.embed_batch(&batch)?;
            for (&i, vector) in chunk.iter().zip(vectors) {
                out[i] = vector;
            }
        }
        Ok(out)
    }

    fn embed_batch(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, MemoryError> {
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| self.fail(format!("tokenizing failed: {e}")))?;
        let rows = encodings.len();
        let len = encodings.first().map_or(0, |e| e.get_ids().len());
        let flat = |pick: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings.iter().flat_map(|e| pick(e).iter().copied()).collect()
        };
        let tensor = |data: Vec<u32>| Tensor::from_vec(data, (rows, len), &self.device);
        let run = || -> candle_core::Result<Vec<Vec<f32>>> {
            let ids = tensor(flat(&|e| e.get_ids()))?;
            let type_ids = tensor(flat(&|e| e.get_type_ids()))?;
            let mask = tensor(flat(&|e| e.get_attention_mask()))?;
            let hidden = self.bert.forward(&ids, &type_ids, Some(&mask))?;
            // Mean over real tokens only: (B,T,H) * (B,T,1), summed over T, / token count.
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
            let counts = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
            let mean = summed.broadcast_div(&counts)?;
            let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12f32, f32::MAX)?;
            mean.broadcast_div(&norms)?.to_vec2::<f32>()
        };
        run().map_err(|e| self.fail(format!("forward pass failed: {e}")))
    }
}
