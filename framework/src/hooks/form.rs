//! `use_form`: create, edit and clone forms. Edit loads the record (live in `Manual` by
//! default: a save by someone else raises `remote_change` instead of overwriting what the
//! user is typing), submits with the loaded `version`, maps 422 errors to fields and
//! exposes a 409 conflict with the server's record, offering "load latest" or "keep mine".

use super::query::{use_one, QueryOptions};
use crate::context::use_herald;
use crate::data::Record;
use crate::error::{FieldErrors, HttpError};
use crate::live::LiveEvent;
use crate::live_query::LiveMode;
use crate::mutation::{mutate, MutationMode, Write};
use crate::Id;
use leptos::prelude::*;
use serde_json::{Map, Value};

/// What the form does on submit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormAction {
    Create,
    Edit(Id),
    /// Starts from record `id`'s values and creates a new record.
    Clone(Id),
}

impl FormAction {
    fn source(&self) -> Option<Id> {
        match self {
            FormAction::Create => None,
            FormAction::Edit(id) | FormAction::Clone(id) => Some(id.clone()),
        }
    }
}

/// Fields the server sets; never sent back as values.
const SERVER_FIELDS: [&str; 5] = ["id", "created_at", "updated_at", "version", "author_id"];

/// A form's state and actions. `Copy`.
#[derive(Clone, Copy)]
pub struct UseForm {
    pub values: RwSignal<Map<String, Value>>,
    /// Validation errors by field (422).
    pub errors: RwSignal<FieldErrors>,
    /// A message for the whole form (other failures).
    pub message: RwSignal<Option<String>>,
    /// The server's record after a 409: someone saved first.
    pub conflict: RwSignal<Option<Record>>,
    /// Someone else saved while this form was open (edit, live).
    pub remote_change: RwSignal<Option<LiveEvent>>,
    pub submitting: RwSignal<bool>,
    /// The record as saved by the last successful submit.
    pub saved: RwSignal<Option<Record>>,
    /// The version the edit is based on.
    pub version: RwSignal<Option<i64>>,
    /// The record loaded for edit/clone is there (or there is none to load).
    pub ready: Signal<bool>,
    resource: StoredValue<String>,
    action: StoredValue<FormAction>,
}

/// A form over `resource`.
///
/// ```no_run
/// use herald_framework::hooks::{use_form, FormAction};
/// let form = use_form("posts", FormAction::Edit(3.into()));
/// form.set("title", "New title");
/// form.submit();
/// ```
pub fn use_form(resource: impl Into<String>, action: FormAction) -> UseForm {
    let resource = resource.into();
    let remote_change = RwSignal::new(None::<LiveEvent>);
    let live = use_herald().live.map(|l| std::sync::Arc::downgrade(&l));
    let options = QueryOptions::mode(LiveMode::Manual).on_event(move |e| {
        let mine = live
            .as_ref()
            .and_then(std::sync::Weak::upgrade)
            .is_some_and(|l| crate::live::is_own(e, &l.origin(), l.user()));
        if !mine && matches!(e.kind.as_str(), "updated" | "deleted") {
            remote_change.try_set(Some(e.clone()));
        }
    });
    let source = action.source();
    let record = source
        .clone()
        .map(|id| use_one(resource.clone(), id, options));
    let values = RwSignal::new(Map::new());
    let version = RwSignal::new(None::<i64>);
    let loaded = RwSignal::new(source.is_none());
    // Take the record's values once; later changes go through remote_change / conflict.
    if let Some(record) = record {
        Effect::new(move |_| {
            if loaded.get_untracked() {
                return;
            }
            if let Some(r) = record.data.get() {
                values.set(editable(&r));
                version.set(r.get("version").and_then(Value::as_i64));
                loaded.set(true);
            }
        });
    }
    UseForm {
        values,
        errors: RwSignal::new(FieldErrors::new()),
        message: RwSignal::new(None),
        conflict: RwSignal::new(None),
        remote_change,
        submitting: RwSignal::new(false),
        saved: RwSignal::new(None),
        version,
        ready: loaded.into(),
        resource: StoredValue::new(resource),
        action: StoredValue::new(action),
    }
}

