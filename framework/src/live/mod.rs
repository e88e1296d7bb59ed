//! The live provider: subscriptions to channels, publishing, and the connection state.
//! [`LiveClient`] holds the protocol logic once; transports wrap it: the browser
//! WebSocket ([`websocket`], hydrate builds) and an in-process fake ([`memory`]).

pub mod client;
pub mod event;
pub mod memory;
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
pub mod websocket;

pub use client::{LiveClient, LiveHandler, StateHandler, SubscriptionId, Transport};
pub use event::{ConnectionState, LiveEvent, LiveMessage, SubscriptionSpec};

use serde_json::Value;
use std::sync::Arc;

/// Subscribes to channels and publishes on them. Hooks only ever see this trait.
///
/// ```
/// use herald_framework::live::{LiveProvider, SharedLiveProvider, memory::MemoryLiveProvider};
/// let live: SharedLiveProvider = MemoryLiveProvider::new();
/// assert!(!live.origin().is_empty());
/// ```
pub trait LiveProvider: Send + Sync + 'static {
    /// Adds a subscriber; identical specs share one wire subscription.
    fn subscribe(&self, spec: SubscriptionSpec, handler: LiveHandler) -> SubscriptionId;
    /// Removes a subscriber.
    fn unsubscribe(&self, id: SubscriptionId);
    /// Publishes an ephemeral event; `false` if it could not be sent now.
    fn publish(&self, channel: &str, kind: &str, payload: Value) -> bool;
    /// The connection's state now.
    fn connection_state(&self) -> ConnectionState;
    /// Calls `handler` on each state change; returns a key for `unwatch_state`.
    fn watch_state(&self, handler: StateHandler) -> u64;
    /// Stops a state watcher.
    fn unwatch_state(&self, key: u64);
    /// This client's id, sent as `x-live-origin` on writes so its own events are known.
    fn origin(&self) -> String;
    /// The signed-in user this client acts for, once known ([`is_own`] needs it).
    fn user(&self) -> Option<i64>;
    /// Records the signed-in user (`provide_herald` does, once the auth provider answers).
    fn set_user(&self, user: Option<i64>);
}

/// Whether `event` is this client's own write: its origin id AND its signed-in user match.
/// Every subscriber sees every event's `meta.origin`, so an origin alone could be copied by
/// anyone to make this client skip refreshes; the user is stamped by the server and cannot.
/// Without a known user nothing is own (a spare refetch is the safe side).
///
/// ```
/// use herald_framework::live::{is_own, LiveEvent};
/// let e = LiveEvent { meta: serde_json::json!({"origin": "tab-1", "user": {"id": "7"}}),
///                     ..LiveEvent::new("resources/posts", "updated", serde_json::json!({})) };
/// assert!(is_own(&e, "tab-1", Some(7)));
/// assert!(!is_own(&e, "tab-1", Some(8)), "someone copied our origin");
/// assert!(!is_own(&e, "tab-2", Some(7)), "our other tab");
/// assert!(!is_own(&e, "tab-1", None));
/// ```
pub fn is_own(event: &LiveEvent, origin: &str, user: Option<i64>) -> bool {
    event.origin() == Some(origin) && user.is_some() && event.user_id() == user
}

/// How live providers are shared through context.
pub type SharedLiveProvider = Arc<dyn LiveProvider>;

impl LiveProvider for LiveClient {
    fn subscribe(&self, spec: SubscriptionSpec, handler: LiveHandler) -> SubscriptionId {
        LiveClient::subscribe(self, spec, handler)
    }
    fn unsubscribe(&self, id: SubscriptionId) {
        LiveClient::unsubscribe(self, id);
    }
    fn publish(&self, channel: &str, kind: &str, payload: Value) -> bool {
        LiveClient::publish(self, channel, kind, payload)
    }
    fn connection_state(&self) -> ConnectionState {
        LiveClient::connection_state(self)
    }
    fn watch_state(&self, handler: StateHandler) -> u64 {
        LiveClient::watch_state(self, handler)
    }
    fn unwatch_state(&self, key: u64) {
        LiveClient::unwatch_state(self, key);
    }
    fn origin(&self) -> String {
        LiveClient::origin(self).to_owned()
    }
    fn user(&self) -> Option<i64> {
        LiveClient::user(self)
    }
    fn set_user(&self, user: Option<i64>) {
        LiveClient::set_user(self, user);
    }
}

/// A random client id (for `x-live-origin`).
pub fn random_origin() -> String {
    use std::collections::hash_map::RandomState;
    use std::hash::{BuildHasher, Hasher};
    let mut h = RandomState::new().build_hasher();
    h.write_u64(js_now_or_zero());
    format!("c{:016x}", h.finish())
}

#[cfg(target_arch = "wasm32")]
fn js_now_or_zero() -> u64 {
    js_sys::Date::now() as u64
}

#[cfg(not(target_arch = "wasm32"))]
fn js_now_or_zero() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}
