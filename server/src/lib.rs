//! Herald's server: a library that serves the resources an app declares — REST in Refine's
//! simple-rest dialect, sessions, a durable event log and the live channel — over SQLite or
//! PostgreSQL, and renders the app's Leptos UI. The admin (`admin/`) and the task board
//! (`examples/tasks`) are apps on it; it names none of their resources.
//!
//! A map of the crate (contracts: `docs/rest.md`, `docs/live-protocol.md`,
//! `docs/channels.md`):
//!
//! - [`resource`]: what an app declares — resources (fields, keys, rules, references,
//!   access, side effects), migrations and seed — as one [`resource::Schema`].
//! - [`config`]: every setting, read from the environment with its default and range.
//! - `http` (private): the accept loop and connections under [`serve`] — header and idle
//!   timeouts, the connection cap, the shutdown deadline.
//! - [`store`]: the database. Reads, the one commit path for writes, the event log, the
//!   stream of committed events (across nodes on PostgreSQL), migrations and seeding.
//! - [`live`]: the live hub — subscriptions, fan-out, replay, presence, the cluster — and
//!   per-connection socket handling.
//! - [`auth`]: passwords, sessions, bearer tokens, the login throttle, who a request is.
//! - [`api`]: every HTTP handler under `/api`: resources, auth, the live upgrade.
//! - [`web`]: the app's Leptos UI in the router; [`ssr`]: the store-backed providers it
//!   renders with.
//! - [`state`]: [`state::AppState`], what handlers share; [`error`]: [`error::ApiError`], the
//!   HttpError JSON of every failed call.
//! - [`tail`]: `server live tail`, a terminal client of the live channel.
//! - `testkit` (feature `testkit`): test servers, throwaway databases, HTTP and live
//!   clients, and a fixture app, for tests of apps on Herald and of Herald itself.
//!
//! [`start`] opens the store and the hub for a schema; [`router`] assembles `/api` and the
//! UI; [`serve`] runs it until shutdown.
//!
//! ```no_run
//! # async fn run(schema: server::resource::Schema) -> Result<(), Box<dyn std::error::Error>> {
//! let config = server::config::Config::from_env()?;
//! let addr = config.addr;
//! let leptos = leptos::config::get_configuration(None)?.leptos_options;
//! let state = server::start(config, schema, leptos).await?;
//! let router = server::router(&state, axum::Router::new());
//! let listener = tokio::net::TcpListener::bind(addr).await?;
//! server::serve(listener, router, state, std::future::pending()).await?;
//! # Ok(()) }
//! ```

#![recursion_limit = "256"]

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
mod http;
pub mod live;
pub mod resource;
pub mod ssr;
pub mod state;
pub mod store;
pub mod tail;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;
pub mod web;

use axum::http::{header, HeaderName, HeaderValue, Method};
use axum::Router;
use config::Config;
use leptos::config::LeptosOptions;
use resource::Schema;
use state::AppState;
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::trace::TraceLayer;

/// Logs to stderr, filtered by `RUST_LOG` (else `default`, e.g. `"info,sqlx=warn"`).
pub fn init_tracing(default: &str) {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default.into()),
        )
        .init();
}

/// Opens the store for `schema` (migrating and seeding it) and starts the live hub.
pub async fn start(
    config: Config,
    schema: Schema,
    leptos_options: LeptosOptions,
) -> Result<AppState, store::StoreError> {
    let store = store::open::open(&config.database_url, schema, config.seed).await?;
    let hub = live::hub::Hub::start(store.clone(), config.live.clone()).await?;
    Ok(AppState::new(config, store, hub, leptos_options))
}

/// [`start`] and [`router`] for an app that serves only the API (no Leptos UI).
pub async fn start_api(
    config: Config,
    schema: Schema,
    leptos_options: LeptosOptions,
) -> Result<(Router, AppState), store::StoreError> {
    let state = start(config, schema, leptos_options).await?;
    Ok((router(&state, Router::new()), state))
}

/// `/api` (REST, auth, live) followed by `ui` (the app's pages and files; merged last, so
/// its fallback answers whatever the API does not), with CORS and request tracing.
pub fn router(state: &AppState, ui: Router) -> Router {
    let api = api::router(&state.config).with_state(state.clone());
    let mut router = Router::new().nest("/api", api).merge(ui);
    if let Some(cors) = cors(&state.config) {
        router = router.layer(cors);
    }
    router.layer(TraceLayer::new_for_http())
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

/// Serves `router` on `listener` until `shutdown` resolves (connections, timeouts and the
/// connection cap: `server/src/http.rs`, set by [`config::HttpConfig`]). Then live sockets
/// are closed with 1001 (clients reconnect and resume) and HTTP connections drain; whatever
/// is still open after `HERALD_SHUTDOWN_GRACE_SECS` is cut, so this returns within that
/// deadline (plus a moment) even if a client never reads. When it returns, no connection
/// is left open.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    let config = state.config.http.clone();
    http::serve(listener, router, config, async move {
        shutdown.await;
        hub.shutdown();
    })
    .await
}
