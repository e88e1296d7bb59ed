-- The task board: tasks keyed by a slug the client chooses ("fix-login"). Text columns are
-- COLLATE "C" (SQLite's byte order); timestamps are RFC 3339 text.
CREATE TABLE IF NOT EXISTS tasks (
    id         TEXT COLLATE "C" PRIMARY KEY,
    title      TEXT COLLATE "C" NOT NULL,
    status     TEXT COLLATE "C" NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
    assignee   TEXT COLLATE "C" NOT NULL DEFAULT '',
    author_id  BIGINT NOT NULL REFERENCES users(id),
    created_at TEXT   NOT NULL,
    updated_at TEXT   NOT NULL,
    version    BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status);
