//! A live query: one cached query kept current through the live provider in one of
//! Refine's live modes. `Auto` refetches exactly the queries an event touches (coalesced
//! by the cache); `Manual` only reports events; `Off` does not subscribe. Dropping it
//! unsubscribes. Hooks wrap this; it has no Leptos in it so it runs under `cargo test`.

use super::cache::{QueryCache, QueryKey, QueryKind, Watcher};
use super::error::HttpError;
use super::live::{LiveEvent, LiveMessage, SharedLiveProvider, SubscriptionId, SubscriptionSpec};
use super::query::ListParams;
use super::Id;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Refine's live modes.
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
pub struct LiveQuery {
    cache: QueryCache,
    live: Option<SharedLiveProvider>,
    key: QueryKey,
    subscription: Option<SubscriptionId>,
    watch: Option<u64>,
}

/// How a live query behaves.
#[derive(Clone, Default)]
pub struct LiveQueryOptions {
    pub mode: LiveMode,
    /// This query's own event callback.
    pub on_live_event: Option<EventCallback>,
    /// The app-wide callback (root context), called too.
    pub global_on_live_event: Option<EventCallback>,
}

impl LiveQuery {
    /// Starts keeping `key` live; `on_data` hears every new result.
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
        let watch = on_data.map(|w| cache.watch(&key, w));
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
    pub fn is_subscribed(&self) -> bool {
        self.subscription.is_some()
    }

    /// The query it keeps.
    pub fn key(&self) -> &QueryKey {
        &self.key
    }
}

fn handler(
    cache: &QueryCache,
    live: &SharedLiveProvider,
    key: &QueryKey,
    options: LiveQueryOptions,
) -> super::live::LiveHandler {
    let (cache, key, own) = (cache.clone(), key.clone(), live.origin());
    Arc::new(move |message| match message {
        LiveMessage::Event(event) => {
            for cb in [&options.on_live_event, &options.global_on_live_event]
                .into_iter()
                .flatten()
            {
                cb(&event);
            }
            // Our own write: the mutation already refreshed what it changed.
            let mine = event.origin() == Some(own.as_str());
            let resource =
                herald_protocol::live::channel::resource_of(&event.channel).unwrap_or_default();
            if options.mode != LiveMode::Auto
                || mine
                || !key.affected_by(resource, &event.kind, &event.ids())
            {
                return;
            }
            // A deleted record needs no refetch to know it is gone (nor a 404 to find out).
            if event.kind == "deleted" && matches!(key.kind, QueryKind::One(_)) {
                let by = event.user_name().unwrap_or("someone");
                cache.set(&key, Err(HttpError::new(404, format!("deleted by {by}"))));
            } else {
                cache.refresh(&key);
            }
        }
        // Refetch what may have been missed: before the subscription existed, or while
        // the server could not replay.
        LiveMessage::Reset { .. } | LiveMessage::Subscribed => {
            if options.mode == LiveMode::Auto {
                cache.refresh(&key);
            }
        }
    })
}

impl Drop for LiveQuery {
    fn drop(&mut self) {
        if let (Some(live), Some(id)) = (&self.live, self.subscription.take()) {
            live.unsubscribe(id);
        }
        if let Some(w) = self.watch.take() {
            self.cache.unwatch(&self.key, w);
        }
    }
}
