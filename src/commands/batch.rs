//! `talab batch FILE.jsonl`: many tasks through the real orchestrator, at most `--parallel` at a
//! time, started in priority order, reported in input order. A progress bar runs on a terminal;
//! a summary per platform (ok, failed, tokens, cost) ends the report. One failed task fails the
//! command (exit 1) but never stops the others.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use talab_orchestrator::{
    Orchestrator, Platform, PlatformStatus, TIMEOUT_KEY, Task, TaskResult, execute_parallel, load_jsonl,
};

use super::tasks;
use crate::app::App;
use crate::cli::BatchArgs;
use crate::exit::CliError;
use crate::{output, wiring};

/// The orchestrator with a progress bar ticking as each task finishes.
struct Ticking<O> {
    inner: O,
    bar: ProgressBar,
}

#[async_trait::async_trait]
impl<O: Orchestrator> Orchestrator for Ticking<O> {
    async fn execute(&self, task: Task, pre_flight: bool) -> TaskResult {
        let result = self.inner.execute(task, pre_flight).await;
        self.bar.inc(1);
        result
    }

    async fn validate_environment(&self) -> BTreeMap<Platform, PlatformStatus> {
        self.inner.validate_environment().await
    }
}

/// One platform's line of the summary.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct PlatformSummary {
    pub ok: u64,
    pub failed: u64,
    pub tokens: u64,
    pub cost_usd: f64,
}

/// Per platform (the one that answered, or the one a failed task was reported on).
pub fn summarise(results: &[TaskResult]) -> BTreeMap<Platform, PlatformSummary> {
    let mut out: BTreeMap<Platform, PlatformSummary> = BTreeMap::new();
    for r in results {
        let line = out.entry(r.platform).or_default();
        if r.success {
            line.ok += 1;
        } else {
            line.failed += 1;
        }
        line.tokens += r.tokens_used;
        line.cost_usd += r.cost;
    }
    out
}

#[derive(Serialize)]
struct Report<'a> {
    results: &'a [TaskResult],
    summary: BTreeMap<Platform, PlatformSummary>,
    ok: usize,
    failed: usize,
    tokens: u64,
    cost_usd: f64,
}

pub async fn run(app: &App, args: BatchArgs) -> Result<(), CliError> {
    let mut tasks = load_jsonl(&args.file)?;
    if tasks.is_empty() {
        return Err(CliError::usage(format!(
            "{} holds no task (one JSON task per line, e.g. {{\"type\":\"research\",\"prompt\":\"…\"}})",
            args.file.display()
        )));
    }
    if let Some(secs) = args.timeout {
        for task in &mut tasks {
            task.metadata.entry(TIMEOUT_KEY).or_insert(secs.into());
        }
    }
    let timeout = args
        .timeout
        .map(Duration::from_secs)
        .unwrap_or(wiring::DEFAULT_CALL_TIMEOUT);
    let db = app.db().await?;
    let orch = wiring::orchestrator(app, timeout).await?;

    let bar = ProgressBar::new(tasks.len() as u64).with_style(
        ProgressStyle::with_template("tasks {bar:40} {pos}/{len} ({elapsed})")
            .expect("a valid progress template"),
    );
    if args.json || !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let ticking = Arc::new(Ticking {
        inner: orch,
        bar: bar.clone(),
    });
    let parallel = usize::try_from(args.parallel).unwrap_or(usize::MAX);
    let results = execute_parallel(&ticking, tasks, parallel).await;
    bar.finish_and_clear();
    db.close().await;

    let summary = summarise(&results);
    let failed = results.iter().filter(|r| !r.success).count();
    let report = Report {
        results: &results,
        ok: results.len() - failed,
        failed,
        tokens: summary.values().map(|s| s.tokens).sum(),
        cost_usd: summary.values().map(|s| s.cost_usd).sum(),
        summary,
    };
    if args.json {
        output::json(&report)?;
    } else {
        print_tables(&report);
    }
    if failed == 0 {
        Ok(())
    } else {
        Err(CliError::failure(format!(
            "{failed} of {} tasks failed (`talab tasks show ID` explains each)",
            results.len()
        )))
    }
}

fn print_tables(report: &Report<'_>) {
    let mut table = output::table([
        "#",
        "type",
        "platform",
        "ok",
        "tokens",
        "cost",
        "answer or error",
        "task",
    ]);
    for (i, r) in report.results.iter().enumerate() {
        let text = match &r.error {
            Some(e) => e.as_str(),
            None => r.output.as_str(),
        };
        table.add_row([
            (i + 1).to_string(),
            r.task.task_type.to_string(),
            r.platform.to_string(),
            if r.success { "yes" } else { "no" }.to_string(),
            r.tokens_used.to_string(),
            tasks::usd(r.cost),
            one_line(text, 60),
            tasks::task_id(r).unwrap_or("-").to_string(),
        ]);
    }
    println!("{table}");
    let mut totals = output::table(["platform", "ok", "failed", "tokens", "cost"]);
    for (p, s) in &report.summary {
        totals.add_row([
            p.to_string(),
            s.ok.to_string(),
            s.failed.to_string(),
            s.tokens.to_string(),
            tasks::usd(s.cost_usd),
        ]);
    }
    totals.add_row([
        "total".to_string(),
        report.ok.to_string(),
        report.failed.to_string(),
        report.tokens.to_string(),
        tasks::usd(report.cost_usd),
    ]);
    println!("{totals}");
}

fn one_line(text: &str, width: usize) -> String {
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match flat.char_indices().nth(width) {
        Some((cut, _)) => format!("{}…", &flat[..cut]),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use talab_orchestrator::TaskType;

    fn result(platform: Platform, success: bool, tokens: u64, cost: f64) -> TaskResult {
        let mut r = TaskResult::failure(
            Task::new(TaskType::Research, "q"),
            platform,
            "x",
            0.1,
            Default::default(),
        );
        r.success = success;
        r.tokens_used = tokens;
        r.cost = cost;
        r
    }

    #[test]
    fn the_summary_counts_per_platform() {
        let s = summarise(&[
            result(Platform::Claude, true, 100, 0.5),
            result(Platform::Claude, false, 0, 0.0),
            result(Platform::Chatgpt, true, 10, 0.25),
        ]);
        assert_eq!(
            s[&Platform::Claude],
            PlatformSummary {
                ok: 1,
                failed: 1,
                tokens: 100,
                cost_usd: 0.5
            }
        );
        assert_eq!((s[&Platform::Chatgpt].ok, s.len()), (1, 2));
    }
}
