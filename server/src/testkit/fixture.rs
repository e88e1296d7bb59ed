//! A minimal app for the server's own tests: `notes` (integer ids; only their author may
//! change or delete one), their `replies` (which go when their note goes), `labels` (keyed
//! by UUIDs), users `alice` and `bob` with password [`super::PASSWORD`], and two notes by
//! alice.

use super::PASSWORD;
use crate::config::Config;
use crate::resource::{Action, Field, IdKind, OnDelete, Resource, Schema, Seed, USERS};
use crate::state::AppState;
use crate::store::seed::create_users;
use crate::store::StoreError;
use axum::Router;
use herald_protocol::Identity;
use leptos::config::LeptosOptions;
use serde_json::Value;
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;

/// `notes`: a body and an author.
pub static NOTES: Resource = Resource {
    fields: &[
        Field::id_int(),
        Field::text("body").required().max_chars(1_000),
        Field::author(),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    text_fields: &["body"],
    authorize: Some(only_the_author_changes),
    ..Resource::new("notes", IdKind::Auto)
};

/// `labels`: a name, keyed by a UUID.
pub static LABELS: Resource = Resource {
    fields: &[
        Field::id_text(),
        Field::text("name").required().max_chars(50),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    ..Resource::new("labels", IdKind::Uuid)
};

/// Anyone creates notes; only a note's author updates or deletes it.
fn only_the_author_changes(user: &Identity, action: Action, note: &Value) -> Result<(), String> {
    match action {
        Action::Create => Ok(()),
        Action::Update | Action::Delete if note["author_id"].as_i64() == Some(user.id) => Ok(()),
        Action::Update | Action::Delete => Err("only a note's author may change it".to_owned()),
    }
}

/// `replies`: a body on a note; deleted with it.
pub static REPLIES: Resource = Resource {
    fields: &[
        Field::id_int(),
        Field::int("note_id")
            .required()
            .references("notes", OnDelete::Cascade),
        Field::text("body").required(),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    ..Resource::new("replies", IdKind::Auto)
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("tests/fixtures/migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator =
    sqlx::migrate!("tests/fixtures/migrations/postgres");

/// The fixture app.
pub static SCHEMA: Schema = Schema {
    resources: &[&NOTES, &REPLIES, &LABELS, &USERS],
    sqlite_migrations: &SQLITE_MIGRATIONS,
    postgres_migrations: &POSTGRES_MIGRATIONS,
    seed: Some(seed as Seed),
};

/// The fixture's users, in id order.
pub const USERS_SEEDED: [&str; 2] = ["alice", "bob"];
/// The first seeded user, as the server would identify her (id 1).
pub fn alice() -> Identity {
    Identity {
        id: 1,
        name: USERS_SEEDED[0].into(),
    }
}

/// The second seeded user (id 2).
pub fn bob() -> Identity {
    Identity {
        id: 2,
        name: USERS_SEEDED[1].into(),
    }
}

/// How many notes the seed writes.
pub const NOTES_SEEDED: usize = 2;

fn seed(
    tx: &mut AnyConnection,
) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>> {
    Box::pin(async move {
        let ids = create_users(tx, &USERS_SEEDED, PASSWORD).await?;
        let now = crate::store::log::now();
        for i in 1..=NOTES_SEEDED {
            sqlx::query(
                "INSERT INTO notes (body, author_id, created_at, updated_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(format!("note {i}"))
            .bind(ids[0])
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    })
}

/// Serves the fixture app's API (no UI): a [`super::Build`].
pub async fn build(
    config: Config,
    leptos_options: LeptosOptions,
) -> Result<(Router, AppState), StoreError> {
    crate::start_api(config, SCHEMA, leptos_options).await
}
