-- Validated hourly bars: the input of intraday (NH) EMAs. One row per (symbol, hour); ts is the
-- hour's last millisecond (HH:59:59.999 UTC), as a daily bar's ts is its day's last millisecond.
-- Exchange candles report no times for their extremes, so only the high/low repairs of the daily
-- rules apply (high := max(h, o, c, l), low := min(l, o, c, h)), each flagged.
CREATE TABLE cmc_price_bars_1h (
    symbol        TEXT NOT NULL,
    ts            TIMESTAMPTZ NOT NULL,
    time_open     TIMESTAMPTZ NOT NULL,
    open          DOUBLE PRECISION NOT NULL,
    high          DOUBLE PRECISION NOT NULL,
    low           DOUBLE PRECISION NOT NULL,
    close         DOUBLE PRECISION NOT NULL,
    volume        DOUBLE PRECISION NOT NULL,
    source        TEXT NOT NULL,
    repaired_high BOOLEAN NOT NULL,
    repaired_low  BOOLEAN NOT NULL,
    ingested_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, ts)
);
