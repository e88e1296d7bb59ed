//! The one commit path. Every create, update and delete — from REST, SSR or a tool — runs
//! through [`Store::commit`]: one IMMEDIATE transaction that validates, writes, appends the
//! events describing the change to the log, and commits; then the events are broadcast to
//! in-process listeners (the live hub) in log order.

use super::log::{self, NewEvent, CREATED, DELETED, UPDATED};
use super::read::{get_one, row_to_json};
use super::schema::{push, Field, Mode, Resource};
use super::sql::Sql;
use super::{LoggedEvent, Store, StoreError};
use app::framework::auth::Identity;
use serde_json::{json, Map, Value};
use sqlx::AnyConnection;
use std::sync::Arc;

/// Who is writing, as the event's `meta` will say.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: Identity,
    /// The client's `x-live-origin` header, echoed in `meta.origin`.
    pub origin: Option<String>,
}

/// A write to one record.
#[derive(Debug, Clone)]
pub enum Change {
    Create {
        data: Map<String, Value>,
    },
    /// A partial update. With `expected_version`, the write fails with a conflict unless the
    /// record is still at that version; without, last write wins.
    Update {
        id: i64,
        data: Map<String, Value>,
        expected_version: Option<i64>,
    },
    Delete {
        id: i64,
        expected_version: Option<i64>,
    },
}

/// Longest comment excerpt carried in a notification, in characters.
const EXCERPT_CHARS: usize = 120;

impl Store {
    /// Applies `change` to `resource` as `actor` and returns the record as stored (for a
    /// delete: as it was).
    pub async fn commit(
        &self,
        resource: &'static Resource,
        actor: &Actor,
        change: Change,
    ) -> Result<Value, StoreError> {
        if !resource.writable {
            return Err(StoreError::ReadOnly(format!(
                "{} are read-only",
                resource.name
            )));
        }
        // A client that hangs up cancels its handler. The transaction must still run to its
        // end (commit or rollback) on a task of its own: a transaction cut off inside
        // `begin` would return its connection to the pool still holding SQLite's write lock.
        let (store, actor) = (self.clone(), actor.clone());
        tokio::spawn(async move { store.run(resource, &actor, change).await })
            .await
            .map_err(|e| StoreError::Internal(format!("commit task failed: {e}")))?
    }

    async fn run(
        &self,
        resource: &'static Resource,
        actor: &Actor,
        change: Change,
    ) -> Result<Value, StoreError> {
        let _writer = self.write_lock.lock().await;
        let mut tx = self.pool.begin_with(self.backend.begin_write()).await?;
        let (record, events) = match change {
            Change::Create { data } => create(&mut tx, resource, actor, &data).await?,
            Change::Update {
                id,
                data,
                expected_version,
            } => update(&mut tx, resource, id, &data, expected_version).await?,
            Change::Delete {
                id,
                expected_version,
            } => delete(&mut tx, resource, id, expected_version).await?,
        };
        let meta = log::meta(&actor.user, actor.origin.as_deref());
        let logged = log::append(&mut tx, self.backend, events, &meta).await?;
        tx.commit().await?;
        let logged: Vec<Arc<LoggedEvent>> = logged.into_iter().map(Arc::new).collect();
        if let Err(e) = self.publish(&logged).await {
            // Committed and logged: live clients get it from the log on their next resume.
            tracing::error!(error = %e, "could not read the log to publish committed events");
        }
        Ok(record)
    }
}

type Outcome = (Value, Vec<NewEvent>);

async fn create(
    tx: &mut AnyConnection,
    resource: &'static Resource,
    actor: &Actor,
    data: &Map<String, Value>,
) -> Result<Outcome, StoreError> {
    let values = resource
        .writable_values(data, Mode::Create)
        .map_err(StoreError::Validation)?;
    check_references(tx, &values).await?;
    let now = log::now();
    let mut columns: Vec<&str> = values.iter().map(|(f, _)| f.name).collect();
    let has_author = resource.field("author_id").is_some();
    if has_author {
        columns.push("author_id");
    }
    columns.extend(["created_at", "updated_at", "version"]);
    let mut qb = Sql::new(format!(
        "INSERT INTO {} ({}) VALUES (",
        resource.table,
        columns.join(", ")
    ));
    for (_, v) in &values {
        bind_json(&mut qb, v);
        qb.push(", ");
    }
    if has_author {
        qb.bind(actor.user.id).push(", ");
    }
    qb.bind(now.clone()).push(", ").bind(now).push(", 1");
    qb.push(&format!(") RETURNING {}", resource.column_list()));
    let row = qb.query().fetch_one(&mut *tx).await?;
    let record = row_to_json(resource, &row)?;
    let id = record_id(&record);
    let mut events = vec![NewEvent::resource(
        resource.name,
        CREATED,
        &[id],
        Some(&record),
    )];
    if resource.name == "comments" {
        events.extend(comment_notification(tx, actor, &record).await?);
    }
    Ok((record, events))
}

