//! The root component: meta context, default providers and the route table.

use super::layout::Layout;
use super::pages::{
    CommentsPage, LoginPage, NotFound, PostClonePage, PostCreatePage, PostEditPage, PostShowPage,
    PostsPage,
};
use herald_framework::context::{provide_herald, HeraldOptions};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, SsrMode};

/// The admin app.
///
/// Routes: `/` → `/posts`; `/login`; the signed-in pages (`/posts`) inside [`Layout`];
/// anything else is [`NotFound`]. Signed-in routes render with [`SsrMode::Async`]: the
/// server waits for their data, so the first HTML already holds it and a missing session
/// becomes a real `302` to `/login`.
///
/// `data-hydrated="true"` appears on the root element once the browser has taken over the
/// server's HTML (browser tests wait for it).
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    provide_herald(HeraldOptions::default());

    let hydrated = RwSignal::new(false);
    // Effects never run on the server, so this only flips in a hydrated browser.
    Effect::new(move |_| hydrated.set(true));

    view! {
        <Stylesheet id="leptos" href="/pkg/herald.css"/>
        <Title text="Herald"/>
        <Router>
            <div class="app" data-hydrated=move || hydrated.get().then_some("true")>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=|| view! { <Redirect path="/posts"/> } ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage/>
                    <ParentRoute path=path!("") view=Layout ssr=SsrMode::Async>
                        <Route path=path!("/posts") view=PostsPage/>
                        <Route path=path!("/posts/create") view=PostCreatePage/>
                        <Route path=path!("/posts/:id") view=PostShowPage/>
                        <Route path=path!("/posts/:id/edit") view=PostEditPage/>
                        <Route path=path!("/posts/:id/clone") view=PostClonePage/>
                        <Route path=path!("/comments") view=CommentsPage/>
                    </ParentRoute>
                </Routes>
            </div>
        </Router>
    }
}
