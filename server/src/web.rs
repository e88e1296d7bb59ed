//! The Leptos admin app inside the axum router: server-rendered routes (with the store-backed
//! providers of the rendering request in context) and the site's static files.
//!
//! Every route the app declares (`generate_route_list`) is rendered by leptos_axum; anything
//! else falls back to a file under the site root (`/pkg/herald.js`, `.wasm`, `.css`) or, when
//! there is none, to the app's 404 page with status 404.

use crate::state::AppState;
use app::{shell, App};
use axum::http::request::Parts;
use axum::Router;
use leptos::prelude::{provide_context, use_context};
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};

/// The app's routes plus a fallback serving `pkg/` files (or the app's 404 page).
///
/// Merge it last into the main router: its fallback answers every path nothing else does.
pub fn leptos_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
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
            provide_context(state.ssr_data_provider(&parts));
            provide_context(state.ssr_auth_provider(&parts));
        }
    }
}
