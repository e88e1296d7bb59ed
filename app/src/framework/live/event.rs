//! Live events and subscription specs as the framework sees them (DESIGN.md §3 shapes).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// An event received on a subscription.
///
/// ```
/// use app::framework::live::LiveEvent;
/// let e: LiveEvent = serde_json::from_str(r#"{"channel":"resources/posts","type":"updated",
///   "payload":{"ids":["3"]},"date":"2026-11-30T12:00:00.000Z","meta":{"origin":"tab"}}"#).unwrap();
/// assert_eq!(e.ids(), vec!["3".to_string()]);
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
    /// `payload.ids` as strings.
    pub fn ids(&self) -> Vec<String> {
        self.payload
            .get("ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// `meta.origin`: the client id of the write's author, if it sent one.
    pub fn origin(&self) -> Option<&str> {
        self.meta.get("origin").and_then(Value::as_str)
    }

    /// `meta.user.name`, if the server stamped one.
    ///
    /// ```
    /// # use app::framework::live::LiveEvent;
    /// let e = LiveEvent { meta: serde_json::json!({"user":{"name":"bob"}}), ..LiveEvent::new("c", "t", serde_json::Value::Null) };
    /// assert_eq!(e.user_name(), Some("bob"));
    /// ```
    pub fn user_name(&self) -> Option<&str> {
        self.meta.get("user")?.get("name")?.as_str()
    }

    /// A bare event (for publishing and tests).
    ///
    /// ```
    /// # use app::framework::live::LiveEvent;
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
}

/// What a subscriber is told.
#[derive(Debug, Clone, PartialEq)]
pub enum LiveMessage {
    Event(LiveEvent),
    /// The server could not replay what was missed: refetch everything this covers.
    Reset {
        reason: String,
    },
    /// A new subscription is live. Data read before this moment may have missed writes
    /// made between that read and now, so live queries revalidate once.
    Subscribed,
}

/// One subscription on the wire. Identical specs share one wire subscription.
///
/// ```
/// use app::framework::live::SubscriptionSpec;
/// let s = SubscriptionSpec::channel("resources/posts").with_ids(vec!["3".into()]);
/// assert_eq!(s.ids.as_deref(), Some(&["3".to_string()][..]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SubscriptionSpec {
    pub channel: String,
    /// Event types; empty means all (`"*"`).
    pub types: Vec<String>,
    pub ids: Option<Vec<String>>,
    /// Extra scope (e.g. a list's filters), sent as `params.scope`; it distinguishes
    /// subscriptions so a hook's subscription follows its query.
    pub scope: Option<String>,
}

impl SubscriptionSpec {
    /// Every event on `channel`.
    ///
    /// ```
    /// # use app::framework::live::SubscriptionSpec;
    /// assert!(SubscriptionSpec::channel("typing/posts/1").types.is_empty());
    /// ```
    pub fn channel(channel: impl Into<String>) -> Self {
        Self {
            channel: channel.into(),
            types: Vec::new(),
            ids: None,
            scope: None,
        }
    }

    /// Only events about these ids.
    ///
    /// ```
    /// # use app::framework::live::SubscriptionSpec;
    /// assert!(SubscriptionSpec::channel("c").with_ids(vec![]).ids.is_some());
    /// ```
    pub fn with_ids(mut self, mut ids: Vec<String>) -> Self {
        ids.sort();
        ids.dedup();
        self.ids = Some(ids);
        self
    }

    /// Only these event types.
    ///
    /// ```
    /// # use app::framework::live::SubscriptionSpec;
    /// assert_eq!(SubscriptionSpec::channel("c").with_types(&["typing"]).types, vec!["typing"]);
    /// ```
    pub fn with_types(mut self, types: &[&str]) -> Self {
        self.types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// Distinguishes this subscription by a scope string.
    ///
    /// ```
    /// # use app::framework::live::SubscriptionSpec;
    /// assert_ne!(SubscriptionSpec::channel("c").with_scope("a"), SubscriptionSpec::channel("c").with_scope("b"));
    /// ```
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = Some(scope.into());
        self
    }
}

/// The state of the live connection, for the UI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConnectionState {
    Connecting,
    Open,
    Reconnecting,
    Offline,
}
