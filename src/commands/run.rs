//! `talab run "prompt"`: one task through the real orchestrator — routed by its type over the
//! configured platforms, retried and fallen back, quota-checked, priced and stored. The answer goes
//! to stdout with one line of facts (platform, model, tokens, cost, task id); a failure is one
//! error line and exit 1, and is stored too, so `talab tasks show` can explain it.

use std::io::Read;
use std::time::Duration;

use talab_orchestrator::routing::TOOL_KEY;
use talab_orchestrator::{Orchestrator, TIMEOUT_KEY, Task, TaskResult};

use super::tasks;
use crate::app::App;
use crate::cli::RunArgs;
use crate::exit::CliError;
use crate::{output, wiring};

pub async fn run(app: &App, args: RunArgs) -> Result<(), CliError> {
    let prompt = if args.prompt == "-" {
        let mut buf = String::new();
        std::io::stdin()
            .read_to_string(&mut buf)
            .map_err(|e| CliError::usage(format!("cannot read the prompt from stdin: {e}")))?;
        buf
    } else {
        args.prompt
    };
    if let Some(why) = Task::prompt_problem(&prompt) {
        return Err(CliError::usage(why));
    }
    let mut task = Task::new(args.task_type, prompt);
    if let Some(platform) = args.platform {
        // --strict (which needs --platform): no other platform sees the prompt, ever.
        task = if args.strict {
            task.with_strict_hint(platform)
        } else {
            task.with_hint(platform)
        };
    }
    if let Some(tool) = args.tool {
        task = task.with_metadata(TOOL_KEY, tool);
    }
    if let Some(secs) = args.timeout {
        task = task.with_metadata(TIMEOUT_KEY, secs);
    }
    let timeout = args
        .timeout
        .map(Duration::from_secs)
        .unwrap_or(wiring::DEFAULT_CALL_TIMEOUT);

    let db = app.db().await?;
    let orch = wiring::orchestrator(app, timeout).await?;
    let result = orch.execute(task, true).await;
    db.close().await;

    if args.json {
        output::json(&result)?;
    } else if result.success {
        println!("{}", result.output.trim_end());
        println!();
        println!("{}", tasks::facts(&result));
        if let Some(line) = tasks::attempts_line(&result) {
            println!("attempts: {line}");
        }
        if let Some(note) = tasks::routing(&result).and_then(|d| d.hint_note) {
            println!("hint: {note}");
        }
    }
    if result.success {
        Ok(())
    } else {
        Err(failure(&result))
    }
}

/// The error line of a failed task: what went wrong, and where to read more.
fn failure(result: &TaskResult) -> CliError {
    let error = result.error.clone().unwrap_or_else(|| "the task failed".into());
    let hint = if error.starts_with("no platform can run") {
        " (`talab status` shows what is configured)"
    } else {
        ""
    };
    match tasks::task_id(result) {
        Some(id) => CliError::failure(format!("{error}{hint} [stored as task {id}]")),
        None => CliError::failure(format!("{error}{hint}")),
    }
}
