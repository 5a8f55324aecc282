//! Retrieval quality on the labelled set (`tests/fixtures/labelled_set.json`): recall@5 and MRR
//! for vector-only, BM25-only and hybrid ranking, printed, with hybrid required to beat both.
//!
//! `quality_on` is generic over the embedder, so the same checks run with the lexical fallback and
//! with MiniLM.

use std::sync::Arc;

use talab_memory::embed::lexical::{LEXICAL_THRESHOLD, LexicalEmbedder};
use talab_memory::search::SearchMode;
use talab_memory::search::eval::{EvalReport, LabelledSet, evaluate};
use talab_memory::{Embedder, MemoryRecords, SqlMemoryManager};

const SET: &str = include_str!("fixtures/labelled_set.json");
/// Written after the fusion was chosen on [`SET`], by someone who had not read it.
const HELD_OUT: &str = include_str!("fixtures/labelled_set_heldout.json");

/// Evaluates any embedder on a labelled set (its JSON), in a fresh SQLite store.
async fn quality_on(embedder: Arc<dyn Embedder>, json: &str) -> EvalReport {
    let set: LabelledSet = serde_json::from_str(json).expect("labelled set parses");
    assert!(set.memories.len() >= 60 && set.queries.len() >= 30);
    let dir = tempfile::tempdir().unwrap();
    let records = MemoryRecords::connect(dir.path().join("eval.db").to_str().unwrap())
        .await
        .unwrap();
    let manager = SqlMemoryManager::open(records, embedder).await.unwrap();
    evaluate(&manager, &set).await.unwrap()
}

#[tokio::test]
async fn hybrid_beats_each_half_with_the_lexical_embedder() {
    let report = quality_on(Arc::new(LexicalEmbedder::new()), SET).await;
    println!("{report}");
    let (v, l, h) = (
        report.mode(SearchMode::Vector),
        report.mode(SearchMode::Lexical),
        report.mode(SearchMode::Hybrid),
    );
    assert!(
        h.recall_at_5 >= v.recall_at_5 && h.recall_at_5 >= l.recall_at_5,
        "{report}"
    );
    assert!(h.mrr >= v.mrr && h.mrr >= l.mrr, "{report}");
    assert!(
        h.mrr > 0.5,
        "hybrid should find most answers near the top: {report}"
    );

    // The documented default threshold keeps most relevant pairs.
    let cos = &report.relevant_cosines;
    let kept = cos.iter().filter(|c| **c >= LEXICAL_THRESHOLD).count() as f64 / cos.len() as f64;
    let pct = |p: usize| cos[cos.len() * p / 100];
    println!(
        "relevant cosines: p10 {:.3}, p20 {:.3}, median {:.3}; share >= {LEXICAL_THRESHOLD}: {kept:.2}",
        pct(10),
        pct(20),
        pct(50)
    );
    assert!(
        kept >= 0.75,
        "the lexical default threshold should keep most relevant hits: {kept:.2}"
    );
}

/// MiniLM (see `util`); `None` only under `TALAB_TEST_SKIP=minilm`.
fn minilm() -> Option<Arc<dyn Embedder>> {
    crate::util::minilm().map(|m| Arc::new(m.clone()) as Arc<dyn Embedder>)
}

/// Recall@5 and MRR of one ranking (labels best first) for one query.
fn judge(labels: &[&str], relevant: &[String]) -> (f64, f64) {
    let found = labels
        .iter()
        .take(5)
        .filter(|l| relevant.iter().any(|r| r == *l))
        .count();
    let rr = labels
        .iter()
        .position(|l| relevant.iter().any(|r| r == l))
        .map_or(0.0, |p| 1.0 / (p + 1) as f64);
    (found as f64 / relevant.len().min(5) as f64, rr)
}

/// One labelled set scored offline: each query's cosine and BM25 score of every memory.
struct Scored {
    set: LabelledSet,
    /// Per query: (cosine, bm25) of every memory, in set order.
    scores: Vec<Vec<(f32, f32)>>,
}

async fn score_set(embedder: &dyn Embedder, set: LabelledSet) -> Scored {
    use talab_memory::search::bm25::Bm25;
    let texts: Vec<String> = set.memories.iter().map(|m| m.content.clone()).collect();
    let vectors = embedder.embed(&texts).await.unwrap();
    let questions: Vec<String> = set.queries.iter().map(|q| q.query.clone()).collect();
    let asked = embedder.embed(&questions).await.unwrap();
    let mut bm25 = Bm25::new();
    for t in &texts {
        bm25.push(t);
    }
    let scores = set
        .queries
        .iter()
        .zip(&asked)
        .map(|(q, qv)| {
            let lexical = bm25.scores(&q.query);
            vectors
                .iter()
                .zip(lexical)
                .map(|(v, l)| (v.iter().zip(qv).map(|(a, b)| a * b).sum::<f32>(), l))
                .collect()
        })
        .collect();
    Scored { set, scores }
}

