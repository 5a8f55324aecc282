//! Loading CSV price files on SQLite and PostgreSQL: the two real files, bad rows, duplicate days,
//! a second source, re-loading and a revised day.

use crate::support;
use talab_db::sqlx;

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use talab_db::{Database, on_pool};
use talab_features::{
    FeatureError, IngestOptions, SourceKind, coverage, ingest_csv, load_daily_bars, load_raw,
};

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn count(db: &Database, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    on_pool!(db, pool => sqlx::query_scalar(&sql).fetch_one(pool).await).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

const HEADER: &str = "Date,Open,High,Low,Close,Volume\n";

#[tokio::test]
async fn both_real_files_load_whole_with_their_bars() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let cases = [
            (
                "coin_Bitcoin.csv",
                "BTC",
                2862,
                day(2013, 4, 29),
                day(2021, 2, 27),
            ),
            (
                "coin_Ethereum.csv",
                "ETH",
                2031,
                day(2015, 8, 8),
                day(2021, 2, 27),
            ),
        ];
        for (file, symbol, rows, first, last) in cases {
            let path = support::data_path(file);
            let r = ingest_csv(db, Path::new(&path), &IngestOptions::default())
                .await
                .unwrap();
            let got = (
                r.symbol.as_str(),
                r.rows_read,
                r.inserted,
                r.first_day,
                r.last_day,
            );
            assert_eq!(
                got,
                (symbol, rows, rows, Some(first), Some(last)),
                "{}",
                t.label()
            );
            assert_eq!(
                (r.gaps, r.bars, r.bar_rejects, r.source),
                (0, rows, 0, SourceKind::Csv)
            );
            let bars = load_daily_bars(db, symbol).await.unwrap();
            assert_eq!(bars.len(), rows, "{}", t.label());
            assert_eq!((bars[0].day, bars[rows - 1].day), (first, last));
        }
        // The first BTC day as in the file (Open 134.4440002, Close 144.5399933, Marketcap 1603768865).
        let raw = load_raw(db, "btc").await.unwrap();
        let r0 = &raw[0];
        assert_eq!(
            (r0.open, r0.close, r0.market_cap),
            (Some(134.4440002), Some(144.5399933), Some(1603768865.0))
        );
        assert_eq!(
            r0.source_file.as_deref(),
            Some(support::data_path("coin_Bitcoin.csv").as_str())
        );
        let cov = coverage(db).await.unwrap();
        let got: Vec<_> = cov
            .iter()
            .map(|c| (c.symbol.as_str(), c.rows, c.gaps, c.source.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("BTC", 2862, 0, "csv"), ("ETH", 2031, 0, "csv")],
            "{}",
            t.label()
        );
        assert_eq!(
            (cov[0].first_day, cov[1].last_day),
            (day(2013, 4, 29), day(2021, 2, 27))
        );
        assert_eq!(count(db, "cmc_price_bars_1d").await, 2862 + 2031, "{}", t.label());
    }
}

#[tokio::test]
async fn a_bad_row_rejects_the_whole_file_unless_skipping() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEADER}2021-01-01,10,12,9,11,100\n2021-01-02,11,13,abc,12,100\n2021-01-03,12,14,11,13,1.5E+3\n"
        );
        let path = write(dir.path(), "x.csv", &text);
        let opts = IngestOptions {
            symbol: Some("xyz".into()),
            ..Default::default()
        };
        let e = ingest_csv(db, &path, &opts).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}:3: low: 'abc' is not a number", path.display()),
            "{}",
            t.label()
        );
        assert_eq!(count(db, "cmc_price_histories").await, 0, "{}", t.label());

        let opts = IngestOptions {
            skip_bad_rows: true,
            ..opts
        };
        let r = ingest_csv(db, &path, &opts).await.unwrap();
        assert_eq!(
            (r.rows_read, r.inserted, r.rejected, r.gaps),
            (3, 2, 1, 1),
            "{}",
            t.label()
        );
        let raw = load_raw(db, "XYZ").await.unwrap();
        assert_eq!(
            raw.iter().map(|r| r.volume).collect::<Vec<_>>(),
            vec![Some(100.0), Some(1500.0)]
        );
        let rejects: Vec<(String, i64, String, String)> = on_pool!(db, pool => {
            sqlx::query_as("SELECT source_file, line, reason, raw FROM cmc_price_histories_rejects")
                .fetch_all(pool)
                .await
        })
        .unwrap();
        let want = (
            path.display().to_string(),
            3,
            "low: 'abc' is not a number".to_string(),
            "2021-01-02,11,13,abc,12,100".to_string(),
        );
        assert_eq!(rejects, vec![want], "{}", t.label());
    }
}

