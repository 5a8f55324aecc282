//! The `tasks` table: every executed task with its routing, attempts, result, cost, correlation id
//! and chain id, on SQLite or PostgreSQL. `talab tasks list|show` read it; chains and handoff
//! (issue 6) link rows by `chain_id`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use talab_db::sqlx;
use talab_db::sqlx::types::Json;
use talab_db::{Database, MigrationSet, nul_byte, on_pool};

use crate::orchestrator::{ATTEMPTS_KEY, ROUTING_KEY};
use crate::{OrchestratorError, Platform, Task, TaskResult};

/// The orchestrator's migrations (component `orchestrator`).
pub static MIGRATIONS: MigrationSet = MigrationSet {
    component: "orchestrator",
    migrations: &[
        talab_db::migration!(1, "tasks", "0001_tasks.sql"),
        talab_db::migration!(2, "quota_and_costs", "0002_quota_and_costs.sql"),
    ],
};

/// The ids a task is recorded under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaskIds {
    /// Ties the row to log lines and ledger entries of the same run.
    pub correlation_id: String,
    /// Links follow-up tasks of one chain.
    pub chain_id: Option<String>,
}

impl TaskIds {
    /// A fresh correlation id, no chain.
    pub fn fresh() -> Self {
        TaskIds {
            correlation_id: uuid::Uuid::new_v4().to_string(),
            chain_id: None,
        }
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredTask {
    /// The row id (a UUID).
    pub id: String,
    pub correlation_id: String,
    pub chain_id: Option<String>,
    /// The result, with routing and attempts back in its metadata.
    pub result: TaskResult,
    /// When execution started (finished_at minus its duration).
    pub created_at: DateTime<Utc>,
    /// When the result was recorded.
    pub finished_at: DateTime<Utc>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many rows there are in all.
    pub total: u64,
    pub offset: u64,
    pub limit: u64,
}

/// Stored tasks in a database.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_orchestrator::{Platform, Task, TaskIds, TaskResult, TaskStore, TaskType};
///
/// let db = talab_db::Database::connect("sqlite::memory:").await.unwrap();
/// let store = TaskStore::open(db).await.unwrap();
/// let result = TaskResult {
///     task: Task::new(TaskType::Research, "q"), platform: Platform::Gemini, output: "a".into(),
///     success: true, error: None, cost: 0.001, tokens_used: 12, duration_seconds: 0.4,
///     metadata: Default::default(),
/// };
/// let id = store.record(&result, TaskIds::fresh()).await.unwrap();
/// assert_eq!(store.get(&id).await.unwrap().unwrap().result, result);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct TaskStore {
    db: Database,
}

/// Columns in the order [`Row`] decodes them.
const COLUMNS: &str = "id, correlation_id, chain_id, task, platform, success, error, output, cost_usd, \
                       tokens_used, duration_seconds, routing, attempts, metadata, created_at, finished_at";

type Row = (
    String,
    String,
    Option<String>,
    Json<Value>,
    Option<String>,
    bool,
    Option<String>,
    String,
    f64,
    i64,
    f64,
    Option<Json<Value>>,
    Option<Json<Value>>,
    Json<Value>,
    DateTime<Utc>,
    DateTime<Utc>,
);

/// A float that both backends store as it is (SQLite turns NaN into NULL).
fn finite(value: f64, what: &str) -> f64 {
    if value.is_finite() {
        value
    } else {
        tracing::warn!(value, what, "non-finite value recorded as 0");
        0.0
    }
}

impl TaskStore {
    /// Uses a database, creating or upgrading the orchestrator's tables first.
    pub async fn open(db: Database) -> Result<Self, OrchestratorError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(TaskStore { db })
    }

