//! The durable event log: rows appended inside the transaction of the write they describe,
//! so an event exists if and only if its change committed. `seq` orders the log; a cursor
//! is `<log_id>-<seq>`, opaque to clients.
//!
//! Gap-freedom: `seq` comes from the single `log_head` row, advanced by the append inside
//! the write's own transaction. Whoever advances it holds that row's lock until commit (on
//! SQLite the database write lock does the same), so
//! - seq order is commit order: a transaction cannot take `n + 1` before the holder of `n`
//!   has committed or rolled back, and a reader that has seen `n` will never later find a
//!   row below `n` appear;
//! - positions are contiguous: a rolled-back write gives its numbers back, so a follower
//!   that sees `n + 2` after `n` knows exactly one event is missing and reads it.
//!
//! The cost, on PostgreSQL with several nodes: appends — and so commits — are serialised
//! cluster-wide from the append to the commit. Each write takes the lock as its last
//! statement, so it is held for one round trip plus the commit's WAL flush (about a
//! millisecond on a local disk), which bounds the cluster at roughly a thousand writes per
//! second. The alternative, positions assigned after commit by a sequencer, adds a hop and
//! a moving part to every write; Herald's writes are human edits, far below that bound.
//! Every append also queues `NOTIFY herald_log, '<last seq>'`, delivered at commit: other
//! nodes' followers wake up and read the log ([`super::follow`]).

use super::sql::Backend;
use chrono::{SecondsFormat, Utc};
use herald_protocol::{Id, Identity};
use serde_json::{json, Value};
use sqlx::{AnyConnection, AnyPool};

pub use herald_protocol::live::event::{CREATED, DELETED, UPDATED};

/// An event as it goes on the wire (`event` of an `op: event` frame).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub channel: String,
    pub kind: String,
    pub payload: Value,
}

impl NewEvent {
    /// An event on `resources/{resource}` about records `ids`.
    pub fn resource(resource: &str, kind: &str, ids: &[Id], data: Option<&Value>) -> Self {
        let ids: Vec<String> = ids.iter().map(Id::to_wire).collect();
        let payload = match data {
            Some(data) => json!({ "ids": ids, "data": data }),
            None => json!({ "ids": ids }),
        };
        Self {
            channel: herald_protocol::live::channel::resource(resource),
            kind: kind.to_owned(),
            payload,
        }
    }
}

/// An event that is in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct LoggedEvent {
    pub seq: i64,
    pub channel: String,
    pub kind: String,
    /// The full wire object: channel, type, payload, date, meta.
    pub event: Value,
}

/// Now, as the log and the records write it: RFC 3339, UTC, milliseconds.
pub fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// `meta` as the server stamps it: who did it, and the client's origin id if it sent one.
pub fn meta(user: &Identity, origin: Option<&str>) -> Value {
    json!({ "user": { "id": user.id.to_string(), "name": user.name }, "origin": origin })
}

/// The PostgreSQL channel that announces new log positions (a wake-up, never the data).
pub const NOTIFY_CHANNEL: &str = "herald_log";

