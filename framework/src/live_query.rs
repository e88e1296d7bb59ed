//! A live query: one cached query kept current through the live provider in one of
//! Refine's live modes. `Auto` refetches exactly the queries an event touches (coalesced
//! by the cache); `Manual` only reports events; `Off` does not subscribe. Dropping it
//! unsubscribes. Hooks wrap this; it has no Leptos in it so it runs under `cargo test`.
//!
//! It owns the live policy: which subscription a key needs, which events to skip (this
//! client's own, or any in `Manual`), and that a deleted detail turns into a 404 without a
//! fetch. What an event makes stale it hands to the cache as an [`Invalidation`], narrowed
//! to its own key, through the one entry point mutations use too. It must not know cache
//! entries, fetch states or pacing.

use crate::cache::{Invalidation, QueryCache, QueryKey, QueryKind, Watcher};
use crate::error::HttpError;
use crate::live::{LiveEvent, LiveMessage, SharedLiveProvider, SubscriptionId, SubscriptionSpec};
use crate::query::ListParams;
use crate::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Refine's live modes.
///
/// ```
/// use herald_framework::live_query::LiveMode;
/// assert_eq!(LiveMode::default(), LiveMode::Auto);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub enum LiveMode {
    /// Refetch what an event touches.
    #[default]
    Auto,
    /// Report events (`on_live_event`), refetch nothing.
    Manual,
    /// No subscription at all.
    Off,
}

/// Called with every live event a query hears (in `Auto` and `Manual`).
///
/// ```
/// use herald_framework::live_query::EventCallback;
/// let log: EventCallback = std::sync::Arc::new(|e| println!("{} on {}", e.kind, e.channel));
/// # let _ = log;
/// ```
pub type EventCallback = Arc<dyn Fn(&LiveEvent) + Send + Sync>;

/// The channel, ids and scope a query listens on: `resources/{res}`; details and
/// many-queries only for their ids; lists scoped by their filters (not paging or sort).
///
/// ```
/// use herald_framework::{cache::QueryKey, live_query::spec_for};
/// let s = spec_for(&QueryKey::one("posts", 3));
/// assert_eq!((s.channel.as_str(), s.ids), ("resources/posts", Some(vec!["3".to_string()])));
/// ```
pub fn spec_for(key: &QueryKey) -> SubscriptionSpec {
    let spec = SubscriptionSpec::channel(herald_protocol::live::channel::resource(&key.resource));
    match &key.kind {
        QueryKind::List(params) => {
            let scope = ListParams {
                range: None,
                sorters: Vec::new(),
                ..params.clone()
            };
            spec.with_scope(scope.to_query())
        }
        QueryKind::Many(ids) => spec.with_ids(ids.iter().map(Id::to_wire).collect()),
        QueryKind::One(id) => spec.with_ids(vec![id.to_wire()]),
    }
}

/// A query kept live; unsubscribes and stops watching when dropped.
///
/// ```
/// use herald_framework::{cache::{QueryCache, QueryKey}, live_query::{LiveQuery, LiveQueryOptions}};
/// use herald_framework::{memory::MemoryDataProvider, live::memory::MemoryLiveProvider};
/// use std::sync::Arc;
/// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
/// let (client, server) = MemoryLiveProvider::pair();
/// let live: herald_framework::live::SharedLiveProvider = client;
/// let q = LiveQuery::start(&cache, Some(&live), QueryKey::one("posts", 1), LiveQueryOptions::default(), None);
/// assert_eq!(server.wire_subscriptions(), 1);
/// drop(q);
/// assert_eq!(server.wire_subscriptions(), 0);
/// ```
pub struct LiveQuery {
    cache: QueryCache,
    live: Option<SharedLiveProvider>,
    key: QueryKey,
    subscription: Option<SubscriptionId>,
    watch: u64,
}

/// How a live query behaves.
///
/// ```
/// use herald_framework::live_query::{LiveMode, LiveQueryOptions};
/// let manual = LiveQueryOptions { mode: LiveMode::Manual, ..Default::default() };
/// # let _ = manual;
/// ```
#[derive(Clone, Default)]
pub struct LiveQueryOptions {
    /// Auto, Manual or Off.
    pub mode: LiveMode,
    /// This query's own event callback.
    pub on_live_event: Option<EventCallback>,
    /// The app-wide callback (root context), called too.
    pub global_on_live_event: Option<EventCallback>,
}

