//! A live event: what happened on a channel, stamped by the server.

use crate::id::Id;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The record types only committed writes produce on `resources/*`.
pub const CREATED: &str = "created";
/// See [`CREATED`].
pub const UPDATED: &str = "updated";
/// See [`CREATED`].
pub const DELETED: &str = "deleted";

/// An event as it travels in an `event` frame.
///
/// ```
/// use herald_protocol::{Id, LiveEvent};
/// let e: LiveEvent = serde_json::from_str(r#"{"channel":"resources/posts","type":"updated",
///   "payload":{"ids":["3"]},"date":"2026-11-30T12:00:00.000Z","meta":{"origin":"tab"}}"#).unwrap();
/// assert_eq!(e.ids(), vec![Id::Int(3)]);
/// assert_eq!(e.origin(), Some("tab"));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LiveEvent {
    pub channel: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub payload: Value,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub meta: Value,
}

impl LiveEvent {
    /// A bare event (for publishing and tests).
    ///
    /// ```
    /// # use herald_protocol::LiveEvent;
    /// assert_eq!(LiveEvent::new("typing/x", "typing", serde_json::json!({})).kind, "typing");
    /// ```
    pub fn new(channel: impl Into<String>, kind: impl Into<String>, payload: Value) -> Self {
        Self {
            channel: channel.into(),
            kind: kind.into(),
            payload,
            date: String::new(),
            meta: Value::Null,
        }
    }

    /// `payload.ids`, numbers and strings alike.
    ///
    /// ```
    /// # use herald_protocol::{Id, LiveEvent};
    /// let e = LiveEvent::new("resources/tasks", "deleted", serde_json::json!({"ids": ["a-1", 2]}));
    /// assert_eq!(e.ids(), vec![Id::from("a-1"), Id::Int(2)]);
    /// ```
    pub fn ids(&self) -> Vec<Id> {
        self.payload
            .get("ids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Id::from_json).collect())
            .unwrap_or_default()
    }

    /// `payload.data`: the record, for `created` and `updated`.
    ///
    /// ```
    /// # use herald_protocol::LiveEvent;
    /// let e = LiveEvent::new("resources/posts", "created", serde_json::json!({"ids": ["1"], "data": {"id": 1}}));
    /// assert_eq!(e.data().unwrap()["id"], 1);
    /// ```
    pub fn data(&self) -> Option<&Value> {
        self.payload.get("data").filter(|d| !d.is_null())
    }

    /// `meta.origin`: the client id of the write's author, if it sent one.
    pub fn origin(&self) -> Option<&str> {
        self.meta.get("origin").and_then(Value::as_str)
    }

    /// `meta.user.name`, if the server stamped one.
    ///
    /// ```
    /// # use herald_protocol::LiveEvent;
    /// let e = LiveEvent { meta: serde_json::json!({"user":{"name":"bob"}}), ..LiveEvent::new("c", "t", serde_json::Value::Null) };
    /// assert_eq!(e.user_name(), Some("bob"));
    /// ```
    pub fn user_name(&self) -> Option<&str> {
        self.meta.get("user")?.get("name")?.as_str()
    }

    /// `meta.user.id`, if the server stamped one (a string on the wire).
    ///
    /// ```
    /// # use herald_protocol::LiveEvent;
    /// let e = LiveEvent { meta: serde_json::json!({"user":{"id":"2"}}), ..LiveEvent::new("c", "t", serde_json::Value::Null) };
    /// assert_eq!(e.user_id(), Some(2));
    /// ```
    pub fn user_id(&self) -> Option<i64> {
        Id::from_json(self.meta.get("user")?.get("id")?)?.as_int()
    }
}
