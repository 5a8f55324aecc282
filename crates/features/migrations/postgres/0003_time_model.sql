-- The time model (timeframes, sessions) and the multi-timeframe snapshot bars built on it.

-- Every timeframe talab knows; is_canonical = computed by default (`talab timeframes enable|disable`).
-- tf_days_nominal is NULL for hourly timeframes: they are not on the daily grid, so no daily alpha applies.
CREATE TABLE dim_timeframe (
    tf              TEXT PRIMARY KEY,
    label           TEXT NOT NULL,
    base_unit       TEXT NOT NULL CHECK (base_unit IN ('D', 'W', 'M', 'Q', 'Y', 'H')),
    tf_qty          BIGINT NOT NULL CHECK (tf_qty >= 1),
    tf_days_nominal BIGINT,
    alignment_type  TEXT NOT NULL CHECK (alignment_type IN ('tf_day', 'calendar')),
    calendar_scheme TEXT CHECK (calendar_scheme IN ('US', 'ISO')),
    anchored        BOOLEAN NOT NULL,
    is_intraday     BOOLEAN NOT NULL,
    sort_order      BIGINT NOT NULL,
    is_canonical    BOOLEAN NOT NULL DEFAULT FALSE
);

INSERT INTO dim_timeframe (tf, label, base_unit, tf_qty, tf_days_nominal, alignment_type, calendar_scheme,
                           anchored, is_intraday, sort_order, is_canonical) VALUES
    ('1H', '1 hour', 'H', 1, NULL, 'tf_day', NULL, FALSE, TRUE, 20, FALSE),
    ('2H', '2 hours', 'H', 2, NULL, 'tf_day', NULL, FALSE, TRUE, 40, FALSE),
    ('4H', '4 hours', 'H', 4, NULL, 'tf_day', NULL, FALSE, TRUE, 80, FALSE),
    ('6H', '6 hours', 'H', 6, NULL, 'tf_day', NULL, FALSE, TRUE, 120, FALSE),
    ('8H', '8 hours', 'H', 8, NULL, 'tf_day', NULL, FALSE, TRUE, 160, FALSE),
    ('12H', '12 hours', 'H', 12, NULL, 'tf_day', NULL, FALSE, TRUE, 240, FALSE),
    ('1D', '1 day', 'D', 1, 1, 'tf_day', NULL, FALSE, FALSE, 480, TRUE),
    ('2D', '2 days', 'D', 2, 2, 'tf_day', NULL, FALSE, FALSE, 960, TRUE),
    ('3D', '3 days', 'D', 3, 3, 'tf_day', NULL, FALSE, FALSE, 1440, TRUE),
    ('4D', '4 days', 'D', 4, 4, 'tf_day', NULL, FALSE, FALSE, 1920, FALSE),
    ('5D', '5 days', 'D', 5, 5, 'tf_day', NULL, FALSE, FALSE, 2400, TRUE),
    ('6D', '6 days', 'D', 6, 6, 'tf_day', NULL, FALSE, FALSE, 2880, FALSE),
    ('7D', '7 days', 'D', 7, 7, 'tf_day', NULL, FALSE, FALSE, 3360, TRUE),
    ('1W_CAL_US', '1 week (Sun–Sat)', 'W', 1, 7, 'calendar', 'US', FALSE, FALSE, 3362, TRUE),
    ('1W_CAL_ANCHOR_US', '1 week (Sun–Sat, anchored)', 'W', 1, 7, 'calendar', 'US', TRUE, FALSE, 3363, FALSE),
    ('1W_CAL_ISO', '1 week (Mon–Sun)', 'W', 1, 7, 'calendar', 'ISO', FALSE, FALSE, 3364, TRUE),
    ('1W_CAL_ANCHOR_ISO', '1 week (Mon–Sun, anchored)', 'W', 1, 7, 'calendar', 'ISO', TRUE, FALSE, 3365, FALSE),
    ('10D', '10 days', 'D', 10, 10, 'tf_day', NULL, FALSE, FALSE, 4800, FALSE),
    ('14D', '14 days', 'D', 14, 14, 'tf_day', NULL, FALSE, FALSE, 6720, TRUE),
    ('2W_CAL_US', '2 weeks (Sun–Sat)', 'W', 2, 14, 'calendar', 'US', FALSE, FALSE, 6722, FALSE),
    ('2W_CAL_ANCHOR_US', '2 weeks (Sun–Sat, anchored)', 'W', 2, 14, 'calendar', 'US', TRUE, FALSE, 6723, FALSE),
    ('2W_CAL_ISO', '2 weeks (Mon–Sun)', 'W', 2, 14, 'calendar', 'ISO', FALSE, FALSE, 6724, FALSE),
    ('2W_CAL_ANCHOR_ISO', '2 weeks (Mon–Sun, anchored)', 'W', 2, 14, 'calendar', 'ISO', TRUE, FALSE, 6725, FALSE),
    ('15D', '15 days', 'D', 15, 15, 'tf_day', NULL, FALSE, FALSE, 7200, FALSE),
    ('20D', '20 days', 'D', 20, 20, 'tf_day', NULL, FALSE, FALSE, 9600, FALSE),
    ('21D', '21 days', 'D', 21, 21, 'tf_day', NULL, FALSE, FALSE, 10080, TRUE),
    ('28D', '28 days', 'D', 28, 28, 'tf_day', NULL, FALSE, FALSE, 13440, FALSE),
    ('4W_CAL_US', '4 weeks (Sun–Sat)', 'W', 4, 28, 'calendar', 'US', FALSE, FALSE, 13442, FALSE),
    ('4W_CAL_ANCHOR_US', '4 weeks (Sun–Sat, anchored)', 'W', 4, 28, 'calendar', 'US', TRUE, FALSE, 13443, FALSE),
    ('4W_CAL_ISO', '4 weeks (Mon–Sun)', 'W', 4, 28, 'calendar', 'ISO', FALSE, FALSE, 13444, FALSE),
    ('4W_CAL_ANCHOR_ISO', '4 weeks (Mon–Sun, anchored)', 'W', 4, 28, 'calendar', 'ISO', TRUE, FALSE, 13445, FALSE),
    ('30D', '30 days', 'D', 30, 30, 'tf_day', NULL, FALSE, FALSE, 14400, TRUE),
    ('1M_CAL', '1 month', 'M', 1, 30, 'calendar', NULL, FALSE, FALSE, 14406, TRUE),
    ('1M_CAL_ANCHOR', '1 month (anchored)', 'M', 1, 30, 'calendar', NULL, TRUE, FALSE, 14407, FALSE),
    ('45D', '45 days', 'D', 45, 45, 'tf_day', NULL, FALSE, FALSE, 21600, FALSE),
    ('60D', '60 days', 'D', 60, 60, 'tf_day', NULL, FALSE, FALSE, 28800, FALSE),
    ('2M_CAL', '2 months', 'M', 2, 60, 'calendar', NULL, FALSE, FALSE, 28806, FALSE),
    ('2M_CAL_ANCHOR', '2 months (anchored)', 'M', 2, 60, 'calendar', NULL, TRUE, FALSE, 28807, FALSE),
    ('90D', '90 days', 'D', 90, 90, 'tf_day', NULL, FALSE, FALSE, 43200, FALSE),
    ('3M_CAL', '3 months', 'M', 3, 90, 'calendar', NULL, FALSE, FALSE, 43206, TRUE),
    ('3M_CAL_ANCHOR', '3 months (anchored)', 'M', 3, 90, 'calendar', NULL, TRUE, FALSE, 43207, FALSE),
    ('1Q_CAL', '1 quarter', 'Q', 1, 91, 'calendar', NULL, FALSE, FALSE, 43688, FALSE),
    ('1Q_CAL_ANCHOR', '1 quarter (anchored)', 'Q', 1, 91, 'calendar', NULL, TRUE, FALSE, 43689, FALSE),
    ('120D', '120 days', 'D', 120, 120, 'tf_day', NULL, FALSE, FALSE, 57600, FALSE),
    ('180D', '180 days', 'D', 180, 180, 'tf_day', NULL, FALSE, FALSE, 86400, FALSE),
    ('6M_CAL', '6 months', 'M', 6, 180, 'calendar', NULL, FALSE, FALSE, 86406, FALSE),
    ('6M_CAL_ANCHOR', '6 months (anchored)', 'M', 6, 180, 'calendar', NULL, TRUE, FALSE, 86407, FALSE),
    ('2Q_CAL', '2 quarters', 'Q', 2, 182, 'calendar', NULL, FALSE, FALSE, 87368, FALSE),
    ('2Q_CAL_ANCHOR', '2 quarters (anchored)', 'Q', 2, 182, 'calendar', NULL, TRUE, FALSE, 87369, FALSE),
    ('12M_CAL', '12 months', 'M', 12, 360, 'calendar', NULL, FALSE, FALSE, 172806, FALSE),
    ('12M_CAL_ANCHOR', '12 months (anchored)', 'M', 12, 360, 'calendar', NULL, TRUE, FALSE, 172807, FALSE),
    ('365D', '365 days', 'D', 365, 365, 'tf_day', NULL, FALSE, FALSE, 175200, FALSE),
    ('1Y_CAL', '1 year', 'Y', 1, 365, 'calendar', NULL, FALSE, FALSE, 175210, TRUE),
    ('1Y_CAL_ANCHOR', '1 year (anchored)', 'Y', 1, 365, 'calendar', NULL, TRUE, FALSE, 175211, FALSE),
    ('2Y_CAL', '2 years', 'Y', 2, 730, 'calendar', NULL, FALSE, FALSE, 350410, FALSE),
    ('2Y_CAL_ANCHOR', '2 years (anchored)', 'Y', 2, 730, 'calendar', NULL, TRUE, FALSE, 350411, FALSE);


