//! The query cache: a thin registry of entries, one per [`QueryKey`]. It looks entries up
//! under one lock, lets each entry's state machine decide (see `entry.rs`), and carries out
//! what the entry asks — start a fetch through the provider, start a pacing wait — on the
//! injected [`Spawner`] once the lock is released, then tells waiters and watchers.
//!
//! - `key.rs`: [`QueryKey`], [`QueryKind`] and the matching rule ([`Invalidation`]).
//! - `entry.rs`: one query's data and fetch lifecycle (Idle, Fetching, FetchingQueued,
//!   Settling, SettlingQueued): identical queries share one fetch, never more than one fetch
//!   in flight and one queued.
//! - `pacing.rs`: [`Pacing`], how a queued refetch waits for a burst to pause, so a burst of
//!   any size shorter than `max_wait` costs two fetches.
//! - `query_data.rs`: [`QueryData`] and the record edits of optimistic updates.
//!
//! The first invalidation after a quiet spell refetches at once (one event shows without
//! delay). Invalidations arriving while that fetch runs fold into one more fetch, and with
//! [`Pacing`] that fetch waits until the invalidations pause for `quiet` (at most
//! `max_wait`), instead of one per round trip.
//!
//! Every change enters through [`QueryCache::invalidate`] — live events and this client's
//! writes alike. The cache knows no live wire, no mutation modes and no Leptos; it knows
//! time and spawning only through [`crate::runtime`].

mod entry;
mod key;
mod pacing;
mod query_data;

pub use entry::Watcher;
pub use key::{Invalidation, QueryKey, QueryKind};
pub use pacing::Pacing;
pub use query_data::QueryData;

use crate::data::{BoxFuture, DataResult, Record, SharedDataProvider};
use crate::error::HttpError;
use crate::runtime::Spawner;
use crate::Id;
use entry::{Command, Entry};
use futures_channel::oneshot;
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

struct Inner {
    provider: SharedDataProvider,
    spawn: Spawner,
    pacing: Option<Pacing>,
    entries: Mutex<HashMap<QueryKey, Entry>>,
    fetches: AtomicU64,
    next_watch: AtomicU64,
}

/// The shared query cache. Cheap to clone.
///
/// ```
/// use herald_framework::cache::{QueryCache, QueryKey};
/// use herald_framework::memory::MemoryDataProvider;
/// use std::sync::Arc;
/// let provider = Arc::new(MemoryDataProvider::default());
/// let cache = QueryCache::new(provider, Arc::new(|_fut| {}));
/// assert_eq!(cache.fetch_count(), 0);
/// assert!(cache.get(&QueryKey::one("posts", 1)).is_none());
/// ```
#[derive(Clone)]
pub struct QueryCache {
    inner: Arc<Inner>,
}

/// A snapshot of a resource's cached data, for rolling back optimistic updates.
///
/// ```
/// # use herald_framework::{cache::{QueryCache, QueryData, QueryKey}, memory::MemoryDataProvider};
/// # use std::sync::Arc;
/// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
/// let key = QueryKey::one("posts", 1);
/// cache.set(&key, Ok(QueryData::One(serde_json::json!({"id": 1, "title": "a"}))));
/// let before = cache.snapshot("posts");
/// cache.set(&key, Ok(QueryData::One(serde_json::json!({"id": 1, "title": "b"}))));
/// cache.restore(before);
/// assert_eq!(cache.get(&key), Some(Ok(QueryData::One(serde_json::json!({"id": 1, "title": "a"})))));
/// ```
pub struct Snapshot(Vec<(QueryKey, Option<DataResult<QueryData>>)>);

impl QueryCache {
    /// A cache fetching through `provider`, running fetches with `spawn`.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryCache, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), herald_framework::runtime::spawner());
    /// # let _ = cache;
    /// ```
    pub fn new(provider: SharedDataProvider, spawn: Spawner) -> Self {
        Self {
            inner: Arc::new(Inner {
                provider,
                spawn,
                pacing: None,
                entries: Mutex::new(HashMap::new()),
                fetches: AtomicU64::new(0),
                next_watch: AtomicU64::new(1),
            }),
        }
    }

    /// The same cache with queued refetches paced (see the module doc). Call it before
    /// cloning the cache.
    ///
    /// ```
    /// # use herald_framework::{cache::{Pacing, QueryCache}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}))
    ///     .with_pacing(Pacing::new(herald_framework::runtime::sleeper()));
    /// # let _ = cache;
    /// ```
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.pacing = Some(pacing);
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<QueryKey, Entry>> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` on the entry of `key`, created if missing, under the lock.
    fn with_entry<R>(&self, key: &QueryKey, f: impl FnOnce(&mut Entry) -> R) -> R {
        f(self.lock().entry(key.clone()).or_default())
    }

    /// The data provider behind the cache.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryCache, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let _writes_go_here = cache.provider().clone();
    /// ```
    pub fn provider(&self) -> &SharedDataProvider {
        &self.inner.provider
    }

