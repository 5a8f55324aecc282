//! The cost ledger: one row per successful platform call with its tokens by kind and its price,
//! so `talab costs` can sum spending by platform, model or day. A model without a known price is
//! recorded at $0 with `priced_known = false`, so unpriced spending is visible instead of hidden.

use std::str::FromStr;
use talab_db::sqlx;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use talab_db::{Database, on_pool};

use crate::{OrchestratorError, Platform, TaskStore, Usage};

/// Prices a call from its model and usage; `None` when the model's price is unknown.
pub trait PriceLookup: Send + Sync {
    /// The cost in US dollars of `usage` on `model` of `platform`.
    fn cost_usd(&self, platform: Platform, model: &str, usage: &Usage) -> Option<f64>;
}

/// One ledger row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// The stored task (see [`TaskStore`]), when it was stored.
    pub task_id: Option<String>,
    pub chain_id: Option<String>,
    pub correlation_id: Option<String>,
    pub platform: Platform,
    pub model: String,
    pub usage: Usage,
    pub cost_usd: f64,
    /// False when the model had no known price (cost recorded as 0).
    pub priced_known: bool,
    pub ts: DateTime<Utc>,
}

/// How `talab costs` groups rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CostGrouping {
    Platform,
    Model,
    /// The UTC date.
    Day,
}

impl CostGrouping {
    fn column(self) -> &'static str {
        match self {
            CostGrouping::Platform => "platform",
            CostGrouping::Model => "model",
            CostGrouping::Day => "day",
        }
    }
}

impl FromStr for CostGrouping {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s.trim().to_ascii_lowercase().as_str() {
            "platform" => Ok(CostGrouping::Platform),
            "model" => Ok(CostGrouping::Model),
            "day" => Ok(CostGrouping::Day),
            other => Err(format!("unknown grouping '{other}'; valid: platform, model, day")),
        }
    }
}

/// Sums of one group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CostRow {
    /// The platform, model or day ("total" for [`CostLedger::total`]).
    pub key: String,
    /// Successful calls.
    pub calls: u64,
    pub usage: Usage,
    pub cost_usd: f64,
    /// Calls whose model had no known price (their cost counts as 0).
    pub unpriced_calls: u64,
}

/// The `cost_ledger` table.
#[derive(Debug, Clone)]
pub struct CostLedger {
    db: Database,
}

