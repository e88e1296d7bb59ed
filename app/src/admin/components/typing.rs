//! Typing indicators: a publisher that announces "I am typing" at most every couple of
//! seconds while the user types, and an indicator ("bob is typing…") that forgets a typist
//! a few seconds after their last announcement.

use herald_framework::auth::Identity;
use herald_framework::hooks::{use_publish, use_subscription};
use herald_framework::live::{LiveMessage, SubscriptionSpec};
use leptos::prelude::*;
use serde_json::json;
use std::time::Duration;

/// Minimum time between two "typing" announcements.
const ANNOUNCE_EVERY: Duration = Duration::from_secs(2);
/// How long a typist is shown after their last announcement.
const SHOW_FOR: Duration = Duration::from_secs(4);

/// Returns `(typing, stopped)` callbacks that announce on `channel`.
pub fn use_typing_publisher(channel: Signal<String>) -> (impl Fn() + Clone, impl Fn() + Clone) {
    let publish = use_publish();
    let last = StoredValue::new(None::<f64>);
    let p = publish.clone();
    let typing = move || {
        let now = now_ms();
        if last
            .get_value()
            .is_some_and(|t| now - t < ANNOUNCE_EVERY.as_millis() as f64)
        {
            return;
        }
        last.set_value(Some(now));
        p(&channel.get_untracked(), "typing", json!({"typing": true}));
    };
    let stopped = move || {
        last.set_value(None);
        publish(&channel.get_untracked(), "typing", json!({"typing": false}));
    };
    (typing, stopped)
}

fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0.0, |d| d.as_millis() as f64)
    }
}

/// "alice is typing…" for the others typing on `channel` (never yourself).
#[component]
pub fn TypingIndicator(#[prop(into)] channel: Signal<String>, me: Identity) -> impl IntoView {
    // name → announcement number (a later announcement keeps the name up longer)
    let typists = RwSignal::new(Vec::<(String, u64)>::new());
    let counter = StoredValue::new(0_u64);
    let spec =
        Signal::derive(move || SubscriptionSpec::channel(channel.get()).with_types(&["typing"]));
    let my_id = me.id.to_string();
    use_subscription(spec, true, move |m| {
        let LiveMessage::Event(e) = m else { return };
        let Some(name) = e.user_name().map(str::to_owned) else {
            return;
        };
        if e.meta["user"]["id"].as_str() == Some(my_id.as_str()) {
            return;
        }
        typists.try_update(|t| t.retain(|(n, _)| *n != name));
        if e.payload["typing"] != json!(true) {
            return;
        }
        let n = counter.try_update_value(|c| {
            *c += 1;
            *c
        });
        let Some(n) = n else { return };
        typists.try_update(|t| t.push((name.clone(), n)));
        set_timeout(
            move || {
                typists.try_update(|t| t.retain(|(x, k)| !(*x == name && *k == n)));
            },
            SHOW_FOR,
        );
    });
    let text = move || {
        let names: Vec<String> = typists.get().into_iter().map(|(n, _)| n).collect();
        match names.len() {
            0 => String::new(),
            1 => format!("{} is typing…", names[0]),
            _ => format!("{} are typing…", names.join(", ")),
        }
    };
    view! { <p class="typing" data-testid="typing" aria-live="polite">{text}</p> }
}
