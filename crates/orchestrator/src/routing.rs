//! Which platforms a task goes to, in order: the preference table by task type, narrowed to the
//! platforms that can run, with `platform_hint` first when it can. Pure (no I/O): the caller says
//! which platforms can run, so the same rules hold in the CLI, the stub and the real orchestrator.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::{OrchestratorError, Platform, Task, TaskType};

/// The metadata key naming the local tool a task wants (`local` is a candidate only then).
pub const TOOL_KEY: &str = "tool";
/// The metadata key asking for strict hint routing (`true`): an unusable hint is an error.
pub const STRICT_KEY: &str = "strict";

/// Task type → platforms in the order to try.
///
/// Serde reads a map of task type to platform list and applies it over the default table, so a
/// config file names only the types it changes:
///
/// ```
/// use talab_orchestrator::{Platform, PreferenceTable, TaskType};
///
/// let table: PreferenceTable = serde_json::from_str(r#"{"research":["gemini","claude"]}"#).unwrap();
/// assert_eq!(table.get(TaskType::Research), [Platform::Gemini, Platform::Claude]);
/// assert_eq!(table.get(TaskType::Planning)[0], Platform::Claude);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreferenceTable(BTreeMap<TaskType, Vec<Platform>>);

impl Default for PreferenceTable {
    /// The spec's table (§3).
    fn default() -> Self {
        use Platform::*;
        let mut map = BTreeMap::new();
        for t in TaskType::ALL {
            let order = match t {
                TaskType::CodeGeneration | TaskType::Testing | TaskType::Planning => {
                    vec![Claude, ClaudeCode, Chatgpt, Gemini]
                }
                TaskType::Refactoring | TaskType::SqlDbWork | TaskType::Debugging => {
                    vec![Local, ClaudeCode, Claude, Gemini, Chatgpt]
                }
                TaskType::Research | TaskType::Documentation => vec![Chatgpt, Gemini, Claude],
                TaskType::DataAnalysis | TaskType::CodeReview => vec![Gemini, Claude, Chatgpt],
            };
            map.insert(*t, order);
        }
        PreferenceTable(map)
    }
}

impl PreferenceTable {
    /// The platforms for a task type, in order (empty when the type was given an empty list).
    pub fn get(&self, task_type: TaskType) -> &[Platform] {
        self.0.get(&task_type).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Replaces one type's order; a platform named twice keeps its first place.
    pub fn set(&mut self, task_type: TaskType, platforms: Vec<Platform>) -> &mut Self {
        let mut order = Vec::with_capacity(platforms.len());
        for p in platforms {
            if !order.contains(&p) {
                order.push(p);
            }
        }
        self.0.insert(task_type, order);
        self
    }

    /// Every type with its order.
    pub fn iter(&self) -> impl Iterator<Item = (TaskType, &[Platform])> {
        self.0.iter().map(|(t, p)| (*t, p.as_slice()))
    }
}

impl Serialize for PreferenceTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PreferenceTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let overrides = BTreeMap::<TaskType, Vec<Platform>>::deserialize(deserializer)?;
        let mut table = PreferenceTable::default();
        for (t, order) in overrides {
            table.set(t, order);
        }
        Ok(table)
    }
}

/// Where a task will be tried, and why not elsewhere. Goes into the result's metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoutingDecision {
    /// The platforms to try, in order (never empty).
    pub candidates: Vec<Platform>,
    /// What became of `platform_hint`, when there was one.
    pub hint_note: Option<String>,
    /// Platforms of the table (and an unusable hint) left out, each with its reason.
    pub skipped: Vec<(Platform, String)>,
}

