//! Herald's server: REST CRUD over SQLite in Refine's simple-rest dialect, sessions, and
//! the Leptos admin app rendered on the server and hydrated in the browser.
//!
//! [`build`] assembles the whole router from a [`config::Config`]; the binary and the
//! integration tests both start the server through it.

#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod live;
pub mod ssr;
pub mod state;
pub mod store;
pub mod tail;
mod web;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::serve::ListenerExt;
use axum::Router;
use config::Config;
use leptos::config::LeptosOptions;
use state::AppState;
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

/// Opens the store and builds the full router (API + Leptos app).
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<(Router, AppState), store::StoreError> {
    let store = store::open::open(&config.database_url, config.seed).await?;
    let hub = live::hub::Hub::start(store.clone(), config.live.clone()).await?;
    let state = AppState::new(config, store, hub, leptos_options);
    let api = api::router(state.config.body_limit).with_state(state.clone());
    let mut router = Router::new()
        .nest("/api", api)
        .merge(web::leptos_router(state.clone()));
    if let Some(cors) = cors(&state.config) {
        router = router.layer(cors);
    }
    Ok((router.layer(TraceLayer::new_for_http()), state))
}

/// CORS for the configured extra origins (none by default: same-origin needs no CORS).
fn cors(config: &Config) -> Option<CorsLayer> {
    if config.allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_credentials(true)
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PATCH,
                Method::PUT,
                Method::DELETE,
            ])
            .allow_headers([
                header::CONTENT_TYPE,
                header::AUTHORIZATION,
                header::IF_MATCH,
                HeaderName::from_static(auth::ORIGIN_HEADER),
            ])
            .expose_headers([api::resources::TOTAL_COUNT, header::ETAG]),
    )
}

/// Serves `router` on `listener` until `shutdown` resolves; then live sockets are closed
/// with 1001 (clients reconnect and resume) and HTTP connections drain.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    // Live frames are small and latency is the point: no Nagle delay on any socket.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(async move {
            shutdown.await;
            hub.shutdown();
        })
        .await
}
