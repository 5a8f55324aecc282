//! `talab ask "…"`: answers from memory and the runs table (see [`crate::flow::ask`]).

use std::sync::Arc;

use chrono::Utc;
use serde_json::json;
use talab_orchestrator::Orchestrator;

use crate::app::App;
use crate::cli::AskArgs;
use crate::exit::CliError;
use crate::flow::ask::{Answer, ask};
use crate::flow::runs::RunStore;
use crate::{output, wiring};

/// The answer `talab ask` gives (and the MCP `ask` tool): memory and the runs table, through an
/// AI platform when one is configured.
pub async fn answer(app: &App, question: &str) -> Result<Answer, CliError> {
    let config = app.config();
    if question.trim().is_empty() {
        return Err(CliError::usage("the question is empty"));
    }
    let memory = app.memory().await?;
    let runs = RunStore::open(app.db().await?).await?;
    let platform: Option<Arc<dyn Orchestrator>> = if wiring::ai_platform_configured(config) {
        Some(Arc::new(
            wiring::orchestrator(app, wiring::DEFAULT_CALL_TIMEOUT).await?,
        ))
    } else {
        None
    };
    Ok(ask(
        memory.as_ref(),
        &runs,
        platform,
        question,
        Utc::now(),
        wiring::timezone(config),
    )
    .await?)
}

pub async fn run(app: &App, args: AskArgs) -> Result<(), CliError> {
    let answer = answer(app, &args.question).await?;
    let memory = app.memory().await?;
    if args.remember {
        let mut meta = talab_memory::Metadata::new();
        meta.insert(crate::flow::refresh::TASK_TYPE_KEY.into(), json!("ask"));
        meta.insert("answered_by".into(), json!(answer.answered_by));
        let text = format!("Q: {}\nA: {}", answer.question, answer.answer);
        memory
            .add(&text, meta)
            .await
            .map_err(crate::flow::error::FlowError::from)?;
    }
    if args.json {
        return output::json(&answer);
    }
    print_answer(&answer);
    Ok(())
}

/// The answer for people: the text, then where it came from.
pub fn print_answer(a: &Answer) {
    println!("{}", a.answer);
    if a.answered_by != "offline" {
        println!(
            "\n— answered by {} ({} tokens, ${:.6}); memories in context: {}",
            a.answered_by,
            a.tokens,
            a.cost_usd,
            a.memories
                .iter()
                .map(|m| m.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
}
