//! The one commit path. Every create, update and delete — from REST, SSR or a tool — runs
//! through [`Store::commit`]: one write transaction that authorises, validates, writes, runs
//! the resource's declared side effects, appends the events describing the change to the
//! log, and commits; then the events are broadcast to in-process listeners (the live hub)
//! in log order.
//!
//! This path names no resource: what differs between resources (keys, fields, rules,
//! access, cascades, effects) comes from their declarations in [`crate::resource`].

use super::log::{self, NewEvent};
use super::read::{bind_id, get_one, row_to_json};
use super::sql::Sql;
use super::{LoggedEvent, Store, StoreError};
use crate::resource::{push, Action, Field, IdKind, Resource};
use herald_protocol::live::event::{CREATED, DELETED, UPDATED};
use herald_protocol::{FieldErrors, Id, Identity};
use serde_json::{Map, Value};
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
    /// A new record; resources keyed by [`IdKind::Slug`] (and optionally
    /// [`IdKind::Uuid`]) take their `id` from `data`.
    Create { data: Map<String, Value> },
    /// A partial update. With `expected_version`, the write fails with a conflict unless the
    /// record is still at that version; without, last write wins.
    Update {
        id: Id,
        data: Map<String, Value>,
        expected_version: Option<i64>,
    },
    Delete {
        id: Id,
        expected_version: Option<i64>,
    },
}

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
        let write = Write {
            store: self,
            resource,
            actor,
        };
        let (record, events) = match change {
            Change::Create { data } => write.create(&mut tx, &data).await?,
            Change::Update {
                id,
                data,
                expected_version,
            } => write.update(&mut tx, &id, &data, expected_version).await?,
            Change::Delete {
                id,
                expected_version,
            } => write.delete(&mut tx, &id, expected_version).await?,
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

/// One write in progress: the resource, who writes, and the store's declarations.
struct Write<'s> {
    store: &'s Store,
    resource: &'static Resource,
    actor: &'s Actor,
}

