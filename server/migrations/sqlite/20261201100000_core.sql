-- Herald's own tables, whatever the app: users and their sessions, and the durable event
-- log. The app's tables come from the app's migrations, which run after these.
-- Timestamps are RFC 3339 UTC strings with milliseconds ("2026-11-30T12:00:00.123Z"),
-- which sort and compare correctly as text.
-- IF NOT EXISTS: databases created before the server and the app had separate migrations
-- already hold these tables.

CREATE TABLE IF NOT EXISTS users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);

-- Sessions are looked up by the SHA-256 of their secret: a leaked database holds no usable
-- cookie. `kind` is 'cookie' (browser login) or 'token' (bearer, for non-browser clients).
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('cookie', 'token')),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry ON sessions(expires_at);

-- The durable live log: one row per event on a durable channel, appended in the same
-- transaction as the write it describes. `seq` is the cursor; SQLite serialises writers,
-- so seq order is commit order.
CREATE TABLE IF NOT EXISTS events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    meta       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS events_channel ON events(channel, seq);

-- Facts about this database. `log_id` names this event log, so a cursor minted by another
-- database is recognised as foreign instead of being misread as a position in this one.
CREATE TABLE IF NOT EXISTS herald_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- The log's head as a counter row: appends take `seq` from it inside the write transaction,
-- so positions are contiguous (a rolled-back write gives its numbers back) and survive
-- retention deleting every row. PostgreSQL uses the same row to serialise appends across
-- nodes; see server/src/store/log.rs.
CREATE TABLE IF NOT EXISTS log_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT OR IGNORE INTO log_head (id, seq) VALUES (
    1,
    MAX(
        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
        COALESCE((SELECT MAX(seq) FROM events), 0)
    )
);