#[tokio::test]
async fn duplicate_days_name_both_lines_and_write_nothing() {
    for t in talab_db::testing::backends().await {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            "{HEADER}2021-01-01,10,12,9,11,100\n2021-01-02,11,13,10,12,100\n2021-01-01,10,12,9,11,100\n"
        );
        let path = write(dir.path(), "dup.csv", &text);
        let opts = IngestOptions {
            symbol: Some("XYZ".into()),
            skip_bad_rows: true,
            ..Default::default()
        };
        let e = ingest_csv(&t.db, &path, &opts).await.unwrap_err();
        assert!(
            matches!(
                e,
                FeatureError::DuplicateDay {
                    first_line: 2,
                    second_line: 4,
                    ..
                }
            ),
            "{e:?}"
        );
        let msg = format!("{}:4: day 2021-01-01 already appears on line 2", path.display());
        assert!(e.to_string().starts_with(&msg), "{e}");
        assert_eq!(count(&t.db, "cmc_price_histories").await, 0, "{}", t.label());
    }
}

#[tokio::test]
async fn a_second_source_is_refused_unless_replacing() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let dir = tempfile::tempdir().unwrap();
        let plain = write(
            dir.path(),
            "p.csv",
            &format!("{HEADER}2021-01-01,10,12,9,11,100\n"),
        );
        let cmc = write(
            dir.path(),
            "c.csv",
            "\u{feff}timeOpen;timeClose;timeHigh;timeLow;name;open;high;low;close;volume;marketCap;timestamp\n\
             \"2021-01-02T00:00:00.000Z\";\"2021-01-02T23:59:59.999Z\";\"2021-01-02T10:00:00.000Z\";\"2021-01-02T03:00:00.000Z\";\"Bitcoin\";20;25;19;24;7;8.61E+11;\"2021-01-02T23:59:59.999Z\"\n\
             \"2021-01-01T00:00:00.000Z\";\"2021-01-01T23:59:59.999Z\";\"2021-01-01T10:00:00.000Z\";\"2021-01-01T03:00:00.000Z\";\"Bitcoin\";18;21;17;20;6;8.0E+11;\"2021-01-01T23:59:59.999Z\"\n",
        );
        let opts = IngestOptions {
            symbol: Some("BTC".into()),
            ..Default::default()
        };
        ingest_csv(db, &plain, &opts).await.unwrap();
        // The CoinMarketCap export names the asset (Bitcoin → BTC), so no symbol is needed.
        let e = ingest_csv(db, &cmc, &IngestOptions::default()).await.unwrap_err();
        assert_eq!(
            e.to_string(),
            "BTC already has 1 rows from source 'csv'; refusing to mix in 'cmc_csv' (one series comes from one \
             source; ask to replace the series to switch it to 'cmc_csv')",
            "{}",
            t.label()
        );
        assert_eq!(load_raw(db, "BTC").await.unwrap()[0].close, Some(11.0));

        let r = ingest_csv(
            db,
            &cmc,
            &IngestOptions {
                replace: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
        assert_eq!(
            (r.inserted, r.source, r.first_day),
            (2, SourceKind::CmcCsv, Some(day(2021, 1, 1)))
        );
        let raw = load_raw(db, "BTC").await.unwrap();
        assert_eq!(
            raw.iter().map(|r| r.close).collect::<Vec<_>>(),
            vec![Some(20.0), Some(24.0)]
        );
        assert_eq!(raw[1].market_cap, Some(8.61e11));
        assert_eq!(
            raw[1].time_high.unwrap().to_rfc3339(),
            "2021-01-02T10:00:00+00:00"
        );
        let bars = load_daily_bars(db, "BTC").await.unwrap();
        assert_eq!(
            (bars.len(), bars[1].high, bars[1].time_low),
            (2, 25.0, raw[1].time_low.unwrap())
        );
    }
}

