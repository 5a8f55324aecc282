//! Opening, migrating and sharing SQL across both backends.

use talab_db::testing::{self, TestDb};
use talab_db::{Backend, Database, DbError, Migration, MigrationSet, Pool, on_pool};

static SET_V1: MigrationSet = MigrationSet {
    component: "probe",
    migrations: &[Migration {
        version: 1,
        name: "items",
        sqlite: "CREATE TABLE items (id INTEGER PRIMARY KEY, label TEXT NOT NULL);
                 CREATE INDEX items_label ON items (label);",
        postgres: "CREATE TABLE items (id BIGINT PRIMARY KEY, label TEXT NOT NULL);
                   CREATE INDEX items_label ON items (label);",
    }],
};

static SET_V2: MigrationSet = MigrationSet {
    component: "probe",
    migrations: &[
        SET_V1.migrations[0],
        Migration {
            version: 2,
            name: "items.weight",
            sqlite: "ALTER TABLE items ADD COLUMN weight REAL NOT NULL DEFAULT 1.0;",
            postgres: "ALTER TABLE items ADD COLUMN weight DOUBLE PRECISION NOT NULL DEFAULT 1.0;",
        },
    ],
};

async fn count_history(db: &Database, component: &str) -> i64 {
    on_pool!(db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM talab_migrations WHERE component = $1")
        .bind(component)
        .fetch_one(pool)
        .await)
    .unwrap()
}

/// Drops the probe's table and history, behind any handle's back.
async fn undo_probe(db: &Database) {
    on_pool!(db, pool => async {
        sqlx::query("DROP TABLE items").execute(pool).await?;
        sqlx::query("DELETE FROM talab_migrations WHERE component = 'probe'").execute(pool).await.map(|_| ())
    }.await)
    .unwrap();
}

/// Through one handle (and its clones) a set is checked once; a new handle checks again.
#[tokio::test]
async fn a_handle_checks_each_set_once_and_a_new_handle_again() {
    for t in testing::backends().await {
        let db = &t.db;
        db.migrate(&SET_V1).await.unwrap();
        // Undo it behind the handle's back: the handle (and a clone) does not look again.
        undo_probe(db).await;
        db.clone().migrate(&SET_V1).await.unwrap();
        assert_eq!(
            count_history(db, "probe").await,
            0,
            "{}: checked again",
            t.label()
        );
        // A larger set of the same component is checked (and applied) through the same handle.
        db.migrate(&SET_V2).await.unwrap();
        assert_eq!(count_history(db, "probe").await, 2, "{}", t.label());
        // A new handle on the same database checks for itself.
        undo_probe(db).await;
        let fresh = Database::connect(&t.url()).await.unwrap();
        fresh.migrate(&SET_V1).await.unwrap();
        assert_eq!(count_history(&fresh, "probe").await, 1, "{}", t.label());
        fresh.close().await;
    }
}

#[tokio::test]
async fn migrations_apply_once_and_upgrade_in_order() {
    for t in testing::backends().await {
        let db = &t.db;
        db.migrate(&SET_V1).await.unwrap();
        db.migrate(&SET_V1).await.unwrap();
        assert_eq!(count_history(db, "probe").await, 1, "{}", t.label());
        db.migrate(&SET_V2).await.unwrap();
        assert_eq!(count_history(db, "probe").await, 2, "{}", t.label());
        // The new column exists and the same `$n` SQL runs on both backends.
        let got: (i64, String, f64) = on_pool!(db, pool => async {
            sqlx::query("INSERT INTO items (id, label, weight) VALUES ($1, $2, $3)")
                .bind(7_i64).bind("seven").bind(2.5_f64).execute(pool).await?;
            sqlx::query_as("SELECT id, label, weight FROM items WHERE label = $2 AND id = $1")
                .bind(7_i64).bind("seven").fetch_one(pool).await
        }.await)
        .unwrap();
        assert_eq!(got, (7, "seven".to_string(), 2.5), "{}", t.label());
    }
}

#[tokio::test]
async fn components_keep_separate_histories() {
    static OTHER: MigrationSet = MigrationSet {
        component: "other",
        migrations: &[Migration {
            version: 1,
            name: "things",
            sqlite: "CREATE TABLE things (id INTEGER PRIMARY KEY);",
            postgres: "CREATE TABLE things (id BIGINT PRIMARY KEY);",
        }],
    };
    for t in testing::backends().await {
        t.db.migrate(&SET_V1).await.unwrap();
        t.db.migrate(&OTHER).await.unwrap();
        assert_eq!(count_history(&t.db, "probe").await, 1, "{}", t.label());
        assert_eq!(count_history(&t.db, "other").await, 1, "{}", t.label());
    }
}

