//! The live connection, visible: a badge in the header and a banner while offline
//! (the last data stays on screen; writes are disabled until the connection is back).

use herald_framework::hooks::use_connection_state;
use herald_framework::live::ConnectionState;
use leptos::prelude::*;

/// Whether writes are possible now (the live connection is open).
pub fn use_online() -> Signal<bool> {
    let state = use_connection_state();
    Signal::derive(move || state.get() == ConnectionState::Open)
}

/// `online` / `connecting` / `reconnecting` / `offline`.
#[component]
pub fn ConnectionBadge() -> impl IntoView {
    let state = use_connection_state();
    let label = move || match state.get() {
        ConnectionState::Open => "online",
        ConnectionState::Connecting => "connecting",
        ConnectionState::Reconnecting => "reconnecting",
        ConnectionState::Offline => "offline",
    };
    view! {
        <span class=move || format!("badge conn conn-{}", label()) data-testid="connection" title="Live connection">
            {label}
        </span>
    }
}

/// A banner explaining why writes are disabled, shown while not connected.
#[component]
pub fn OfflineBanner() -> impl IntoView {
    let state = use_connection_state();
    let show = move || {
        matches!(
            state.get(),
            ConnectionState::Reconnecting | ConnectionState::Offline
        )
    };
    view! {
        <Show when=show>
            <div class="banner warn" role="alert">
                "You are offline. What you see may be out of date; changes are disabled until the connection is back."
            </div>
        </Show>
    }
}
