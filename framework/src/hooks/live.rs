//! Live hooks: raw subscriptions, publishing, presence and the connection state.

use crate::auth::Identity;
use crate::context::use_herald;
use crate::live::{
    ConnectionState, LiveMessage, SharedLiveProvider, SubscriptionId, SubscriptionSpec,
};
use leptos::prelude::*;
use serde_json::Value;
use std::sync::Arc;

/// Subscribes while `enabled`; follows `spec` when it changes; unsubscribes on cleanup.
/// Browser only (the server renders once and subscribes to nothing).
///
/// ```no_run
/// use herald_framework::hooks::use_subscription;
/// use herald_framework::live::SubscriptionSpec;
/// use leptos::prelude::*;
/// use_subscription(Signal::derive(|| SubscriptionSpec::channel("typing/posts/1")), Signal::from(true), |m| {
///     let _ = m;
/// });
/// ```
pub fn use_subscription(
    spec: impl Into<Signal<SubscriptionSpec>>,
    enabled: impl Into<Signal<bool>>,
    on_message: impl Fn(LiveMessage) + Send + Sync + 'static,
) {
    let (spec, enabled) = (spec.into(), enabled.into());
    let Some(live) = use_herald().live else {
        return;
    };
    let handler: Arc<dyn Fn(LiveMessage) + Send + Sync> = Arc::new(on_message);
    let current = StoredValue::new(None::<SubscriptionId>);
    let unsubscribe = {
        let live = live.clone();
        move || {
            if let Some(id) = current.try_update_value(Option::take).flatten() {
                live.unsubscribe(id);
            }
        }
    };
    Effect::new(move |_| {
        let (spec, enabled) = (spec.get(), enabled.get());
        let previous = current.try_update_value(Option::take).flatten();
        if enabled {
            current.set_value(Some(live.subscribe(spec, handler.clone())));
        }
        if let Some(id) = previous {
            live.unsubscribe(id);
        }
    });
    on_cleanup(unsubscribe);
}

/// Publishes ephemeral events (typing and the like): `publish(channel, type, payload)`.
///
/// ```no_run
/// let publish = herald_framework::hooks::use_publish();
/// publish("typing/posts/1", "typing", serde_json::json!({"typing": true}));
/// ```
pub fn use_publish() -> impl Fn(&str, &str, Value) -> bool + Clone + Send + Sync + 'static {
    let live: Option<SharedLiveProvider> = use_herald().live;
    move |channel, kind, payload| {
        live.as_ref()
            .is_some_and(|l| l.publish(channel, kind, payload))
    }
}

/// The users present on a `presence/...` channel (joining it while mounted).
///
/// ```no_run
/// use leptos::prelude::*;
/// let here = herald_framework::hooks::use_presence(Signal::derive(|| "presence/posts/1".to_string()));
/// let count = move || here.get().len();
/// ```
pub fn use_presence(channel: impl Into<Signal<String>>) -> Signal<Vec<Identity>> {
    let channel = channel.into();
    let users = RwSignal::new(Vec::<Identity>::new());
    let spec = Signal::derive(move || SubscriptionSpec::channel(channel.get()));
    use_subscription(spec, true, move |message| {
        let LiveMessage::Event(e) = message else {
            return;
        };
        let parse = |v: &Value| -> Option<Identity> {
            Some(Identity {
                id: v.get("id")?.as_str()?.parse().ok()?,
                name: v.get("name")?.as_str()?.to_owned(),
            })
        };
        match e.kind.as_str() {
            "sync" => {
                let list = e.payload["users"]
                    .as_array()
                    .map(|a| a.iter().filter_map(parse).collect())
                    .unwrap_or_default();
                users.try_set(list);
            }
            "join" => {
                if let Some(u) = parse(&e.payload["user"]) {
                    users.try_update(|list| {
                        if !list.contains(&u) {
                            list.push(u);
                        }
                    });
                }
            }
            "leave" => {
                if let Some(u) = parse(&e.payload["user"]) {
                    users.try_update(|list| list.retain(|x| x.id != u.id));
                }
            }
            _ => {}
        }
    });
    users.into()
}

/// The live connection's state, for a badge. `Connecting` until the browser takes over.
///
/// ```no_run
/// let state = herald_framework::hooks::use_connection_state();
/// ```
pub fn use_connection_state() -> Signal<ConnectionState> {
    let state = RwSignal::new(ConnectionState::Connecting);
    let Some(live) = use_herald().live else {
        return state.into();
    };
    let key = StoredValue::new(None::<u64>);
    let watcher = live.clone();
    Effect::new(move |_| {
        state.set(watcher.connection_state());
        let id = watcher.watch_state(Arc::new(move |s| {
            state.try_set(s);
        }));
        key.set_value(Some(id));
    });
    on_cleanup(move || {
        if let Some(id) = key.try_get_value().flatten() {
            live.unwatch_state(id);
        }
    });
    state.into()
}
