-- talab-memory, migration 0001: the memories and their append-only history.
-- Times are UTC text written by sqlx (sortable); JSON is TEXT; vectors are f32 little-endian blobs.

CREATE TABLE memories (
    id                 TEXT PRIMARY KEY NOT NULL,          -- UUID v4
    content            TEXT NOT NULL,
    content_hash       TEXT NOT NULL,                      -- sha256 hex of the normalised content
    scope              TEXT NOT NULL DEFAULT 'default',
    metadata           TEXT NOT NULL DEFAULT '{}',         -- a JSON object
    embedding          BLOB,                               -- f32 little-endian, `dim` values
    embedder           TEXT,                               -- name and revision of the model that made it
    dim                INTEGER,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    deprecated_at      TEXT,
    deprecation_reason TEXT,
    UNIQUE (scope, content_hash),
    CHECK ((embedding IS NULL AND embedder IS NULL AND dim IS NULL)
        OR (embedding IS NOT NULL AND embedder IS NOT NULL AND dim > 0 AND length(embedding) = 4 * dim))
);

CREATE INDEX memories_created_at ON memories (created_at, id);

-- Every add / update / deprecate / delete, never updated or deleted itself. No foreign key on
-- memory_id: the history of a hard-deleted memory is kept.
CREATE TABLE memory_events (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    memory_id TEXT NOT NULL,
    event     TEXT NOT NULL CHECK (event IN ('add', 'update', 'deprecate', 'delete')),
    at        TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT '{}'                   -- a JSON object
);

CREATE INDEX memory_events_memory ON memory_events (memory_id, id);
