-- The task board: tasks keyed by a slug the client chooses ("fix-login").
CREATE TABLE IF NOT EXISTS tasks (
    id         TEXT    PRIMARY KEY,
    title      TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'todo' CHECK (status IN ('todo', 'doing', 'done')),
    assignee   TEXT    NOT NULL DEFAULT '',
    author_id  INTEGER NOT NULL REFERENCES users(id),
    created_at TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status);
