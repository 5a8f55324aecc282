-- Multi-timeframe EMAs (spec §5–§6): one row per (symbol, tf, ts, period) from the first day the bar EMA
-- exists. The tf_day family and the calendar families live in two tables of the same shape.
CREATE TABLE cmc_ema_multi_tf (
    symbol         TEXT NOT NULL,
    tf             TEXT NOT NULL,
    ts             TIMESTAMPTZ NOT NULL,
    period         INTEGER NOT NULL CHECK (period >= 1),
    tf_days        INTEGER NOT NULL,
    roll           BOOLEAN NOT NULL,
    ema            DOUBLE PRECISION NOT NULL,
    ema_bar        DOUBLE PRECISION NOT NULL,
    d1             DOUBLE PRECISION,
    d2             DOUBLE PRECISION,
    d1_roll        DOUBLE PRECISION,
    d2_roll        DOUBLE PRECISION,
    is_partial_end BOOLEAN NOT NULL,
    computed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period)
);

CREATE TABLE cmc_ema_multi_tf_cal (
    symbol         TEXT NOT NULL,
    tf             TEXT NOT NULL,
    ts             TIMESTAMPTZ NOT NULL,
    period         INTEGER NOT NULL CHECK (period >= 1),
    tf_days        INTEGER NOT NULL,
    roll           BOOLEAN NOT NULL,
    ema            DOUBLE PRECISION NOT NULL,
    ema_bar        DOUBLE PRECISION NOT NULL,
    d1             DOUBLE PRECISION,
    d2             DOUBLE PRECISION,
    d1_roll        DOUBLE PRECISION,
    d2_roll        DOUBLE PRECISION,
    is_partial_end BOOLEAN NOT NULL,
    computed_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period)
);

-- Values that failed validation (they are still written to the EMA tables); one row per value and check.
CREATE TABLE ema_rejects (
    symbol      TEXT NOT NULL,
    tf          TEXT NOT NULL,
    ts          TIMESTAMPTZ NOT NULL,
    period      INTEGER NOT NULL,
    column_name TEXT NOT NULL CHECK (column_name IN ('ema', 'ema_bar')),
    value       DOUBLE PRECISION,
    reason      TEXT NOT NULL,
    detail      TEXT NOT NULL,
    computed_at TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, tf, ts, period, column_name)
);

-- Where each (symbol, tf, period) stopped: the last day computed, a fingerprint of the (day, close) series
-- it was computed from (the raw watermark), and the serialised EMA state to roll forward from.
CREATE TABLE cmc_ema_multi_tf_state (
    symbol      TEXT NOT NULL,
    tf          TEXT NOT NULL,
    period      INTEGER NOT NULL,
    first_day   DATE NOT NULL,
    last_day    DATE NOT NULL,
    n_days      BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    state       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (symbol, tf, period)
);
