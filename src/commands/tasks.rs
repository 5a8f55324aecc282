//! `talab tasks list|show`: the task store read back — what ran where, what it cost, how it was
//! routed and every attempt. Also the few helpers `run` and `batch` share to describe a result.

use serde::Serialize;
use serde_json::Value;
use talab_orchestrator::{
    ATTEMPTS_KEY, Attempt, MODEL_KEY, PRICED_KNOWN_KEY, ROUTING_KEY, RoutingDecision, StoredTask,
    TASK_ID_KEY, TaskResult, TaskStore,
};

use crate::app::App;
use crate::cli::{TaskStatusFilter, TasksAction, TasksArgs};
use crate::config::Config;
use crate::exit::CliError;
use crate::{output, wiring};

/// Dollars as people compare them: cents are not enough for one call.
pub fn usd(cost: f64) -> String {
    format!("${cost:.6}")
}

/// The model that answered, when one did.
pub fn model(result: &TaskResult) -> Option<&str> {
    result.metadata.get(MODEL_KEY).and_then(Value::as_str)
}

/// The stored task's id, when the result was stored.
pub fn task_id(result: &TaskResult) -> Option<&str> {
    result.metadata.get(TASK_ID_KEY).and_then(Value::as_str)
}

/// Whether the price was unknown (the cost then says $0 but is not trusted).
pub fn unpriced(result: &TaskResult) -> bool {
    result.metadata.get(PRICED_KNOWN_KEY) == Some(&Value::Bool(false))
}

