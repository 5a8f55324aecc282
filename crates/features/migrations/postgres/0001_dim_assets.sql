-- Assets known to talab-features: one row per symbol (upper-case), with its CoinMarketCap id where known.
CREATE TABLE dim_assets (
    symbol     TEXT PRIMARY KEY CHECK (symbol <> '' AND symbol = upper(symbol)),
    cmc_id     BIGINT UNIQUE,
    name       TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO dim_assets (symbol, cmc_id, name) VALUES
    ('BTC', 1, 'Bitcoin'),
    ('ETH', 1027, 'Ethereum'),
    ('XRP', 52, 'XRP'),
    ('BNB', 1839, 'BNB'),
    ('LINK', 1975, 'Chainlink'),
    ('SOL', 5426, 'Solana');
