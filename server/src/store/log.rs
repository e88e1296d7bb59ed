//! The durable event log: rows appended inside the transaction of the write they describe,
//! so an event exists if and only if its change committed. `seq` orders the log; a cursor
//! is `<log_id>-<seq>`, opaque to clients.
//!
//! Gap-freedom: SQLite has one writer at a time and the store also serialises commits, so
//! `seq` values become visible in increasing order and a reader that has seen `n` will never
//! later find a row below `n`. A multi-writer backend (PostgreSQL) does not give that for
//! free: a transaction that took `seq = 11` may commit before one holding `10`, and a tailer
//! that advanced to 11 would skip 10 forever. There appends must be serialised (an advisory
//! lock taken just before the append, held to commit) or positions assigned at commit.

use app::framework::auth::Identity;
use chrono::{SecondsFormat, Utc};
use serde_json::{json, Value};
use sqlx::SqliteConnection;

/// The event types only committed writes may produce.
pub const CREATED: &str = "created";
pub const UPDATED: &str = "updated";
pub const DELETED: &str = "deleted";

/// An event as it goes on the wire (`event` of an `op: event` frame).
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    pub channel: String,
    pub kind: String,
    pub payload: Value,
}

impl NewEvent {
    /// An event on `resources/{resource}` about records `ids`.
    pub fn resource(resource: &str, kind: &str, ids: &[i64], data: Option<&Value>) -> Self {
        let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
        let payload = match data {
            Some(data) => json!({ "ids": ids, "data": data }),
            None => json!({ "ids": ids }),
        };
        Self {
            channel: format!("resources/{resource}"),
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

/// Appends `event` inside the caller's transaction.
pub async fn append(
    tx: &mut SqliteConnection,
    event: NewEvent,
    meta: Value,
) -> Result<LoggedEvent, sqlx::Error> {
    let date = now();
    let seq: i64 = sqlx::query_scalar(
        "INSERT INTO events (channel, type, payload, meta, created_at) VALUES (?, ?, ?, ?, ?) RETURNING seq",
    )
    .bind(&event.channel)
    .bind(&event.kind)
    .bind(event.payload.to_string())
    .bind(meta.to_string())
    .bind(&date)
    .fetch_one(&mut *tx)
    .await?;
    let wire = json!({
        "channel": event.channel,
        "type": event.kind,
        "payload": event.payload,
        "date": date,
        "meta": meta,
    });
    Ok(LoggedEvent {
        seq,
        channel: event.channel,
        kind: event.kind,
        event: wire,
    })
}

/// The newest `seq` in the log (0 when it is empty).
pub async fn head(pool: &sqlx::SqlitePool) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
        .fetch_one(pool)
        .await
}

/// The highest `seq` that retention has deleted: cursors below it cannot be replayed.
pub async fn trimmed_upto(pool: &sqlx::SqlitePool) -> Result<i64, sqlx::Error> {
    let v: Option<String> =
        sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'trimmed_upto'")
            .fetch_optional(pool)
            .await?;
    Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
}

/// Events on `channel` with `after < seq <= upto`, oldest first, at most `limit`.
pub async fn read_range(
    pool: &sqlx::SqlitePool,
    channel: &str,
    after: i64,
    upto: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, channel, type, payload, meta, created_at FROM events \
         WHERE channel = ? AND seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
    )
    .bind(channel)
    .bind(after)
    .bind(upto)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(from_row).collect())
}

/// Every event with `seq > after`, oldest first, at most `limit` (for a lagging listener).
pub async fn read_after(
    pool: &sqlx::SqlitePool,
    after: i64,
    limit: i64,
) -> Result<Vec<LoggedEvent>, sqlx::Error> {
    let rows: Vec<(i64, String, String, String, String, String)> = sqlx::query_as(
        "SELECT seq, channel, type, payload, meta, created_at FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
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

/// Applies retention: keeps at most `keep` events and none older than `max_age`.
/// Returns how many were deleted. The highest deleted `seq` is remembered so that a
/// cursor from before it is answered with `reset` rather than a silent gap.
pub async fn trim(
    pool: &sqlx::SqlitePool,
    keep: i64,
    max_age: std::time::Duration,
) -> Result<u64, sqlx::Error> {
    let cutoff = Utc::now() - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
    let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Millis, true);
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let by_count: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) - ? FROM events")
        .bind(keep)
        .fetch_one(&mut *tx)
        .await?;
    let by_age: i64 =
        sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events WHERE created_at < ?")
            .bind(&cutoff)
            .fetch_one(&mut *tx)
            .await?;
    let upto = by_count.max(by_age);
    if upto <= 0 {
        return Ok(0);
    }
    let deleted = sqlx::query("DELETE FROM events WHERE seq <= ?")
        .bind(upto)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    sqlx::query(
        "INSERT INTO herald_meta (key, value) VALUES ('trimmed_upto', ?) \
         ON CONFLICT(key) DO UPDATE SET value = MAX(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
    )
    .bind(upto.to_string())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(deleted)
}