    /// The database this store writes to.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Records a finished task; returns its new id.
    pub async fn record(&self, result: &TaskResult, ids: TaskIds) -> Result<String, OrchestratorError> {
        let id = uuid::Uuid::new_v4().to_string();
        let finished_at = Utc::now();
        let duration = finite(result.duration_seconds, "duration_seconds").max(0.0);
        let elapsed = std::time::Duration::try_from_secs_f64(duration)
            .ok()
            .and_then(|d| chrono::TimeDelta::from_std(d).ok())
            .unwrap_or_default();
        let created_at = finished_at - elapsed;

        // Text from providers may hold NUL, which PostgreSQL cannot store: replaced, never refused,
        // so a call that was made is always recorded (talab_db::nul_byte).
        let mut metadata = result.metadata.clone();
        let mut routing = metadata.remove(ROUTING_KEY);
        let mut attempts = metadata.remove(ATTEMPTS_KEY);
        let mut task_json =
            serde_json::to_value(&result.task).map_err(|e| OrchestratorError::CorruptTask {
                id: id.clone(),
                reason: format!("the task does not serialise: {e}"),
            })?;
        for value in [&mut task_json]
            .into_iter()
            .chain(routing.iter_mut())
            .chain(attempts.iter_mut())
        {
            nul_byte::replace_in_json(value);
        }
        metadata.values_mut().for_each(nul_byte::replace_in_json);
        let prompt = nul_byte::replace(&result.task.prompt);
        let error = result.error.as_deref().map(nul_byte::replace);
        let output = nul_byte::replace(&result.output);
        let tokens = i64::try_from(result.tokens_used).unwrap_or(i64::MAX);
        let cost = finite(result.cost, "cost");

        let sql = "INSERT INTO tasks (id, correlation_id, chain_id, task_type, prompt, task, platform, success, \
                   error, output, cost_usd, tokens_used, duration_seconds, routing, attempts, metadata, \
                   created_at, finished_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)";
        on_pool!(&self.db, pool => sqlx::query(sql)
            .bind(&id)
            .bind(&ids.correlation_id)
            .bind(&ids.chain_id)
            .bind(result.task.task_type.as_str())
            .bind(prompt.as_ref())
            .bind(Json(&task_json))
            .bind(result.platform.as_str())
            .bind(result.success)
            .bind(error.as_deref())
            .bind(output.as_ref())
            .bind(cost)
            .bind(tokens)
            .bind(duration)
            .bind(routing.as_ref().map(Json))
            .bind(attempts.as_ref().map(Json))
            .bind(Json(&metadata))
            .bind(created_at)
            .bind(finished_at)
            .execute(pool)
            .await
            .map(|_| ()))?;
        tracing::debug!(task_id = %id, correlation_id = %ids.correlation_id, "task recorded");
        Ok(id)
    }

    /// One stored task, if the id exists.
    pub async fn get(&self, id: &str) -> Result<Option<StoredTask>, OrchestratorError> {
        let sql = format!("SELECT {COLUMNS} FROM tasks WHERE id = $1");
        let row: Option<Row> = on_pool!(&self.db, pool => sqlx::query_as::<_, Row>(&sql)
            .bind(id)
            .fetch_optional(pool)
            .await)?;
        row.map(decode).transpose()
    }

    /// Stored tasks, newest first, `limit` of them after skipping `offset`.
    pub async fn list(&self, offset: u64, limit: u64) -> Result<Page<StoredTask>, OrchestratorError> {
        let sql = format!("SELECT {COLUMNS} FROM tasks ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2");
        let (total, rows): (i64, Vec<Row>) = on_pool!(&self.db, pool => async {
            let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tasks").fetch_one(pool).await?;
            let rows = sqlx::query_as::<_, Row>(&sql)
                .bind(i64::try_from(limit).unwrap_or(i64::MAX))
                .bind(i64::try_from(offset).unwrap_or(i64::MAX))
                .fetch_all(pool)
                .await?;
            Ok::<_, sqlx::Error>((total, rows))
        }.await)?;
        Ok(Page {
            items: rows.into_iter().map(decode).collect::<Result<_, _>>()?,
            total: u64::try_from(total).unwrap_or(0),
            offset,
            limit,
        })
    }
}

fn decode(row: Row) -> Result<StoredTask, OrchestratorError> {
    let (
        id,
        correlation_id,
        chain_id,
        Json(task),
        platform,
        success,
        error,
        output,
        cost,
        tokens,
        duration,
        routing,
        attempts,
        Json(metadata),
        created_at,
        finished_at,
    ) = row;
    let corrupt = |reason: String| OrchestratorError::CorruptTask {
        id: id.clone(),
        reason,
    };
    let task: Task = serde_json::from_value(task).map_err(|e| corrupt(format!("task: {e}")))?;
    let platform: Platform = platform
        .ok_or_else(|| corrupt("no platform recorded".into()))?
        .parse()
        .map_err(|e| corrupt(format!("{e}")))?;
    let mut metadata: Map<String, Value> = match metadata {
        Value::Object(map) => map,
        other => return Err(corrupt(format!("metadata is not an object: {other}"))),
    };
    if let Some(Json(routing)) = routing {
        metadata.insert(ROUTING_KEY.into(), routing);
    }
    if let Some(Json(attempts)) = attempts {
        metadata.insert(ATTEMPTS_KEY.into(), attempts);
    }
    let result = TaskResult {
        task,
        platform,
        output,
        success,
        error,
        cost,
        tokens_used: u64::try_from(tokens).unwrap_or(0),
        duration_seconds: duration,
        metadata,
    };
    Ok(StoredTask {
        id,
        correlation_id,
        chain_id,
        result,
        created_at,
        finished_at,
    })
}
