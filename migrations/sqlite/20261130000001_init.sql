-- Herald's schema: users and sessions, the two admin resources, and the live event log.
-- Timestamps are RFC 3339 UTC strings with milliseconds ("2026-11-30T12:00:00.123Z"),
-- which sort and compare correctly as text.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT    NOT NULL UNIQUE,
    password_hash TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    updated_at    TEXT    NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);

-- Sessions are looked up by the SHA-256 of their secret: a leaked database holds no usable
-- cookie. `kind` is 'cookie' (browser login) or 'token' (bearer, for non-browser clients).
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL CHECK (kind IN ('cookie', 'token')),
    created_at TEXT    NOT NULL,
    expires_at TEXT    NOT NULL
);
CREATE INDEX sessions_expiry ON sessions(expires_at);

CREATE TABLE posts (
    id         INTEGER PRIMARY KEY,
    title      TEXT    NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    content    TEXT    NOT NULL DEFAULT '',
    status     TEXT    NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'rejected')),
    category   TEXT    NOT NULL DEFAULT '',
    author_id  INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX posts_status ON posts(status);
CREATE INDEX posts_author ON posts(author_id);

-- Deleting a post deletes its comments in the same transaction (and logs their deletion).
CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    post_id    INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
    author_id  INTEGER NOT NULL REFERENCES users(id),
    body       TEXT    NOT NULL CHECK (length(body) > 0),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX comments_post ON comments(post_id);

-- The durable live log: one row per event on a durable channel, appended in the same
-- transaction as the write it describes. `seq` is the cursor; SQLite serialises writers,
-- so seq order is commit order.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    channel    TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    meta       TEXT    NOT NULL,
    created_at TEXT    NOT NULL
);
CREATE INDEX events_channel ON events(channel, seq);

-- Facts about this database. `log_id` names this event log, so a cursor minted by another
-- database is recognised as foreign instead of being misread as a position in this one.
CREATE TABLE herald_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
