//! Daily quotas per platform, kept in the database so concurrent tasks and concurrent talab
//! processes share one count: requests, tokens and an optional USD budget are separate units; each
//! platform's window is the local date in its reset time zone (Gemini's free tier resets at
//! Pacific midnight). A call reserves before it runs, then settles with the real usage (a failed
//! call as one request: it reached the provider or may have) or releases what was never used.
//!
//! Every reservation is one conditional upsert (`used + reserved + n <= limit`), atomic on SQLite
//! and PostgreSQL alike, so there is no read-then-write race. Alerts at 50/80/90 % of a unit are
//! inserted under a unique key, so each is recorded once per window.

use std::collections::BTreeMap;
use std::sync::Arc;
use talab_db::sqlx;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use talab_db::{Database, on_pool};

use crate::{OrchestratorError, Platform, TaskStore};

/// The alert thresholds, in percent of a unit's limit.
pub const ALERT_THRESHOLDS: [i64; 3] = [50, 80, 90];

/// One platform's daily limits (all optional: an absent limit is not tracked).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PlatformQuota {
    /// Calls per day.
    pub requests_per_day: Option<u64>,
    /// Tokens (all kinds) per day.
    pub tokens_per_day: Option<u64>,
    /// Where the day starts, an IANA name ("America/Los_Angeles"); default UTC, Gemini Pacific.
    pub reset_tz: Option<Tz>,
    /// US dollars per day; a call that would exceed it is refused with QuotaExhausted.
    pub daily_budget_usd: Option<f64>,
}

/// Quota settings of every platform (`[quota.<platform>]` in `talab.toml`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct QuotaConfig {
    pub platforms: BTreeMap<Platform, PlatformQuota>,
}

impl QuotaConfig {
    /// Sets one platform's limits.
    pub fn with(mut self, platform: Platform, quota: PlatformQuota) -> Self {
        self.platforms.insert(platform, quota);
        self
    }

    /// The time zone whose midnight starts a new window for `platform`.
    pub fn reset_tz(&self, platform: Platform) -> Tz {
        self.platforms
            .get(&platform)
            .and_then(|q| q.reset_tz)
            .unwrap_or(match platform {
                Platform::Gemini => chrono_tz::America::Los_Angeles,
                _ => chrono_tz::UTC,
            })
    }

    /// The limits configured for `platform`, by unit.
    pub fn limits(&self, platform: Platform) -> Vec<(QuotaUnit, i64)> {
        let Some(q) = self.platforms.get(&platform) else {
            return Vec::new();
        };
        let as_i64 = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        if let Some(n) = q.requests_per_day {
            out.push((QuotaUnit::Requests, as_i64(n)));
        }
        if let Some(n) = q.tokens_per_day {
            out.push((QuotaUnit::Tokens, as_i64(n)));
        }
        if let Some(usd) = q.daily_budget_usd {
            out.push((QuotaUnit::UsdMicros, usd_to_micros(usd)));
        }
        out
    }
}

/// What a limit counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuotaUnit {
    Requests,
    Tokens,
    /// The daily budget, in millionths of a US dollar (integers keep the updates exact).
    UsdMicros,
}

impl QuotaUnit {
    /// The name stored in the `unit` column.
    pub const fn as_str(self) -> &'static str {
        match self {
            QuotaUnit::Requests => "requests",
            QuotaUnit::Tokens => "tokens",
            QuotaUnit::UsdMicros => "usd_micros",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [QuotaUnit::Requests, QuotaUnit::Tokens, QuotaUnit::UsdMicros]
            .into_iter()
            .find(|u| u.as_str() == s)
    }

    /// An amount as people read it ("812 requests", "$1.25").
    pub fn describe(self, amount: i64) -> String {
        match self {
            QuotaUnit::UsdMicros => format!("${:.2}", amount as f64 / 1e6),
            other => format!("{amount} {}", other.as_str()),
        }
    }
}

/// Dollars to whole micro-dollars, rounded up (a non-finite or negative amount is 0). Float noise
/// below a nano-dollar is ignored, so $0.0125 is 12,500 and not 12,501.
pub fn usd_to_micros(usd: f64) -> i64 {
    if usd.is_finite() && usd > 0.0 {
        (usd * 1e6 - 1e-3).ceil().clamp(0.0, i64::MAX as f64) as i64
    } else {
        0
    }
}

/// Why a reservation was refused.
#[derive(Debug, thiserror::Error)]
pub enum QuotaError {
    /// The limit would be exceeded.
    #[error(
        "{platform} {} quota exhausted for the day {window} ({}): {} used, {} reserved, {} more asked, limit {}",
        .unit.as_str(), .tz, .unit.describe(*.used), .unit.describe(*.reserved), .unit.describe(*.wanted), .unit.describe(*.limit)
    )]
    Exhausted {
        platform: Platform,
        unit: QuotaUnit,
        window: String,
        tz: Tz,
        used: i64,
        reserved: i64,
        wanted: i64,
        limit: i64,
    },
    /// The quota tables could not be read or written.
    #[error("quota tracker: {0}")]
    Storage(#[from] OrchestratorError),
}

