//! The query cache: one entry per (resource, kind, params). It guarantees that identical
//! queries share one fetch, that a query never has more than one fetch in flight and one
//! queued, and it knows which queries an event touches (precise invalidation).
//! Runtime-agnostic: fetches run on an injected spawner (Leptos' `spawn_local` in the app,
//! tokio in tests).
//!
//! Coalescing: the first invalidation after a quiet spell refetches at once (one event
//! shows without delay). Invalidations that arrive while that fetch runs are folded into
//! one more fetch, and with [`Pacing`] that fetch waits until the invalidations pause for
//! `quiet` (at most `max_wait`): a burst of any size shorter than `max_wait` costs two
//! fetches, however long it lasts, instead of one per round trip.

use super::data::{BoxFuture, DataResult, ListResult, Record, SharedDataProvider};
use super::mutation::Sleeper;
use super::query::ListParams;
use super::Id;
use futures_channel::oneshot;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// What a query asks for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QueryKind {
    List(ListParams),
    Many(Vec<Id>),
    One(Id),
}

/// Identifies a query.
///
/// ```
/// use herald_framework::cache::QueryKey;
/// let k = QueryKey::one("posts", 3);
/// assert!(k.affected_by("posts", "updated", &["3".into()]));
/// assert!(!k.affected_by("posts", "updated", &["4".into()]));
/// assert!(!k.affected_by("posts", "created", &["9".into()]));
/// let slug = QueryKey::one("tasks", "fix-login");
/// assert!(slug.affected_by("tasks", "deleted", &["fix-login".into()]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueryKey {
    pub resource: String,
    pub kind: QueryKind,
}

impl QueryKey {
    /// A getList query.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryKey, query::ListParams};
    /// assert_eq!(QueryKey::list("posts", ListParams::default()).resource, "posts");
    /// ```
    pub fn list(resource: impl Into<String>, params: ListParams) -> Self {
        Self {
            resource: resource.into(),
            kind: QueryKind::List(params),
        }
    }

    /// A getMany query (ids are sorted so equal sets share an entry).
    ///
    /// ```
    /// # use herald_framework::cache::QueryKey;
    /// assert_eq!(QueryKey::many("posts", vec![2.into(), 1.into()]), QueryKey::many("posts", vec![1.into(), 2.into()]));
    /// ```
    pub fn many(resource: impl Into<String>, mut ids: Vec<Id>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self {
            resource: resource.into(),
            kind: QueryKind::Many(ids),
        }
    }

    /// A getOne query.
    ///
    /// ```
    /// # use herald_framework::cache::QueryKey;
    /// assert_eq!(QueryKey::one("posts", 1), QueryKey::one("posts", "1"));
    /// ```
    pub fn one(resource: impl Into<String>, id: impl Into<Id>) -> Self {
        Self {
            resource: resource.into(),
            kind: QueryKind::One(id.into()),
        }
    }

    /// Whether an event of `kind` about `ids` on `resource` makes this query stale:
    /// `created` touches lists; `updated`/`deleted` touch lists, and the details and
    /// many-queries holding one of the ids. Custom event types touch nothing.
    pub fn affected_by(&self, resource: &str, kind: &str, ids: &[Id]) -> bool {
        if resource != self.resource {
            return false;
        }
        let holds = |id: &Id| ids.contains(id);
        match (kind, &self.kind) {
            ("created", QueryKind::List(_)) => true,
            ("updated" | "deleted", QueryKind::List(_)) => true,
            ("updated" | "deleted", QueryKind::Many(have)) => have.iter().any(holds),
            ("updated" | "deleted", QueryKind::One(id)) => holds(id),
            _ => false,
        }
    }
}

/// A query's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum QueryData {
    List(ListResult),
    Many(Vec<Record>),
    One(Record),
}

/// Runs a fetch to completion in the background.
pub type Spawner = Arc<dyn Fn(BoxFuture<()>) + Send + Sync>;
/// Told the new result of a watched query.
pub type Watcher = Arc<dyn Fn(&DataResult<QueryData>) + Send + Sync>;

/// How a refetch queued behind a burst of invalidations waits for the burst to end.
///
/// ```
/// use herald_framework::cache::Pacing;
/// use std::{sync::Arc, time::Duration};
/// let pacing = Pacing::new(Arc::new(|d| Box::pin(tokio::time::sleep(d))));
/// assert_eq!(pacing.quiet, Duration::from_millis(100));
/// ```
#[derive(Clone)]
pub struct Pacing {
    pub sleep: Sleeper,
    /// The pause in invalidations that ends a burst.
    pub quiet: Duration,
    /// The longest a queued refetch waits, so a never-ending stream still refreshes.
    pub max_wait: Duration,
}

impl Pacing {
    /// 100 ms of quiet ends a burst; a queued refetch waits at most one second.
    pub fn new(sleep: Sleeper) -> Self {
        Self {
            sleep,
            quiet: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
        }
    }
}

