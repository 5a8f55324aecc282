-- Every executed task: what was asked, where it was routed, every attempt, and what came back.
-- JSON columns are TEXT here (JSONB on PostgreSQL); times are sortable RFC 3339 text in UTC.
CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    correlation_id   TEXT NOT NULL,
    chain_id         TEXT,
    task_type        TEXT NOT NULL,
    prompt           TEXT NOT NULL,
    task             TEXT NOT NULL,
    platform         TEXT,
    success          INTEGER NOT NULL CHECK (success IN (0, 1)),
    error            TEXT,
    output           TEXT NOT NULL,
    cost_usd         REAL NOT NULL DEFAULT 0,
    tokens_used      BIGINT NOT NULL DEFAULT 0,
    duration_seconds REAL NOT NULL DEFAULT 0,
    routing          TEXT,
    attempts         TEXT,
    metadata         TEXT NOT NULL DEFAULT '{}',
    created_at       TEXT NOT NULL,
    finished_at      TEXT NOT NULL
);
CREATE INDEX tasks_created_at ON tasks (created_at);
CREATE INDEX tasks_chain_id ON tasks (chain_id);
