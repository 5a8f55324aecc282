//! The joined flow: features, orchestrator and memory working as one product.
//!
//! `talab refresh-ema` becomes an orchestrated `sql_db_work` task run by the `local` platform's
//! [`ema_tool`], with memory context going in and a structured run ([`runs`]) plus a memory
//! sentence coming out ([`refresh`]); `talab ask` answers from both ([`ask`]). Each part takes
//! its collaborators as traits (`Arc<dyn MemoryManager>`, `Arc<dyn Orchestrator>`,
//! `Arc<dyn FeatureStore>`), so the tests can run any track with the others stubbed, and any memory
//! backend serves the flow. Errors are the flow's own ([`error::FlowError`]).

pub mod ask;
pub mod ema_tool;
pub mod error;
pub mod owner;
pub mod refresh;
pub mod runs;
