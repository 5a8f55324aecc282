//! `dim_timeframe`: every timeframe talab knows, which are computed by default (`is_canonical`),
//! and the repository behind `talab timeframes [enable|disable TF]`.
//!
//! Rows are seeded by the `time_model` migration; enabling a valid code that is not seeded adds its
//! row, derived from the parsed [`Timeframe`], so the table and the parser never disagree.

use serde::Serialize;
use talab_db::sqlx;
use talab_db::{Database, on_pool};

use crate::{FeatureError, MIGRATIONS, Timeframe};

/// One row of `dim_timeframe`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeframeInfo {
    /// Canonical code (`1W_CAL_ISO`), the primary key.
    pub tf: String,
    /// For people (`1 week (Mon–Sun)`).
    pub label: String,
    /// D, W, M, Q, Y or H.
    pub base_unit: String,
    pub tf_qty: i64,
    /// W = 7q, M = 30q, Q = 91q, Y = 365q, D = q; None for hourly timeframes (not on the daily grid).
    pub tf_days_nominal: Option<i64>,
    /// `tf_day` or `calendar`.
    pub alignment_type: String,
    /// `US` or `ISO` for weeks, else None.
    pub calendar_scheme: Option<String>,
    pub anchored: bool,
    pub is_intraday: bool,
    pub sort_order: i64,
    /// Computed by default.
    pub is_canonical: bool,
}

type Row = (
    String,
    String,
    String,
    i64,
    Option<i64>,
    String,
    Option<String>,
    bool,
    bool,
    i64,
    bool,
);

impl TimeframeInfo {
    /// The row a parsed timeframe has (not canonical unless set).
    pub fn from_timeframe(tf: &Timeframe, is_canonical: bool) -> Self {
        Self {
            tf: tf.code(),
            label: tf.label(),
            base_unit: tf.unit.letter().to_string(),
            tf_qty: i64::from(tf.qty),
            tf_days_nominal: tf.tf_days_nominal().map(i64::from),
            alignment_type: tf.alignment_type().to_string(),
            calendar_scheme: tf.scheme.map(|s| s.name().to_string()),
            anchored: tf.anchored,
            is_intraday: tf.is_intraday(),
            sort_order: tf.sort_order(),
            is_canonical,
        }
    }

    /// The family people choose from: `tf_day`, `calendar US`, `calendar ISO anchored`, `intraday`…
    pub fn family(&self) -> String {
        if self.is_intraday {
            return "intraday".into();
        }
        let mut family = self.alignment_type.clone();
        if let Some(scheme) = &self.calendar_scheme {
            family.push(' ');
            family.push_str(scheme);
        }
        if self.anchored {
            family.push_str(" anchored");
        }
        family
    }

    /// The parsed timeframe of this row.
    pub fn timeframe(&self) -> Result<Timeframe, FeatureError> {
        Timeframe::parse(&self.tf)
    }

    fn from_row(r: Row) -> Self {
        Self {
            tf: r.0,
            label: r.1,
            base_unit: r.2,
            tf_qty: r.3,
            tf_days_nominal: r.4,
            alignment_type: r.5,
            calendar_scheme: r.6,
            anchored: r.7,
            is_intraday: r.8,
            sort_order: r.9,
            is_canonical: r.10,
        }
    }
}

const COLUMNS: &str = "tf, label, base_unit, tf_qty, tf_days_nominal, alignment_type, calendar_scheme, \
                       anchored, is_intraday, sort_order, is_canonical";

/// The timeframe table, on SQLite or PostgreSQL.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_features::time::TimeframeRegistry;
/// let db = talab_db::Database::connect("sqlite::memory:").await.unwrap();
/// let tfs = TimeframeRegistry::open(db).await.unwrap();
/// assert_eq!(tfs.enabled().await.unwrap().len(), 13);
/// tfs.enable("2w_cal_iso").await.unwrap();
/// assert!(tfs.get("2W_CAL_ISO").await.unwrap().unwrap().is_canonical);
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct TimeframeRegistry {
    db: Database,
}

