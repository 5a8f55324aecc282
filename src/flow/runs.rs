//! The runs table (`talab_runs`): one structured row per refresh, success or failure — the exact
//! facts `talab ask` answers from (a memory is a sentence; a run row is numbers to count and sum).

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use talab_db::sqlx::{self, Row};
use talab_db::{Database, MigrationSet, Tx, on_pool, on_tx};

use super::error::FlowError;

/// The joined flow's own tables.
pub static MIGRATIONS: MigrationSet = MigrationSet {
    component: "talab",
    migrations: &[
        talab_db::migration!(1, "runs", "0001_runs.sql"),
        talab_db::migration!(2, "run_state", "0002_run_state.sql"),
    ],
};

/// Where a run is: started and not finished, finished, or found abandoned by its process.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    Running,
    #[default]
    Done,
    Interrupted,
}

impl RunState {
    pub fn as_str(self) -> &'static str {
        match self {
            RunState::Running => "running",
            RunState::Done => "done",
            RunState::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Result<Self, FlowError> {
        match s {
            "running" => Ok(RunState::Running),
            "done" => Ok(RunState::Done),
            "interrupted" => Ok(RunState::Interrupted),
            other => Err(db_error(format!("unknown run state '{other}'"))),
        }
    }
}

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
    #[serde(default)]
    pub state: RunState,
    /// The process that runs it ("host:pid"), while it runs.
    #[serde(default)]
    pub owner: Option<String>,
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
    state: String,
    owner: Option<String>,
}

const COLUMNS: &str = "id, kind, correlation_id, task_id, memory_id, started_at, finished_at, symbols, tfs, periods, \
                       date_from, date_to, rows_tf_day, rows_calendar, rejects, duration_ms, success, error, detail, state, owner";

/// JSON text for a TEXT column.
fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn db_error(e: impl std::fmt::Display) -> FlowError {
    FlowError::Runs(e.to_string())
}

/// The runs table on the shared database.
#[derive(Debug, Clone)]
pub struct RunStore {
    db: Database,
}

impl RunStore {
    pub async fn open(db: Database) -> Result<Self, FlowError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// Stores a run, or replaces the stored run with the same id (its start, then its outcome).
    pub async fn put(&self, run: &Run) -> Result<(), FlowError> {
        self.upsert(run, "").await.map(|_| ())
    }

    /// Replaces a stored run only while it is still running; true for the one process that made
    /// the change (so that only one remembers an interrupted run), false when another was first.
    pub async fn replace_running(&self, run: &Run) -> Result<bool, FlowError> {
        self.upsert(run, " WHERE talab_runs.state = 'running'")
            .await
            .map(|changed| changed == 1)
    }

    async fn upsert(&self, run: &Run, only: &str) -> Result<u64, FlowError> {
        let sql = format!(
            "INSERT INTO talab_runs ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, \
             $15, $16, $17, $18, $19, $20, $21) ON CONFLICT (id) DO UPDATE SET task_id = excluded.task_id, \
             memory_id = excluded.memory_id, finished_at = excluded.finished_at, tfs = excluded.tfs, \
             periods = excluded.periods, date_from = excluded.date_from, date_to = excluded.date_to, \
             rows_tf_day = excluded.rows_tf_day, rows_calendar = excluded.rows_calendar, rejects = excluded.rejects, \
             duration_ms = excluded.duration_ms, success = excluded.success, error = excluded.error, \
             detail = excluded.detail, state = excluded.state, owner = excluded.owner{only}"
        );
        let mut tx = self.write_lock().await?;
        let changed = on_tx!(&mut tx, c => {
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
                .bind(run.state.as_str())
                .bind(&run.owner)
                .execute(&mut **c)
                .await
                .map(|r| r.rows_affected())
        })?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every write to the runs tables queues for the write lock like the EMA writers do
    /// ([`Tx::begin_locked`]): on SQLite a plain statement gives up after the busy timeout, and a
    /// refresh of many symbols in another process, one transaction after another, can hold the
    /// single write lock that long (seen: "database is locked" from a second refresh).
    async fn write_lock(&self) -> Result<Tx, FlowError> {
        Ok(Tx::begin_locked(&self.db, "talab_runs").await?)
    }

    /// Records one symbol's outcome (JSON) as the run commits it, so that a kill leaves the facts.
    pub async fn symbol_done(&self, run_id: &str, symbol: &str, outcome: &str) -> Result<(), FlowError> {
        let mut tx = self.write_lock().await?;
        Self::symbol_done_in(&mut tx, run_id, symbol, outcome).await?;
        Ok(tx.commit().await?)
    }

    /// Records a symbol's outcome inside `tx` (a symbol's own refresh transaction, so the line
    /// commits with its rows; see `talab_features::CommitJournal`).
    pub async fn symbol_done_in(
        tx: &mut Tx,
        run_id: &str,
        symbol: &str,
        outcome: &str,
    ) -> Result<(), sqlx::Error> {
        const SQL: &str = "INSERT INTO talab_run_symbols (run_id, symbol, outcome) VALUES ($1, $2, $3) \
                           ON CONFLICT (run_id, symbol) DO UPDATE SET outcome = excluded.outcome";
        on_tx!(tx, c => {
            sqlx::query(SQL).bind(run_id).bind(symbol).bind(outcome).execute(&mut **c).await.map(|_| ())
        })
    }

    /// The symbol outcomes a run recorded as it went (JSON), by symbol.
    pub async fn symbols_done(&self, run_id: &str) -> Result<Vec<String>, FlowError> {
        const SQL: &str = "SELECT outcome FROM talab_run_symbols WHERE run_id = $1 ORDER BY symbol";
        Ok(on_pool!(&self.db, pool => {
            sqlx::query_scalar(SQL).bind(run_id).fetch_all(pool).await
        })?)
    }

    /// Every run still marked running (by live processes, or by ones that were killed).
    pub async fn running(&self) -> Result<Vec<Run>, FlowError> {
        self.select(None, None, Some(RunState::Running)).await
    }

    /// Runs started in [since, until), oldest first.
    pub async fn between(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
    ) -> Result<Vec<Run>, FlowError> {
        self.select(since, until, None).await
    }

    /// Runs started in [since, until) in `state` (None: any), oldest first.
    async fn select(
        &self,
        since: Option<DateTime<Utc>>,
        until: Option<DateTime<Utc>>,
        state: Option<RunState>,
    ) -> Result<Vec<Run>, FlowError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM talab_runs WHERE ($1 IS NULL OR started_at >= $1) AND ($2 IS NULL OR started_at < $2)
             AND ($3 IS NULL OR state = $3) ORDER BY started_at, id"
        );
        let rows: Vec<RunRow> = on_pool!(&self.db, pool => async {
            let rows = sqlx::query(&sql)
                .bind(since)
                .bind(until)
                .bind(state.map(RunState::as_str))
                .fetch_all(pool)
                .await?;
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
                        state: r.try_get(19)?,
                        owner: r.try_get(20)?,
                    })
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        }.await)?;
        rows.into_iter().map(from_row).collect()
    }
}

fn from_row(r: RunRow) -> Result<Run, FlowError> {
    let list = |s: &str| serde_json::from_str::<Vec<String>>(s).map_err(db_error);
    Ok(Run {
        symbols: list(&r.symbols)?,
        tfs: list(&r.tfs)?,
        periods: serde_json::from_str(&r.periods).map_err(db_error)?,
        detail: serde_json::from_str(&r.detail).map_err(db_error)?,
        state: RunState::parse(&r.state)?,
        owner: r.owner,
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
