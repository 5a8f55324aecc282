//! One SQL text for both backends.
//!
//! sqlx types its queries by backend, so code that should run on SQLite and PostgreSQL alike would
//! be written twice. [`on_pool!`] writes it once and lets the compiler instantiate it per backend.
//! Both backends accept `$1`-style placeholders, and the common types (integers, floats, text,
//! bytes, `chrono` times, JSON) encode on both.

/// Runs the same expression against whichever pool a [`Database`](crate::Database) holds.
///
/// ```ignore
/// let n: i64 = on_pool!(&db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM t").fetch_one(pool).await)?;
/// ```
#[macro_export]
macro_rules! on_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match ($db).pool() {
            $crate::Pool::Sqlite($pool) => $body,
            $crate::Pool::Postgres($pool) => $body,
        }
    };
}
