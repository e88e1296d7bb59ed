//! The page for any path no route matches (the server answers it with a 404).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// "Page not found", with a way back.
#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Title text="Not found · Herald"/>
        <main class="centered">
            <section class="card">
                <h1>"Page not found"</h1>
                <p>"There is nothing at this address."</p>
                <A href="/posts">"Back to the posts"</A>
            </section>
        </main>
    }
}