/// The local tool a task names in `metadata.tool`, if any.
pub fn task_tool(task: &Task) -> Option<&str> {
    task.metadata
        .get(TOOL_KEY)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// Whether the task asks for strict hint routing (`metadata.strict = true`): its hint is the only
/// platform that may see its prompt (see [`route_strict`]).
pub fn wants_strict(task: &Task) -> bool {
    task.metadata.get(STRICT_KEY).and_then(Value::as_bool) == Some(true)
}

/// Routes a task; an unusable hint is explained in `hint_note` and ignored.
///
/// `can_run(p)` says whether platform `p` can take a task now (configured, pre-flight, quota; for
/// `local`, whether the task's tool is registered), or why not.
///
/// Rules: a `requires_gsd` task goes only to claude_code; `local` is a candidate only when the
/// task names a tool in `metadata.tool`; a hint that can run goes first, then the table's order.
pub fn route(
    table: &PreferenceTable,
    task: &Task,
    can_run: impl Fn(Platform) -> Result<(), String>,
) -> Result<RoutingDecision, OrchestratorError> {
    route_with(table, task, false, can_run)
}

/// Like [`route`], but a hint that cannot run is [`OrchestratorError::StrictHint`], and a hint
/// that can run is the only candidate: a strict task is never sent to another platform.
pub fn route_strict(
    table: &PreferenceTable,
    task: &Task,
    can_run: impl Fn(Platform) -> Result<(), String>,
) -> Result<RoutingDecision, OrchestratorError> {
    route_with(table, task, true, can_run)
}

/// [`route`] or [`route_strict`], chosen by `strict`.
pub fn route_with(
    table: &PreferenceTable,
    task: &Task,
    strict: bool,
    can_run: impl Fn(Platform) -> Result<(), String>,
) -> Result<RoutingDecision, OrchestratorError> {
    let order: Vec<Platform> = if task.requires_gsd {
        vec![Platform::ClaudeCode]
    } else {
        table.get(task.task_type).to_vec()
    };
    // The task's own rules first, then the caller's; each platform is asked at most once.
    let check = |p: Platform| -> Result<(), String> {
        if task.requires_gsd && p != Platform::ClaudeCode {
            return Err("the task requires GSD, which only claude_code runs".into());
        }
        if p == Platform::Local && task_tool(task).is_none() {
            return Err(format!("the task names no local tool (metadata.{TOOL_KEY})"));
        }
        can_run(p)
    };

    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    let mut hint_note = None;
    let mut hint_refused: Option<(Platform, String)> = None;

    if let Some(hint) = task.platform_hint {
        match check(hint) {
            Ok(()) => {
                candidates.push(hint);
                hint_note = Some(match order.first() {
                    Some(&first) if first == hint => {
                        format!("platform_hint {hint} is used; it is also the table's first choice")
                    }
                    Some(&first) => format!(
                        "platform_hint {hint} is tried first (the table's first choice for {} is {first})",
                        task.task_type
                    ),
                    None => format!("platform_hint {hint} is used"),
                });
            }
            Err(reason) => {
                if strict {
                    return Err(OrchestratorError::StrictHint { hint, reason });
                }
                hint_note = Some(format!(
                    "platform_hint {hint} was not used: {reason}; routed by the preference table for {}",
                    task.task_type
                ));
                hint_refused = Some((hint, reason));
            }
        }
    }

    // Strict: the prompt goes to the hint or nowhere; no other platform is ever a candidate.
    let strict_hint = task.platform_hint.filter(|_| strict);
    for p in order {
        if candidates.contains(&p) {
            continue;
        }
        if let Some(hint) = strict_hint {
            skipped.push((p, format!("strict routing: only {hint} may see the prompt")));
            continue;
        }
        let outcome = match &hint_refused {
            Some((hint, reason)) if *hint == p => Err(reason.clone()),
            _ => check(p),
        };
        match outcome {
            Ok(()) => candidates.push(p),
            Err(reason) => skipped.push((p, reason)),
        }
    }
    if let Some((hint, reason)) = hint_refused
        && !skipped.iter().any(|(p, _)| *p == hint)
    {
        skipped.push((hint, reason));
    }

    if candidates.is_empty() {
        return Err(OrchestratorError::NoPlatform {
            task_type: task.task_type,
            reasons: skipped,
        });
    }
    Ok(RoutingDecision {
        candidates,
        hint_note,
        skipped,
    })
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use Platform::*;

    fn all_can_run(_: Platform) -> Result<(), String> {
        Ok(())
    }

    fn only(platform: Platform) -> impl Fn(Platform) -> Result<(), String> {
        move |p| {
            if p == platform {
                Ok(())
            } else {
                Err(format!("{p} is not configured"))
            }
        }
    }

    fn with_tool(task: Task) -> Task {
        task.with_metadata(TOOL_KEY, "ema_refresh")
    }

    #[test]
    fn default_table_is_the_specs() {
        let t = PreferenceTable::default();
        let a = [Claude, ClaudeCode, Chatgpt, Gemini];
        let b = [Local, ClaudeCode, Claude, Gemini, Chatgpt];
        let c = [Chatgpt, Gemini, Claude];
        let d = [Gemini, Claude, Chatgpt];
        let expected: [(TaskType, &[Platform]); 10] = [
            (TaskType::CodeGeneration, &a),
            (TaskType::Testing, &a),
            (TaskType::Planning, &a),
            (TaskType::Refactoring, &b),
            (TaskType::SqlDbWork, &b),
            (TaskType::Debugging, &b),
            (TaskType::Research, &c),
            (TaskType::Documentation, &c),
            (TaskType::DataAnalysis, &d),
            (TaskType::CodeReview, &d),
        ];
        for (ty, order) in expected {
            assert_eq!(t.get(ty), order, "{ty}");
        }
        assert_eq!(t.iter().count(), 10);
    }

    #[test]
    fn each_type_goes_first_to_its_tables_platform_when_all_can_run() {
        let table = PreferenceTable::default();
        for &ty in TaskType::ALL {
            let task = with_tool(Task::new(ty, "x"));
            let d = route(&table, &task, all_can_run).unwrap();
            assert_eq!(d.candidates, table.get(ty), "{ty}");
            assert!(d.skipped.is_empty() && d.hint_note.is_none(), "{ty}");
        }
        assert_eq!(
            route(&table, &Task::new(TaskType::Research, "x"), all_can_run)
                .unwrap()
                .candidates[0],
            Chatgpt
        );
        assert_eq!(
            route(&table, &Task::new(TaskType::CodeReview, "x"), all_can_run)
                .unwrap()
                .candidates[0],
            Gemini
        );
    }

    #[test]
    fn local_needs_a_named_tool_and_a_registered_one() {
        let table = PreferenceTable::default();
        let d = route(
            &table,
            &Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC"),
            all_can_run,
        )
        .unwrap();
        assert_eq!(d.candidates, [ClaudeCode, Claude, Gemini, Chatgpt]);
        assert_eq!(d.skipped.len(), 1);
        assert_eq!(d.skipped[0].0, Local);
        assert!(d.skipped[0].1.contains("names no local tool"), "{:?}", d.skipped);

        let task = with_tool(Task::new(TaskType::SqlDbWork, "Refresh EMAs for BTC"));
        let unregistered = |p| {
            if p == Local {
                Err("no local tool 'ema_refresh' is registered".to_string())
            } else {
                Ok(())
            }
        };
        let d = route(&table, &task, unregistered).unwrap();
        assert_eq!(d.candidates[0], ClaudeCode);
        assert_eq!(
            d.skipped,
            [(Local, "no local tool 'ema_refresh' is registered".to_string())]
        );
        // A blank tool name is no tool.
        let blank = Task::new(TaskType::Debugging, "x").with_metadata(TOOL_KEY, " ");
        assert_eq!(
            route(&table, &blank, all_can_run).unwrap().candidates[0],
            ClaudeCode
        );
    }

    #[test]
    fn hint_is_tried_first_and_explained() {
        let table = PreferenceTable::default();
        let task = Task::new(TaskType::Research, "x").with_hint(Claude);
        let d = route(&table, &task, all_can_run).unwrap();
        assert_eq!(d.candidates, [Claude, Chatgpt, Gemini]);
        assert_eq!(
            d.hint_note.as_deref(),
            Some("platform_hint claude is tried first (the table's first choice for research is chatgpt)")
        );

        // A hint outside the type's list is still a preference that is honoured.
        let task = Task::new(TaskType::Research, "x").with_hint(ClaudeCode);
        assert_eq!(
            route(&table, &task, all_can_run).unwrap().candidates,
            [ClaudeCode, Chatgpt, Gemini, Claude]
        );
        let task = Task::new(TaskType::Research, "x").with_hint(Chatgpt);
        let d = route(&table, &task, all_can_run).unwrap();
        assert_eq!(d.candidates, [Chatgpt, Gemini, Claude]);
        assert!(d.hint_note.unwrap().contains("also the table's first choice"));
    }

    #[test]
    fn unusable_hint_is_explained_and_normal_order_used() {
        let table = PreferenceTable::default();
        let task = Task::new(TaskType::CodeGeneration, "x").with_hint(Gemini);
        let no_gemini = |p| {
            if p == Gemini {
                Err("GEMINI_API_KEY is not set".to_string())
            } else {
                Ok(())
            }
        };
        let d = route(&table, &task, no_gemini).unwrap();
        assert_eq!(d.candidates, [Claude, ClaudeCode, Chatgpt]);
        assert_eq!(
            d.hint_note.as_deref(),
            Some(
                "platform_hint gemini was not used: GEMINI_API_KEY is not set; \
                 routed by the preference table for code_generation"
            )
        );
        assert_eq!(d.skipped, [(Gemini, "GEMINI_API_KEY is not set".to_string())]);

        // Local hint without a tool: explained, not used.
        let task = Task::new(TaskType::Research, "x").with_hint(Local);
        let d = route(&table, &task, all_can_run).unwrap();
        assert_eq!(d.candidates, [Chatgpt, Gemini, Claude]);
        assert!(d.hint_note.unwrap().contains("names no local tool"));
        assert_eq!(d.skipped[0].0, Local);
    }

    #[test]
    fn strict_turns_an_unusable_hint_into_an_error() {
        let table = PreferenceTable::default();
        let task = Task::new(TaskType::CodeGeneration, "x").with_hint(Gemini);
        match route_strict(&table, &task, only(Claude)) {
            Err(OrchestratorError::StrictHint { hint, reason }) => {
                assert_eq!(hint, Gemini);
                assert_eq!(reason, "gemini is not configured");
            }
            other => panic!("expected StrictHint, got {other:?}"),
        }
        // A usable hint under strict routing is simply used; no hint means nothing to be strict about.
        let ok = route_strict(&table, &task, all_can_run).unwrap();
        assert_eq!(ok.candidates[0], Gemini);
        let plain = Task::new(TaskType::CodeGeneration, "x");
        assert_eq!(
            route_strict(&table, &plain, only(Claude)).unwrap().candidates,
            [Claude]
        );
    }

    #[test]
    fn a_usable_strict_hint_is_the_only_candidate() {
        let table = PreferenceTable::default();
        let task = Task::new(TaskType::Research, "x").with_hint(Claude);
        let d = route_strict(&table, &task, all_can_run).unwrap();
        assert_eq!(d.candidates, [Claude]);
        let skipped: Vec<Platform> = d.skipped.iter().map(|(p, _)| *p).collect();
        assert_eq!(skipped, [Chatgpt, Gemini]);
        assert!(d.skipped.iter().all(|(_, why)| why.contains("strict")));
        // Not strict: the table's platforms follow the hint.
        assert_eq!(
            route(&table, &task, all_can_run).unwrap().candidates,
            [Claude, Chatgpt, Gemini]
        );
    }

    #[test]
    fn only_one_platform_configured_takes_everything_it_is_listed_for() {
        let table = PreferenceTable::default();
        for p in [Claude, ClaudeCode, Chatgpt, Gemini] {
            for &ty in TaskType::ALL {
                let task = Task::new(ty, "x");
                match route(&table, &task, only(p)) {
                    Ok(d) => {
                        assert!(table.get(ty).contains(&p), "{p} {ty}");
                        assert_eq!(d.candidates, [p], "{p} {ty}");
                    }
                    Err(OrchestratorError::NoPlatform { task_type, reasons }) => {
                        assert!(!table.get(ty).contains(&p), "{p} {ty}");
                        assert_eq!(task_type, ty);
                        let listed: Vec<Platform> = reasons.iter().map(|(q, _)| *q).collect();
                        assert_eq!(listed, table.get(ty), "{p} {ty}");
                        assert!(reasons.iter().all(|(_, r)| !r.is_empty()));
                    }
                    Err(other) => panic!("{other}"),
                }
            }
        }
    }

    #[test]
    fn requires_gsd_goes_only_to_claude_code() {
        let table = PreferenceTable::default();
        let task = Task::new(TaskType::Research, "x").with_requires_gsd(true);
        assert_eq!(
            route(&table, &task, all_can_run).unwrap().candidates,
            [ClaudeCode]
        );

        let hinted = task.clone().with_hint(Claude);
        let d = route(&table, &hinted, all_can_run).unwrap();
        assert_eq!(d.candidates, [ClaudeCode]);
        assert!(d.hint_note.as_deref().unwrap().contains("requires GSD"));
        assert!(matches!(
            route_strict(&table, &hinted, all_can_run),
            Err(OrchestratorError::StrictHint { hint: Claude, .. })
        ));

        match route(&table, &task, only(Claude)) {
            Err(OrchestratorError::NoPlatform { reasons, .. }) => {
                assert_eq!(
                    reasons,
                    [(ClaudeCode, "claude_code is not configured".to_string())]
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_platform_is_asked_at_most_once() {
        let asked = RefCell::new(Vec::new());
        let counting = |p| {
            asked.borrow_mut().push(p);
            if p == ClaudeCode {
                Err("no binary".to_string())
            } else {
                Ok(())
            }
        };
        let task = with_tool(Task::new(TaskType::Debugging, "x")).with_hint(ClaudeCode);
        let d = route(&PreferenceTable::default(), &task, counting).unwrap();
        assert_eq!(d.candidates, [Local, Claude, Gemini, Chatgpt]);
        assert_eq!(d.skipped, [(ClaudeCode, "no binary".to_string())]);
        let mut seen = asked.into_inner();
        let n = seen.len();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), n, "a platform was asked twice");
    }

    #[test]
    fn overridden_and_empty_lists() {
        let mut table = PreferenceTable::default();
        table.set(TaskType::Planning, vec![Gemini, Gemini, Chatgpt]);
        assert_eq!(table.get(TaskType::Planning), [Gemini, Chatgpt]);
        let d = route(&table, &Task::new(TaskType::Planning, "x"), all_can_run).unwrap();
        assert_eq!(d.candidates, [Gemini, Chatgpt]);

        table.set(TaskType::Testing, vec![]);
        let e = route(&table, &Task::new(TaskType::Testing, "x"), all_can_run).unwrap_err();
        assert!(e.to_string().contains("lists no platform for testing"), "{e}");
    }

    #[test]
    fn table_serde_overrides_only_what_it_names() {
        let table: PreferenceTable =
            serde_json::from_str(r#"{"code_review":["claude"],"testing":["local","claude_code"]}"#).unwrap();
        assert_eq!(table.get(TaskType::CodeReview), [Claude]);
        assert_eq!(table.get(TaskType::Testing), [Local, ClaudeCode]);
        assert_eq!(
            table.get(TaskType::Research),
            PreferenceTable::default().get(TaskType::Research)
        );
        assert!(serde_json::from_str::<PreferenceTable>(r#"{"poetry":["claude"]}"#).is_err());
        assert!(serde_json::from_str::<PreferenceTable>(r#"{"testing":["gpt"]}"#).is_err());
        let text = serde_json::to_string(&table).unwrap();
        assert_eq!(serde_json::from_str::<PreferenceTable>(&text).unwrap(), table);
    }

    #[test]
    fn decision_serialises_to_json() {
        let task = Task::new(TaskType::CodeGeneration, "x").with_hint(Gemini);
        let d = route(&PreferenceTable::default(), &task, only(Chatgpt)).unwrap();
        let v = serde_json::to_value(&d).unwrap();
        assert_eq!(v["candidates"], serde_json::json!(["chatgpt"]));
        assert_eq!(
            v["skipped"][0],
            serde_json::json!(["claude", "claude is not configured"])
        );
        assert!(v["hint_note"].as_str().unwrap().contains("gemini was not used"));
        assert_eq!(serde_json::from_value::<RoutingDecision>(v).unwrap(), d);
    }
}