#[tokio::test]
async fn an_edited_migration_is_refused() {
    static EDITED: MigrationSet = MigrationSet {
        component: "probe",
        migrations: &[Migration {
            version: 1,
            name: "items",
            sqlite: "CREATE TABLE items (id INTEGER PRIMARY KEY);",
            postgres: "CREATE TABLE items (id BIGINT PRIMARY KEY);",
        }],
    };
    for t in testing::backends().await {
        t.db.migrate(&SET_V1).await.unwrap();
        let err = t.db.migrate(&EDITED).await.unwrap_err();
        assert!(
            matches!(err, DbError::MigrationChanged { version: 1, .. }),
            "{}: {err}",
            t.label()
        );
        assert!(err.to_string().contains("probe/0001 (items)"), "{err}");
    }
}

#[tokio::test]
async fn a_newer_database_is_refused_by_an_older_build() {
    for t in testing::backends().await {
        t.db.migrate(&SET_V2).await.unwrap();
        let err = t.db.migrate(&SET_V1).await.unwrap_err();
        assert!(
            matches!(err, DbError::MigrationUnknown { version: 2, .. }),
            "{}: {err}",
            t.label()
        );
    }
}

#[tokio::test]
async fn a_failing_migration_leaves_the_schema_untouched() {
    static BROKEN: MigrationSet = MigrationSet {
        component: "probe",
        migrations: &[
            SET_V1.migrations[0],
            Migration {
                version: 2,
                name: "broken",
                sqlite: "ALTER TABLE nope ADD x INT;",
                postgres: "ALTER TABLE nope ADD x INT;",
            },
        ],
    };
    for t in testing::backends().await {
        let err = t.db.migrate(&BROKEN).await.unwrap_err();
        assert!(
            matches!(err, DbError::MigrationFailed { version: 2, .. }),
            "{}: {err}",
            t.label()
        );
        // Version 1 was in the same transaction: rolled back too, so nothing is recorded.
        let exists: Result<i64, _> =
            on_pool!(&t.db, pool => sqlx::query_scalar("SELECT COUNT(*) FROM items").fetch_one(pool).await);
        assert!(
            exists.is_err(),
            "{}: items must not exist after a failed run",
            t.label()
        );
        t.db.migrate(&SET_V1).await.unwrap();
    }
}

#[tokio::test]
async fn concurrent_openers_migrate_exactly_once() {
    for t in testing::backends().await {
        let url = t.url();
        let mut handles = Vec::new();
        for _ in 0..6 {
            let url = url.clone();
            handles.push(tokio::spawn(async move {
                let db = Database::connect(&url).await.unwrap();
                db.migrate(&SET_V2).await.unwrap();
                db.close().await;
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(count_history(&t.db, "probe").await, 2, "{}", t.label());
    }
}

#[tokio::test]
async fn sqlite_uses_wal_and_a_busy_timeout_and_creates_folders() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested/deeper/talab.db");
    let db = Database::connect(path.to_str().unwrap()).await.unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    let Pool::Sqlite(pool) = db.pool() else {
        unreachable!()
    };
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    let timeout: i64 = sqlx::query_scalar("PRAGMA busy_timeout")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(timeout, 30_000);
    let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(fk, 1);
    assert!(path.exists());
    assert_eq!(db.to_string(), format!("sqlite://{}", path.display()));
}

#[tokio::test]
async fn an_unreachable_postgres_is_one_clear_line() {
    // Port 1 on loopback: nothing listens there, so the connection is refused at once.
    let err = Database::connect("postgres://lab:s3cret@127.0.0.1:1/talab")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, DbError::Unreachable { port: 1, .. }), "{msg}");
    assert!(
        msg.starts_with("cannot reach PostgreSQL at 127.0.0.1:1: connection refused"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret") && !msg.contains('\n'), "{msg}");
}

#[tokio::test]
async fn a_missing_postgres_database_is_named() {
    let Some(t): Option<TestDb> = testing::postgres().await else {
        return;
    };
    drop(t);
    let base = std::env::var(testing::PG_URL_ENV).unwrap_or_else(|_| testing::DEFAULT_PG_URL.into());
    let url = format!("{}/talab_no_such_db_here", base.rsplit_once('/').unwrap().0);
    let err = Database::connect(&url).await.unwrap_err();
    assert!(matches!(err, DbError::Refused { .. }), "{err}");
    assert!(err.to_string().contains("talab_no_such_db_here"), "{err}");
}

/// A new database and the folders made for it are private to their owner (prompts, answers and
/// memories live there); the WAL file follows the database's mode.
#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_database_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home").join("talab");
    let file = home.join("talab.db");
    let db = Database::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.migrate(&SET_V1).await.unwrap();
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&dir.path().join("home")), 0o700);
    assert_eq!(mode(&file), 0o600);
    let wal = home.join("talab.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
    db.close().await;

    // An existing file keeps the mode its owner chose.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let db = Database::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    db.close().await;
    assert_eq!(mode(&file), 0o640);
}