/// Appends `events`, in order, inside the caller's write transaction.
pub async fn append(
    tx: &mut AnyConnection,
    backend: Backend,
    events: Vec<NewEvent>,
    meta: &Value,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    if events.is_empty() {
        return Ok(Vec::new());
    }
    let count = i64::try_from(events.len()).unwrap_or(i64::MAX);
    let last: i64 =
        sqlx::query_scalar("UPDATE log_head SET seq = seq + $1 WHERE id = 1 RETURNING seq")
            .bind(count)
            .fetch_one(&mut *tx)
            .await?;
    let date = now();
    let meta_text = meta.to_string();
    let mut logged = Vec::with_capacity(events.len());
    for (seq, event) in (last - count + 1..).zip(events) {
        sqlx::query(
            "INSERT INTO events (seq, channel, type, payload, meta, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(seq)
        .bind(event.channel.clone())
        .bind(event.kind.clone())
        .bind(event.payload.to_string())
        .bind(meta_text.clone())
        .bind(date.clone())
        .execute(&mut *tx)
        .await?;
        let wire = json!({
            "channel": event.channel,
            "type": event.kind,
            "payload": event.payload,
            "date": date,
            "meta": meta,
        });
        logged.push(LoggedEvent {
            seq,
            channel: event.channel,
            kind: event.kind,
            event: wire,
        });
    }
    if backend == Backend::Postgres {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(NOTIFY_CHANNEL)
            .bind(last.to_string())
            .execute(&mut *tx)
            .await?;
    }
    Ok(logged)
}

/// The newest committed `seq` (0 before the first event).
pub async fn head(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT seq FROM log_head WHERE id = 1")
        .fetch_one(pool)
        .await
}

/// The highest `seq` that retention has deleted: cursors below it cannot be replayed.
pub async fn trimmed_upto(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'trimmed_upto'")
            .fetch_optional(pool)
            .await?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Events on `channel` with `after < seq <= upto`, oldest first, at most `limit`.
pub async fn read_range(
    pool: &AnyPool,
    channel: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, channel, type, payload, meta, created_at FROM events \
         WHERE channel = $1 AND seq > $2 AND seq <= $3 ORDER BY seq LIMIT $4",
    )
    .bind(channel.to_owned())
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Every event with `seq > after`, oldest first, at most `limit` (for a lagging listener).
pub async fn read_after(
    pool: &AnyPool,
    after: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, channel, type, payload, meta, created_at FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

fn from_row(
    (seq, channel, kind, payload, meta, date): (i64, String, String, String, String, String),
) -> LoggedEvent {
    let parse = |s: &str| serde_json::from_str::<Value>(s).unwrap_or(Value::Null);
    let event = json!({
        "channel": channel,
        "type": kind,
        "payload": parse(&payload),
        "date": date,
        "meta": parse(&meta),
    });
    LoggedEvent {
        seq,
        channel,
        kind,
        event,
    }
}

/// Applies retention: keeps at most `keep` events, at most `keep_bytes` bytes of payload and
/// meta (the newest event always, however large), and none older than `max_age`.
/// Returns how many were deleted. The highest deleted `seq` is remembered so that a
/// cursor from before it is answered with `reset` rather than a silent gap.
pub async fn trim(
    pool: &AnyPool,
    backend: Backend,
    keep: i64,
    keep_bytes: i64,
    max_age: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let cutoff = Utc::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Millis, true);
    // Read before the write transaction, so SQLite's write lock is not held over a scan of
    // the log. Safe: appends only add newer events, which can only raise this cut-off.
    let by_bytes = bytes_cutoff(pool, keep_bytes).await?;
    let mut tx = pool.begin_with(backend.begin_write()).await?;
    let by_count: i64 = sqlx::query_scalar("SELECT seq - $1 FROM log_head WHERE id = 1")
        .bind(keep)
        .fetch_one(&mut *tx)
        .await?;
    let by_age: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE created_at < $1")
            .bind(cutoff)
            .fetch_one(&mut *tx)
            .await?;
    let upto = by_count.max(by_age).max(by_bytes);
    if upto <= 0 {
        return Ok(0);
    }
    let deleted = sqlx::query("DELETE FROM events WHERE seq <= $1")
        .bind(upto)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "INSERT INTO herald_meta (key, value) VALUES ('trimmed_upto', $1) \
         ON CONFLICT (key) DO UPDATE SET value = CASE \
           WHEN CAST(herald_meta.value AS BIGINT) < CAST(excluded.value AS BIGINT) THEN excluded.value \
           ELSE herald_meta.value END",
    )
    .bind(upto.to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(deleted)
}

/// The highest `seq` to delete so that the events above it hold at most `keep_bytes` bytes
/// of payload and meta; never the newest event (0: nothing to delete). Each event's running
/// total counts it and everything newer. `octet_length` (SQLite 3.43+, PostgreSQL) can take
/// a stored value's length without reading the value.
async fn bytes_cutoff(pool: &AnyPool, keep_bytes: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(seq), 0) FROM ( \
           SELECT seq, SUM(octet_length(payload) + octet_length(meta)) \
             OVER (ORDER BY seq DESC ROWS UNBOUNDED PRECEDING) AS newer_bytes \
           FROM events) AS running \
         WHERE newer_bytes > $1 AND seq < (SELECT MAX(seq) FROM events)",
    )
    .bind(keep_bytes)
    .fetch_one(pool)
    .await
}
