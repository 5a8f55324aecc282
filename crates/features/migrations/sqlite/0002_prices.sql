-- Raw daily prices, one row per asset per day, exactly as a source delivered them (upsert key symbol, ts).
-- ts is the close of the day (D 23:59:59.999 UTC). Extreme times are NULL where the source does not report them.
-- Times are TEXT in the form sqlx writes for chrono DateTime<Utc> (sortable); days are YYYY-MM-DD text.
CREATE TABLE cmc_price_histories (
    symbol      TEXT NOT NULL CHECK (symbol <> '' AND symbol = upper(symbol)),
    ts          TEXT NOT NULL,
    time_open   TEXT NOT NULL,
    time_close  TEXT NOT NULL,
    time_high   TEXT,
    time_low    TEXT,
    open        REAL,
    high        REAL,
    low         REAL,
    close       REAL,
    volume      REAL,
    market_cap  REAL,
    source      TEXT NOT NULL CHECK (source IN ('cmc', 'cmc_csv', 'binance', 'coinbase', 'csv', 'synthetic')),
    source_file TEXT,
    ingested_at TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
);

-- CSV rows skipped by --skip-bad-rows, with why; keyed by file and line so a re-run replaces them.
CREATE TABLE cmc_price_histories_rejects (
    source_file TEXT NOT NULL,
    line        BIGINT NOT NULL,
    symbol      TEXT,
    reason      TEXT NOT NULL,
    raw         TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    PRIMARY KEY (source_file, line)
);

-- One validated bar per raw day, after the repair rules; each repair is flagged.
CREATE TABLE cmc_price_bars_1d (
    symbol             TEXT NOT NULL,
    ts                 TEXT NOT NULL,
    day                TEXT NOT NULL,
    time_open          TEXT NOT NULL,
    time_close         TEXT NOT NULL,
    time_high          TEXT NOT NULL,
    time_low           TEXT NOT NULL,
    open               REAL NOT NULL,
    high               REAL NOT NULL,
    low                REAL NOT NULL,
    close              REAL NOT NULL,
    volume             REAL NOT NULL,
    market_cap         REAL,
    source             TEXT NOT NULL,
    repaired_time_high INTEGER NOT NULL,
    repaired_time_low  INTEGER NOT NULL,
    repaired_high      INTEGER NOT NULL,
    repaired_low       INTEGER NOT NULL,
    PRIMARY KEY (symbol, ts),
    UNIQUE (symbol, day)
);

-- Raw rows that could not become a bar, with a reason code and a human detail.
CREATE TABLE cmc_price_bars_1d_rejects (
    symbol TEXT NOT NULL,
    ts     TEXT NOT NULL,
    day    TEXT NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
);
