//! `CopyIn` on PostgreSQL: every kind of field comes back exactly as written (escaped text,
//! NULL, NaN and infinities, shortest-digit floats, microsecond timestamps, dates, booleans), and
//! a row that already exists fails the COPY instead of being skipped.

use chrono::{DateTime, NaiveDate, Utc};
use talab_db::copy::CopyIn;
use talab_db::{Pool, Tx};

type Row = (String, i64, bool, Option<f64>, DateTime<Utc>, NaiveDate);

#[tokio::test]
async fn copied_rows_read_back_exactly_and_conflicts_fail() {
    let Some(t) = talab_db::testing::postgres().await else {
        return;
    };
    let Pool::Postgres(pool) = t.db.pool() else {
        unreachable!("postgres() gives PostgreSQL")
    };
    sqlx::raw_sql(
        "CREATE TABLE probe_copy (label TEXT PRIMARY KEY, n BIGINT NOT NULL, flag BOOLEAN NOT NULL,
                                  x DOUBLE PRECISION, at TIMESTAMPTZ NOT NULL, day DATE NOT NULL)",
    )
    .execute(pool)
    .await
    .unwrap();
    let at: DateTime<Utc> = "2024-02-29T23:59:59.999999Z".parse().unwrap();
    let day = NaiveDate::from_ymd_opt(2024, 2, 29).unwrap();
    let rows: Vec<Row> = vec![
        ("plain".into(), -7, true, Some(0.1 + 0.2), at, day),
        ("tab\there\\and\nnewline\r".into(), i64::MAX, false, None, at, day),
        ("nan".into(), 0, true, Some(f64::NAN), at, day),
        ("+inf".into(), 1, true, Some(f64::INFINITY), at, day),
        ("-inf".into(), 2, true, Some(f64::NEG_INFINITY), at, day),
        ("tiny".into(), 3, false, Some(5e-324), at, day),
        ("huge".into(), 4, false, Some(-1.7976931348623157e308), at, day),
    ];
    let mut tx = Tx::begin(&t.db).await.unwrap();
    let Tx::Postgres(c) = &mut tx else { unreachable!() };
    let mut copy = CopyIn::start(c, "probe_copy", "label, n, flag, x, at, day")
        .await
        .unwrap();
    for (label, n, flag, x, at, day) in &rows {
        copy.text(label)
            .int(*n)
            .bool(*flag)
            .float(*x)
            .timestamp(*at)
            .date(*day);
        copy.end_row().await.unwrap();
    }
    assert_eq!(copy.finish().await.unwrap(), rows.len() as u64);
    tx.commit().await.unwrap();

    let back: Vec<Row> = sqlx::query_as("SELECT label, n, flag, x, at, day FROM probe_copy")
        .fetch_all(pool)
        .await
        .unwrap();
    assert_eq!(back.len(), rows.len());
    for want in &rows {
        let got = back
            .iter()
            .find(|r| r.0 == want.0)
            .expect("every label comes back");
        assert_eq!(
            (got.1, got.2, got.4, got.5),
            (want.1, want.2, want.4, want.5),
            "{}",
            want.0
        );
        assert_eq!(
            got.3.map(f64::to_bits),
            want.3.map(f64::to_bits),
            "{}: the same bits",
            want.0
        );
    }

    let mut tx = Tx::begin(&t.db).await.unwrap();
    let Tx::Postgres(c) = &mut tx else { unreachable!() };
    let mut copy = CopyIn::start(c, "probe_copy", "label, n, flag, x, at, day")
        .await
        .unwrap();
    copy.text("plain")
        .int(1)
        .bool(true)
        .float(None)
        .timestamp(at)
        .date(day);
    copy.end_row().await.unwrap();
    let err = copy.finish().await.expect_err("a duplicate key fails the COPY");
    assert!(err.to_string().contains("duplicate key"), "{err}");
}
