//! Who else is here: avatars of the users present on a presence channel.

use herald_framework::hooks::use_presence;
use leptos::prelude::*;

/// Avatars (initials) of the users on `channel`, with a label such as "Viewing".
#[component]
pub fn PresenceAvatars(
    #[prop(into)] channel: Signal<String>,
    label: &'static str,
) -> impl IntoView {
    let users = use_presence(channel);
    view! {
        <div class="presence" data-testid=format!("presence-{}", label.to_lowercase())>
            <span class="presence-label">{label} ": " {move || users.get().len()}</span>
            <For each=move || users.get() key=|u| u.id let:user>
                <span class="avatar" title=user.name.clone()>
                    {user.name.chars().next().map(|c| c.to_uppercase().to_string()).unwrap_or_default()}
                </span>
            </For>
        </div>
    }
}
