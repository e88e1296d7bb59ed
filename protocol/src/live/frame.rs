//! The frames of the live protocol: one JSON object per WebSocket text frame, tagged by
//! `op`. [`ClientFrame`] is what a client sends, [`ServerFrame`] what the server answers.
//! Both derive their JSON from these definitions; the server's fan-out writes event frames
//! with [`event_frame_text`] around an event body serialised once, which yields the same JSON
//! as serialising [`ServerFrame::Event`].

use super::event::LiveEvent;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A frame from the client.
///
/// ```
/// use herald_protocol::ClientFrame;
/// let f: ClientFrame = serde_json::from_str(
///     r#"{"op":"subscribe","sub":"s1","channel":"resources/posts","params":{"ids":["1",2]}}"#).unwrap();
/// let ClientFrame::Subscribe { params, .. } = &f else { panic!() };
/// assert_eq!(params.as_ref().unwrap().ids.as_deref(), Some(&["1".to_string(), "2".to_string()][..]));
/// assert!(serde_json::from_str::<ClientFrame>(r#"{"op":"dance"}"#).is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ClientFrame {
    /// Starts a subscription named `sub` (unique on the connection).
    Subscribe {
        sub: String,
        channel: String,
        /// Event types; absent or `["*"]` means all.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        types: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        params: Option<SubscribeParams>,
        /// Replay every logged event after this cursor first.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        since: Option<String>,
    },
    /// Ends the subscription named `sub`.
    Unsubscribe { sub: String },
    /// Publishes an event on an ephemeral (or custom) channel.
    Publish {
        channel: String,
        #[serde(rename = "type")]
        kind: String,
        #[serde(default)]
        payload: Value,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        meta: Option<Map<String, Value>>,
    },
    /// Asks for a `pong`.
    Ping,
}

/// `params` of a subscribe.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscribeParams {
    /// Only events whose `payload.ids` intersect these. Numbers are accepted and read as
    /// their decimal strings.
    #[serde(
        default,
        with = "opt_wire_ids",
        skip_serializing_if = "Option::is_none"
    )]
    pub ids: Option<Vec<String>>,
    /// A client-side discriminator (a list's filters, say) that keeps two otherwise equal
    /// subscriptions apart. The server ignores it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

mod opt_wire_ids {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(
        ids: &Option<Vec<String>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match ids {
            Some(ids) => crate::id::wire_ids::serialize(ids, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<String>>, D::Error> {
        Option::<Vec<crate::Id>>::deserialize(deserializer)
            .map(|ids| ids.map(|ids| ids.iter().map(crate::Id::to_wire).collect()))
    }
}

/// Why the server refused a frame (`op: error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    Forbidden,
    NotFound,
    TooLarge,
    RateLimited,
}

impl ErrorCode {
    /// The wire spelling.
    ///
    /// ```
    /// assert_eq!(herald_protocol::ErrorCode::RateLimited.as_str(), "rate_limited");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::RateLimited => "rate_limited",
        }
    }
}

/// A frame from the server.
///
/// ```
/// use herald_protocol::ServerFrame;
/// let f = ServerFrame::Subscribed { sub: "s1".into(), cursor: "L-4".into() };
/// let text = f.to_text();
/// assert_eq!(serde_json::from_str::<ServerFrame>(&text).unwrap(), f);
/// assert_eq!(ServerFrame::Pong.to_text(), r#"{"op":"pong"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum ServerFrame {
    /// The subscription is live; `cursor` is the log head at that moment. Sent before any
    /// replayed event.
    Subscribed {
        sub: String,
        cursor: String,
    },
    Unsubscribed {
        sub: String,
    },
    /// An event matching subscription `sub`; `cursor` is null on ephemeral channels.
    Event {
        sub: String,
        cursor: Option<String>,
        event: LiveEvent,
    },
    /// The server cannot replay from the cursor given: refetch; the subscription stays live.
    Reset {
        sub: String,
        reason: String,
    },
    /// A refused frame; `sub` names the subscription it concerned, if any.
    Error {
        sub: Option<String>,
        code: ErrorCode,
        message: String,
    },
    Pong,
}

impl ServerFrame {
    /// The frame as JSON text.
    pub fn to_text(&self) -> String {
        // Serialising these types cannot fail: every map key is a string.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// An `error` frame.
    ///
    /// ```
    /// use herald_protocol::{ErrorCode, ServerFrame};
    /// let t = ServerFrame::error(None, ErrorCode::BadRequest, "malformed").to_text();
    /// assert!(t.contains(r#""code":"bad_request""#) && t.contains(r#""sub":null"#));
    /// ```
    pub fn error(sub: Option<&str>, code: ErrorCode, message: impl Into<String>) -> Self {
        ServerFrame::Error {
            sub: sub.map(str::to_owned),
            code,
            message: message.into(),
        }
    }
}

/// `{"op":"event","sub":…,"cursor":…,"event":<body>}` around an event body already serialised
/// (the server serialises each event once and shares it across subscriptions). The text is
/// exactly what serialising [`ServerFrame::Event`] gives.
///
/// ```
/// use herald_protocol::{LiveEvent, ServerFrame};
/// use herald_protocol::live::frame::event_frame_text;
/// let event = LiveEvent::new("resources/posts", "deleted", serde_json::json!({"ids": ["1"]}));
/// let body = serde_json::to_string(&event).unwrap();
/// let framed = ServerFrame::Event { sub: "s\"1".into(), cursor: Some("L-3".into()), event };
/// assert_eq!(event_frame_text("s\"1", Some("L-3"), &body), framed.to_text());
/// ```
pub fn event_frame_text(sub: &str, cursor: Option<&str>, body: &str) -> String {
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
    fn ephemeral_event_frame_matches_serde() {
        let event = LiveEvent::new("typing/posts/1", "typing", serde_json::json!({}));
        let body = serde_json::to_string(&event).unwrap();
        let framed = ServerFrame::Event {
            sub: "a".into(),
            cursor: None,
            event,
        };
        assert_eq!(event_frame_text("a", None, &body), framed.to_text());
    }

    #[test]
    fn client_frames_round_trip() {
        let frames = [
            ClientFrame::Subscribe {
                sub: "s".into(),
                channel: "resources/tasks".into(),
                types: Some(vec!["*".into()]),
                params: Some(SubscribeParams {
                    ids: Some(vec!["fix-login".into()]),
                    scope: None,
                }),
                since: Some("L-1".into()),
            },
            ClientFrame::Unsubscribe { sub: "s".into() },
            ClientFrame::Publish {
                channel: "typing/x".into(),
                kind: "typing".into(),
                payload: serde_json::json!({"a": 1}),
                meta: None,
            },
            ClientFrame::Ping,
        ];
        for f in frames {
            let text = serde_json::to_string(&f).unwrap();
            assert_eq!(serde_json::from_str::<ClientFrame>(&text).unwrap(), f);
        }
    }
}
