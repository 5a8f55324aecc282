//! The asset registry on SQLite and PostgreSQL: seeded rows, upsert, case-insensitive lookups,
//! rows kept across a reopen, and clear errors.

use talab_db::Database;
use talab_db::sqlx;
use talab_features::{Asset, AssetRegistry, FeatureError, MIGRATIONS};

fn asset(symbol: &str, cmc_id: Option<i64>, name: &str) -> Asset {
    Asset {
        symbol: symbol.into(),
        cmc_id,
        name: name.into(),
    }
}

#[tokio::test]
async fn seeded_assets_are_present() {
    for t in talab_db::testing::backends().await {
        let reg = AssetRegistry::open(t.db.clone()).await.unwrap();
        let got: Vec<(String, Option<i64>, String)> = reg
            .list()
            .await
            .unwrap()
            .into_iter()
            .map(|a| (a.symbol, a.cmc_id, a.name))
            .collect();
        let want = [
            ("BNB", 1839, "BNB"),
            ("BTC", 1, "Bitcoin"),
            ("ETH", 1027, "Ethereum"),
            ("LINK", 1975, "Chainlink"),
            ("SOL", 5426, "Solana"),
            ("XRP", 52, "XRP"),
        ]
        .map(|(s, id, n)| (s.to_string(), Some(id), n.to_string()));
        assert_eq!(got, want, "{}", t.label());
    }
}

#[tokio::test]
async fn get_is_case_insensitive_and_require_names_the_known_symbols() {
    for t in talab_db::testing::backends().await {
        let reg = AssetRegistry::open(t.db.clone()).await.unwrap();
        let eth = reg.get(" eth ").await.unwrap();
        assert_eq!(eth, Some(asset("ETH", Some(1027), "Ethereum")), "{}", t.label());
        assert_eq!(
            reg.get("Link").await.unwrap().unwrap().cmc_id,
            Some(1975),
            "{}",
            t.label()
        );
        assert_eq!(reg.get("doge").await.unwrap(), None, "{}", t.label());
        match reg.require("doge").await {
            Err(FeatureError::UnknownSymbol { symbol, known }) => {
                assert_eq!(symbol, "DOGE", "{}", t.label());
                assert_eq!(
                    known,
                    ["BNB", "BTC", "ETH", "LINK", "SOL", "XRP"],
                    "{}",
                    t.label()
                );
            }
            other => panic!("{}: {other:?}", t.label()),
        }
        assert_eq!(reg.require("btc").await.unwrap().name, "Bitcoin", "{}", t.label());
        assert!(
            matches!(reg.get("BTC'; --").await, Err(FeatureError::InvalidSymbol { .. })),
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn upsert_adds_and_updates() {
    for t in talab_db::testing::backends().await {
        let reg = AssetRegistry::open(t.db.clone()).await.unwrap();
        // Update: a new name; a missing id keeps the stored one.
        let btc = reg.upsert(asset("btc", None, "Bitcoin (BTC)")).await.unwrap();
        assert_eq!(btc, asset("BTC", Some(1), "Bitcoin (BTC)"), "{}", t.label());
        assert_eq!(
            reg.get("BTC").await.unwrap().unwrap().name,
            "Bitcoin (BTC)",
            "{}",
            t.label()
        );
        // Add: upper-cased, an empty name becomes the symbol.
        let doge = reg.upsert(asset(" doge", Some(74), "  ")).await.unwrap();
        assert_eq!(doge, asset("DOGE", Some(74), "DOGE"), "{}", t.label());
        assert_eq!(reg.list().await.unwrap().len(), 7, "{}", t.label());
        // An id that another asset holds is refused and changes nothing.
        match reg.upsert(asset("ADA", Some(1027), "Cardano")).await {
            Err(FeatureError::CmcIdTaken {
                cmc_id,
                symbol,
                holder,
            }) => {
                assert_eq!(
                    (cmc_id, symbol.as_str(), holder.as_str()),
                    (1027, "ADA", "ETH"),
                    "{}",
                    t.label()
                );
            }
            other => panic!("{}: {other:?}", t.label()),
        }
        assert_eq!(reg.get("ADA").await.unwrap(), None, "{}", t.label());
        assert!(
            reg.upsert(asset("", Some(9), "x")).await.is_err(),
            "{}",
            t.label()
        );
    }
}

#[tokio::test]
async fn reopening_keeps_rows_and_does_not_reseed() {
    for t in talab_db::testing::backends().await {
        let reg = AssetRegistry::open(t.db.clone()).await.unwrap();
        reg.upsert(asset("ADA", Some(2010), "Cardano")).await.unwrap();
        reg.upsert(asset("ETH", None, "Ether")).await.unwrap();

        let other = Database::connect(&t.url()).await.unwrap();
        let again = AssetRegistry::open(other.clone()).await.unwrap();
        assert_eq!(
            again.get("ada").await.unwrap(),
            Some(asset("ADA", Some(2010), "Cardano")),
            "{}",
            t.label()
        );
        // The seed ran once: ETH keeps its new name.
        assert_eq!(
            again.get("ETH").await.unwrap().unwrap().name,
            "Ether",
            "{}",
            t.label()
        );
        assert_eq!(again.list().await.unwrap().len(), 7, "{}", t.label());
        // Migrating again is a no-op.
        other.migrate(&MIGRATIONS).await.unwrap();
        assert_eq!(again.list().await.unwrap().len(), 7, "{}", t.label());
        other.close().await;
    }
}

#[tokio::test]
async fn created_at_is_a_utc_time_on_both_backends() {
    for t in talab_db::testing::backends().await {
        let reg = AssetRegistry::open(t.db.clone()).await.unwrap();
        reg.upsert(asset("ADA", Some(2010), "Cardano")).await.unwrap();
        let before = chrono::Utc::now() - chrono::Duration::minutes(5);
        let times: Vec<chrono::DateTime<chrono::Utc>> = talab_db::on_pool!(reg.database(), pool => {
            sqlx::query_scalar("SELECT created_at FROM dim_assets ORDER BY symbol").fetch_all(pool).await
        })
        .unwrap();
        assert_eq!(times.len(), 7, "{}", t.label());
        assert!(
            times.iter().all(|ts| *ts > before && *ts <= chrono::Utc::now()),
            "{}: {times:?}",
            t.label()
        );
    }
}