impl LiveQuery {
    /// Starts keeping `key` live; `on_data` hears every new result. The query watches its
    /// key for as long as it lives (with or without `on_data`), so invalidations refetch it.
    ///
    /// ```
    /// use herald_framework::{cache::{QueryCache, QueryKey}, live_query::{LiveQuery, LiveQueryOptions}};
    /// use herald_framework::{memory::MemoryDataProvider, live::memory::MemoryLiveProvider, live::SharedLiveProvider};
    /// use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let live: SharedLiveProvider = MemoryLiveProvider::new();
    /// let q = LiveQuery::start(&cache, Some(&live), QueryKey::one("posts", 1), LiveQueryOptions::default(), None);
    /// assert!(q.is_subscribed());
    /// ```
    pub fn start(
        cache: &QueryCache,
        live: Option<&SharedLiveProvider>,
        key: QueryKey,
        options: LiveQueryOptions,
        on_data: Option<Watcher>,
    ) -> Self {
        // Watch before subscribing: a subscription may answer at once.
        let watcher = on_data.unwrap_or_else(|| Arc::new(|_| {}));
        let watch = cache.watch(&key, watcher);
        let subscription = match (live, options.mode) {
            (Some(live), LiveMode::Auto | LiveMode::Manual) => {
                Some(live.subscribe(spec_for(&key), handler(cache, live, &key, options)))
            }
            _ => None,
        };
        Self {
            cache: cache.clone(),
            live: live.cloned(),
            key,
            subscription,
            watch,
        }
    }

    /// Whether it holds a live subscription.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, live_query::{LiveQuery, LiveQueryOptions}};
    /// # use herald_framework::memory::MemoryDataProvider;
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let q = LiveQuery::start(&cache, None, QueryKey::one("posts", 1), LiveQueryOptions::default(), None);
    /// assert!(!q.is_subscribed(), "no live provider");
    /// ```
    pub fn is_subscribed(&self) -> bool {
        self.subscription.is_some()
    }

    /// The query it keeps.
    ///
    /// ```
    /// # use herald_framework::{cache::{QueryCache, QueryKey}, live_query::{LiveQuery, LiveQueryOptions}};
    /// # use herald_framework::memory::MemoryDataProvider;
    /// # use std::sync::Arc;
    /// let cache = QueryCache::new(Arc::new(MemoryDataProvider::default()), Arc::new(|_f| {}));
    /// let q = LiveQuery::start(&cache, None, QueryKey::one("posts", 1), LiveQueryOptions::default(), None);
    /// assert_eq!(q.key(), &QueryKey::one("posts", 1));
    /// ```
    pub fn key(&self) -> &QueryKey {
        &self.key
    }
}

fn handler(
    cache: &QueryCache,
    live: &SharedLiveProvider,
    key: &QueryKey,
    options: LiveQueryOptions,
) -> crate::live::LiveHandler {
    // Weak: the client holds this handler; a strong reference back would be a cycle.
    let (cache, key, live, own) = (
        cache.clone(),
        key.clone(),
        Arc::downgrade(live),
        live.origin(),
    );
    Arc::new(move |message| match message {
        LiveMessage::Event(event) => {
            for cb in [&options.on_live_event, &options.global_on_live_event]
                .into_iter()
                .flatten()
            {
                cb(&event);
            }
            // Our own write: the mutation already refreshed what it changed.
            let user = live.upgrade().and_then(|l| l.user());
            let mine = crate::live::is_own(&event, &own, user);
            if options.mode != LiveMode::Auto || mine {
                return;
            }
            let resource =
                herald_protocol::live::channel::resource_of(&event.channel).unwrap_or_default();
            let stale = Invalidation::event(resource, &event.kind, event.ids()).only(&key);
            if !stale.touches(&key) {
                return;
            }
            // A deleted record needs no refetch to know it is gone (nor a 404 to find out).
            if event.kind == "deleted" && matches!(key.kind, QueryKind::One(_)) {
                let by = event.user_name().unwrap_or("someone");
                cache.set(&key, Err(HttpError::new(404, format!("deleted by {by}"))));
            } else {
                cache.invalidate(stale);
            }
        }
        // Refetch what may have been missed: before the subscription existed, or while
        // the server could not replay.
        LiveMessage::Reset { .. } | LiveMessage::Subscribed => {
            if options.mode == LiveMode::Auto {
                cache.invalidate(Invalidation::resource(&key.resource).only(&key));
            }
        }
    })
}

impl Drop for LiveQuery {
    fn drop(&mut self) {
        if let (Some(live), Some(id)) = (&self.live, self.subscription.take()) {
            live.unsubscribe(id);
        }
        self.cache.unwatch(&self.key, self.watch);
    }
}
