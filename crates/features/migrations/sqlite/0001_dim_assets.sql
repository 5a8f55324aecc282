-- Assets known to talab-features: one row per symbol (upper-case), with its CoinMarketCap id where known.
CREATE TABLE dim_assets (
    symbol     TEXT PRIMARY KEY CHECK (symbol <> '' AND symbol = upper(symbol)),
    cmc_id     BIGINT UNIQUE,
    name       TEXT NOT NULL,
    -- The same text form sqlx writes for a chrono DateTime<Utc>, so it sorts and decodes alike.
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f+00:00', 'now'))
);

INSERT INTO dim_assets (symbol, cmc_id, name) VALUES
    ('BTC', 1, 'Bitcoin'),
    ('ETH', 1027, 'Ethereum'),
    ('XRP', 52, 'XRP'),
    ('BNB', 1839, 'BNB'),
    ('LINK', 1975, 'Chainlink'),
    ('SOL', 5426, 'Solana');