    /// Provider calls made so far (for tests and diagnostics).
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|f| drop(tokio::spawn(f))));
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let _ = cache.load(&QueryKey::one("posts", 1)).await; // a 404, fetched once
    /// assert_eq!(cache.fetch_count(), 1);
    /// # });
    /// ```
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The cached result of `key`, fresh or stale.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// assert!(cache.get(&QueryKey::one("posts", 1)).is_none(), "never loaded");
    /// ```
    pub fn get(&self, key: &QueryKey) -> Option<DataResult<QueryData>> {
        self.lock().get(key).and_then(|e| e.data().cloned())
    }

    /// Stores data fetched elsewhere (SSR, hydration) as fresh, and tells watchers.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryData, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let key = QueryKey::one("posts", 1);
    /// cache.set(&key, Ok(QueryData::One(serde_json::json!({"id": 1}))));
    /// assert!(cache.get(&key).is_some());
    /// ```
    pub fn set(&self, key: &QueryKey, data: DataResult<QueryData>) {
        let watchers = self.with_entry(key, |e| e.set(data.clone()));
        for w in watchers {
            w(&data);
        }
    }

    /// The data of `key`: cached if fresh, else from the fetch in flight or a new one.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryData, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let posts = MemoryDataProvider::default().with("posts", vec![serde_json::json!({"id": 1, "version": 1})]);
    /// let cache = QueryCache::new(Arc::new(posts), Arc::new(|f| drop(tokio::spawn(f))));
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let key = QueryKey::one("posts", 1);
    /// let (a, b) = tokio::join!(cache.load(&key), cache.load(&key));
    /// assert_eq!(a.unwrap(), b.unwrap());
    /// assert_eq!(cache.fetch_count(), 1, "shared one fetch");
    /// # });
    /// ```
    pub fn load(&self, key: &QueryKey) -> impl Future<Output = DataResult<QueryData>> + 'static {
        let (tx, rx) = oneshot::channel();
        let command = self.with_entry(key, |e| e.load(tx));
        self.run(key, command);
        async move {
            rx.await
                .unwrap_or_else(|_| Err(HttpError::new(499, "query cancelled")))
        }
    }

    /// Refetches `key` (an explicit refetch, watched or not): now, or once more after the
    /// fetch in flight (never more than one queued). Watchers get the result.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// cache.refresh(&QueryKey::one("posts", 1));
    /// cache.refresh(&QueryKey::one("posts", 1)); // queued behind the first
    /// assert_eq!(cache.fetch_count(), 1);
    /// ```
    pub fn refresh(&self, key: &QueryKey) {
        let command = self.with_entry(key, Entry::invalidate);
        self.run(key, command);
    }

    /// Calls `watcher` with every new result of `key` until [`Self::unwatch`]. Watched
    /// queries refetch when invalidated; unwatched ones only go stale.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryData, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::{Arc, atomic::{AtomicU32, Ordering}};
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let key = QueryKey::one("posts", 1);
    /// let told = Arc::new(AtomicU32::new(0));
    /// let t = told.clone();
    /// let id = cache.watch(&key, Arc::new(move |_| { t.fetch_add(1, Ordering::Relaxed); }));
    /// cache.set(&key, Ok(QueryData::One(serde_json::json!({"id": 1}))));
    /// cache.unwatch(&key, id);
    /// cache.set(&key, Ok(QueryData::One(serde_json::json!({"id": 1}))));
    /// assert_eq!(told.load(Ordering::Relaxed), 1);
    /// ```
    pub fn watch(&self, key: &QueryKey, watcher: Watcher) -> u64 {
        let id = self.inner.next_watch.fetch_add(1, Ordering::Relaxed);
        self.with_entry(key, |e| e.watch(id, watcher));
        id
    }

    /// Stops a watcher.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// cache.unwatch(&QueryKey::one("posts", 1), 42); // unknown: nothing happens
    /// ```
    pub fn unwatch(&self, key: &QueryKey, id: u64) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.unwatch(id);
        }
    }

    /// The one invalidation entry point, for live events and this client's writes alike:
    /// every cached query `invalidation` touches goes stale; watched ones refetch
    /// (coalesced, paced). Returns the keys refetched.
    ///
    /// ```
    /// # use herald_framework::{cache::{Invalidation, QueryCache, QueryKey}, memory::MemoryDataProvider, query::ListParams};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let (list, d1, d2) = (QueryKey::list("posts", ListParams::default()), QueryKey::one("posts", 1), QueryKey::one("posts", 2));
    /// for k in [&list, &d1, &d2] {
    ///     cache.watch(k, Arc::new(|_| {}));
    /// }
    /// let refetched = cache.invalidate(Invalidation::event("posts", "updated", vec![1.into()]));
    /// assert_eq!(refetched.len(), 2);
    /// assert!(refetched.contains(&list) && refetched.contains(&d1));
    /// ```
    pub fn invalidate(&self, invalidation: Invalidation) -> Vec<QueryKey> {
        let commands: Vec<(QueryKey, Command)> = {
            let mut entries = self.lock();
            entries
                .iter_mut()
                .filter(|(k, _)| invalidation.touches(k))
                .filter_map(|(k, e)| {
                    if e.is_watched() {
                        Some((k.clone(), e.invalidate()))
                    } else {
                        e.mark_stale();
                        None
                    }
                })
                .collect()
        };
        for (key, command) in &commands {
            self.run(key, *command);
        }
        commands.into_iter().map(|(k, _)| k).collect()
    }

    /// The cached data of `resource`, to restore after a failed optimistic update.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryCache, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// cache.restore(cache.snapshot("posts")); // nothing cached: nothing restored
    /// ```
    pub fn snapshot(&self, resource: &str) -> Snapshot {
        Snapshot(
            self.lock()
                .iter()
                .filter(|(k, _)| k.resource == resource)
                .map(|(k, e)| (k.clone(), e.data().cloned()))
                .collect(),
        )
    }

    /// Puts a snapshot back, telling watchers (see [`Snapshot`]).
    ///
    /// ```
    /// # use herald_framework::{cache::QueryCache, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let snapshot = cache.snapshot("posts");
    /// cache.restore(snapshot);
    /// ```
    pub fn restore(&self, snapshot: Snapshot) {
        for (key, data) in snapshot.0 {
            if let Some(data) = data {
                self.set(&key, data);
            }
        }
    }

    /// Applies `edit` to record `id` of `resource` wherever it is cached (optimistic
    /// updates), telling watchers. `edit` returning `false` removes the record.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryData, QueryKey}, memory::MemoryDataProvider};
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let key = QueryKey::many("posts", vec![1.into(), 2.into()]);
    /// cache.set(&key, Ok(QueryData::Many(vec![serde_json::json!({"id": 1}), serde_json::json!({"id": 2})])));
    /// cache.patch_record("posts", &2.into(), |_| false);
    /// assert_eq!(cache.get(&key), Some(Ok(QueryData::Many(vec![serde_json::json!({"id": 1})]))));
    /// ```
    pub fn patch_record(&self, resource: &str, id: &Id, edit: impl Fn(&mut Record) -> bool) {
        let touched: Vec<(QueryKey, DataResult<QueryData>)> = {
            let mut entries = self.lock();
            entries
                .iter_mut()
                .filter(|(k, _)| k.resource == resource)
                .filter_map(|(k, e)| {
                    let data = e.data_mut()?;
                    data.patch(id, &edit).then(|| (k.clone(), Ok(data.clone())))
                })
                .collect()
        };
        for (key, data) in touched {
            self.set(&key, data);
        }
    }

    /// Carries out what an entry asked for, outside the lock.
    fn run(&self, key: &QueryKey, command: Command) {
        match command {
            Command::Nothing => {}
            Command::Fetch => self.spawn_fetch(key.clone()),
            Command::Pace(timer) => self.spawn_pace(key.clone(), timer),
        }
    }

    fn spawn_fetch(&self, key: QueryKey) {
        let cache = self.clone();
        let fut = self.fetch(&key);
        (self.inner.spawn)(Box::pin(async move {
            let result = fut.await;
            cache.finish(&key, result);
        }));
    }

    fn fetch(&self, key: &QueryKey) -> BoxFuture<DataResult<QueryData>> {
        self.inner.fetches.fetch_add(1, Ordering::Relaxed);
        let p = &self.inner.provider;
        let resource = key.resource.as_str();
        match &key.kind {
            QueryKind::List(params) => {
                let f = p.get_list(resource, params.clone());
                Box::pin(async move { f.await.map(QueryData::List) })
            }
            QueryKind::Many(ids) => {
                let f = p.get_many(resource, ids.clone());
                Box::pin(async move { f.await.map(QueryData::Many) })
            }
            QueryKind::One(id) => {
                let f = p.get_one(resource, id.clone());
                Box::pin(async move { f.await.map(QueryData::One) })
            }
        }
    }

    fn finish(&self, key: &QueryKey, result: DataResult<QueryData>) {
        let paced = self.inner.pacing.is_some();
        let done = self.with_entry(key, |e| e.fetched(result.clone(), paced));
        for w in done.waiters {
            let _ = w.send(result.clone());
        }
        for w in done.watchers {
            w(&result);
        }
        self.run(key, done.next);
    }

    /// Pacing wait `timer` of `key`: waits for its invalidations to pause, then tells the
    /// entry (which starts the queued refetch, if any, and if the wait still matters).
    fn spawn_pace(&self, key: QueryKey, timer: u64) {
        let Some(pacing) = self.inner.pacing.clone() else {
            return;
        };
        let cache = self.clone();
        (self.inner.spawn)(Box::pin(async move {
            let count = || cache.lock().get(&key).and_then(|e| e.pacing(timer));
            pacing.wait_for_pause(count).await;
            let command = cache
                .lock()
                .get_mut(&key)
                .map_or(Command::Nothing, |e| e.paced(timer));
            cache.run(&key, command);
        }));
    }
}