impl QuotaError {
    /// Whose move it is (see [`talab_db::ErrorKind`]): an exhausted quota is not the input's fault.
    pub fn kind(&self) -> talab_db::ErrorKind {
        match self {
            QuotaError::Exhausted { .. } => talab_db::ErrorKind::Failure,
            QuotaError::Storage(e) => e.kind(),
        }
    }
}

impl From<sqlx::Error> for QuotaError {
    fn from(e: sqlx::Error) -> Self {
        QuotaError::Storage(e.into())
    }
}

/// Amounts held for one call until it settles or releases. Dropping it without either leaves the
/// amounts reserved until the window ends (the engine always settles or releases).
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a reservation must be settled or released"]
pub struct Reservation {
    pub platform: Platform,
    pub window: String,
    /// Each unit with the amount held.
    pub held: Vec<(QuotaUnit, i64)>,
}

/// One unit of one platform in one window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaLine {
    pub platform: Platform,
    pub unit: QuotaUnit,
    /// The local date in `tz`.
    pub window: String,
    pub tz: String,
    pub used: i64,
    pub reserved: i64,
    pub limit: i64,
}

impl QuotaLine {
    /// What is left for new reservations.
    pub fn left(&self) -> i64 {
        (self.limit - self.used - self.reserved).max(0)
    }
}

/// A threshold crossed, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaAlert {
    pub platform: Platform,
    pub unit: QuotaUnit,
    pub window: String,
    /// 50, 80 or 90.
    pub threshold: i64,
    /// Usage when it was crossed.
    pub used: i64,
    pub limit: i64,
    pub created_at: DateTime<Utc>,
}

type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// Quota bookkeeping in the orchestrator's database.
#[derive(Clone)]
pub struct QuotaTracker {
    db: Database,
    config: QuotaConfig,
    clock: Clock,
}

impl std::fmt::Debug for QuotaTracker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuotaTracker")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

const RESERVE_SQL: &str = "INSERT INTO quota_usage (platform, unit, window_key, limit_value, used, reserved, updated_at) \
     SELECT $1, $2, $3, $4, 0, $5, $6 WHERE $5 <= $4 \
     ON CONFLICT (platform, unit, window_key) DO UPDATE \
     SET reserved = quota_usage.reserved + excluded.reserved, limit_value = excluded.limit_value, \
         updated_at = excluded.updated_at \
     WHERE quota_usage.used + quota_usage.reserved + excluded.reserved <= excluded.limit_value";

const SETTLE_SQL: &str = "UPDATE quota_usage \
     SET reserved = CASE WHEN reserved >= $4 THEN reserved - $4 ELSE 0 END, used = used + $5, updated_at = $6 \
     WHERE platform = $1 AND unit = $2 AND window_key = $3 RETURNING used, limit_value";

impl QuotaTracker {
    /// Uses the orchestrator's database (migrating it) with these limits.
    pub async fn open(db: Database, config: QuotaConfig) -> Result<Self, OrchestratorError> {
        db.migrate(&crate::MIGRATIONS).await?;
        Ok(QuotaTracker {
            db,
            config,
            clock: Arc::new(Utc::now),
        })
    }

    /// Shares a task store's database.
    pub async fn for_store(store: &TaskStore, config: QuotaConfig) -> Result<Self, OrchestratorError> {
        Self::open(store.database().clone(), config).await
    }

    /// Reads the time from `clock` instead of the system (tests of window resets).
    pub fn with_clock(mut self, clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static) -> Self {
        self.clock = Arc::new(clock);
        self
    }

    /// The limits in force.
    pub fn config(&self) -> &QuotaConfig {
        &self.config
    }

    /// The current window of `platform`: today's date in its reset time zone.
    pub fn window(&self, platform: Platform) -> String {
        let tz = self.config.reset_tz(platform);
        (self.clock)().with_timezone(&tz).date_naive().to_string()
    }

