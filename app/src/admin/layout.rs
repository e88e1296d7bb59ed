//! The signed-in frame: checks the session, shows the header (user name, logout) and the
//! page below it; without a session it redirects to `/login`.

use super::components::{
    provide_toasts, provide_users, ConnectionBadge, NotificationBell, OfflineBanner, ToastHost,
};
use herald_framework::auth::Identity;
use herald_framework::context::{sendable, use_auth};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_navigate;

/// Wraps every signed-in page.
#[component]
pub fn Layout() -> impl IntoView {
    let auth = use_auth();
    let identity = Resource::new(|| (), move |()| sendable(auth.identity()));

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match identity.await {
                    Ok(Some(me)) => {
                        provide_context(me.clone());
                        provide_toasts();
                        provide_users();
                        // Erased piece by piece: the full nested type overflows rustc's limits.
                        view! {
                            {view! { <Header me/> }.into_any()}
                            {view! { <OfflineBanner/> }.into_any()}
                            <main class="content">
                                <Outlet/>
                            </main>
                            {view! { <ToastHost/> }.into_any()}
                        }
                        .into_any()
                    }
                    Ok(None) => view! { <Redirect path="/login"/> }.into_any(),
                    Err(e) => view! {
                        <main class="content">
                            <p class="error" role="alert">"Could not check the session: " {e.message}</p>
                        </main>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// The top bar: brand, navigation, who is signed in, and logout.
#[component]
fn Header(me: Identity) -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let logout = move |_| {
        let (auth, navigate) = (auth.clone(), navigate.clone());
        spawn_local(async move {
            if let Err(e) = auth.logout().await {
                leptos::logging::warn!("logout failed: {e}");
            }
            navigate("/login", Default::default());
        });
    };

    view! {
        <header class="topbar">
            <A href="/posts" attr:class="brand">"Herald"</A>
            <nav>
                <A href="/posts">"Posts"</A>
                <A href="/comments">"Comments"</A>
            </nav>
            <div class="session">
                <ConnectionBadge/>
                <NotificationBell me=me.clone()/>
                <span class="user" data-testid="me">{me.name}</span>
                <button type="button" class="secondary" on:click=logout>"Log out"</button>
            </div>
        </header>
    }
}
