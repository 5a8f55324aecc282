-- Signal definitions and the trades of EMA-crossover signals (spec §8).

-- One row per signal definition; params is JSON:
-- {"fast": 9, "slow": 21, "direction": "long" | "long_short", "rsi_filter": false, "cooldown_bars": 0}.
CREATE TABLE dim_signals (
    signal_id   TEXT PRIMARY KEY,
    signal_type TEXT NOT NULL CHECK (signal_type IN ('ema_crossover')),
    description TEXT NOT NULL,
    params      TEXT NOT NULL,
    is_active   BOOLEAN NOT NULL DEFAULT TRUE
);

INSERT INTO dim_signals (signal_id, signal_type, description, params, is_active) VALUES
    ('ema_9_21_long', 'ema_crossover', 'long when the 1D EMA 9 crosses above the EMA 21; exit on the opposite cross',
     '{"fast":9,"slow":21,"direction":"long","rsi_filter":false,"cooldown_bars":0}', TRUE),
    ('ema_21_50_long', 'ema_crossover', 'long when the 1D EMA 21 crosses above the EMA 50; exit on the opposite cross',
     '{"fast":21,"slow":50,"direction":"long","rsi_filter":false,"cooldown_bars":0}', TRUE),
    ('ema_50_200_long', 'ema_crossover', 'long when the 1D EMA 50 crosses above the EMA 200 (golden cross); exit on the death cross',
     '{"fast":50,"slow":200,"direction":"long","rsi_filter":false,"cooldown_bars":0}', TRUE);

-- One row per trade: keyed by its entry (symbol, ts = entry bar's ts, signal). An open trade has no exit yet.
-- pnl_pct = (exit - entry) / entry * 100, reversed for shorts; NULL while open.
-- feature_snapshot is JSON: {"close", "fast", "slow", "rsi"} on the entry bar.
CREATE TABLE cmc_signals_ema_crossover (
    symbol           TEXT NOT NULL,
    ts               TEXT NOT NULL,
    signal_id        TEXT NOT NULL REFERENCES dim_signals (signal_id),
    direction        TEXT NOT NULL CHECK (direction IN ('long', 'short')),
    entry_ts         TEXT NOT NULL,
    entry_price      REAL NOT NULL,
    exit_ts          TEXT,
    exit_price       REAL,
    pnl_pct          REAL,
    status           TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    bars_held        BIGINT NOT NULL,
    feature_snapshot TEXT NOT NULL,
    computed_at      TEXT NOT NULL,
    PRIMARY KEY (symbol, ts, signal_id)
);

CREATE INDEX cmc_signals_ema_crossover_by_signal ON cmc_signals_ema_crossover (signal_id, symbol, ts);
