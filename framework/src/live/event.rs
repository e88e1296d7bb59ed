//! What subscribers are told, subscription specs and the connection state: the client's
//! side of the live protocol. The event itself is the wire type from `herald-protocol`.

use serde::{Deserialize, Serialize};

pub use herald_protocol::LiveEvent;

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
/// use herald_framework::live::SubscriptionSpec;
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
    /// # use herald_framework::live::SubscriptionSpec;
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
    /// # use herald_framework::live::SubscriptionSpec;
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
    /// # use herald_framework::live::SubscriptionSpec;
    /// assert_eq!(SubscriptionSpec::channel("c").with_types(&["typing"]).types, vec!["typing"]);
    /// ```
    pub fn with_types(mut self, types: &[&str]) -> Self {
        self.types = types.iter().map(|t| (*t).to_owned()).collect();
        self
    }

    /// Distinguishes this subscription by a scope string.
    ///
    /// ```
    /// # use herald_framework::live::SubscriptionSpec;
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
