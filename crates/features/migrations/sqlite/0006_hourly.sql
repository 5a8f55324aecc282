-- Validated hourly bars: the input of intraday (NH) EMAs. One row per (symbol, hour); ts is the
-- hour's last millisecond (HH:59:59.999 UTC), as a daily bar's ts is its day's last millisecond.
-- Exchange candles report no times for their extremes, so only the high/low repairs of the daily
-- rules apply (high := max(h, o, c, l), low := min(l, o, c, h)), each flagged.
CREATE TABLE cmc_price_bars_1h (
    symbol        TEXT NOT NULL,
    ts            TEXT NOT NULL,
    time_open     TEXT NOT NULL,
    open          REAL NOT NULL,
    high          REAL NOT NULL,
    low           REAL NOT NULL,
    close         REAL NOT NULL,
    volume        REAL NOT NULL,
    source        TEXT NOT NULL,
    repaired_high INTEGER NOT NULL,
    repaired_low  INTEGER NOT NULL,
    ingested_at   TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
);
