//! Storage plumbing shared by talab's crates: open SQLite or PostgreSQL from one URL, and apply a
//! crate's own migrations.
//!
//! Each library crate (memory, orchestrator, features) owns its tables and its SQL; this crate owns
//! only how a database is opened ([`Database::connect`]), how each crate's migrations are recorded
//! ([`MigrationSet`]) and how one SQL text runs on either backend ([`on_pool!`]). It knows nothing
//! about any crate's tables, so the three crates stay independent of each other.
//!
//! ```
//! # tokio::runtime::Runtime::new().unwrap().block_on(async {
//! use talab_db::{Database, Migration, MigrationSet};
//!
//! static NOTES: MigrationSet = MigrationSet {
//!     component: "notes",
//!     migrations: &[Migration {
//!         version: 1,
//!         name: "notes",
//!         sqlite: "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);",
//!         postgres: "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL);",
//!     }],
//! };
//!
//! let dir = tempfile::tempdir().unwrap();
//! let db = Database::connect(&format!("sqlite://{}/talab.db", dir.path().display())).await.unwrap();
//! db.migrate(&NOTES).await.unwrap();
//! let n: i64 = talab_db::on_pool!(&db, pool => async {
//!     sqlx::query("INSERT INTO notes (id, body) VALUES ($1, $2)").bind(1_i64).bind("hi").execute(pool).await?;
//!     sqlx::query_scalar("SELECT COUNT(*) FROM notes").fetch_one(pool).await
//! }.await).unwrap();
//! assert_eq!(n, 1);
//! # });
//! ```

pub mod bulk;
pub mod copy;
mod database;
mod dispatch;
mod error;
mod location;
mod migrate;
pub mod nul_byte;
pub mod private;
pub mod redact;
#[cfg(feature = "testing")]
pub mod testing;
mod tx;

pub use database::{Backend, Database, Pool};
pub use error::{DbError, ErrorKind};
pub use location::{DatabaseLocation, postgres_host};
pub use migrate::{Migration, MigrationSet};
pub use sqlx;
pub use tx::{LOCK_WAIT_LIMIT, POSTGRES_MAX_PARAMS, SQLITE_MAX_PARAMS, Tx};