type SumRow = (String, i64, i64, i64, i64, i64, i64, f64, i64);

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl CostLedger {
    /// Uses the orchestrator's database (migrating it).
    pub async fn open(db: Database) -> Result<Self, OrchestratorError> {
        db.migrate(&crate::MIGRATIONS).await?;
        Ok(CostLedger { db })
    }

    /// Shares a task store's database.
    pub async fn for_store(store: &TaskStore) -> Result<Self, OrchestratorError> {
        Self::open(store.database().clone()).await
    }

    /// Appends one row; returns its id.
    pub async fn record(&self, entry: &LedgerEntry) -> Result<String, OrchestratorError> {
        let id = uuid::Uuid::new_v4().to_string();
        let cost = if entry.cost_usd.is_finite() {
            entry.cost_usd
        } else {
            0.0
        };
        let sql = "INSERT INTO cost_ledger (id, task_id, chain_id, correlation_id, platform, model, input_uncached, \
                   cache_read, cache_write, output, reasoning, cost_usd, priced_known, day, ts) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";
        let u = &entry.usage;
        on_pool!(&self.db, pool => sqlx::query(sql)
            .bind(&id)
            .bind(&entry.task_id)
            .bind(&entry.chain_id)
            .bind(&entry.correlation_id)
            .bind(entry.platform.as_str())
            .bind(&entry.model)
            .bind(to_i64(u.input_uncached))
            .bind(to_i64(u.cache_read))
            .bind(to_i64(u.cache_write))
            .bind(to_i64(u.output))
            .bind(to_i64(u.reasoning))
            .bind(cost)
            .bind(entry.priced_known)
            .bind(entry.ts.date_naive().to_string())
            .bind(entry.ts)
            .execute(pool)
            .await
            .map(|_| ()))?;
        Ok(id)
    }

    /// Sums since `since` (everything when None), one row per platform, model or day, in key order.
    pub async fn summary(
        &self,
        since: Option<DateTime<Utc>>,
        by: CostGrouping,
    ) -> Result<Vec<CostRow>, OrchestratorError> {
        self.sums(Some(by.column()), since).await
    }

    /// One row summing everything since `since`.
    pub async fn total(&self, since: Option<DateTime<Utc>>) -> Result<CostRow, OrchestratorError> {
        let rows = self.sums(None, since).await?;
        Ok(rows.into_iter().next().unwrap_or(CostRow {
            key: "total".into(),
            calls: 0,
            usage: Usage::default(),
            cost_usd: 0.0,
            unpriced_calls: 0,
        }))
    }

    /// Sums grouped by `column`, or one row over everything when None.
    async fn sums(
        &self,
        column: Option<&str>,
        since: Option<DateTime<Utc>>,
    ) -> Result<Vec<CostRow>, OrchestratorError> {
        let filter = if since.is_some() { "WHERE ts >= $1" } else { "" };
        let (key, group) = match column {
            Some(c) => (c.to_string(), format!("GROUP BY {c} ORDER BY {c}")),
            None => ("CAST('total' AS TEXT)".to_string(), String::new()),
        };
        let sum = |c: &str| format!("CAST(COALESCE(SUM({c}), 0) AS BIGINT)");
        let sql = format!(
            "SELECT {key}, COUNT(*), {}, {}, {}, {}, {}, CAST(COALESCE(SUM(cost_usd), 0) AS DOUBLE PRECISION), {} \
             FROM cost_ledger {filter} {group}",
            sum("input_uncached"),
            sum("cache_read"),
            sum("cache_write"),
            sum("output"),
            sum("reasoning"),
            sum("CASE WHEN priced_known THEN 0 ELSE 1 END"),
        );
        let rows: Vec<SumRow> = on_pool!(&self.db, pool => {
            let q = sqlx::query_as::<_, SumRow>(&sql);
            let q = match since { Some(t) => q.bind(t), None => q };
            q.fetch_all(pool).await
        })?;
        Ok(rows
            .into_iter()
            .map(|(key, calls, iu, cr, cw, out, rs, cost, unpriced)| CostRow {
                key,
                calls: to_u64(calls),
                usage: Usage {
                    input_uncached: to_u64(iu),
                    cache_read: to_u64(cr),
                    cache_write: to_u64(cw),
                    output: to_u64(out),
                    reasoning: to_u64(rs),
                },
                cost_usd: cost,
                unpriced_calls: to_u64(unpriced),
            })
            .collect())
    }

    /// Every row of one chain, oldest first (a chain's total cost).
    pub async fn chain(&self, chain_id: &str) -> Result<Vec<LedgerEntry>, OrchestratorError> {
        type Row = (
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            i64,
            i64,
            i64,
            i64,
            i64,
            f64,
            bool,
            DateTime<Utc>,
        );
        let sql = "SELECT task_id, chain_id, correlation_id, platform, model, input_uncached, cache_read, cache_write, \
                   output, reasoning, cost_usd, priced_known, ts FROM cost_ledger WHERE chain_id = $1 ORDER BY ts, id";
        let rows: Vec<Row> = on_pool!(&self.db, pool => sqlx::query_as::<_, Row>(sql)
            .bind(chain_id)
            .fetch_all(pool)
            .await)?;
        rows.into_iter()
            .map(
                |(
                    task_id,
                    chain_id,
                    correlation_id,
                    p,
                    model,
                    iu,
                    cr,
                    cw,
                    out,
                    rs,
                    cost_usd,
                    priced_known,
                    ts,
                )| {
                    let platform = p.parse().map_err(|e| OrchestratorError::CorruptTask {
                        id: task_id.clone().unwrap_or_default(),
                        reason: format!("cost ledger row: {e}"),
                    })?;
                    Ok(LedgerEntry {
                        task_id,
                        chain_id,
                        correlation_id,
                        platform,
                        model,
                        usage: Usage {
                            input_uncached: to_u64(iu),
                            cache_read: to_u64(cr),
                            cache_write: to_u64(cw),
                            output: to_u64(out),
                            reasoning: to_u64(rs),
                        },
                        cost_usd,
                        priced_known,
                        ts,
                    })
                },
            )
            .collect()
    }
}