-- Trading sessions: which local hours make up a market's day (crypto: the UTC day).
CREATE TABLE dim_sessions (
    asset_class          TEXT NOT NULL,
    region               TEXT NOT NULL,
    venue                TEXT NOT NULL,
    session_type         TEXT NOT NULL,
    timezone             TEXT NOT NULL,
    open_local           TIME NOT NULL,
    close_local          TIME NOT NULL,
    is_24h               BOOLEAN NOT NULL,
    is_primary_for_daily BOOLEAN NOT NULL,
    PRIMARY KEY (asset_class, region, venue, session_type)
);

INSERT INTO dim_sessions VALUES
    ('CRYPTO', 'GLOBAL', 'DEFAULT', 'REGULAR', 'UTC', '00:00:00', '00:00:00', TRUE, TRUE),
    ('EQUITY', 'US', 'NYSE', 'REGULAR', 'America/New_York', '09:30:00', '16:00:00', FALSE, TRUE);

-- Rolling day-count bars (tf_day family: 1D, 2D, …): one snapshot row per (symbol, tf, day); ts = the day's time_close.
CREATE TABLE cmc_price_bars_multi_tf (
    symbol             TEXT NOT NULL,
    tf                 TEXT NOT NULL,
    ts                 TIMESTAMPTZ NOT NULL,
    day                DATE NOT NULL,
    bar_seq            BIGINT NOT NULL,
    pos_in_bar         BIGINT NOT NULL,
    time_open          TIMESTAMPTZ NOT NULL,
    open               DOUBLE PRECISION NOT NULL,
    high               DOUBLE PRECISION NOT NULL,
    low                DOUBLE PRECISION NOT NULL,
    close              DOUBLE PRECISION NOT NULL,
    volume             DOUBLE PRECISION NOT NULL,
    time_high          TIMESTAMPTZ NOT NULL,
    time_low           TIMESTAMPTZ NOT NULL,
    count_days         BIGINT NOT NULL,
    count_missing_days BIGINT NOT NULL,
    is_partial_start   BOOLEAN NOT NULL,
    is_partial_end     BOOLEAN NOT NULL,
    PRIMARY KEY (symbol, tf, ts)
);

