-- The log's head as a counter row: appends take `seq` from it inside the write transaction,
-- so positions are contiguous (a rolled-back write gives its numbers back) and survive
-- retention deleting every row. PostgreSQL uses the same row to serialise appends across
-- nodes; see server/src/store/log.rs.
CREATE TABLE log_head (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL
);
INSERT INTO log_head (id, seq) VALUES (
    1,
    MAX(
        COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0),
        COALESCE((SELECT MAX(seq) FROM events), 0)
    )
);
