//! Signal definitions (`dim_signals`): what a signal id means, as JSON params, so a new pair or a
//! filtered variant is a row, not code.
//!
//! The migration seeds the three long-only crossovers of the spec (9/21, 21/50, 50/200);
//! [`upsert_definition`] adds others (a long/short mirror, an RSI filter, a cooldown).

use serde::{Deserialize, Serialize};
use talab_db::sqlx;
use talab_db::sqlx::types::Json;
use talab_db::{Database, on_pool};

use crate::{FeatureError, MIGRATIONS};

/// The signals seeded by the migration.
pub const DEFAULT_SIGNALS: &[&str] = &["ema_9_21_long", "ema_21_50_long", "ema_50_200_long"];

/// Which trades a signal takes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Long on the up-cross, flat on the down-cross.
    #[default]
    Long,
    /// Long on the up-cross, short on the down-cross (the mirror).
    LongShort,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Long => "long",
            Direction::LongShort => "long_short",
        }
    }
}

fn default_rsi_long_min() -> f64 {
    45.0
}

fn default_rsi_short_max() -> f64 {
    55.0
}

/// The JSON params of an EMA-crossover signal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignalParams {
    /// The fast EMA period (1D).
    pub fast: usize,
    /// The slow EMA period (1D).
    pub slow: usize,
    #[serde(default)]
    pub direction: Direction,
    /// Only enter when RSI(14) allows it: longs need ≥ `rsi_long_min`, shorts ≤ `rsi_short_max`.
    #[serde(default)]
    pub rsi_filter: bool,
    #[serde(default = "default_rsi_long_min")]
    pub rsi_long_min: f64,
    #[serde(default = "default_rsi_short_max")]
    pub rsi_short_max: f64,
    /// Bars after an exit during which no new position opens (0: a reversal may happen on the exit bar).
    #[serde(default)]
    pub cooldown_bars: usize,
}

impl Default for SignalParams {
    fn default() -> Self {
        Self {
            fast: 9,
            slow: 21,
            direction: Direction::Long,
            rsi_filter: false,
            rsi_long_min: default_rsi_long_min(),
            rsi_short_max: default_rsi_short_max(),
            cooldown_bars: 0,
        }
    }
}

impl SignalParams {
    /// Refuses params no signal can run with.
    pub fn validate(&self, signal_id: &str) -> Result<(), FeatureError> {
        let bad = |reason: String| FeatureError::InvalidSignal {
            signal_id: signal_id.to_string(),
            reason,
        };
        if self.fast == 0 || self.slow == 0 {
            return Err(bad("EMA periods must be at least 1".into()));
        }
        if self.fast >= self.slow {
            return Err(bad(format!(
                "the fast period ({}) must be shorter than the slow one ({})",
                self.fast, self.slow
            )));
        }
        if !(0.0..=100.0).contains(&self.rsi_long_min) || !(0.0..=100.0).contains(&self.rsi_short_max) {
            return Err(bad("RSI thresholds lie between 0 and 100".into()));
        }
        Ok(())
    }
}

/// One row of `dim_signals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignalDefinition {
    pub signal_id: String,
    /// Always `ema_crossover` today.
    pub signal_type: String,
    pub description: String,
    pub params: SignalParams,
    pub is_active: bool,
}

type DefTuple = (String, String, String, Json<serde_json::Value>, bool);

fn from_tuple(t: DefTuple) -> Result<SignalDefinition, FeatureError> {
    let params: SignalParams = serde_json::from_value(t.3.0).map_err(|e| FeatureError::Corrupt {
        table: "dim_signals".into(),
        reason: format!("params of {}: {e}", t.0),
    })?;
    Ok(SignalDefinition {
        signal_id: t.0,
        signal_type: t.1,
        description: t.2,
        params,
        is_active: t.4,
    })
}

/// Every signal definition, by id (active or not).
pub async fn list_definitions(db: &Database) -> Result<Vec<SignalDefinition>, FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let rows: Vec<DefTuple> = on_pool!(db, pool => {
        sqlx::query_as(
            "SELECT signal_id, signal_type, description, params, is_active FROM dim_signals ORDER BY signal_id",
        )
        .fetch_all(pool)
        .await
    })?;
    rows.into_iter().map(from_tuple).collect()
}

/// The definition with this id, or [`FeatureError::UnknownSignal`] listing the known ones.
pub async fn get_definition(db: &Database, signal_id: &str) -> Result<SignalDefinition, FeatureError> {
    let all = list_definitions(db).await?;
    let wanted = signal_id.trim().to_ascii_lowercase();
    if let Some(d) = all.iter().find(|d| d.signal_id == wanted) {
        return Ok(d.clone());
    }
    Err(FeatureError::UnknownSignal {
        signal_id: signal_id.to_string(),
        known: all.into_iter().map(|d| d.signal_id).collect(),
    })
}

/// Adds or replaces a definition (params are validated first). Stored trades of a replaced
/// definition stay until the next refresh of that signal recomputes them.
pub async fn upsert_definition(db: &Database, def: &SignalDefinition) -> Result<(), FeatureError> {
    db.migrate(&MIGRATIONS).await?;
    let id = def.signal_id.trim().to_ascii_lowercase();
    if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(FeatureError::InvalidSignal {
            signal_id: def.signal_id.clone(),
            reason: "a signal id is letters, digits and '_'".into(),
        });
    }
    def.params.validate(&id)?;
    if def.signal_type != "ema_crossover" {
        return Err(FeatureError::InvalidSignal {
            signal_id: id,
            reason: format!("unknown signal type '{}'; known: ema_crossover", def.signal_type),
        });
    }
    let params = Json(serde_json::to_value(&def.params).expect("params serialise"));
    on_pool!(db, pool => {
        sqlx::query(
            "INSERT INTO dim_signals (signal_id, signal_type, description, params, is_active)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (signal_id) DO UPDATE SET signal_type = excluded.signal_type,
               description = excluded.description, params = excluded.params, is_active = excluded.is_active",
        )
        .bind(&id)
        .bind(&def.signal_type)
        .bind(&def.description)
        .bind(&params)
        .bind(def.is_active)
        .execute(pool)
        .await
        .map(|_| ())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_parse_with_defaults_and_refuse_unknown_keys() {
        let p: SignalParams = serde_json::from_str(r#"{"fast":9,"slow":21}"#).unwrap();
        assert_eq!(p, SignalParams::default());
        let p: SignalParams = serde_json::from_str(
            r#"{"fast":50,"slow":200,"direction":"long_short","rsi_filter":true,"cooldown_bars":3}"#,
        )
        .unwrap();
        assert_eq!(
            (p.direction, p.rsi_filter, p.cooldown_bars),
            (Direction::LongShort, true, 3)
        );
        assert!(serde_json::from_str::<SignalParams>(r#"{"fast":9,"slow":21,"fsat":1}"#).is_err());
        let e = SignalParams {
            fast: 21,
            slow: 9,
            ..SignalParams::default()
        }
        .validate("x")
        .unwrap_err();
        assert!(e.to_string().contains("must be shorter"), "{e}");
    }
}