#[tokio::test]
async fn reloading_changes_nothing_and_a_revised_day_updates_only_itself() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let dir = tempfile::tempdir().unwrap();
        let rows = "2021-01-01,10,12,9,11,100\n2021-01-02,11,13,10,12,100\n2021-01-03,12,14,11,13,100\n";
        let path = write(dir.path(), "a.csv", &format!("{HEADER}{rows}"));
        let opts = IngestOptions {
            symbol: Some("XYZ".into()),
            ..Default::default()
        };
        ingest_csv(db, &path, &opts).await.unwrap();
        let before = load_raw(db, "XYZ").await.unwrap();
        let ingested_at: Vec<String> = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT CAST(ingested_at AS TEXT) FROM cmc_price_histories ORDER BY ts").fetch_all(pool).await
        })
        .unwrap();

        let again = ingest_csv(db, &path, &opts).await.unwrap();
        assert_eq!(
            (again.inserted, again.updated, again.unchanged),
            (0, 0, 3),
            "{}",
            t.label()
        );
        assert_eq!(load_raw(db, "XYZ").await.unwrap(), before);

        // The same days from another file, with 2021-01-02 revised (close 12 → 12.5): another
        // file may change stored days only when replacing (its path is part of the series).
        let revised = rows.replace("2021-01-02,11,13,10,12,100", "2021-01-02,11,13,10,12.5,100");
        let path2 = write(dir.path(), "b.csv", &format!("{HEADER}{revised}"));
        let refused = ingest_csv(db, &path2, &opts).await.unwrap_err();
        assert!(
            matches!(&refused, FeatureError::ChangesAnotherFile { others, .. } if others.len() == 1 && others[0].1 == 1),
            "{}: {refused}",
            t.label()
        );
        assert_eq!(load_raw(db, "XYZ").await.unwrap(), before, "nothing written");
        let replacing = IngestOptions {
            replace: true,
            ..opts.clone()
        };
        let r = ingest_csv(db, &path2, &replacing).await.unwrap();
        assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 2), "{}", t.label());
        let after_at: Vec<String> = on_pool!(db, pool => {
            sqlx::query_scalar("SELECT CAST(ingested_at AS TEXT) FROM cmc_price_histories ORDER BY ts").fetch_all(pool).await
        })
        .unwrap();
        assert_eq!(
            (after_at[0] == ingested_at[0], after_at[1] == ingested_at[1]),
            (true, false)
        );
        let raw = load_raw(db, "XYZ").await.unwrap();
        assert_eq!(
            raw.iter().map(|r| r.close).collect::<Vec<_>>(),
            vec![Some(11.0), Some(12.5), Some(13.0)]
        );
        assert_eq!(
            raw[1].source_file.as_deref(),
            Some(path2.display().to_string().as_str())
        );
        let bars = load_daily_bars(db, "XYZ").await.unwrap();
        assert_eq!(
            bars.iter().map(|b| b.close).collect::<Vec<_>>(),
            vec![11.0, 12.5, 13.0],
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn two_loads_of_one_file_at_once_queue_up_and_load_it_once() {
    for t in talab_db::testing::backends().await {
        let db = &t.db;
        let path = PathBuf::from(support::data_path("coin_Bitcoin.csv"));
        let options = IngestOptions::default();
        // Each load reads what is stored, then writes the difference: without the symbol's lock
        // from the first read, SQLite refuses one of them (busy) and PostgreSQL could double-count.
        let (a, b) = tokio::join!(ingest_csv(db, &path, &options), ingest_csv(db, &path, &options));
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.inserted + b.inserted, 2862, "{}", t.label());
        assert_eq!(a.unchanged + b.unchanged, 2862, "{}", t.label());
        assert_eq!(count(db, "cmc_price_histories").await, 2862, "{}", t.label());
        assert_eq!(count(db, "cmc_price_bars_1d").await, 2862, "{}", t.label());
    }
}
