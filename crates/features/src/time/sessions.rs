//! `dim_sessions`: the local hours that make up a market's trading day, and the UTC bounds of one day.
//!
//! Day bounds are computed in the session's IANA time zone (chrono-tz), so a daylight-saving
//! change makes a 23- or 25-hour day instead of shifting or dropping one.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use talab_db::sqlx;
use talab_db::{Database, on_pool};

use crate::{FeatureError, MIGRATIONS};

/// The primary key of a session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionKey {
    pub asset_class: String,
    pub region: String,
    pub venue: String,
    pub session_type: String,
}

impl SessionKey {
    /// A key from its four parts (stored upper-case).
    pub fn new(asset_class: &str, region: &str, venue: &str, session_type: &str) -> Self {
        let up = |s: &str| s.trim().to_ascii_uppercase();
        Self {
            asset_class: up(asset_class),
            region: up(region),
            venue: up(venue),
            session_type: up(session_type),
        }
    }
}

impl std::fmt::Display for SessionKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.asset_class, self.region, self.venue, self.session_type
        )
    }
}

/// One trading session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub key: SessionKey,
    /// The IANA time zone its hours are in.
    pub timezone: Tz,
    /// Local opening time (ignored when `is_24h`).
    pub open: NaiveTime,
    /// Local closing time; a close at or before the open falls on the next day.
    pub close: NaiveTime,
    /// Trades around the clock: a day is local midnight to local midnight.
    pub is_24h: bool,
    /// The session whose day is the asset class's daily bar.
    pub is_primary_for_daily: bool,
}

impl Session {
    /// The UTC instants `[start, end)` of this session's trading day `date` (local date).
    ///
    /// A 24-hour session's day runs from local midnight to the next local midnight (23 or 25 hours
    /// on DST change days); otherwise from `open` to `close` on `date`, or to `close` on the next
    /// day when `close <= open`. A local time that does not exist (skipped by a DST jump) resolves
    /// to the first instant after the jump; an ambiguous one (repeated hour) to the earlier.
    pub fn day_bounds(&self, date: NaiveDate) -> (DateTime<Utc>, DateTime<Utc>) {
        let next = date.succ_opt().unwrap_or(date);
        if self.is_24h {
            return (
                local_to_utc(self.timezone, date.and_time(NaiveTime::MIN)),
                local_to_utc(self.timezone, next.and_time(NaiveTime::MIN)),
            );
        }
        let close_day = if self.close <= self.open { next } else { date };
        (
            local_to_utc(self.timezone, date.and_time(self.open)),
            local_to_utc(self.timezone, close_day.and_time(self.close)),
        )
    }
}

/// A local wall-clock time as a UTC instant, resolving DST gaps forward and overlaps to the earlier.
fn local_to_utc(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    let mut probe = local;
    // A gap is at most a few hours (zones have skipped up to a whole day: walk minute by minute).
    for _ in 0..=(26 * 60) {
        match tz.from_local_datetime(&probe) {
            LocalResult::Single(t) => return t.with_timezone(&Utc),
            LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
            LocalResult::None => probe += Duration::minutes(1),
        }
    }
    // Unreachable for real zones; read the wall clock as UTC rather than fail.
    local.and_utc()
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    NaiveTime,
    NaiveTime,
    bool,
    bool,
);

const SELECT: &str = "SELECT asset_class, region, venue, session_type, timezone, open_local, close_local, \
                      is_24h, is_primary_for_daily FROM dim_sessions";

fn from_row(r: Row) -> Result<Session, FeatureError> {
    let key = SessionKey {
        asset_class: r.0,
        region: r.1,
        venue: r.2,
        session_type: r.3,
    };
    let timezone: Tz = r.4.parse().map_err(|_| FeatureError::InvalidSession {
        session: key.to_string(),
        reason: format!("'{}' is not an IANA time zone", r.4),
    })?;
    Ok(Session {
        key,
        timezone,
        open: r.5,
        close: r.6,
        is_24h: r.7,
        is_primary_for_daily: r.8,
    })
}

/// The sessions table, on SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SessionRegistry {
    db: Database,
}

impl SessionRegistry {
    /// Opens the registry, applying this crate's pending migrations (which seed crypto and NYSE).
    pub async fn open(db: Database) -> Result<Self, FeatureError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// Every session, by key.
    pub async fn list(&self) -> Result<Vec<Session>, FeatureError> {
        let sql = format!("{SELECT} ORDER BY asset_class, region, venue, session_type");
        let rows: Vec<Row> = on_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        rows.into_iter().map(from_row).collect()
    }

    /// The session with this key, or [`FeatureError::InvalidSession`] naming the known ones.
    pub async fn get(&self, key: &SessionKey) -> Result<Session, FeatureError> {
        let sql =
            format!("{SELECT} WHERE asset_class = $1 AND region = $2 AND venue = $3 AND session_type = $4");
        let row: Option<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql)
                .bind(&key.asset_class)
                .bind(&key.region)
                .bind(&key.venue)
                .bind(&key.session_type)
                .fetch_optional(pool)
                .await
        })?;
        match row {
            Some(r) => from_row(r),
            None => {
                let known: Vec<String> = self.list().await?.iter().map(|s| s.key.to_string()).collect();
                Err(FeatureError::InvalidSession {
                    session: key.to_string(),
                    reason: format!("no such session; known: {}", known.join(", ")),
                })
            }
        }
    }
}