#[derive(Default)]
struct Entry {
    data: Option<DataResult<QueryData>>,
    stale: bool,
    in_flight: bool,
    queued: bool,
    /// Just fetched (paced caches): invalidations now queue one refetch that waits for
    /// them to pause.
    settling: bool,
    /// Invalidations so far: the settling wait compares it across a `quiet` spell.
    invalidations: u64,
    waiters: Vec<oneshot::Sender<DataResult<QueryData>>>,
    watchers: Vec<(u64, Watcher)>,
}

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
pub struct Snapshot(Vec<(QueryKey, Option<DataResult<QueryData>>)>);

impl QueryCache {
    /// A cache fetching through `provider`, running fetches with `spawn`.
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
    pub fn with_pacing(mut self, pacing: Pacing) -> Self {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.pacing = Some(pacing);
        }
        self
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<QueryKey, Entry>> {
        self.inner.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The data provider behind the cache.
    pub fn provider(&self) -> &SharedDataProvider {
        &self.inner.provider
    }

    /// Provider calls made so far (for tests and diagnostics).
    pub fn fetch_count(&self) -> u64 {
        self.inner.fetches.load(Ordering::Relaxed)
    }

    /// The cached result of `key`, fresh or stale.
    pub fn get(&self, key: &QueryKey) -> Option<DataResult<QueryData>> {
        self.lock().get(key).and_then(|e| e.data.clone())
    }

    /// Stores data fetched elsewhere (SSR, hydration) as fresh, and tells watchers.
    pub fn set(&self, key: &QueryKey, data: DataResult<QueryData>) {
        let watchers = {
            let mut entries = self.lock();
            let entry = entries.entry(key.clone()).or_default();
            entry.data = Some(data.clone());
            entry.stale = false;
            entry
                .watchers
                .iter()
                .map(|(_, w)| w.clone())
                .collect::<Vec<_>>()
        };
        for w in watchers {
            w(&data);
        }
    }

    /// The data of `key`: cached if fresh, else from the fetch in flight or a new one.
    pub fn load(&self, key: &QueryKey) -> impl Future<Output = DataResult<QueryData>> + 'static {
        let (tx, rx) = oneshot::channel();
        let start = {
            let mut entries = self.lock();
            let entry = entries.entry(key.clone()).or_default();
            match (&entry.data, entry.stale) {
                (Some(data), false) => {
                    let _ = tx.send(data.clone());
                    false
                }
                _ => {
                    entry.waiters.push(tx);
                    // Someone waits for the data now: a paced refetch goes at once.
                    if std::mem::take(&mut entry.settling) {
                        entry.queued = false;
                    }
                    !std::mem::replace(&mut entry.in_flight, true)
                }
            }
        };
        if start {
            self.spawn_fetch(key.clone());
        }
        async move {
            rx.await
                .unwrap_or_else(|_| Err(super::error::HttpError::new(499, "query cancelled")))
        }
    }

    /// Refetches `key` now, or once more after the fetch in flight (never more than one
    /// queued). Watchers get the result.
    pub fn refresh(&self, key: &QueryKey) {
        let start = {
            let mut entries = self.lock();
            let entry = entries.entry(key.clone()).or_default();
            entry.stale = true;
            entry.invalidations += 1;
            if entry.in_flight || entry.settling {
                entry.queued = true;
                false
            } else {
                entry.in_flight = true;
                true
            }
        };
        if start {
            self.spawn_fetch(key.clone());
        }
    }

    /// Calls `watcher` with every new result of `key` until [`Self::unwatch`].
    pub fn watch(&self, key: &QueryKey, watcher: Watcher) -> u64 {
        let id = self.inner.next_watch.fetch_add(1, Ordering::Relaxed);
        self.lock()
            .entry(key.clone())
            .or_default()
            .watchers
            .push((id, watcher));
        id
    }

    /// Stops a watcher.
    pub fn unwatch(&self, key: &QueryKey, id: u64) {
        if let Some(entry) = self.lock().get_mut(key) {
            entry.watchers.retain(|(w, _)| *w != id);
        }
    }

    /// Marks every query an event touches as stale; watched ones refetch (coalesced).
    /// Returns the keys refetched.
    pub fn invalidate(&self, resource: &str, kind: &str, ids: &[Id]) -> Vec<QueryKey> {
        self.invalidate_where(|k| k.affected_by(resource, kind, ids))
    }

    /// Marks every query of `resource` stale (after a `reset`); watched ones refetch.
    pub fn invalidate_resource(&self, resource: &str) -> Vec<QueryKey> {
        self.invalidate_where(|k| k.resource == resource)
    }

