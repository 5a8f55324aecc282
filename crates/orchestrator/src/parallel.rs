//! Many tasks at once: [`execute_parallel`] runs them with at most N in flight, starts them in
//! priority order (0 first; ties keep file order) and returns results in input order, one failure
//! never stopping the others. [`load_jsonl`] reads `talab batch FILE.jsonl` (one task per line).

use std::path::Path;
use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::{Orchestrator, OrchestratorError, Platform, Task, TaskResult};

/// Runs `tasks` on `orch` with at most `max_concurrency` at a time (0 counts as 1), with
/// pre-flight checks; the i-th result is the i-th task's.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// # #[cfg(feature = "stubs")] {
/// use std::sync::Arc;
/// use talab_orchestrator::{Task, TaskType, execute_parallel, stubs::OrchestratorStub};
///
/// let orch = Arc::new(OrchestratorStub::new());
/// let tasks = vec![
///     Task::new(TaskType::Research, "a").with_priority(9),
///     Task::new(TaskType::Planning, "b").with_priority(0),
/// ];
/// let results = execute_parallel(&orch, tasks, 1).await;
/// assert_eq!(results[0].task.prompt, "a");
/// // Priority decided the start order only.
/// assert_eq!(orch.calls()[0].prompt, "b");
/// # }
/// # });
/// ```
pub async fn execute_parallel<O>(orch: &Arc<O>, tasks: Vec<Task>, max_concurrency: usize) -> Vec<TaskResult>
where
    O: Orchestrator + ?Sized + 'static,
{
    let n = tasks.len();
    let mut order: Vec<(usize, Task)> = tasks.into_iter().enumerate().collect();
    order.sort_by_key(|(i, t)| (t.priority, *i));
    let limit = Arc::new(Semaphore::new(max_concurrency.max(1)));
    let mut running = JoinSet::new();
    let mut inputs: Vec<Option<Task>> = vec![None; n];
    for (i, task) in order {
        inputs[i] = Some(task.clone());
        // Taking the permit before spawning makes the start order the priority order.
        let Ok(permit) = limit.clone().acquire_owned().await else {
            break;
        };
        let orch = Arc::clone(orch);
        running.spawn(async move {
            let result = orch.execute(task, true).await;
            drop(permit);
            (i, result)
        });
    }
    let mut results: Vec<Option<TaskResult>> = vec![None; n];
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((i, result)) => results[i] = Some(result),
            Err(e) => tracing::error!(error = %e, "a task of the batch panicked"),
        }
    }
    results
        .into_iter()
        .zip(inputs)
        .map(|(result, input)| {
            result.unwrap_or_else(|| {
                let task = input.expect("every input index was filled before spawning");
                let platform = task.platform_hint.unwrap_or(Platform::Local);
                let error = "the task stopped abnormally (panicked) before producing a result";
                TaskResult::failure(task, platform, error, 0.0, Default::default())
            })
        })
        .collect()
}

/// Reads a JSONL batch: one [`Task`] per non-blank line (lines starting with `#` are comments).
/// A bad line is an error naming `file:line` and what is wrong.
pub fn parse_jsonl(text: &str, origin: &str) -> Result<Vec<Task>, OrchestratorError> {
    let mut tasks = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let bad_line = |reason: String| OrchestratorError::BatchLine {
            file: origin.to_string(),
            line: i + 1,
            reason,
        };
        let task: Task = serde_json::from_str(trimmed).map_err(|e| bad_line(e.to_string()))?;
        // As `talab run` refuses one: bad input, found before any task is sent.
        if let Some(why) = Task::prompt_problem(&task.prompt) {
            return Err(bad_line(why));
        }
        tasks.push(task);
    }
    Ok(tasks)
}

/// Reads a JSONL batch file (see [`parse_jsonl`]).
pub fn load_jsonl(path: &Path) -> Result<Vec<Task>, OrchestratorError> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| OrchestratorError::BatchFile {
        file: origin.clone(),
        reason: e.to_string(),
    })?;
    parse_jsonl(&text, &origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TaskType;

    #[test]
    fn jsonl_reads_tasks_and_names_the_bad_line() {
        let text = "{\"type\":\"research\",\"prompt\":\"a\"}\n\n# a comment\n{\"type\":\"planning\",\"prompt\":\"b\",\"priority\":0}\n";
        let tasks = parse_jsonl(text, "batch.jsonl").unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!((tasks[0].task_type, tasks[1].priority), (TaskType::Research, 0));

        let bad = "{\"type\":\"research\",\"prompt\":\"a\"}\n{\"type\":\"poetry\",\"prompt\":\"b\"}\n";
        let e = parse_jsonl(bad, "batch.jsonl").unwrap_err().to_string();
        assert!(e.starts_with("batch.jsonl:2: "), "{e}");
        assert!(e.contains("poetry"), "{e}");

        let empty = "{\"type\":\"research\",\"prompt\":\"a\"}\n{\"type\":\"research\",\"prompt\":\"  \"}\n";
        let e = parse_jsonl(empty, "batch.jsonl").unwrap_err().to_string();
        assert_eq!(e, "batch.jsonl:2: not a task: the prompt is empty");
    }

    #[test]
    fn missing_file_is_named() {
        let e = load_jsonl(Path::new("/nonexistent/talab/batch.jsonl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("/nonexistent/talab/batch.jsonl"), "{e}");
    }
}
