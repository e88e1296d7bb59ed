//! The notifications bell: live per-user notifications (e.g. a comment on your post) from
//! `notifications/user/{me}`, an unread count, and "mark all read".

use herald_framework::auth::Identity;
use herald_framework::hooks::use_subscription;
use herald_framework::live::{LiveMessage, SubscriptionSpec};
use leptos::prelude::*;
use leptos_router::components::A;

#[derive(Clone, PartialEq)]
struct Notice {
    key: String,
    text: String,
    href: String,
    read: bool,
}

/// Most notifications kept in the menu.
const KEEP: usize = 20;

/// The bell with its count and menu.
#[component]
pub fn NotificationBell(me: Identity) -> impl IntoView {
    let notices = RwSignal::new(Vec::<Notice>::new());
    let open = RwSignal::new(false);
    let spec = SubscriptionSpec::channel(format!("notifications/user/{}", me.id));
    use_subscription(spec, true, move |m| {
        let LiveMessage::Event(e) = m else { return };
        let d = &e.payload["data"];
        let by = d["by"]["name"].as_str().unwrap_or("someone");
        let title = d["post_title"].as_str().unwrap_or("your post");
        let notice = Notice {
            key: format!("{}-{}", e.date, d["comment_id"]),
            text: format!(
                "{by} commented on “{title}”: {}",
                d["excerpt"].as_str().unwrap_or_default()
            ),
            href: format!("/posts/{}", d["post_id"].as_str().unwrap_or_default()),
            read: false,
        };
        notices.try_update(|n| {
            n.insert(0, notice);
            n.truncate(KEEP);
        });
    });
    let unread = move || notices.read().iter().filter(|n| !n.read).count();
    let mark_read = move |_| notices.update(|n| n.iter_mut().for_each(|x| x.read = true));
    view! {
        <div class="bell">
            <button type="button" class="icon" aria-label=move || format!("Notifications, {} unread", unread())
                aria-expanded=move || open.get().to_string() on:click=move |_| open.update(|o| *o = !*o)>
                <svg class="bell-icon" viewBox="0 0 24 24" width="20" height="20" aria-hidden="true">
                    <path fill="currentColor" d="M12 22a2.5 2.5 0 0 0 2.45-2h-4.9A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.84V3.5a1.5 1.5 0 0 0-3 0v.66A7 7 0 0 0 5 11v5l-2 2v1h18v-1z"/>
                </svg>
                " " <span class="count" data-testid="unread" class:zero=move || unread() == 0>{unread}</span>
            </button>
            <Show when=move || open.get()>
                <div class="menu" role="menu">
                    <div class="menu-head">
                        <strong>"Notifications"</strong>
                        <button type="button" class="link" on:click=mark_read>"Mark all read"</button>
                    </div>
                    <Show when=move || !notices.read().is_empty() fallback=|| view! { <p class="empty">"Nothing yet."</p> }>
                        <ul>
                            <For each=move || notices.get() key=|n| (n.key.clone(), n.read) let:n>
                                <li class:unread=!n.read><A href=n.href.clone()>{n.text.clone()}</A></li>
                            </For>
                        </ul>
                    </Show>
                </div>
            </Show>
        </div>
    }
}
