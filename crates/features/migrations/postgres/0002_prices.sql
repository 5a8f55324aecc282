-- Raw daily prices, one row per asset per day, exactly as a source delivered them (upsert key symbol, ts).
-- ts is the close of the day (D 23:59:59.999 UTC). Extreme times are NULL where the source does not report them.
CREATE TABLE cmc_price_histories (
    symbol      TEXT NOT NULL CHECK (symbol <> '' AND symbol = upper(symbol)),
    ts          TIMESTAMPTZ NOT NULL,
    time_open   TIMESTAMPTZ NOT NULL,
    time_close  TIMESTAMPTZ NOT NULL,
    time_high   TIMESTAMPTZ,
    time_low    TIMESTAMPTZ,
    open        DOUBLE PRECISION,
    high        DOUBLE PRECISION,
    low         DOUBLE PRECISION,
    close       DOUBLE PRECISION,
    volume      DOUBLE PRECISION,
    market_cap  DOUBLE PRECISION,
    source      TEXT NOT NULL CHECK (source IN ('cmc', 'cmc_csv', 'binance', 'coinbase', 'csv', 'synthetic')),
    source_file TEXT,
    ingested_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, ts)
);

-- CSV rows skipped by --skip-bad-rows, with why; keyed by file and line so a re-run replaces them.
CREATE TABLE cmc_price_histories_rejects (
    source_file TEXT NOT NULL,
    line        BIGINT NOT NULL,
    symbol      TEXT,
    reason      TEXT NOT NULL,
    raw         TEXT NOT NULL,
    rejected_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (source_file, line)
);

-- One validated bar per raw day, after the repair rules; each repair is flagged.
CREATE TABLE cmc_price_bars_1d (
    symbol             TEXT NOT NULL,
    ts                 TIMESTAMPTZ NOT NULL,
    day                DATE NOT NULL,
    time_open          TIMESTAMPTZ NOT NULL,
    time_close         TIMESTAMPTZ NOT NULL,
    time_high          TIMESTAMPTZ NOT NULL,
    time_low           TIMESTAMPTZ NOT NULL,
    open               DOUBLE PRECISION NOT NULL,
    high               DOUBLE PRECISION NOT NULL,
    low                DOUBLE PRECISION NOT NULL,
    close              DOUBLE PRECISION NOT NULL,
    volume             DOUBLE PRECISION NOT NULL,
    market_cap         DOUBLE PRECISION,
    source             TEXT NOT NULL,
    repaired_time_high BOOLEAN NOT NULL,
    repaired_time_low  BOOLEAN NOT NULL,
    repaired_high      BOOLEAN NOT NULL,
    repaired_low       BOOLEAN NOT NULL,
    PRIMARY KEY (symbol, ts),
    UNIQUE (symbol, day)
);

-- Raw rows that could not become a bar, with a reason code and a human detail.
CREATE TABLE cmc_price_bars_1d_rejects (
    symbol TEXT NOT NULL,
    ts     TIMESTAMPTZ NOT NULL,
    day    DATE NOT NULL,
    reason TEXT NOT NULL,
    detail TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
);