impl Write<'_> {
    fn authorize(&self, action: Action, record: &Value) -> Result<(), StoreError> {
        match self.resource.authorize {
            Some(allowed) => {
                allowed(&self.actor.user, action, record).map_err(StoreError::Forbidden)
            }
            None => Ok(()),
        }
    }

    async fn create(
        &self,
        tx: &mut AnyConnection,
        data: &Map<String, Value>,
    ) -> Result<Outcome, StoreError> {
        let resource = self.resource;
        self.authorize(Action::Create, &Value::Object(data.clone()))?;
        let id = new_id(resource, data)?;
        let values = resource
            .writable_values(data, Action::Create)
            .map_err(StoreError::Validation)?;
        self.check_references(tx, &values).await?;
        if let Some(id) = &id {
            if get_one(&mut *tx, resource, &Id::Text(id.clone()))
                .await
                .is_ok()
            {
                return Err(StoreError::Duplicate(format!(
                    "{} '{id}' already exists",
                    resource.singular()
                )));
            }
        }
        let now = log::now();
        let mut row: Vec<(&str, Value)> = Vec::new();
        if let Some(id) = id {
            row.push(("id", Value::String(id)));
        }
        row.extend(values.into_iter().map(|(f, v)| (f.name, v)));
        if let Some(author) = resource.author_field() {
            row.push((author.name, self.actor.user.id.into()));
        }
        row.push(("created_at", now.clone().into()));
        row.push(("updated_at", now.into()));
        row.push(("version", 1.into()));
        let columns: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
        let mut qb = Sql::new(format!(
            "INSERT INTO {} ({}) VALUES (",
            resource.table,
            columns.join(", ")
        ));
        for (i, (_, v)) in row.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            bind_json(&mut qb, v);
        }
        qb.push(&format!(") RETURNING {}", resource.column_list()));
        let row = qb.query().fetch_one(&mut *tx).await?;
        let record = row_to_json(resource, &row)?;
        let id = record_id(&record)?;
        let mut events = vec![NewEvent::resource(
            resource.name,
            CREATED,
            &[id],
            Some(&record),
        )];
        if let Some(effect) = resource.on_create {
            events.extend(effect(tx, self.actor, &record).await?);
        }
        Ok((record, events))
    }

    async fn update(
        &self,
        tx: &mut AnyConnection,
        id: &Id,
        data: &Map<String, Value>,
        expected_version: Option<i64>,
    ) -> Result<Outcome, StoreError> {
        let resource = self.resource;
        if resource.authorize.is_some() {
            self.authorize(Action::Update, &get_one(&mut *tx, resource, id).await?)?;
        }
        let values = resource
            .writable_values(data, Action::Update)
            .map_err(StoreError::Validation)?;
        self.check_references(tx, &values).await?;
        let mut qb = Sql::new(format!("UPDATE {} SET ", resource.table));
        for (f, v) in &values {
            qb.push(&format!("{} = ", f.name));
            bind_json(&mut qb, v);
            qb.push(", ");
        }
        qb.push("updated_at = ")
            .bind(log::now())
            .push(", version = version + 1");
        qb.push(" WHERE id = ");
        bind_id(&mut qb, resource, id);
        if let Some(v) = expected_version {
            qb.push(" AND version = ").bind(v);
        }
        qb.push(&format!(" RETURNING {}", resource.column_list()));
        match qb.query().fetch_optional(&mut *tx).await? {
            Some(row) => {
                let record = row_to_json(resource, &row)?;
                let event = NewEvent::resource(
                    resource.name,
                    UPDATED,
                    std::slice::from_ref(id),
                    Some(&record),
                );
                Ok((record, vec![event]))
            }
            None => Err(missing_or_conflict(tx, resource, id).await),
        }
    }

    async fn delete(
        &self,
        tx: &mut AnyConnection,
        id: &Id,
        expected_version: Option<i64>,
    ) -> Result<Outcome, StoreError> {
        let resource = self.resource;
        if resource.authorize.is_some() {
            self.authorize(Action::Delete, &get_one(&mut *tx, resource, id).await?)?;
        }
        // Records that go with this one (ON DELETE CASCADE): their subscribers must hear of it.
        let cascaded = self.cascaded(tx, id).await?;
        let mut qb = Sql::new(format!("DELETE FROM {} WHERE id = ", resource.table));
        bind_id(&mut qb, resource, id);
        if let Some(v) = expected_version {
            qb.push(" AND version = ").bind(v);
        }
        qb.push(&format!(" RETURNING {}", resource.column_list()));
        let Some(row) = qb.query().fetch_optional(&mut *tx).await? else {
            return Err(missing_or_conflict(tx, resource, id).await);
        };
        let record = row_to_json(resource, &row)?;
        let mut events = vec![NewEvent::resource(
            resource.name,
            DELETED,
            std::slice::from_ref(id),
            None,
        )];
        events.extend(cascaded);
        Ok((record, events))
    }

    /// `deleted` events for the records a delete of `id` cascades to.
    async fn cascaded(&self, tx: &mut AnyConnection, id: &Id) -> Result<Vec<NewEvent>, StoreError> {
        let mut events = Vec::new();
        for (dependent, field) in self.store.schema().cascades_to(self.resource.name) {
            let mut qb = Sql::new(format!(
                "SELECT id FROM {} WHERE {} = ",
                dependent.table, field.name
            ));
            bind_id(&mut qb, self.resource, id);
            qb.push(" ORDER BY id");
            let rows = qb.query().fetch_all(&mut *tx).await?;
            let ids = rows
                .iter()
                .map(|row| super::read::id_column(dependent, row))
                .collect::<Result<Vec<Id>, _>>()?;
            if !ids.is_empty() {
                events.push(NewEvent::resource(dependent.name, DELETED, &ids, None));
            }
        }
        Ok(events)
    }

    /// Reference columns must point at existing records (422, not a constraint error).
    async fn check_references(
        &self,
        tx: &mut AnyConnection,
        values: &[(&'static Field, Value)],
    ) -> Result<(), StoreError> {
        let mut errors = FieldErrors::new();
        for (field, value) in values {
            let Some(target) = field
                .references
                .and_then(|r| self.store.schema().resource(r.resource))
            else {
                continue;
            };
            let Some(id) = Id::from_json(value) else {
                continue;
            };
            if let Err(StoreError::NotFound(_)) = get_one(&mut *tx, target, &id).await {
                push(
                    &mut errors,
                    field.name,
                    &format!("{} {id} does not exist", target.singular()),
                );
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(StoreError::Validation(errors))
        }
    }
}

/// The id a create writes itself (text-keyed resources), checked; `None` when the database
/// assigns one.
fn new_id(resource: &Resource, data: &Map<String, Value>) -> Result<Option<String>, StoreError> {
    let given = match data.get("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => return Err(id_error("must be a string")),
    };
    match (resource.id, given) {
        // Clients may send back a whole record they read; the database assigns the id.
        (IdKind::Auto, _) => Ok(None),
        (IdKind::Uuid, None) => Ok(Some(crate::resource::new_uuid())),
        (IdKind::Slug, None) => Err(id_error("is required")),
        (kind, Some(id)) => kind.check_new(&id).map(|()| Some(id)).map_err(id_error),
    }
}

fn id_error(message: &str) -> StoreError {
    let mut errors = FieldErrors::new();
    push(&mut errors, "id", message);
    StoreError::Validation(errors)
}

/// After a conditional write touched nothing: either the record is gone, or its version moved.
async fn missing_or_conflict(tx: &mut AnyConnection, resource: &Resource, id: &Id) -> StoreError {
    match get_one(&mut *tx, resource, id).await {
        Ok(current) => StoreError::Conflict {
            message: format!(
                "{} {id} was changed by someone else (now at version {})",
                resource.singular(),
                current["version"]
            ),
            current,
        },
        Err(e) => e,
    }
}

fn record_id(record: &Value) -> Result<Id, StoreError> {
    Id::of(record).ok_or_else(|| StoreError::Internal("a stored record has no id".to_owned()))
}

fn bind_json(qb: &mut Sql, v: &Value) {
    match v {
        Value::Number(n) => qb.bind(n.as_i64()),
        other => qb.bind(other.as_str().unwrap_or_default().to_owned()),
    };
}
