//! The admin app's side of the server: its resources ([`resources`]), the notification a
//! comment sends ([`notify`]), its demo data ([`seed`]) and its migrations, gathered into
//! one [`SCHEMA`], plus [`build`], which serves them with the admin's Leptos UI. The
//! `server` binary runs this; the rest of the crate is generic and never imports it.

pub mod notify;
pub mod resources;
pub mod seed;

use crate::config::Config;
use crate::resource::{Schema, Seed};
use crate::state::AppState;
use crate::store::StoreError;
use axum::Router;
use leptos::config::LeptosOptions;

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
    let state = crate::start(config, SCHEMA, leptos_options).await?;
    let ui = crate::web::leptos_router(state.clone(), app::App, app::shell);
    Ok((crate::router(&state, ui), state))
}
