//! The sign-in page: a username/password form that calls the auth provider.

use herald_framework::context::use_auth;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// Where a successful sign-in lands.
const AFTER_LOGIN: &str = "/posts";

/// The sign-in form; a wrong username or password shows a message, success goes to the
/// posts.
#[component]
pub fn LoginPage() -> impl IntoView {
    let auth = use_auth();
    let navigate = use_navigate();
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let on_submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        if pending.get_untracked() {
            return;
        }
        pending.set(true);
        error.set(None);
        let (auth, navigate) = (auth.clone(), navigate.clone());
        let (user, pass) = (username.get_untracked(), password.get_untracked());
        spawn_local(async move {
            let result = auth.login(user, pass).await;
            pending.set(false);
            match result {
                Ok(_) => navigate(AFTER_LOGIN, Default::default()),
                Err(e) if e.status_code == 401 => {
                    error.set(Some("Wrong username or password.".to_owned()))
                }
                Err(e) => error.set(Some(format!("Could not sign in: {}", e.message))),
            }
        });
    };

    view! {
        <Title text="Sign in · Herald"/>
        <main class="centered">
            <form class="card login" method="post" on:submit=on_submit>
                <h1>"Sign in to Herald"</h1>
                <label>
                    "Username"
                    <input name="username" autocomplete="username" required bind:value=username/>
                </label>
                <label>
                    "Password"
                    <input
                        type="password"
                        name="password"
                        autocomplete="current-password"
                        required
                        bind:value=password
                    />
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
        </main>
    }
}
