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
pub async fn append(tx: &mut SqliteConnection, event: NewEvent, meta: Value) -> Result<LoggedEvent, sqlx::Error> {
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
