-- Every executed task: what was asked, where it was routed, every attempt, and what came back.
CREATE TABLE tasks (
    id               TEXT PRIMARY KEY,
    correlation_id   TEXT NOT NULL,
    chain_id         TEXT,
    task_type        TEXT NOT NULL,
    prompt           TEXT NOT NULL,
    task             JSONB NOT NULL,
    platform         TEXT,
    success          BOOLEAN NOT NULL,
    error            TEXT,
    output           TEXT NOT NULL,
    cost_usd         DOUBLE PRECISION NOT NULL DEFAULT 0,
    tokens_used      BIGINT NOT NULL DEFAULT 0,
    duration_seconds DOUBLE PRECISION NOT NULL DEFAULT 0,
    routing          JSONB,
    attempts         JSONB,
    metadata         JSONB NOT NULL DEFAULT '{}',
    created_at       TIMESTAMPTZ NOT NULL,
    finished_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX tasks_created_at ON tasks (created_at);
CREATE INDEX tasks_chain_id ON tasks (chain_id);
