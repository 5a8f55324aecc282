-- talab-memory, migration 0001: the memories and their append-only history.
-- Vectors are f32 little-endian in BYTEA, so both backends hold the same bytes.

CREATE TABLE memories (
    id                 TEXT PRIMARY KEY,                   -- UUID v4
    content            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,                      -- sha256 hex of the normalised content
    scope              TEXT NOT NULL DEFAULT 'default',
    metadata           JSONB NOT NULL DEFAULT '{}'::jsonb, -- a JSON object
    embedding          BYTEA,                              -- f32 little-endian, `dim` values
    embedder           TEXT,                               -- name and revision of the model that made it
    dim                INTEGER,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    deprecated_at      TIMESTAMPTZ,
    deprecation_reason TEXT,
    UNIQUE (scope, content_hash),
    CHECK ((embedding IS NULL AND embedder IS NULL AND dim IS NULL)
        OR (embedding IS NOT NULL AND embedder IS NOT NULL AND dim > 0 AND length(embedding) = 4 * dim))
);

CREATE INDEX memories_created_at ON memories (created_at, id);

-- Every add / update / deprecate / delete, never updated or deleted itself. No foreign key on
-- memory_id: the history of a hard-deleted memory is kept.
CREATE TABLE memory_events (
    id        BIGSERIAL PRIMARY KEY,
    memory_id TEXT NOT NULL,
    event     TEXT NOT NULL CHECK (event IN ('add', 'update', 'deprecate', 'delete')),
    at        TIMESTAMPTZ NOT NULL,
    detail    JSONB NOT NULL DEFAULT '{}'::jsonb           -- a JSON object
);

CREATE INDEX memory_events_memory ON memory_events (memory_id, id);
