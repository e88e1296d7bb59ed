//! Mutations — create, update, delete — in Refine's three modes. `Pessimistic` waits for
//! the server, then refreshes what changed; `Optimistic` patches the cache at once and
//! rolls back if the write fails; `Undoable` patches at once, waits, and writes only if not
//! cancelled within the timeout.
//!
//! It owns the write's lifecycle (optimistic patch, undo window, rollback) and describes a
//! successful write to the cache as an [`Invalidation`], through the same entry point live
//! events use. It must not know cache entries, fetch states or pacing, nor how time passes:
//! timers come from an injected [`Sleeper`] ([`crate::runtime`]).

use crate::cache::{Invalidation, QueryCache, Snapshot};
use crate::data::{BoxFuture, DataResult, Record};
use crate::error::HttpError;
use crate::runtime::Sleeper;
use crate::Id;
use futures_channel::oneshot;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Refine's mutation modes.
///
/// ```
/// use herald_framework::mutation::MutationMode;
/// assert_eq!(MutationMode::default(), MutationMode::Pessimistic);
/// let undoable = MutationMode::Undoable(std::time::Duration::from_secs(5));
/// # let _ = undoable;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MutationMode {
    /// Write, then refresh what changed.
    #[default]
    Pessimistic,
    /// Patch the cache now, write, roll back on failure.
    Optimistic,
    /// Apply now, write after this delay unless undone.
    Undoable(Duration),
}

/// A write to perform.
///
/// ```
/// use herald_framework::mutation::Write;
/// let w = Write::Update { id: 3.into(), data: serde_json::json!({"title": "t"}) };
/// # let _ = w;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub enum Write {
    /// Create a record from these fields.
    Create(Record),
    /// Update some fields of a record.
    Update {
        /// The record.
        id: Id,
        /// The fields to change; `version`, when present, must still be current (409).
        data: Record,
    },
    /// Delete a record.
    Delete {
        /// The record.
        id: Id,
    },
}

impl Write {
    /// What this write, once stored, makes stale in `resource`: the same change the live
    /// event it causes describes.
    ///
    /// ```
    /// use herald_framework::{cache::{Invalidation, QueryKey}, mutation::Write};
    /// let stale = Write::Delete { id: 2.into() }.invalidation("posts");
    /// assert_eq!(stale, Invalidation::event("posts", "deleted", vec![2.into()]));
    /// assert!(stale.touches(&QueryKey::one("posts", 2)));
    /// ```
    pub fn invalidation(&self, resource: &str) -> Invalidation {
        match self {
            Write::Create(_) => Invalidation::event(resource, "created", Vec::new()),
            Write::Update { id, .. } => Invalidation::event(resource, "updated", vec![id.clone()]),
            Write::Delete { id } => Invalidation::event(resource, "deleted", vec![id.clone()]),
        }
    }
}

/// Cancels an undoable mutation before it is written.
///
/// ```
/// use herald_framework::mutation::UndoHandle;
/// assert!(!UndoHandle::default().undo(), "nothing to undo");
/// ```
#[derive(Clone, Default)]
pub struct UndoHandle(Arc<Mutex<Option<oneshot::Sender<()>>>>);

impl UndoHandle {
    /// Cancels the write and restores the cache; `false` if it was already written (or
    /// was never undoable).
    ///
    /// ```
    /// # use herald_framework::mutation::UndoHandle;
    /// let handle = UndoHandle::default();
    /// assert!(!handle.undo());
    /// ```
    pub fn undo(&self) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .is_some_and(|tx| tx.send(()).is_ok())
    }
}

/// Runs one write in `mode`. Returns the undo handle (meaningful for `Undoable`) and the
/// future of the outcome: the stored record, the server's error, or 499 when undone.
///
/// ```
/// use herald_framework::mutation::{mutate, MutationMode, Write};
/// use herald_framework::{cache::QueryCache, memory::MemoryDataProvider};
/// use std::sync::Arc;
/// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
/// let sleep = herald_framework::runtime::sleeper();
/// let (_undo, outcome) = mutate(&cache, sleep, "posts", Write::Create(serde_json::json!({"title": "t"})), MutationMode::Pessimistic);
/// # let stored = tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(outcome);
/// # assert!(stored.unwrap()["id"].is_number());
/// ```
pub fn mutate(
    cache: &QueryCache,
    sleep: Sleeper,
    resource: &str,
    write: Write,
    mode: MutationMode,
) -> (UndoHandle, BoxFuture<DataResult<Record>>) {
    let undo = UndoHandle::default();
    let snapshot =
        (mode != MutationMode::Pessimistic).then(|| apply_optimistic(cache, resource, &write));
    let cancelled = match mode {
        MutationMode::Undoable(delay) => {
            let (tx, rx) = oneshot::channel::<()>();
            *undo.0.lock().unwrap_or_else(|p| p.into_inner()) = Some(tx);
            Some((rx, delay))
        }
        _ => None,
    };
    let (cache, resource, undo_slot) = (cache.clone(), resource.to_owned(), undo.clone());
    let outcome: BoxFuture<DataResult<Record>> = Box::pin(async move {
        if let Some((rx, delay)) = cancelled {
            let undone = wait_or_undo(sleep(delay), rx).await;
            undo_slot.0.lock().unwrap_or_else(|p| p.into_inner()).take();
            if undone {
                if let Some(s) = snapshot {
                    cache.restore(s);
                }
                return Err(HttpError::new(499, "undone"));
            }
        }
        let result = send(&cache, &resource, &write).await;
        match (&result, snapshot) {
            (Err(_), Some(s)) => cache.restore(s),
            _ => {
                cache.invalidate(write.invalidation(&resource));
            }
        }
        result
    });
    (undo, outcome)
}

/// Resolves `true` if `undo` fires before `timer`.
async fn wait_or_undo(timer: BoxFuture<()>, undo: oneshot::Receiver<()>) -> bool {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    struct Race {
        timer: BoxFuture<()>,
        undo: oneshot::Receiver<()>,
    }
    impl Future for Race {
        type Output = bool;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
            if let Poll::Ready(r) = Pin::new(&mut self.undo).poll(cx) {
                // A dropped sender (handle gone) is not an undo.
                if r.is_ok() {
                    return Poll::Ready(true);
                }
            }
            self.timer.as_mut().poll(cx).map(|()| false)
        }
    }
    Race { timer, undo }.await
}

fn send(cache: &QueryCache, resource: &str, write: &Write) -> BoxFuture<DataResult<Record>> {
    let p = cache.provider();
    match write {
        Write::Create(data) => p.create(resource, data.clone()),
        Write::Update { id, data } => p.update(resource, id.clone(), data.clone()),
        Write::Delete { id } => p.delete_one(resource, id.clone()),
    }
}

/// Patches the cache as if the write succeeded; returns what to restore.
fn apply_optimistic(cache: &QueryCache, resource: &str, write: &Write) -> Snapshot {
    let snapshot = cache.snapshot(resource);
    match write {
        Write::Update { id, data } => cache.patch_record(resource, id, |record| {
            if let (Some(r), Some(d)) = (record.as_object_mut(), data.as_object()) {
                for (k, v) in d.iter().filter(|(k, _)| k.as_str() != "version") {
                    r.insert(k.clone(), v.clone());
                }
            }
            true
        }),
        Write::Delete { id } => cache.patch_record(resource, id, |_| false),
        // A new row's place in a sorted, filtered page is the server's to say.
        Write::Create(_) => {}
    }
    snapshot
}