    /// Holds one request, `tokens` tokens and `usd` dollars (at least one micro-dollar when a
    /// budget is set) for a call, or refuses with [`QuotaError::Exhausted`]. Only configured
    /// units are held; a platform without limits gets an empty reservation and no query.
    pub async fn reserve(
        &self,
        platform: Platform,
        tokens: u64,
        usd: f64,
    ) -> Result<Reservation, QuotaError> {
        let limits = self.config.limits(platform);
        let window = self.window(platform);
        let mut reservation = Reservation {
            platform,
            window: window.clone(),
            held: Vec::new(),
        };
        for (unit, limit) in limits {
            let wanted = match unit {
                QuotaUnit::Requests => 1,
                QuotaUnit::Tokens => i64::try_from(tokens).unwrap_or(i64::MAX),
                QuotaUnit::UsdMicros => usd_to_micros(usd).max(1),
            };
            let now = (self.clock)();
            let taken = on_pool!(&self.db, pool => sqlx::query(RESERVE_SQL)
                .bind(platform.as_str())
                .bind(unit.as_str())
                .bind(&window)
                .bind(limit)
                .bind(wanted)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()));
            match taken {
                Ok(1) => reservation.held.push((unit, wanted)),
                outcome => {
                    let refusal = match outcome {
                        Err(e) => QuotaError::from(e),
                        Ok(_) => {
                            let line = self.line(platform, unit, &window, limit).await?;
                            QuotaError::Exhausted {
                                platform,
                                unit,
                                window: window.clone(),
                                tz: self.config.reset_tz(platform),
                                used: line.used,
                                reserved: line.reserved,
                                wanted,
                                limit,
                            }
                        }
                    };
                    self.release(reservation).await?;
                    return Err(refusal);
                }
            }
        }
        Ok(reservation)
    }

    /// Replaces the held amounts with what the call really used; records alerts crossed.
    pub async fn settle(&self, reservation: Reservation, tokens: u64, usd: f64) -> Result<(), QuotaError> {
        for &(unit, held) in &reservation.held {
            let actual = match unit {
                QuotaUnit::Requests => 1,
                QuotaUnit::Tokens => i64::try_from(tokens).unwrap_or(i64::MAX),
                QuotaUnit::UsdMicros => usd_to_micros(usd),
            };
            let row = self.adjust(&reservation, unit, held, actual).await?;
            if let Some((used, limit)) = row {
                self.record_alerts(reservation.platform, unit, &reservation.window, used, limit)
                    .await?;
            }
        }
        Ok(())
    }

    /// Gives the held amounts back (the call failed).
    pub async fn release(&self, reservation: Reservation) -> Result<(), QuotaError> {
        for &(unit, held) in &reservation.held {
            self.adjust(&reservation, unit, held, 0).await?;
        }
        Ok(())
    }

    async fn adjust(
        &self,
        r: &Reservation,
        unit: QuotaUnit,
        held: i64,
        used: i64,
    ) -> Result<Option<(i64, i64)>, QuotaError> {
        let now = (self.clock)();
        Ok(
            on_pool!(&self.db, pool => sqlx::query_as::<_, (i64, i64)>(SETTLE_SQL)
            .bind(r.platform.as_str())
            .bind(unit.as_str())
            .bind(&r.window)
            .bind(held)
            .bind(used)
            .bind(now)
            .fetch_optional(pool)
            .await)?,
        )
    }

    async fn record_alerts(
        &self,
        platform: Platform,
        unit: QuotaUnit,
        window: &str,
        used: i64,
        limit: i64,
    ) -> Result<(), QuotaError> {
        let sql = "INSERT INTO quota_alerts (platform, unit, window_key, threshold, used, limit_value, created_at) \
                   VALUES ($1, $2, $3, $4, $5, $6, $7) \
                   ON CONFLICT (platform, unit, window_key, threshold) DO NOTHING";
        for threshold in ALERT_THRESHOLDS {
            // used / limit >= threshold %, in integers.
            if limit <= 0 || (used as i128) * 100 < (threshold as i128) * (limit as i128) {
                continue;
            }
            let now = (self.clock)();
            let inserted = on_pool!(&self.db, pool => sqlx::query(sql)
                .bind(platform.as_str())
                .bind(unit.as_str())
                .bind(window)
                .bind(threshold)
                .bind(used)
                .bind(limit)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected()))?;
            if inserted == 1 {
                tracing::warn!(%platform, unit = unit.as_str(), window, threshold, used, limit, "quota alert");
            }
        }
        Ok(())
    }

    async fn line(
        &self,
        platform: Platform,
        unit: QuotaUnit,
        window: &str,
        limit: i64,
    ) -> Result<QuotaLine, QuotaError> {
        let sql =
            "SELECT used, reserved FROM quota_usage WHERE platform = $1 AND unit = $2 AND window_key = $3";
        let row: Option<(i64, i64)> = on_pool!(&self.db, pool => sqlx::query_as(sql)
            .bind(platform.as_str())
            .bind(unit.as_str())
            .bind(window)
            .fetch_optional(pool)
            .await)?;
        let (used, reserved) = row.unwrap_or((0, 0));
        Ok(QuotaLine {
            platform,
            unit,
            window: window.to_string(),
            tz: self.config.reset_tz(platform).name().to_string(),
            used,
            reserved,
            limit,
        })
    }

    /// Every configured unit of `platform` in its current window.
    pub async fn lines(&self, platform: Platform) -> Result<Vec<QuotaLine>, QuotaError> {
        let window = self.window(platform);
        let mut out = Vec::new();
        for (unit, limit) in self.config.limits(platform) {
            out.push(self.line(platform, unit, &window, limit).await?);
        }
        Ok(out)
    }

    /// Every configured platform's current windows (what `talab quota` shows).
    pub async fn report(&self) -> Result<Vec<QuotaLine>, QuotaError> {
        let mut out = Vec::new();
        for &platform in self.config.platforms.keys() {
            out.extend(self.lines(platform).await?);
        }
        Ok(out)
    }

    /// Whether `platform` has room for one more call now, or why not (for routing; the
    /// reservation itself is what enforces the limit).
    pub async fn has_room(&self, platform: Platform) -> Result<(), String> {
        let lines = self.lines(platform).await.map_err(|e| e.to_string())?;
        match lines.iter().find(|l| l.left() == 0) {
            None => Ok(()),
            Some(l) => Err(format!(
                "daily {} quota used up for {} ({}): {} of {}",
                l.unit.as_str(),
                l.window,
                l.tz,
                l.unit.describe(l.used + l.reserved),
                l.unit.describe(l.limit)
            )),
        }
    }

    /// "812 of 1000 requests left; …" for `validate_environment`, or None when nothing is tracked.
    pub async fn left_text(&self, platform: Platform) -> Option<String> {
        let lines = self.lines(platform).await.ok()?;
        if lines.is_empty() {
            return None;
        }
        let parts: Vec<String> = lines
            .iter()
            .map(|l| {
                format!(
                    "{} of {} left",
                    l.unit.describe(l.left()),
                    l.unit.describe(l.limit)
                )
            })
            .collect();
        Some(format!(
            "{} ({} {})",
            parts.join("; "),
            lines[0].window,
            lines[0].tz
        ))
    }

    /// Alerts recorded, newest first; only `platform`'s when given.
    pub async fn alerts(&self, platform: Option<Platform>) -> Result<Vec<QuotaAlert>, QuotaError> {
        type Row = (String, String, String, i64, i64, i64, DateTime<Utc>);
        let sql = "SELECT platform, unit, window_key, threshold, used, limit_value, created_at FROM quota_alerts \
                   WHERE $1 IS NULL OR platform = $1 \
                   ORDER BY created_at DESC, platform, unit, threshold DESC";
        let filter = platform.map(|p| p.as_str().to_string());
        let rows: Vec<Row> = on_pool!(&self.db, pool => sqlx::query_as::<_, Row>(sql)
            .bind(&filter)
            .fetch_all(pool)
            .await)?;
        Ok(rows
            .into_iter()
            .filter_map(|(p, u, window, threshold, used, limit, created_at)| {
                Some(QuotaAlert {
                    platform: p.parse().ok()?,
                    unit: QuotaUnit::parse(&u)?,
                    window,
                    threshold,
                    used,
                    limit,
                    created_at,
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_reads_limits_time_zones_and_budget() {
        let cfg: QuotaConfig = serde_json::from_str(
            r#"{"gemini":{"requests_per_day":250,"tokens_per_day":1000000},
                "claude":{"reset_tz":"Europe/Paris","daily_budget_usd":2.5}}"#,
        )
        .unwrap();
        assert_eq!(cfg.reset_tz(Platform::Gemini), chrono_tz::America::Los_Angeles);
        assert_eq!(cfg.reset_tz(Platform::Claude), chrono_tz::Europe::Paris);
        assert_eq!(cfg.reset_tz(Platform::Chatgpt), chrono_tz::UTC);
        assert_eq!(
            cfg.limits(Platform::Gemini),
            [(QuotaUnit::Requests, 250), (QuotaUnit::Tokens, 1_000_000)]
        );
        assert_eq!(cfg.limits(Platform::Claude), [(QuotaUnit::UsdMicros, 2_500_000)]);
        assert!(cfg.limits(Platform::Local).is_empty());
        assert!(serde_json::from_str::<QuotaConfig>(r#"{"claude":{"requests":5}}"#).is_err());
        assert!(serde_json::from_str::<QuotaConfig>(r#"{"claude":{"reset_tz":"Mars/Olympus"}}"#).is_err());
    }

    #[test]
    fn dollars_become_whole_micro_dollars_rounded_up() {
        assert_eq!(usd_to_micros(0.0125), 12_500);
        assert_eq!(usd_to_micros(0.000_000_1), 1);
        assert_eq!(usd_to_micros(-1.0), 0);
        assert_eq!(usd_to_micros(f64::NAN), 0);
        assert_eq!(QuotaUnit::UsdMicros.describe(2_500_000), "$2.50");
        assert_eq!(QuotaUnit::Tokens.describe(7), "7 tokens");
    }
}
