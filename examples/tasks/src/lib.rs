//! A task board on Herald: the smallest complete app on the framework's crates.
//!
//! It declares one resource, `tasks`, keyed by slugs the client chooses (`"fix-login"`), with
//! validation, an access rule (only a task's author may delete it) and demo data. Herald's
//! server library then serves it: REST in the simple-rest dialect at `/api/tasks`, the live
//! channel `resources/tasks` with a durable, resumable log, sessions and the login throttle.
//! The binary (`src/main.rs`) serves the API; the tests drive the framework's cache and live
//! queries against it over real sockets.
//!
//! ```
//! assert_eq!(herald_example_tasks::TASKS.name, "tasks");
//! assert!(herald_example_tasks::SCHEMA.check().is_ok());
//! ```

use herald_protocol::{FieldErrors, Identity};
use serde_json::{Map, Value};
use server::resource::{
    one_of, trimmed_text, Action, Field, IdKind, Resource, Schema, Seed, USERS,
};
use server::store::seed::create_users;
use server::store::StoreError;
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;

/// A task's states, in board order.
pub const STATUSES: [&str; 3] = ["todo", "doing", "done"];
/// Longest title, in characters (after trimming).
pub const TITLE_MAX: usize = 200;
/// The demo users' password.
pub const DEMO_PASSWORD: &str = "demo";
/// The demo users: `ada` wrote the seeded tasks.
pub const DEMO_USERS: [&str; 2] = ["ada", "grace"];

/// `tasks`: slug ids, a title, a status and an assignee.
pub static TASKS: Resource = Resource {
    fields: &[
        Field::id_text(),
        // Stored trimmed, as `task_rules` measures it: "  Ship it " is the task "Ship it".
        Field::text("title").required().trimmed(),
        Field::text("status"),
        Field::text("assignee").max_chars(64),
        Field::author(),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    text_fields: &["title", "assignee"],
    rules: task_rules,
    authorize: Some(only_author_deletes),
    ..Resource::new("tasks", IdKind::Slug)
};

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Everything the task board declares to Herald.
pub static SCHEMA: Schema = Schema {
    resources: &[&TASKS, &USERS],
    sqlite_migrations: &SQLITE_MIGRATIONS,
    postgres_migrations: &POSTGRES_MIGRATIONS,
    seed: Some(seed as Seed),
};

fn task_rules(body: &Map<String, Value>, errors: &mut FieldErrors) {
    trimmed_text(body, "title", TITLE_MAX, errors);
    one_of(body, "status", &STATUSES, errors);
}

/// Anyone signed in may create and move tasks; only the author deletes one.
fn only_author_deletes(user: &Identity, action: Action, task: &Value) -> Result<(), String> {
    let author = task.get("author_id").and_then(Value::as_i64);
    match action {
        Action::Delete if author != Some(user.id) => {
            Err("only the task's author may delete it".to_owned())
        }
        _ => Ok(()),
    }
}

/// Serves the board's API (no UI): the binary's server, and the tests'.
pub async fn build(
    config: server::config::Config,
    leptos_options: leptos::config::LeptosOptions,
) -> Result<(axum::Router, server::state::AppState), StoreError> {
    server::start_api(config, SCHEMA, leptos_options).await
}

/// The demo board: two users and a handful of tasks by `ada`.
fn seed(
    tx: &mut AnyConnection,
) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>> {
    Box::pin(async move {
        let ids = create_users(tx, &DEMO_USERS, DEMO_PASSWORD).await?;
        let now = server::store::log::now();
        let tasks = [
            ("write-the-docs", "Write the docs", "doing"),
            ("fix-login", "Fix the login redirect", "todo"),
            ("ship-v1", "Ship version 1", "todo"),
        ];
        for (id, title, status) in tasks {
            sqlx::query(
                "INSERT INTO tasks (id, title, status, author_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(title)
            .bind(status)
            .bind(ids[0])
            .bind(&now)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn titles_are_written_trimmed() {
        let max = "t".repeat(TITLE_MAX);
        let body = json!({"id": "a", "title": format!(" {max}\n ")});
        let values = TASKS
            .writable_values(body.as_object().unwrap(), Action::Create)
            .unwrap();
        assert_eq!(values[0].1, json!(max));
        let body = json!({"id": "a", "title": format!("{max}x ")});
        let errors = TASKS
            .writable_values(body.as_object().unwrap(), Action::Create)
            .unwrap_err();
        assert!(errors.contains_key("title"), "{errors:?}");
    }
}
