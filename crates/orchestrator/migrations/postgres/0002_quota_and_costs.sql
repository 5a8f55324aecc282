-- Quota use per (platform, unit, window): units are 'requests', 'tokens' and 'usd_micros' (the daily
-- budget in millionths of a dollar); a window is the local date in the platform's reset time zone.
-- Reservations are taken with one conditional UPDATE (used + reserved + n <= limit_value), so
-- concurrent tasks and processes never overspend.
CREATE TABLE quota_usage (
    platform    TEXT NOT NULL,
    unit        TEXT NOT NULL,
    window_key  TEXT NOT NULL,
    limit_value BIGINT NOT NULL,
    used        BIGINT NOT NULL DEFAULT 0,
    reserved    BIGINT NOT NULL DEFAULT 0,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, unit, window_key)
);
-- Threshold alerts (50/80/90 %), recorded once per window by the unique key.
CREATE TABLE quota_alerts (
    platform    TEXT NOT NULL,
    unit        TEXT NOT NULL,
    window_key  TEXT NOT NULL,
    threshold   BIGINT NOT NULL,
    used        BIGINT NOT NULL,
    limit_value BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (platform, unit, window_key, threshold)
);
-- One row per successful call: what it cost and which tokens, by kind.
CREATE TABLE cost_ledger (
    id             TEXT PRIMARY KEY,
    task_id        TEXT,
    chain_id       TEXT,
    correlation_id TEXT,
    platform       TEXT NOT NULL,
    model          TEXT NOT NULL,
    input_uncached BIGINT NOT NULL DEFAULT 0,
    cache_read     BIGINT NOT NULL DEFAULT 0,
    cache_write    BIGINT NOT NULL DEFAULT 0,
    output         BIGINT NOT NULL DEFAULT 0,
    reasoning      BIGINT NOT NULL DEFAULT 0,
    cost_usd       DOUBLE PRECISION NOT NULL DEFAULT 0,
    priced_known   BOOLEAN NOT NULL,
    day            TEXT NOT NULL,
    ts             TIMESTAMPTZ NOT NULL
);
CREATE INDEX cost_ledger_ts ON cost_ledger (ts);
CREATE INDEX cost_ledger_chain_id ON cost_ledger (chain_id);