impl Scored {
    /// Mean recall@5 and MRR of ranking every memory by `fuse(one query's (cosine, bm25) of every
    /// memory)`, which gives each memory's score.
    fn quality(&self, fuse: impl Fn(&[(f32, f32)]) -> Vec<f32>) -> (f64, f64) {
        let (mut recall, mut mrr) = (0.0, 0.0);
        for (q, scores) in self.set.queries.iter().zip(&self.scores) {
            let fused = fuse(scores);
            let mut order: Vec<usize> = (0..fused.len()).collect();
            order.sort_by(|a, b| fused[*b].total_cmp(&fused[*a]).then(a.cmp(b)));
            let labels: Vec<&str> = order.iter().map(|i| self.set.memories[*i].id.as_str()).collect();
            let (r, m) = judge(&labels, &q.relevant);
            recall += r;
            mrr += m;
        }
        let n = self.set.queries.len() as f64;
        (recall / n, mrr / n)
    }
}

/// Each value's rank (0 = highest, ties share the first rank).
fn ranks(values: &[f32]) -> Vec<usize> {
    values
        .iter()
        .map(|v| values.iter().filter(|w| *w > v).count())
        .collect()
}

/// `values` scaled to [0, 1] (all 0 when they are all equal).
fn min_max(values: &[f32]) -> Vec<f32> {
    let (lo, hi) = values
        .iter()
        .fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
    values
        .iter()
        .map(|x| if hi > lo { (x - lo) / (hi - lo) } else { 0.0 })
        .collect()
}

/// Prints recall@5 / MRR of the fusions considered, for one embedder on the set at
/// `TALAB_FUSION_SET` (default: the labelled set): how the shipped fusion was chosen.
async fn print_fusion_study(name: &str, embedder: &dyn Embedder) {
    let path = std::env::var("TALAB_FUSION_SET")
        .unwrap_or_else(|_| format!("{}/tests/fixtures/labelled_set.json", env!("CARGO_MANIFEST_DIR")));
    let set: LabelledSet = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let scored = score_set(embedder, set).await;
    let line =
        |label: String, (r, m): (f64, f64)| println!("{name:<8} {label:<28} recall@5 {r:.3}  MRR {m:.3}");
    println!(
        "{path}: {} memories, {} queries",
        scored.set.memories.len(),
        scored.set.queries.len()
    );
    let cosines = |s: &[(f32, f32)]| s.iter().map(|x| x.0).collect::<Vec<f32>>();
    let bm25 = |s: &[(f32, f32)]| s.iter().map(|x| x.1).collect::<Vec<f32>>();
    line("vector".into(), scored.quality(cosines));
    line("bm25".into(), scored.quality(bm25));
    for k in [10.0f32, 60.0] {
        line(
            format!("rrf K {k}"),
            scored.quality(|s| {
                let (rc, rl) = (ranks(&cosines(s)), ranks(&bm25(s)));
                (0..s.len())
                    .map(|i| {
                        1.0 / (k + rc[i] as f32)
                            + if s[i].1 > 0.0 {
                                1.0 / (k + rl[i] as f32)
                            } else {
                                0.0
                            }
                    })
                    .collect()
            }),
        );
    }
    for beta in [0.02f32, 0.05, 0.1, 0.15, 0.2, 0.3] {
        line(
            format!("cosine + {beta}·bm25/max"),
            scored.quality(|s| {
                let max = s.iter().map(|x| x.1).fold(0.0f32, f32::max);
                s.iter()
                    .map(|&(c, l)| c + if max > 0.0 { beta * l / max } else { 0.0 })
                    .collect()
            }),
        );
    }
    for alpha in [0.5f32, 0.7, 0.8, 0.9] {
        line(
            format!("min-max {alpha}·cos + rest·bm25"),
            scored.quality(|s| {
                let (c, l) = (min_max(&cosines(s)), min_max(&bm25(s)));
                c.iter()
                    .zip(&l)
                    .map(|(c, l)| alpha * c + (1.0 - alpha) * l)
                    .collect()
            }),
        );
    }
}

#[tokio::test]
#[ignore = "a study, not a check: prints how each fusion ranks the labelled set (TALAB_FUSION_SET for another)"]
async fn fusion_study() {
    print_fusion_study("lexical", &LexicalEmbedder::new()).await;
    if let Some(embedder) = minilm() {
        print_fusion_study("minilm", embedder.as_ref()).await;
    }
}

/// MiniLM on both labelled sets, hybrid being the cosine nudged by BM25 (its weight chosen on the
/// first set only): hybrid's MRR beats the cosine's and BM25's on each; its recall@5 beats BM25's
/// and stays within one query of the cosine's (which alone finds 95 % on the first set).
#[tokio::test]
async fn hybrid_with_minilm_ranks_best_on_the_set_and_the_held_out_set() {
    let Some(embedder) = minilm() else { return };
    for (name, json) in [("labelled set", SET), ("held-out set", HELD_OUT)] {
        let queries = serde_json::from_str::<LabelledSet>(json).unwrap().queries.len();
        let report = quality_on(embedder.clone(), json).await;
        println!("{name}: {report}");
        let (v, l, h) = (
            report.mode(SearchMode::Vector),
            report.mode(SearchMode::Lexical),
            report.mode(SearchMode::Hybrid),
        );
        assert!(
            h.mrr > v.mrr && h.mrr > l.mrr,
            "{name}: hybrid MRR must beat both: {report}"
        );
        assert!(h.recall_at_5 > l.recall_at_5, "{name}: {report}");
        assert!(
            h.recall_at_5 + 1e-9 >= v.recall_at_5 - 1.0 / queries as f64,
            "{name}: hybrid recall@5 more than one query below the cosine's: {report}"
        );
    }
}
