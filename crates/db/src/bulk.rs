//! The placeholders of multi-row statements (`INSERT … VALUES (…), (…), …` with thousands of rows).
//!
//! PostgreSQL gets `$1, $2, …`. SQLite gets anonymous `?`: it resolves every numbered or named
//! parameter (`?NNN`, `$NNN`) through a linear scan of the statement's parameter list, once when
//! it parses the statement and once more when sqlx asks each parameter's name to bind it, so a
//! statement of 30,000 numbered parameters costs about 10⁹ steps (measured: 1,600 EMA rows/s),
//! while anonymous ones cost nothing. Anonymous parameters bind in the order they appear, so
//! callers bind every value of every row, in order (no parameter shared between rows).

use std::fmt::Write as _;

use crate::Backend;

/// Appends `(p, p, …), (p, p, …), …`: `rows` rows of `per_row` parameters, numbered from `first`
/// on PostgreSQL (anonymous on SQLite, see the module docs).
pub fn push_rows(sql: &mut String, backend: Backend, first: usize, per_row: usize, rows: usize) {
    sql.reserve(rows * per_row * 6);
    let mut p = first;
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ",(" });
        for k in 0..per_row {
            if k > 0 {
                sql.push(',');
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    let _ = write!(sql, "${p}");
                }
            }
            p += 1;
        }
        sql.push(')');
    }
}

/// `DELETE FROM table WHERE (k1, k2, …) IN (VALUES (…), (…), …)` for `rows` keys: callers bind
/// each key's values in `key_columns` order, key after key. Size `rows` with
/// [`rows_per_statement`]`(backend, key_columns.len())`.
pub fn delete_keys_sql(backend: Backend, table: &str, key_columns: &[&str], rows: usize) -> String {
    let mut sql = format!(
        "DELETE FROM {table} WHERE ({}) IN (VALUES ",
        key_columns.join(", ")
    );
    push_rows(&mut sql, backend, 1, key_columns.len(), rows);
    sql.push(')');
    sql
}

/// How many rows of `per_row` parameters one statement may carry on `backend`.
pub fn rows_per_statement(backend: Backend, per_row: usize) -> usize {
    let limit = match backend {
        Backend::Sqlite => crate::SQLITE_MAX_PARAMS,
        Backend::Postgres => crate::POSTGRES_MAX_PARAMS,
    };
    (limit / per_row).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_on_postgres_anonymous_on_sqlite() {
        let mut pg = String::from("VALUES ");
        push_rows(&mut pg, Backend::Postgres, 2, 3, 2);
        assert_eq!(pg, "VALUES ($2,$3,$4),($5,$6,$7)");
        let mut lite = String::new();
        push_rows(&mut lite, Backend::Sqlite, 2, 3, 2);
        assert_eq!(lite, "(?,?,?),(?,?,?)");
    }

    #[test]
    fn keyed_deletes_list_their_keys() {
        assert_eq!(
            delete_keys_sql(Backend::Postgres, "t", &["a", "b"], 2),
            "DELETE FROM t WHERE (a, b) IN (VALUES ($1,$2),($3,$4))"
        );
        assert_eq!(
            delete_keys_sql(Backend::Sqlite, "t", &["a"], 1),
            "DELETE FROM t WHERE (a) IN (VALUES (?))"
        );
    }

    #[test]
    fn statements_stay_under_the_parameter_limits() {
        assert_eq!(rows_per_statement(Backend::Sqlite, 14), 32_766 / 14);
        assert!(rows_per_statement(Backend::Postgres, 14) * 14 <= 65_535);
        assert_eq!(rows_per_statement(Backend::Sqlite, 100_000), 1);
    }
}
