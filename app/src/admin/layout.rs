//! The signed-in frame: checks the session, shows the header (user name, logout) and the
//! page below it; without a session it redirects to `/login`.

use super::context::{sendable, use_auth_provider};
use crate::framework::auth::Identity;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_router::components::{Outlet, Redirect, A};
use leptos_router::hooks::use_navigate;

/// Wraps every signed-in page.
#[component]
pub fn Layout() -> impl IntoView {
    let auth = use_auth_provider();
    let identity = Resource::new(|| (), move |()| sendable(auth.identity()));

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match identity.await {
                    Ok(Some(me)) => view! {
                        <Header me/>
                        <main class="content">
                            <Outlet/>
                        </main>
                    }
                    .into_any(),
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
    let auth = use_auth_provider();
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
            </nav>
            <div class="session">
                <span class="user">{me.name}</span>
                <button type="button" class="secondary" on:click=logout>"Log out"</button>
            </div>
        </header>
    }
}