pub fn attempts(result: &TaskResult) -> Vec<Attempt> {
    result
        .metadata
        .get(ATTEMPTS_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

pub fn routing(result: &TaskResult) -> Option<RoutingDecision> {
    result
        .metadata
        .get(ROUTING_KEY)
        .and_then(|v| serde_json::from_value(v.clone()).ok())
}

/// The cost as shown: flagged when the model had no known price.
pub fn cost_text(result: &TaskResult) -> String {
    if unpriced(result) {
        format!("{} (model not in the price table)", usd(result.cost))
    } else {
        usd(result.cost)
    }
}

/// "claude (rate_limited, waited 1.2 s) → chatgpt": every call, when there was more than one.
pub fn attempts_line(result: &TaskResult) -> Option<String> {
    let tried = attempts(result);
    if tried.len() < 2 {
        return None;
    }
    let steps: Vec<String> = tried
        .iter()
        .map(|a| match &a.error_class {
            None => a.platform.to_string(),
            Some(class) if a.wait_seconds > 0.0 => {
                format!("{} ({class}, after {:.1} s)", a.platform, a.wait_seconds)
            }
            Some(class) => format!("{} ({class})", a.platform),
        })
        .collect();
    Some(steps.join(" → "))
}

/// One line of facts under an answer or an error.
pub fn facts(result: &TaskResult) -> String {
    let mut parts = vec![match model(result) {
        Some(m) => format!("{} ({m})", result.platform),
        None => result.platform.to_string(),
    }];
    if result.success {
        parts.push(format!("{} tokens", result.tokens_used));
        parts.push(cost_text(result));
    }
    parts.push(format!("{:.2} s", result.duration_seconds));
    if let Some(id) = task_id(result) {
        parts.push(format!("task {id}"));
    }
    parts.join(" · ")
}

fn one_line(text: &str, width: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(width) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[derive(Serialize)]
struct Listing<'a> {
    tasks: &'a [StoredTask],
    /// Stored tasks in all (any status).
    total: u64,
    offset: u64,
}

pub async fn run(app: &App, args: TasksArgs) -> Result<(), CliError> {
    let config = app.config();
    let db = app.db().await?;
    let store = TaskStore::open(db.clone()).await?;
    let outcome = match args.action {
        TasksAction::List {
            limit,
            offset,
            status,
        } => list(config, &store, limit, offset, status, args.json).await,
        TasksAction::Show { id } => show(config, &store, &id, args.json).await,
    };
    db.close().await;
    outcome
}

/// Newest first; with a status filter, pages through the store until `limit` match.
async fn list(
    config: &Config,
    store: &TaskStore,
    limit: u64,
    offset: u64,
    status: Option<TaskStatusFilter>,
    json: bool,
) -> Result<(), CliError> {
    let (tasks, total) = match status {
        None => {
            let page = store.list(offset, limit).await?;
            (page.items, page.total)
        }
        Some(wanted) => {
            const PAGE: u64 = 200;
            let want_ok = wanted == TaskStatusFilter::Ok;
            let (mut found, mut skipped, mut at) = (Vec::new(), 0u64, 0u64);
            let total = loop {
                let page = store.list(at, PAGE).await?;
                for t in page.items.iter().filter(|t| t.result.success == want_ok) {
                    if skipped < offset {
                        skipped += 1;
                    } else if (found.len() as u64) < limit {
                        found.push(t.clone());
                    }
                }
                at += PAGE;
                if at >= page.total || found.len() as u64 >= limit {
                    break page.total;
                }
            };
            (found, total)
        }
    };
    if json {
        return output::json(&Listing {
            tasks: &tasks,
            total,
            offset,
        });
    }
    if tasks.is_empty() {
        println!(
            "no tasks stored yet{}",
            if status.is_some() { " with that status" } else { "" }
        );
        return Ok(());
    }
    let mut table = output::table([
        "id", "created", "type", "platform", "ok", "tokens", "cost", "prompt",
    ]);
    for t in &tasks {
        let r = &t.result;
        table.add_row([
            t.id.clone(),
            wiring::local_time(config, t.created_at),
            r.task.task_type.to_string(),
            r.platform.to_string(),
            if r.success { "yes" } else { "no" }.to_string(),
            r.tokens_used.to_string(),
            usd(r.cost),
            one_line(&r.task.prompt, 50),
        ]);
    }
    println!("{table}");
    println!(
        "{} shown of {total} stored; `talab tasks show ID` for one",
        tasks.len()
    );
    Ok(())
}

async fn show(config: &Config, store: &TaskStore, id: &str, json: bool) -> Result<(), CliError> {
    let Some(t) = store.get(id.trim()).await? else {
        return Err(CliError::usage(format!(
            "no task has the id {id}; `talab tasks list` shows the stored ones"
        )));
    };
    if json {
        return output::json(&t);
    }
    let r = &t.result;
    println!("id:             {}", t.id);
    println!("correlation id: {}", t.correlation_id);
    println!("chain id:       {}", t.chain_id.as_deref().unwrap_or("-"));
    println!(
        "ran:            {} → {}",
        wiring::local_time(config, t.created_at),
        wiring::local_time(config, t.finished_at)
    );
    println!("type:           {}", r.task.task_type);
    if let Some(hint) = r.task.platform_hint {
        println!("platform hint:  {hint}");
    }
    println!(
        "platform:       {}{}",
        r.platform,
        model(r).map(|m| format!(" ({m})")).unwrap_or_default()
    );
    println!(
        "status:         {}",
        if r.success { "succeeded" } else { "FAILED" }
    );
    println!("tokens:         {}", r.tokens_used);
    println!("cost:           {}", cost_text(r));
    println!("duration:       {:.2} s", r.duration_seconds);
    if let Some(decision) = routing(r) {
        let candidates: Vec<String> = decision.candidates.iter().map(|p| p.to_string()).collect();
        println!("routing:        {}", candidates.join(", "));
        if let Some(note) = &decision.hint_note {
            println!("  hint:         {note}");
        }
        for (p, why) in &decision.skipped {
            println!("  skipped {p}: {why}");
        }
    }
    let tried = attempts(r);
    if !tried.is_empty() {
        let mut table = output::table(["attempt", "platform", "outcome", "waited", "took"]);
        for (i, a) in tried.iter().enumerate() {
            table.add_row([
                (i + 1).to_string(),
                a.platform.to_string(),
                a.error.clone().unwrap_or_else(|| "ok".into()),
                format!("{:.1} s", a.wait_seconds),
                format!("{:.2} s", a.duration_seconds),
            ]);
        }
        println!("{table}");
    }
    println!("\nprompt:\n{}", r.task.prompt);
    match &r.error {
        Some(e) => println!("\nerror:\n{e}"),
        None => println!("\noutput:\n{}", r.output),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use talab_orchestrator::{Platform, Task, TaskType};

    #[test]
    fn facts_flag_unpriced_models_and_attempts_show_the_fallback() {
        let mut r = TaskResult {
            task: Task::new(TaskType::Research, "q"),
            platform: Platform::Chatgpt,
            output: "a".into(),
            success: true,
            error: None,
            cost: 0.0,
            tokens_used: 12,
            duration_seconds: 0.5,
            metadata: Default::default(),
        };
        r.metadata.insert(MODEL_KEY.into(), json!("llama3.1"));
        r.metadata.insert(PRICED_KNOWN_KEY.into(), json!(false));
        r.metadata.insert(TASK_ID_KEY.into(), json!("t-1"));
        r.metadata.insert(
            ATTEMPTS_KEY.into(),
            json!([
                {"platform":"claude","error_class":"quota_exhausted","error":"x","duration_seconds":0.1,"wait_seconds":0.0},
                {"platform":"chatgpt","error_class":null,"error":null,"duration_seconds":0.2,"wait_seconds":0.0}
            ]),
        );
        assert_eq!(
            facts(&r),
            "chatgpt (llama3.1) · 12 tokens · $0.000000 (model not in the price table) · 0.50 s · task t-1"
        );
        assert_eq!(
            attempts_line(&r).as_deref(),
            Some("claude (quota_exhausted) → chatgpt")
        );
    }
}
