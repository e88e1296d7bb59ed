//! The admin app's server: its resources ([`resources`]), the notification a comment sends
//! ([`notify`]), its demo data ([`seed`]) and its migrations (`migrations/`), gathered into
//! one [`SCHEMA`], plus [`build`], which serves them with the admin's Leptos UI (`app`). The
//! `server` binary (`src/main.rs`) runs it. Everything generic is Herald's `server` library;
//! this crate only declares.

// The admin UI's view types nest deeply; rendering it here needs the headroom.
#![recursion_limit = "256"]

pub mod notify;
pub mod resources;
pub mod seed;

use axum::Router;
use leptos::config::LeptosOptions;
use server::config::Config;
use server::resource::{Schema, Seed};
use server::state::AppState;
use server::store::StoreError;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");

/// Everything the admin declares to the server.
pub static SCHEMA: Schema = Schema {
    resources: &resources::RESOURCES,
    sqlite_migrations: &SQLITE_MIGRATIONS,
    postgres_migrations: &POSTGRES_MIGRATIONS,
    seed: Some(seed::seed as Seed),
};

/// Starts the server for the admin: its schema, the API and the admin UI rendered on the
/// server and hydrated in the browser.
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<(Router, AppState), StoreError> {
    let state = server::start(config, SCHEMA, leptos_options).await?;
    let ui = server::web::leptos_router(state.clone(), app::App, app::shell);
    Ok((server::router(&state, ui), state))
}
