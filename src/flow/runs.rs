//! The runs table (`talab_runs`): one structured row per refresh, success or failure — the exact
//! facts `talab ask` answers from (a memory is a sentence; a run row is numbers to count and sum).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::sqlx::{self, Row};
use talab_db::{Database, Migration, MigrationSet, on_pool};

use crate::exit::CliError;

/// The joined flow's own tables.
pub static MIGRATIONS: MigrationSet = MigrationSet {
    component: "talab",
    migrations: &[Migration {
        version: 1,
        name: "runs",
        sqlite: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/talab/sqlite/0001_runs.sql"
        )),
        postgres: include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/migrations/talab/postgres/0001_runs.sql"
        )),
    }],
};

/// One run of the flow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Run {
    pub id: String,
    /// `ema_refresh`.
    pub kind: String,
    pub correlation_id: String,
    /// The orchestrator's stored task.
    pub task_id: Option<String>,
    /// The memory written for this run.
    pub memory_id: Option<String>,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub symbols: Vec<String>,
    pub tfs: Vec<String>,
    pub periods: Vec<usize>,
    /// The days computed (first and last over the symbols).
    pub date_from: Option<NaiveDate>,
    pub date_to: Option<NaiveDate>,
    pub rows_tf_day: i64,
    pub rows_calendar: i64,
    pub rejects: i64,
    pub duration_ms: f64,
    pub success: bool,
    pub error: Option<String>,
    /// Per-symbol details (JSON).
    pub detail: serde_json::Value,
}

impl Run {
    pub fn rows(&self) -> i64 {
        self.rows_tf_day + self.rows_calendar
    }
}

/// A `talab_runs` row as stored (lists and details as JSON text).
struct RunRow {
    id: String,
    kind: String,
    correlation_id: String,
    task_id: Option<String>,
    memory_id: Option<String>,
    started_at: DateTime<Utc>,
    finished_at: DateTime<Utc>,
    symbols: String,
    tfs: String,
    periods: String,
    date_from: Option<NaiveDate>,
    date_to: Option<NaiveDate>,
    rows_tf_day: i64,
    rows_calendar: i64,
    rejects: i64,
    duration_ms: f64,
    success: bool,
    error: Option<String>,
    detail: String,
}

const COLUMNS: &str = "id, kind, correlation_id, task_id, memory_id, started_at, finished_at, symbols, tfs, periods, \
                       date_from, date_to, rows_tf_day, rows_calendar, rejects, duration_ms, success, error, detail";

/// JSON text for a TEXT column.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn db_error(e: impl std::fmt::Display) -> CliError {
    CliError::failure(format!("runs table: {e}"))
}

/// The runs table on the shared database.
#[derive(Debug, Clone)]
pub struct RunStore {
    db: Database,
}

impl RunStore {
    pub async fn open(db: Database) -> Result<Self, CliError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// Stores a run (replacing one with the same id: the memory id is added after the memory write).
    pub async fn put(&self, run: &Run) -> Result<(), CliError> {
        let sql = format!(
            "INSERT INTO talab_runs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19) ON CONFLICT (id) DO UPDATE SET memory_id = excluded.memory_id"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&run.id)
                .bind(&run.kind)
                .bind(&run.correlation_id)
                .bind(&run.task_id)
                .bind(&run.memory_id)
                .bind(run.started_at)
                .bind(run.finished_at)
                .bind(json(&run.symbols))
                .bind(json(&run.tfs))
                .bind(json(&run.periods))
                .bind(run.date_from)
                .bind(run.date_to)
                .bind(run.rows_tf_day)
                .bind(run.rows_calendar)
                .bind(run.rejects)
                .bind(run.duration_ms)
                .bind(run.success)
                .bind(&run.error)
                .bind(run.detail.to_string())
                .execute(pool)
                .await
                .map(|_| ())
        })
        .map_err(db_error)?;
        Ok(())
    }

    /// Runs started in [since, until), oldest first.
    pub async fn between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Run>, CliError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM talab_runs WHERE ($1 IS NULL OR started_at >= $1) AND ($2 IS NULL OR started_at < $2)
             ORDER BY started_at, id"
        );
        let rows: Vec<RunRow> = on_pool!(&self.db, pool => async {
            let rows = sqlx::query(&sql).bind(since).bind(until).fetch_all(pool).await?;
            rows.iter()
                .map(|r| -> Result<RunRow, sqlx::Error> {
                    Ok(RunRow {
                        id: r.try_get(0)?,
                        kind: r.try_get(1)?,
                        correlation_id: r.try_get(2)?,
                        task_id: r.try_get(3)?,
                        memory_id: r.try_get(4)?,
                        started_at: r.try_get(5)?,
                        finished_at: r.try_get(6)?,
                        symbols: r.try_get(7)?,
                        tfs: r.try_get(8)?,
                        periods: r.try_get(9)?,
                        date_from: r.try_get(10)?,
                        date_to: r.try_get(11)?,
                        rows_tf_day: r.try_get(12)?,
                        rows_calendar: r.try_get(13)?,
                        rejects: r.try_get(14)?,
                        duration_ms: r.try_get(15)?,
                        success: r.try_get(16)?,
                        error: r.try_get(17)?,
                        detail: r.try_get(18)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        }.await)
        .map_err(db_error)?;
        rows.into_iter().map(from_row).collect()
    }
}

fn from_row(r: RunRow) -> Result<Run, CliError> {
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).map_err(db_error);
    Ok(Run {
        symbols: list(&r.symbols)?,
        tfs: list(&r.tfs)?,
        periods: serde_json::from_str(&r.periods).map_err(db_error)?,
        detail: serde_json::from_str(&r.detail).map_err(db_error)?,
        id: r.id,
        kind: r.kind,
        correlation_id: r.correlation_id,
        task_id: r.task_id,
        memory_id: r.memory_id,
        started_at: r.started_at,
        finished_at: r.finished_at,
        date_from: r.date_from,
        date_to: r.date_to,
        rows_tf_day: r.rows_tf_day,
        rows_calendar: r.rows_calendar,
        rejects: r.rejects,
        duration_ms: r.duration_ms,
        success: r.success,
        error: r.error,
    })
}

/// The first 8 characters of an id, as people read them ("run 9f474219").
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(8)]
}