    fn invalidate_where(&self, affected: impl Fn(&QueryKey) -> bool) -> Vec<QueryKey> {
        let watched: Vec<QueryKey> = {
            let mut entries = self.lock();
            entries
                .iter_mut()
                .filter(|(k, _)| affected(k))
                .filter_map(|(k, e)| {
                    e.stale = true;
                    (!e.watchers.is_empty()).then(|| k.clone())
                })
                .collect()
        };
        for key in &watched {
            self.refresh(key);
        }
        watched
    }

    /// The cached data of `resource`, to restore after a failed optimistic update.
    pub fn snapshot(&self, resource: &str) -> Snapshot {
        Snapshot(
            self.lock()
                .iter()
                .filter(|(k, _)| k.resource == resource)
                .map(|(k, e)| (k.clone(), e.data.clone()))
                .collect(),
        )
    }

    /// Puts a snapshot back, telling watchers.
    pub fn restore(&self, snapshot: Snapshot) {
        for (key, data) in snapshot.0 {
            if let Some(data) = data {
                self.set(&key, data);
            }
        }
    }

    /// Applies `edit` to record `id` of `resource` wherever it is cached (optimistic
    /// updates), telling watchers. `edit` returning `false` removes the record.
    pub fn patch_record(&self, resource: &str, id: &Id, edit: impl Fn(&mut Record) -> bool) {
        let touched: Vec<(QueryKey, DataResult<QueryData>)> = {
            let mut entries = self.lock();
            entries
                .iter_mut()
                .filter(|(k, _)| k.resource == resource)
                .filter_map(|(k, e)| {
                    let Some(Ok(data)) = &mut e.data else {
                        return None;
                    };
                    patch_data(data, id, &edit).then(|| (k.clone(), Ok(data.clone())))
                })
                .collect()
        };
        for (key, data) in touched {
            self.set(&key, data);
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
        let pacing = self.inner.pacing.clone();
        let (waiters, watchers, again) = {
            let mut entries = self.lock();
            let entry = entries.entry(key.clone()).or_default();
            entry.data = Some(result.clone());
            // Paced: whatever is queued now or arrives within `quiet` is folded into one
            // refetch when the invalidations pause.
            let paced = pacing.is_some();
            let again = if paced {
                entry.queued
            } else {
                std::mem::take(&mut entry.queued)
            };
            entry.stale = again;
            entry.settling = paced;
            entry.in_flight = again && !paced;
            let watchers: Vec<Watcher> = entry.watchers.iter().map(|(_, w)| w.clone()).collect();
            (std::mem::take(&mut entry.waiters), watchers, again)
        };
        for w in waiters {
            let _ = w.send(result.clone());
        }
        for w in watchers {
            w(&result);
        }
        match pacing {
            Some(pacing) => self.spawn_settle(key.clone(), pacing),
            None if again => self.spawn_fetch(key.clone()),
            None => {}
        }
    }

    fn invalidations(&self, key: &QueryKey) -> u64 {
        self.lock().get(key).map_or(0, |e| e.invalidations)
    }

    /// After a fetch: waits for invalidations to pause, then runs the refetch they queued
    /// (if any).
    fn spawn_settle(&self, key: QueryKey, pacing: Pacing) {
        let cache = self.clone();
        (self.inner.spawn)(Box::pin(async move {
            let mut waited = Duration::ZERO;
            loop {
                let seen = cache.invalidations(&key);
                (pacing.sleep)(pacing.quiet).await;
                waited += pacing.quiet;
                if cache.invalidations(&key) == seen || waited >= pacing.max_wait {
                    break;
                }
            }
            let start = {
                let mut entries = cache.lock();
                let Some(entry) = entries.get_mut(&key) else {
                    return;
                };
                // A load meanwhile already started the fetch; or nothing came in.
                let start =
                    std::mem::take(&mut entry.settling) && std::mem::take(&mut entry.queued);
                if start {
                    entry.in_flight = true;
                }
                start
            };
            if start {
                cache.spawn_fetch(key);
            }
        }));
    }
}

/// Edits record `id` inside `data`; `true` if it was there.
fn patch_data(data: &mut QueryData, id: &Id, edit: &impl Fn(&mut Record) -> bool) -> bool {
    let is = |r: &Record| Id::of(r).as_ref() == Some(id);
    let patch_vec = |rows: &mut Vec<Record>| -> bool {
        let Some(pos) = rows.iter().position(is) else {
            return false;
        };
        if !edit(&mut rows[pos]) {
            rows.remove(pos);
        }
        true
    };
    match data {
        QueryData::List(list) => {
            let before = list.data.len();
            let hit = patch_vec(&mut list.data);
            list.total = list.total.saturating_sub((before - list.data.len()) as u64);
            hit
        }
        QueryData::Many(rows) => patch_vec(rows),
        QueryData::One(record) if is(record) => {
            edit(record);
            true
        }
        QueryData::One(_) => false,
    }
}