-- Calendar bars (weeks US/ISO, months, quarters, years, anchored or not): one snapshot row per (symbol, tf, day); ts = the day's time_close.
CREATE TABLE cmc_price_bars_multi_tf_cal (
    symbol             TEXT NOT NULL,
    tf                 TEXT NOT NULL,
    ts                 TIMESTAMPTZ NOT NULL,
    day                DATE NOT NULL,
    bar_seq            BIGINT NOT NULL,
    pos_in_bar         BIGINT NOT NULL,
    time_open          TIMESTAMPTZ NOT NULL,
    open               DOUBLE PRECISION NOT NULL,
    high               DOUBLE PRECISION NOT NULL,
    low                DOUBLE PRECISION NOT NULL,
    close              DOUBLE PRECISION NOT NULL,
    volume             DOUBLE PRECISION NOT NULL,
    time_high          TIMESTAMPTZ NOT NULL,
    time_low           TIMESTAMPTZ NOT NULL,
    count_days         BIGINT NOT NULL,
    count_missing_days BIGINT NOT NULL,
    is_partial_start   BOOLEAN NOT NULL,
    is_partial_end     BOOLEAN NOT NULL,
    PRIMARY KEY (symbol, tf, ts)
);

-- What the stored bars of (symbol, tf) were built from: the first and last daily bar, how many, and a
-- fingerprint of them, so that an append can prove nothing before it changed (else: rebuild).
CREATE TABLE cmc_price_bars_multi_tf_state (
    symbol      TEXT NOT NULL,
    tf          TEXT NOT NULL,
    first_day   DATE NOT NULL,
    last_day    DATE NOT NULL,
    n_days      BIGINT NOT NULL,
    fingerprint BIGINT NOT NULL,
    PRIMARY KEY (symbol, tf)
);