fn editable(record: &Record) -> Map<String, Value> {
    record
        .as_object()
        .map(|o| {
            o.iter()
                .filter(|(k, _)| !SERVER_FIELDS.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default()
}

impl UseForm {
    /// A field's value as text (for inputs).
    pub fn text(&self, field: &'static str) -> Signal<String> {
        let values = self.values;
        Signal::derive(move || {
            values
                .read()
                .get(field)
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                .unwrap_or_default()
        })
    }

    /// A field's first error, if any.
    pub fn error(&self, field: &'static str) -> Signal<Option<String>> {
        let errors = self.errors;
        Signal::derive(move || errors.read().get(field).and_then(|e| e.first().cloned()))
    }

    /// Sets a field.
    pub fn set(&self, field: &str, value: impl Into<Value>) {
        let value = value.into();
        self.values.update(|v| {
            v.insert(field.to_owned(), value);
        });
        self.errors.update(|e| {
            e.remove(field);
        });
    }

    /// Submits: creates (create, clone) or updates with the base version (edit).
    pub fn submit(&self) {
        let herald = untrack(use_herald);
        let mut data = self.values.get_untracked();
        let write = match self.action.get_value() {
            FormAction::Create | FormAction::Clone(_) => Write::Create(Value::Object(data)),
            FormAction::Edit(id) => {
                if let Some(v) = self.version.get_untracked() {
                    data.insert("version".into(), v.into());
                }
                Write::Update {
                    id,
                    data: Value::Object(data),
                }
            }
        };
        let (_, outcome) = mutate(
            &herald.cache,
            herald.sleep.clone(),
            &self.resource.get_value(),
            write,
            MutationMode::Pessimistic,
        );
        let this = *self;
        this.submitting.set(true);
        this.message.set(None);
        leptos::task::spawn_local(async move {
            let result = outcome.await;
            this.submitting.try_set(false);
            match result {
                Ok(record) => this.accept(record),
                Err(e) => this.reject(e),
            }
        });
    }

    fn accept(&self, record: Record) {
        self.version
            .try_set(record.get("version").and_then(Value::as_i64));
        self.errors.try_set(FieldErrors::new());
        self.conflict.try_set(None);
        self.remote_change.try_set(None);
        self.saved.try_set(Some(record));
    }

    fn reject(&self, e: HttpError) {
        match e.status_code {
            422 => {
                self.errors.try_set(e.errors.unwrap_or_default());
            }
            409 => {
                self.conflict.try_set(e.current);
            }
            _ => {
                self.message.try_set(Some(e.message));
            }
        }
    }

    /// Throws away local edits: takes the latest record (the conflict's, or fetched).
    pub fn load_latest(&self) {
        let FormAction::Edit(id) = self.action.get_value() else {
            return;
        };
        if let Some(current) = self.conflict.get_untracked() {
            return self.take(&current);
        }
        let (herald, this) = (untrack(use_herald), *self);
        let fetch = herald.data.get_one(&self.resource.get_value(), id);
        leptos::task::spawn_local(async move {
            match fetch.await {
                Ok(current) => this.take(&current),
                Err(e) => this.reject(e),
            }
        });
    }

    fn take(&self, record: &Record) {
        self.values.try_set(editable(record));
        self.version
            .try_set(record.get("version").and_then(Value::as_i64));
        self.conflict.try_set(None);
        self.remote_change.try_set(None);
        self.errors.try_set(FieldErrors::new());
    }

    /// Keeps local edits: the next submit overwrites the newer version.
    pub fn keep_mine(&self) {
        let newer = self
            .conflict
            .get_untracked()
            .and_then(|c| c.get("version").and_then(Value::as_i64));
        let from_event = self.remote_change.get_untracked().and_then(|e| {
            e.payload
                .get("data")
                .and_then(|d| d.get("version"))
                .and_then(Value::as_i64)
        });
        if let Some(v) = newer.or(from_event) {
            self.version.set(Some(v));
        }
        self.conflict.set(None);
        self.remote_change.set(None);
    }
}
