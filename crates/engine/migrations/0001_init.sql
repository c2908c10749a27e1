-- Job definitions are stored as the JSON of their spec: the spec type is the schema, and
-- old rows keep loading because every new field has a default.
CREATE TABLE jobs (
    name       TEXT PRIMARY KEY NOT NULL,
    spec       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Times are Unix milliseconds (UTC).
CREATE TABLE runs (
    id         INTEGER PRIMARY KEY,
    job        TEXT NOT NULL,
    trigger    TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    ended_at   INTEGER,
    pid        INTEGER,
    pgid       INTEGER,
    outcome    TEXT,
    exit_code  INTEGER,
    signal     INTEGER,
    reason     TEXT
);
CREATE INDEX runs_by_job ON runs (job, id);
CREATE INDEX runs_open ON runs (id) WHERE outcome IS NULL;

CREATE TABLE events (
    seq  INTEGER PRIMARY KEY,
    at   INTEGER NOT NULL,
    job  TEXT,
    kind TEXT NOT NULL,
    data TEXT NOT NULL
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
