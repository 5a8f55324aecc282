//! The test harness itself: a failing PostgreSQL test leaves no schema behind, and going without
//! PostgreSQL is explicit, counted, and refused under CI.

use std::process::Command;

use talab_db::{Database, Pool};

/// Whether a schema of that name exists on the test server.
async fn schema_exists(name: &str) -> bool {
    let url = std::env::var(talab_db::testing::PG_URL_ENV)
        .unwrap_or_else(|_| talab_db::testing::DEFAULT_PG_URL.into());
    let admin = Database::connect(&url).await.expect("the test server");
    let n: i64 = talab_db::on_pool!(&admin, pool => sqlx::query_scalar(
        "SELECT COUNT(*) FROM pg_namespace WHERE nspname = $1"
    ).bind(name).fetch_one(pool).await)
    .unwrap();
    admin.close().await;
    n == 1
}

#[tokio::test]
async fn a_test_that_panics_inside_a_transaction_leaves_no_schema() {
    if talab_db::testing::skip::opted_out(talab_db::testing::Resource::Postgres) {
        return talab_db::testing::skip::record(talab_db::testing::Resource::Postgres);
    }
    let (tx, rx) = std::sync::mpsc::channel::<String>();
    // A test body of its own (thread and runtime, current-thread as `#[tokio::test]` makes it, so
    // nothing else can roll the transaction back), failing while it holds locks in its schema.
    let failed = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let t = talab_db::testing::postgres()
                .await
                .expect("a PostgreSQL test database");
            let url = t.url();
            let schema = url.rsplit("search_path%3D").next().unwrap().to_string();
            tx.send(schema).unwrap();
            let Pool::Postgres(pool) = t.db.pool() else {
                unreachable!()
            };
            let mut open = pool.begin().await.unwrap();
            sqlx::query("CREATE TABLE held (id BIGINT)")
                .execute(&mut *open)
                .await
                .unwrap();
            sqlx::query("LOCK TABLE held IN ACCESS EXCLUSIVE MODE")
                .execute(&mut *open)
                .await
                .unwrap();
            panic!("the test fails with its transaction open");
        })
    })
    .join();
    assert!(failed.is_err(), "the inner test panicked");
    let schema = rx.recv().unwrap();
    assert!(schema.starts_with("talab_test_"), "{schema}");
    assert!(!schema_exists(&schema).await, "{schema} was left behind");
}

/// Runs one test of this binary in a child process with `env`, without CI unless given.
fn run_alone(test: &str, env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", test, "--test-threads", "1"])
        .env_remove("CI");
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

#[test]
fn going_without_postgres_is_counted_and_refused_under_ci() {
    let test = "database::migrations_apply_once_and_upgrade_in_order";
    let skipped = run_alone(test, &[("TALAB_TEST_SKIP", "postgres")]);
    let err = String::from_utf8_lossy(&skipped.stderr);
    assert!(skipped.status.success(), "{err}");
    assert!(
        err.contains("SKIPPED (TALAB_TEST_SKIP): 1 test(s) without postgres"),
        "{err}"
    );

    let under_ci = run_alone(test, &[("TALAB_TEST_SKIP", "postgres"), ("CI", "true")]);
    let out = String::from_utf8_lossy(&under_ci.stdout);
    assert!(!under_ci.status.success(), "{out}");
    assert!(out.contains("is not honoured under CI"), "{out}");

    let typo = run_alone(test, &[("TALAB_TEST_SKIP", "postgress")]);
    assert!(!typo.status.success());
    assert!(String::from_utf8_lossy(&typo.stdout).contains("unknown resource \"postgress\""));
}

#[test]
fn a_missing_server_fails_the_test_and_says_how_to_go_without() {
    let test = "database::migrations_apply_once_and_upgrade_in_order";
    let out = run_alone(
        test,
        &[(
            "TALAB_TEST_DATABASE_URL",
            "postgres://postgres@127.0.0.1:1/postgres",
        )],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("TALAB_TEST_SKIP=postgres"), "{text}");
}
