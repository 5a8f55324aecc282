-- A run is written when it starts ('running'), updated as each symbol commits, and finished ('done').
-- A process killed mid-run leaves its row 'running' under its owner (host and pid); the next flow to
-- start finds the owner gone, marks the row 'interrupted' and remembers what it had committed.
ALTER TABLE talab_runs ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
ALTER TABLE talab_runs ADD COLUMN owner TEXT;
-- What each symbol of a run committed, one row as it commits: the facts an interrupted run leaves.
CREATE TABLE talab_run_symbols (
    run_id  TEXT NOT NULL,
    symbol  TEXT NOT NULL,
    outcome TEXT NOT NULL,
    PRIMARY KEY (run_id, symbol)
);
