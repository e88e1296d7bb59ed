//! Mutation hooks: create, update and delete in the pessimistic, optimistic or undoable
//! mode, with pending and error state. Success refreshes exactly what the write touched.

use crate::context::use_herald;
use crate::data::{DataResult, Record};
use crate::error::HttpError;
use crate::mutation::{mutate, MutationMode, UndoHandle, Write};
use crate::Id;
use leptos::prelude::*;

/// A mutation's reactive state and its actions. `Copy`, so it can go into many handlers.
#[derive(Clone, Copy)]
pub struct UseMutation {
    /// A write is in progress (or waiting out its undo delay).
    pub pending: RwSignal<bool>,
    /// The last failure (undo is not a failure).
    pub error: RwSignal<Option<HttpError>>,
    /// The last stored record.
    pub last: RwSignal<Option<Record>>,
    resource: StoredValue<String>,
    mode: StoredValue<MutationMode>,
}

/// A mutation hook for `resource` in `mode`.
///
/// ```no_run
/// use herald_framework::hooks::use_mutation;
/// use herald_framework::mutation::MutationMode;
/// let posts = use_mutation("posts", MutationMode::Optimistic);
/// posts.update(3, serde_json::json!({"status": "published"}));
/// ```
pub fn use_mutation(resource: impl Into<String>, mode: MutationMode) -> UseMutation {
    UseMutation {
        pending: RwSignal::new(false),
        error: RwSignal::new(None),
        last: RwSignal::new(None),
        resource: StoredValue::new(resource.into()),
        mode: StoredValue::new(mode),
    }
}

/// `use_mutation` for creating.
///
/// ```no_run
/// let create = herald_framework::hooks::use_create("posts");
/// create.create(serde_json::json!({"title": "Hello"}));
/// ```
pub fn use_create(resource: impl Into<String>) -> UseMutation {
    use_mutation(resource, MutationMode::Pessimistic)
}

/// `use_mutation` for updating in `mode`.
///
/// ```no_run
/// use herald_framework::mutation::MutationMode;
/// let update = herald_framework::hooks::use_update("posts", MutationMode::Optimistic);
/// ```
pub fn use_update(resource: impl Into<String>, mode: MutationMode) -> UseMutation {
    use_mutation(resource, mode)
}

/// `use_mutation` for deleting in `mode`.
///
/// ```no_run
/// use herald_framework::mutation::MutationMode;
/// use std::time::Duration;
/// let delete = herald_framework::hooks::use_delete("posts", MutationMode::Undoable(Duration::from_secs(5)));
/// let undo = delete.delete(3);
/// ```
pub fn use_delete(resource: impl Into<String>, mode: MutationMode) -> UseMutation {
    use_mutation(resource, mode)
}

impl UseMutation {
    /// Creates a record.
    pub fn create(&self, data: Record) -> UndoHandle {
        self.run(Write::Create(data), |_| {})
    }

    /// Updates record `id` (include `version` to guard against concurrent edits).
    pub fn update(&self, id: impl Into<Id>, data: Record) -> UndoHandle {
        self.run(
            Write::Update {
                id: id.into(),
                data,
            },
            |_| {},
        )
    }

    /// Deletes record `id`.
    pub fn delete(&self, id: impl Into<Id>) -> UndoHandle {
        self.run(Write::Delete { id: id.into() }, |_| {})
    }

    /// Runs `write` and calls `done` with the outcome (in the browser, after the write).
    pub fn run(
        &self,
        write: Write,
        done: impl FnOnce(&DataResult<Record>) + 'static,
    ) -> UndoHandle {
        let herald = use_herald_untracked();
        let resource = self.resource.get_value();
        let (undo, outcome) = mutate(
            &herald.cache,
            herald.sleep.clone(),
            &resource,
            write,
            self.mode.get_value(),
        );
        let this = *self;
        this.pending.set(true);
        this.error.set(None);
        leptos::task::spawn_local(async move {
            let result = outcome.await;
            this.pending.try_set(false);
            match &result {
                Ok(record) => {
                    this.last.try_set(Some(record.clone()));
                }
                Err(e) if e.status_code == 499 => {}
                Err(e) => {
                    this.error.try_set(Some(e.clone()));
                }
            }
            done(&result);
        });
        undo
    }
}

/// The root context without tracking (mutations run from event handlers).
fn use_herald_untracked() -> crate::context::Herald {
    untrack(use_herald)
}
