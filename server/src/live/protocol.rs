//! The live wire protocol v1 (DESIGN.md §3): client frames parsed from JSON, server frames
//! written as JSON text. Event frames are assembled around an event body serialised once
//! and shared by every subscription it goes to.

use serde::Deserialize;
use serde_json::{json, Map, Value};

/// A frame from the client.
#[derive(Debug, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ClientFrame {
    Subscribe {
        sub: String,
        channel: String,
        #[serde(default)]
        types: Option<Vec<String>>,
        #[serde(default)]
        params: Option<SubscribeParams>,
        #[serde(default)]
        since: Option<String>,
    },
    Unsubscribe {
        sub: String,
    },
    Publish {
        channel: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        payload: Value,
        #[serde(default)]
        meta: Option<Map<String, Value>>,
    },
    Ping,
}

/// `params` of a subscribe.
#[derive(Debug, Default, Deserialize)]
pub struct SubscribeParams {
    #[serde(default)]
    pub ids: Option<Vec<IdValue>>,
}

/// Ids are strings on the wire; numbers are accepted and read as their decimal string.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum IdValue {
    Text(String),
    Number(i64),
}

impl IdValue {
    /// The id as a wire string.
    pub fn into_string(self) -> String {
        match self {
            IdValue::Text(s) => s,
            IdValue::Number(n) => n.to_string(),
        }
    }
}

/// Error codes of `op: error` frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    BadRequest,
    Forbidden,
    NotFound,
    TooLarge,
    RateLimited,
}

impl ErrorCode {
    fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
        }
    }
}

/// A refusal of one client frame; the connection stays usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

/// `{"op":"subscribed","sub":…,"cursor":…}`.
pub fn subscribed(sub: &str, cursor: &str) -> String {
    json!({ "op": "subscribed", "sub": sub, "cursor": cursor }).to_string()
}

/// `{"op":"unsubscribed","sub":…}`.
pub fn unsubscribed(sub: &str) -> String {
    json!({ "op": "unsubscribed", "sub": sub }).to_string()
}

/// `{"op":"reset","sub":…,"reason":…}`.
pub fn reset(sub: &str, reason: &str) -> String {
    json!({ "op": "reset", "sub": sub, "reason": reason }).to_string()
}

/// `{"op":"error",…}`.
pub fn error(sub: Option<&str>, e: &FrameError) -> String {
    json!({ "op": "error", "sub": sub, "code": e.code.as_str(), "message": e.message }).to_string()
}

/// `{"op":"pong"}`.
pub fn pong() -> String {
    r#"{"op":"pong"}"#.to_owned()
}

/// `{"op":"event","sub":…,"cursor":…,"event":<body>}` around an already serialised body.
pub fn event(sub: &str, cursor: Option<&str>, body: &str) -> String {
    let sub = Value::from(sub).to_string();
    let cursor = cursor.map_or_else(|| "null".to_owned(), |c| Value::from(c).to_string());
    let mut frame = String::with_capacity(body.len() + sub.len() + cursor.len() + 40);
    frame.push_str(r#"{"op":"event","sub":"#);
    frame.push_str(&sub);
    frame.push_str(r#","cursor":"#);
    frame.push_str(&cursor);
    frame.push_str(r#","event":"#);
    frame.push_str(body);
    frame.push('}');
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_frame_is_valid_json() {
        let frame = event("s\"1", Some("ab-3"), r#"{"channel":"x"}"#);
        let v: Value = serde_json::from_str(&frame).unwrap();
        assert_eq!(v["sub"], "s\"1");
        assert_eq!(v["cursor"], "ab-3");
        assert_eq!(v["event"]["channel"], "x");
        let v: Value = serde_json::from_str(&event("s", None, "{}")).unwrap();
        assert!(v["cursor"].is_null());
    }

    #[test]
    fn parses_client_frames() {
        let f: ClientFrame = serde_json::from_str(
            r#"{"op":"subscribe","sub":"a","channel":"resources/posts","params":{"ids":["1",2]}}"#,
        )
        .unwrap();
        assert!(matches!(f, ClientFrame::Subscribe { .. }));
        assert!(serde_json::from_str::<ClientFrame>(r#"{"op":"dance"}"#).is_err());
    }
}
