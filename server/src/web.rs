//! A Leptos app inside the axum router: server-rendered routes (with the store-backed
//! providers of the rendering request in context) and the site's static files. Generic over
//! the app: the binary passes its root component and HTML shell.
//!
//! Every route the app declares (`generate_route_list`) is rendered by leptos_axum; anything
//! else falls back to a file under the site root (`/pkg/herald.js`, `.wasm`, `.css`) or, when
//! there is none, to the app's 404 page with status 404.

use crate::state::AppState;
use axum::http::request::Parts;
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::{provide_context, use_context, IntoView};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

/// The app's routes plus a fallback serving `pkg/` files (or the app's 404 page).
///
/// Merge it last into the main router: its fallback answers every path nothing else does.
pub fn leptos_router<A, S, V, W>(state: AppState, app: A, shell: S) -> Router
where
    A: Fn() -> V + Clone + Send + Sync + 'static,
    V: IntoView + 'static,
    S: Fn(LeptosOptions) -> W + Clone + Copy + Send + Sync + 'static,
    W: IntoView + 'static,
{
    let routes = generate_route_list(app);
    let context = ssr_context(state.clone());
    let options = state.leptos_options.clone();
    Router::new()
        .leptos_routes_with_context(&state, routes, context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .with_state(state)
}

/// Runs in every server render: provides the data and auth providers acting as the user
/// whose session the request carries (leptos_axum has provided the request's `Parts`).
fn ssr_context(state: AppState) -> impl Fn() + Clone + Send + Sync + 'static {
    move || {
        if let Some(parts) = use_context::<Parts>() {
            provide_context(crate::ssr::data_provider(&state, &parts));
            provide_context(crate::ssr::auth_provider(&state, &parts));
        }
    }
}
