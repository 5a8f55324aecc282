//! The asset registry (`dim_assets`): which symbols talab knows, with their CoinMarketCap ids.
//!
//! Symbols are case-insensitive on input and stored upper-case; [`normalise_symbol`] is the one
//! place that decides what a symbol may look like, so every table keys on the same spelling.

use serde::{Deserialize, Serialize};
use talab_db::sqlx;
use talab_db::{Database, on_pool};

use crate::{FeatureError, MIGRATIONS};

/// The longest symbol accepted.
pub const MAX_SYMBOL_LEN: usize = 32;

/// The canonical spelling of a symbol: trimmed, upper-case, 1 to [`MAX_SYMBOL_LEN`] characters of
/// A-Z, 0-9, `-`, `_` and `.`.
///
/// ```
/// assert_eq!(talab_features::normalise_symbol(" btc ").unwrap(), "BTC");
/// assert!(talab_features::normalise_symbol("BTC;DROP").is_err());
/// ```
pub fn normalise_symbol(s: &str) -> Result<String, FeatureError> {
    let trimmed = s.trim();
    let invalid = |reason: String| FeatureError::InvalidSymbol {
        input: s.to_string(),
        reason,
    };
    if trimmed.is_empty() {
        return Err(invalid("it is empty".into()));
    }
    if let Some(c) = trimmed
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(invalid(format!("'{c}' is not allowed")));
    }
    if trimmed.len() > MAX_SYMBOL_LEN {
        return Err(invalid(format!("it has {} characters", trimmed.len())));
    }
    Ok(trimmed.to_ascii_uppercase())
}

/// One asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// Upper-case symbol (BTC).
    pub symbol: String,
    /// CoinMarketCap id, where known (BTC = 1).
    pub cmc_id: Option<i64>,
    /// Display name (Bitcoin).
    pub name: String,
}

impl Asset {
    fn from_row((symbol, cmc_id, name): (String, Option<i64>, String)) -> Self {
        Self { symbol, cmc_id, name }
    }
}

/// The assets table, on SQLite or PostgreSQL.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use talab_features::AssetRegistry;
/// let db = talab_db::Database::connect("sqlite::memory:").await.unwrap();
/// let assets = AssetRegistry::open(db).await.unwrap();
/// let btc = assets.get("btc").await.unwrap().unwrap();
/// assert_eq!((btc.symbol.as_str(), btc.cmc_id), ("BTC", Some(1)));
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct AssetRegistry {
    db: Database,
}

impl AssetRegistry {
    /// Opens the registry, applying this crate's pending migrations (which seed BTC, ETH, XRP, BNB,
    /// LINK and SOL on a new database).
    pub async fn open(db: Database) -> Result<Self, FeatureError> {
        db.migrate(&MIGRATIONS).await?;
        Ok(Self { db })
    }

    /// The database this registry uses.
    pub fn database(&self) -> &Database {
        &self.db
    }

    /// The asset with this symbol (any case), or None.
    pub async fn get(&self, symbol: &str) -> Result<Option<Asset>, FeatureError> {
        let symbol = normalise_symbol(symbol)?;
        let row: Option<(String, Option<i64>, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as("SELECT symbol, cmc_id, name FROM dim_assets WHERE symbol = $1")
                .bind(&symbol)
                .fetch_optional(pool)
                .await
        })?;
        Ok(row.map(Asset::from_row))
    }

    /// The asset with this symbol, or [`FeatureError::UnknownSymbol`] listing the known ones.
    pub async fn require(&self, symbol: &str) -> Result<Asset, FeatureError> {
        if let Some(asset) = self.get(symbol).await? {
            return Ok(asset);
        }
        let known = self.list().await?.into_iter().map(|a| a.symbol).collect();
        Err(FeatureError::UnknownSymbol {
            symbol: normalise_symbol(symbol)?,
            known,
        })
    }

    /// Every asset, by symbol.
    pub async fn list(&self) -> Result<Vec<Asset>, FeatureError> {
        let rows: Vec<(String, Option<i64>, String)> = on_pool!(&self.db, pool => {
            sqlx::query_as("SELECT symbol, cmc_id, name FROM dim_assets ORDER BY symbol")
                .fetch_all(pool)
                .await
        })?;
        Ok(rows.into_iter().map(Asset::from_row).collect())
    }

    /// Adds an asset or updates the one with the same symbol, and returns the stored row.
    ///
    /// The symbol is normalised; an empty name becomes the symbol; a `cmc_id` of None keeps the id
    /// already stored. An id that another asset has is refused ([`FeatureError::CmcIdTaken`]).
    pub async fn upsert(&self, asset: Asset) -> Result<Asset, FeatureError> {
        let symbol = normalise_symbol(&asset.symbol)?;
        let name = match asset.name.trim() {
            "" => symbol.clone(),
            n => n.to_string(),
        };
        let stored: Result<(String, Option<i64>, String), sqlx::Error> = on_pool!(&self.db, pool => {
            sqlx::query_as(
                "INSERT INTO dim_assets (symbol, cmc_id, name) VALUES ($1, $2, $3)
                 ON CONFLICT (symbol) DO UPDATE
                 SET cmc_id = COALESCE(excluded.cmc_id, dim_assets.cmc_id), name = excluded.name
                 RETURNING symbol, cmc_id, name",
            )
            .bind(&symbol)
            .bind(asset.cmc_id)
            .bind(&name)
            .fetch_one(pool)
            .await
        });
        match stored {
            Ok(row) => Ok(Asset::from_row(row)),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                let cmc_id = asset.cmc_id.unwrap_or_default();
                let holder: Option<String> = on_pool!(&self.db, pool => {
                    sqlx::query_scalar("SELECT symbol FROM dim_assets WHERE cmc_id = $1")
                        .bind(cmc_id)
                        .fetch_optional(pool)
                        .await
                })?;
                Err(FeatureError::CmcIdTaken {
                    cmc_id,
                    symbol,
                    holder: holder.unwrap_or_else(|| "another asset".into()),
                })
            }
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symbols_are_trimmed_upper_cased_and_checked() {
        assert_eq!(normalise_symbol("btc").unwrap(), "BTC");
        assert_eq!(normalise_symbol("\tLink \n").unwrap(), "LINK");
        assert_eq!(normalise_symbol("brk.b").unwrap(), "BRK.B");
        assert_eq!(normalise_symbol("usdt-e_2").unwrap(), "USDT-E_2");
        let long = "A".repeat(MAX_SYMBOL_LEN);
        assert_eq!(normalise_symbol(&long).unwrap(), long);
        for (bad, why) in [
            ("", "it is empty"),
            ("   ", "it is empty"),
            ("BTC ETH", "' ' is not allowed"),
            ("BTC'--", "''' is not allowed"),
            ("ΒTC", "'Β' is not allowed"),
            ("a/b", "'/' is not allowed"),
        ] {
            match normalise_symbol(bad) {
                Err(FeatureError::InvalidSymbol { input, reason }) => {
                    assert_eq!((input.as_str(), reason.as_str()), (bad, why))
                }
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
        let e = normalise_symbol(&"A".repeat(MAX_SYMBOL_LEN + 1)).unwrap_err();
        assert!(e.to_string().contains("it has 33 characters"), "{e}");
    }
}
