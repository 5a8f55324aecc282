-- Runs of the joined flow (`talab refresh-ema`): the exact facts `talab ask` answers from, next to the
-- memory written for each run. One row per run, success or failure.
CREATE TABLE talab_runs (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    task_id        TEXT,
    memory_id      TEXT,
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ NOT NULL,
    symbols        TEXT NOT NULL,
    tfs            TEXT NOT NULL,
    periods        TEXT NOT NULL,
    date_from      DATE,
    date_to        DATE,
    rows_tf_day    BIGINT NOT NULL,
    rows_calendar  BIGINT NOT NULL,
    rejects        BIGINT NOT NULL,
    duration_ms    DOUBLE PRECISION NOT NULL,
    success        BOOLEAN NOT NULL,
    error          TEXT,
    detail         TEXT NOT NULL
);
CREATE INDEX talab_runs_started ON talab_runs (started_at);
