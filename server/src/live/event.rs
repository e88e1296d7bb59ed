//! Events on their way out, serialised once. A `Fanout` carries what matching needs (the
//! channel, type and `payload.ids`) and the event body, serialised a single time however
//! many subscriptions get it; `Fanout::frame` wraps that body for one subscription id.
//! The constructors say where events come from: a commit (the log's event, with its
//! cursor), a client's publish or the server's own presence events (stamped here with
//! `date` and `meta.user`), or another node (already serialised there).
//!
//! It knows nothing of connections, subscriptions or queues: the hub decides who gets what.

use super::cursor::Cursor;
use super::presence::Kind;
use crate::store::{log, LoggedEvent};
use axum::extract::ws::Utf8Bytes;
use herald_protocol::live::frame::event_frame_text;
use herald_protocol::Identity;
use serde_json::{json, Map, Value};

/// One event to fan out, serialised once.
pub(super) struct Fanout<'a> {
    pub channel: &'a str,
    pub kind: &'a str,
    /// `payload.ids`, as strings (`None`: the event names no records).
    pub ids: Option<Vec<String>>,
    body: String,
    /// `None` on ephemeral channels.
    cursor: Option<String>,
}

impl<'a> Fanout<'a> {
    /// A committed event, with its cursor in the log `log_id`.
    pub fn committed(event: &'a LoggedEvent, log_id: &str) -> Self {
        Fanout {
            channel: &event.channel,
            kind: &event.kind,
            ids: payload_ids(&event.event["payload"]),
            body: event.event.to_string(),
            cursor: Some(Cursor(event.seq).encode(log_id)),
        }
    }

    /// An ephemeral event published by `user`; the server stamps `date` and `meta.user`,
    /// the client's other meta fields pass through.
    pub fn published(
        channel: &'a str,
        kind: &'a str,
        payload: Value,
        user: &Identity,
        meta: Option<Map<String, Value>>,
    ) -> Self {
        Fanout {
            channel,
            kind,
            ids: payload_ids(&payload),
            body: ephemeral_body(channel, kind, payload, user, meta),
            cursor: None,
        }
    }

    /// An ephemeral event another node published, as it serialised it.
    pub fn remote(channel: &'a str, kind: &'a str, body: String) -> Self {
        let ids = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|event| payload_ids(&event["payload"]));
        Fanout {
            channel,
            kind,
            ids,
            body,
            cursor: None,
        }
    }

    /// `join` or `leave` of `user` on presence channel `channel`.
    pub fn presence(channel: &'a str, kind: Kind, user: &Identity) -> Self {
        let payload = json!({ "user": wire_user(user) });
        Fanout {
            channel,
            kind: kind.as_str(),
            ids: None,
            body: ephemeral_body(channel, kind.as_str(), payload, user, None),
            cursor: None,
        }
    }

    /// The serialised event (what crosses to other nodes).
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The `event` frame for subscription `sub`.
    pub fn frame(&self, sub: &str) -> Utf8Bytes {
        event_frame_text(sub, self.cursor.as_deref(), &self.body).into()
    }
}

/// The `sync` frame a presence subscription `sub` starts with: who is on `channel` now,
/// sent to `user`, who just joined.
pub(super) fn sync_frame(
    sub: &str,
    channel: &str,
    user: &Identity,
    members: &[Identity],
) -> String {
    let users: Vec<Value> = members.iter().map(wire_user).collect();
    let body = ephemeral_body(channel, "sync", json!({ "users": users }), user, None);
    event_frame_text(sub, None, &body)
}

/// The `event` frame of a logged event for subscription `sub`, replayed.
pub(super) fn logged_frame(sub: &str, event: &LoggedEvent, log_id: &str) -> Utf8Bytes {
    let cursor = Cursor(event.seq).encode(log_id);
    event_frame_text(sub, Some(&cursor), &event.event.to_string()).into()
}

/// `payload.ids` as strings (numbers read as their decimal text).
pub(super) fn payload_ids(payload: &Value) -> Option<Vec<String>> {
    payload.get("ids")?.as_array().map(|ids| {
        ids.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect()
    })
}

fn wire_user(user: &Identity) -> Value {
    json!({ "id": user.id.to_string(), "name": user.name })
}

/// The event object of an ephemeral event, serialised.
fn ephemeral_body(
    channel: &str,
    kind: &str,
    payload: Value,
    user: &Identity,
    meta: Option<Map<String, Value>>,
) -> String {
    let mut meta = meta.unwrap_or_default();
    meta.insert("user".to_owned(), wire_user(user));
    meta.entry("origin").or_insert(Value::Null);
    json!({
        "channel": channel,
        "type": kind,
        "payload": payload,
        "date": log::now(),
        "meta": meta,
    })
    .to_string()
}
