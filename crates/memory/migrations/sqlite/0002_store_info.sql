-- talab-memory, migration 0002: which embedder a store's vectors come from, and reindex progress.
-- One row (id = 1). `target_*` is set while `talab memory reindex` switches the store to another
-- embedder and cleared when every vector has been re-embedded, so a crashed reindex can resume.

CREATE TABLE memory_store_info (
    id               INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    embedder_name    TEXT NOT NULL,
    embedder_revision TEXT NOT NULL,
    dim              INTEGER NOT NULL CHECK (dim > 0),
    target_name      TEXT,
    target_revision  TEXT,
    target_dim       INTEGER,
    updated_at       TEXT NOT NULL
);

-- When a memory was last confirmed still true (health reports stale memories from it and updated_at).
ALTER TABLE memories ADD COLUMN verified_at TEXT;
