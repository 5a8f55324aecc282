//! The integration tests of talab-orchestrator as one test binary: one link against the dependency
//! tree instead of one per file (linking was most of a cold test build). Shared helpers:
//! `adapter_support`; the other modules are one area each.

mod adapter_anthropic;
mod adapter_claude_code;
mod adapter_gemini;
mod adapter_local;
mod adapter_openai;
mod adapter_support;
#[cfg(feature = "stubs")]
mod engine_parallel;
#[cfg(feature = "stubs")]
mod engine_retry;
#[cfg(feature = "stubs")]
mod engine_routing;
#[cfg(feature = "stubs")]
mod quota_engine;
mod quota_tracker;
#[cfg(feature = "stubs")]
mod stub_orchestrator;
mod task_store;
mod trust;
