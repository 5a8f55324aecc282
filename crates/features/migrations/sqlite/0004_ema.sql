-- Multi-timeframe EMAs (spec §5–§6): one row per (symbol, tf, ts, period) from the first day the bar EMA
-- exists. The tf_day family and the calendar families live in two tables of the same shape.
CREATE TABLE cmc_ema_multi_tf (
    symbol         TEXT NOT NULL,
    tf             TEXT NOT NULL,
    ts             TEXT NOT NULL,
    period         INTEGER NOT NULL CHECK (period >= 1),
    tf_days        INTEGER NOT NULL,
    roll           INTEGER NOT NULL,
    ema            REAL NOT NULL,
    ema_bar        REAL NOT NULL,
    d1             REAL,
    d2             REAL,
    d1_roll        REAL,
    d2_roll        REAL,
    is_partial_end INTEGER NOT NULL,
    computed_at    TEXT NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period)
) WITHOUT ROWID;

CREATE TABLE cmc_ema_multi_tf_cal (
    symbol         TEXT NOT NULL,
    tf             TEXT NOT NULL,
    ts             TEXT NOT NULL,
    period         INTEGER NOT NULL CHECK (period >= 1),
    tf_days        INTEGER NOT NULL,
    roll           INTEGER NOT NULL,
    ema            REAL NOT NULL,
    ema_bar        REAL NOT NULL,
    d1             REAL,
    d2             REAL,
    d1_roll        REAL,
    d2_roll        REAL,
    is_partial_end INTEGER NOT NULL,
    computed_at    TEXT NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period)
) WITHOUT ROWID;

-- Values that failed validation (they are still written to the EMA tables); one row per value and check.
CREATE TABLE ema_rejects (
    symbol      TEXT NOT NULL,
    tf          TEXT NOT NULL,
    ts          TEXT NOT NULL,
    period      INTEGER NOT NULL,
    column_name TEXT NOT NULL CHECK (column_name IN ('ema', 'ema_bar')),
    value       REAL,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period, column_name)
) WITHOUT ROWID;

-- Where each (symbol, tf, period) stopped: the last day computed, a fingerprint of the (day, close) series
-- it was computed from (the raw watermark), and the serialised EMA state to roll forward from.
CREATE TABLE cmc_ema_multi_tf_state (
    symbol      TEXT NOT NULL,
    tf          TEXT NOT NULL,
    period      INTEGER NOT NULL,
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    n_days      BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (symbol, tf, period)
) WITHOUT ROWID;