async fn update(
    tx: &mut AnyConnection,
    resource: &'static Resource,
    id: i64,
    data: &Map<String, Value>,
    expected_version: Option<i64>,
) -> Result<Outcome, StoreError> {
    let values = resource
        .writable_values(data, Mode::Update)
        .map_err(StoreError::Validation)?;
    check_references(tx, &values).await?;
    let mut qb = Sql::new(format!("UPDATE {} SET ", resource.table));
    for (f, v) in &values {
        qb.push(&format!("{} = ", f.name));
        bind_json(&mut qb, v);
        qb.push(", ");
    }
    qb.push("updated_at = ")
        .bind(log::now())
        .push(", version = version + 1");
    qb.push(" WHERE id = ").bind(id);
    if let Some(v) = expected_version {
        qb.push(" AND version = ").bind(v);
    }
    qb.push(&format!(" RETURNING {}", resource.column_list()));
    match qb.query().fetch_optional(&mut *tx).await? {
        Some(row) => {
            let record = row_to_json(resource, &row)?;
            let event = NewEvent::resource(resource.name, UPDATED, &[id], Some(&record));
            Ok((record, vec![event]))
        }
        None => Err(missing_or_conflict(tx, resource, id).await),
    }
}

async fn delete(
    tx: &mut AnyConnection,
    resource: &'static Resource,
    id: i64,
    expected_version: Option<i64>,
) -> Result<Outcome, StoreError> {
    // Comments go with their post (ON DELETE CASCADE); their subscribers must hear of it.
    let cascaded: Vec<i64> = if resource.name == "posts" {
        sqlx::query_scalar("SELECT id FROM comments WHERE post_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(&mut *tx)
            .await?
    } else {
        Vec::new()
    };
    let mut qb = Sql::new(format!("DELETE FROM {} WHERE id = ", resource.table));
    qb.bind(id);
    if let Some(v) = expected_version {
        qb.push(" AND version = ").bind(v);
    }
    qb.push(&format!(" RETURNING {}", resource.column_list()));
    let Some(row) = qb.query().fetch_optional(&mut *tx).await? else {
        return Err(missing_or_conflict(tx, resource, id).await);
    };
    let record = row_to_json(resource, &row)?;
    let mut events = vec![NewEvent::resource(resource.name, DELETED, &[id], None)];
    if !cascaded.is_empty() {
        events.push(NewEvent::resource("comments", DELETED, &cascaded, None));
    }
    Ok((record, events))
}

/// After a conditional write touched nothing: either the record is gone, or its version moved.
async fn missing_or_conflict(
    tx: &mut AnyConnection,
    resource: &'static Resource,
    id: i64,
) -> StoreError {
    match get_one(&mut *tx, resource, id).await {
        Ok(current) => StoreError::Conflict {
            message: format!(
                "{} {id} was changed by someone else (now at version {})",
                super::singular(resource.name),
                current["version"]
            ),
            current,
        },
        Err(e) => e,
    }
}

/// Reference columns must point at existing records (422, not a constraint error).
async fn check_references(
    tx: &mut AnyConnection,
    values: &[(&'static Field, Value)],
) -> Result<(), StoreError> {
    let mut errors = app::framework::error::FieldErrors::new();
    for (field, value) in values {
        let (Some(target), Some(id)) = (
            field.references.and_then(super::schema::resource),
            value.as_i64(),
        ) else {
            continue;
        };
        let exists: Option<i64> =
            sqlx::query_scalar(&format!("SELECT id FROM {} WHERE id = $1", target.table))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        if exists.is_none() {
            push(
                &mut errors,
                field.name,
                &format!("{} {id} does not exist", super::singular(target.name)),
            );
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Validation(errors))
    }
}

/// Tells a post's author that someone else commented on it.
async fn comment_notification(
    tx: &mut AnyConnection,
    actor: &Actor,
    comment: &Value,
) -> Result<Option<NewEvent>, StoreError> {
    let post_id = comment["post_id"].as_i64().unwrap_or_default();
    let post: Option<(i64, String)> =
        sqlx::query_as("SELECT author_id, title FROM posts WHERE id = $1")
            .bind(post_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((author, title)) = post.filter(|(author, _)| *author != actor.user.id) else {
        return Ok(None);
    };
    let excerpt: String = comment["body"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    Ok(Some(NewEvent {
        channel: format!("notifications/user/{author}"),
        kind: "comment".to_owned(),
        payload: json!({
            "ids": [record_id(comment).to_string()],
            "data": {
                "post_id": post_id.to_string(),
                "post_title": title,
                "comment_id": record_id(comment).to_string(),
                "excerpt": excerpt,
                "by": { "id": actor.user.id.to_string(), "name": actor.user.name },
            }
        }),
    }))
}

fn record_id(record: &Value) -> i64 {
    record["id"].as_i64().unwrap_or_default()
}

fn bind_json(qb: &mut Sql, v: &Value) {
    match v {
        Value::Number(n) => qb.bind(n.as_i64()),
        other => qb.bind(other.as_str().unwrap_or_default().to_owned()),
    };
}
