//! The SQL migrations of talab-features, one file per backend per version under `migrations/features/`.
//!
//! Applied by [`AssetRegistry::open`](crate::AssetRegistry::open) (and by every store of this crate),
//! so the crate creates its own tables when used from another project.

use talab_db::MigrationSet;

/// Every schema change of this crate, oldest first. Never edit a released one: add a new version.
pub static MIGRATIONS: MigrationSet = MigrationSet {
    component: "features",
    migrations: &[
        talab_db::migration!(1, "dim_assets", "0001_dim_assets.sql"),
        talab_db::migration!(2, "prices", "0002_prices.sql"),
        talab_db::migration!(3, "time_model", "0003_time_model.sql"),
        talab_db::migration!(4, "ema", "0004_ema.sql"),
        talab_db::migration!(5, "signals", "0005_signals.sql"),
        talab_db::migration!(6, "hourly", "0006_hourly.sql"),
    ],
};