impl TimeframeRegistry {
    /// Opens the registry, applying this crate's pending migrations.
    pub async fn open(db: Database) -> Result<Self, FeatureError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// Every known timeframe, in `sort_order`.
    pub async fn all(&self) -> Result<Vec<TimeframeInfo>, FeatureError> {
        self.list(false).await
    }

    /// The timeframes computed by default (`is_canonical`), in `sort_order`.
    pub async fn enabled(&self) -> Result<Vec<TimeframeInfo>, FeatureError> {
        self.list(true).await
    }

    /// The timeframes a refresh naming `named` computes: those, or the enabled ones when none are
    /// named.
    pub async fn named_or_enabled(&self, named: &[Timeframe]) -> Result<Vec<Timeframe>, FeatureError> {
        if !named.is_empty() {
            return Ok(named.to_vec());
        }
        self.enabled().await?.iter().map(|t| t.timeframe()).collect()
    }

    async fn list(&self, only_enabled: bool) -> Result<Vec<TimeframeInfo>, FeatureError> {
        let filter = if only_enabled { "WHERE is_canonical" } else { "" };
        let sql = format!("SELECT {COLUMNS} FROM dim_timeframe {filter} ORDER BY sort_order, tf");
        let rows: Vec<Row> = on_pool!(&self.db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
        Ok(rows.into_iter().map(TimeframeInfo::from_row).collect())
    }

    /// The row of a code (any case); None for a valid code that is not in the table;
    /// [`FeatureError::UnknownTimeframe`] for text that is no timeframe.
    pub async fn get(&self, code: &str) -> Result<Option<TimeframeInfo>, FeatureError> {
        let tf = Timeframe::parse(code)?.code();
        let sql = format!("SELECT {COLUMNS} FROM dim_timeframe WHERE tf = $1");
        let row: Option<Row> = on_pool!(&self.db, pool => {
            sqlx::query_as(&sql).bind(&tf).fetch_optional(pool).await
        })?;
        Ok(row.map(TimeframeInfo::from_row))
    }

    /// Computes this timeframe by default from now on; a valid code not yet in the table is added.
    pub async fn enable(&self, code: &str) -> Result<TimeframeInfo, FeatureError> {
        let tf = Timeframe::parse(code)?;
        let row = TimeframeInfo::from_timeframe(&tf, true);
        let sql = format!(
            "INSERT INTO dim_timeframe ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
             ON CONFLICT (tf) DO UPDATE SET is_canonical = excluded.is_canonical"
        );
        on_pool!(&self.db, pool => {
            sqlx::query(&sql)
                .bind(&row.tf)
                .bind(&row.label)
                .bind(&row.base_unit)
                .bind(row.tf_qty)
                .bind(row.tf_days_nominal)
                .bind(&row.alignment_type)
                .bind(&row.calendar_scheme)
                .bind(row.anchored)
                .bind(row.is_intraday)
                .bind(row.sort_order)
                .bind(true)
                .execute(pool)
                .await
                .map(|_| ())
        })?;
        self.require(&row.tf).await
    }

    /// Stops computing this timeframe by default. A code that is not in the table is
    /// [`FeatureError::UnknownTimeframe`].
    pub async fn disable(&self, code: &str) -> Result<TimeframeInfo, FeatureError> {
        let tf = Timeframe::parse(code)?.code();
        let changed = on_pool!(&self.db, pool => {
            sqlx::query("UPDATE dim_timeframe SET is_canonical = FALSE WHERE tf = $1")
                .bind(&tf)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
        if changed == 0 {
            return Err(FeatureError::UnknownTimeframe {
                code: code.trim().to_string(),
            });
        }
        self.require(&tf).await
    }

    async fn require(&self, tf: &str) -> Result<TimeframeInfo, FeatureError> {
        self.get(tf)
            .await?
            .ok_or_else(|| FeatureError::UnknownTimeframe { code: tf.to_string() })
    }
}
