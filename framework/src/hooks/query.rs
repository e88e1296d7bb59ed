//! Query hooks: a `Resource` for the first load (rendered on the server, serialised into
//! the page and reused at hydration, so the browser does not refetch on load) plus a
//! [`LiveQuery`] that keeps the data current in the browser.

use crate::cache::{QueryCache, QueryData, QueryKey};
use crate::context::use_herald;
use crate::data::{DataResult, ListResult, Record};
use crate::error::HttpError;
use crate::live::LiveEvent;
use crate::live_query::{EventCallback, LiveMode, LiveQuery, LiveQueryOptions};
use crate::query::ListParams;
use crate::runtime::sendable;
use crate::Id;
use leptos::prelude::*;
use std::sync::Arc;

/// Per-hook options.
#[derive(Clone, Default)]
pub struct QueryOptions {
    /// Overrides the root's live mode.
    pub live_mode: Option<LiveMode>,
    /// Called with every live event this query hears (not in `Off`).
    pub on_live_event: Option<EventCallback>,
}

impl QueryOptions {
    /// Options with this live mode.
    ///
    /// ```
    /// # use herald_framework::{hooks::QueryOptions, live_query::LiveMode};
    /// assert_eq!(QueryOptions::mode(LiveMode::Manual).live_mode, Some(LiveMode::Manual));
    /// ```
    pub fn mode(mode: LiveMode) -> Self {
        Self {
            live_mode: Some(mode),
            on_live_event: None,
        }
    }

    /// Adds an event callback.
    ///
    /// ```
    /// # use herald_framework::hooks::QueryOptions;
    /// let o = QueryOptions::default().on_event(|e| println!("{}", e.kind));
    /// assert!(o.on_live_event.is_some());
    /// ```
    pub fn on_event(mut self, f: impl Fn(&LiveEvent) + Send + Sync + 'static) -> Self {
        self.on_live_event = Some(Arc::new(f));
        self
    }
}

/// A query's reactive state.
pub struct UseQuery<T: Send + Sync + 'static> {
    /// The data: live-refreshed when available, else from the first load.
    pub data: Signal<Option<T>>,
    /// The last error, if the query failed.
    pub error: Signal<Option<HttpError>>,
    /// The first-load resource (read it inside `<Suspense>`/`<Transition>` for SSR).
    pub resource: Resource<DataResult<QueryData>>,
    /// The query's key now.
    pub key: Memo<QueryKey>,
    cache: StoredValue<QueryCache>,
}

impl<T: Send + Sync + 'static> Clone for UseQuery<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T: Send + Sync + 'static> Copy for UseQuery<T> {}

impl<T: Send + Sync + 'static> UseQuery<T> {
    /// Refetches now (coalesced with any fetch in flight).
    pub fn refetch(&self) {
        let key = self.key.get_untracked();
        self.cache.with_value(|c| c.refresh(&key));
    }
}

/// The shared machinery of every query hook.
fn use_query<T: Clone + Send + Sync + 'static>(
    key: Memo<QueryKey>,
    options: QueryOptions,
    extract: fn(QueryData) -> Option<T>,
) -> UseQuery<T> {
    let herald = use_herald();
    let cache = herald.cache.clone();
    let loader = cache.clone();
    let resource = Resource::new(
        move || key.get(),
        move |k| {
            let cache = loader.clone();
            sendable(async move { cache.load(&k).await })
        },
    );
    let fresh = RwSignal::new(None::<DataResult<QueryData>>);
    let live_query = StoredValue::new(None::<LiveQuery>);
    let live_options = LiveQueryOptions {
        mode: options.live_mode.unwrap_or(herald.live_mode),
        on_live_event: options.on_live_event,
        global_on_live_event: herald.on_live_event.clone(),
    };
    let (effect_cache, live) = (cache.clone(), herald.live.clone());
    // Effects run only in the browser: the server renders once and subscribes to nothing.
    Effect::new(move |_| {
        let k = key.get();
        fresh.set(None);
        let watcher = Arc::new(move |r: &DataResult<QueryData>| {
            fresh.try_set(Some(r.clone()));
        });
        // Start the new query before dropping the old: an unchanged spec keeps its wire
        // subscription instead of churning it.
        let next = LiveQuery::start(
            &effect_cache,
            live.as_ref(),
            k,
            live_options.clone(),
            Some(watcher),
        );
        live_query.set_value(Some(next));
    });
    on_cleanup(move || {
        live_query.try_update_value(|q| *q = None);
    });
    let current = move || fresh.get().or_else(|| resource.get());
    UseQuery {
        data: Signal::derive(move || current().and_then(Result::ok).and_then(extract)),
        error: Signal::derive(move || current().and_then(Result::err)),
        resource,
        key,
        cache: StoredValue::new(cache),
    }
}

/// getList, live: a page of `resource` for `params`.
///
/// ```no_run
/// use herald_framework::hooks::{use_list, QueryOptions};
/// use herald_framework::query::{ListParams, Order};
/// use leptos::prelude::*;
/// let posts = use_list("posts", ListParams::default().page(1, 10).sort("id", Order::Desc), QueryOptions::default());
/// let titles = move || posts.data.get().map(|p| p.data.len());
/// ```
pub fn use_list(
    resource: impl Into<String>,
    params: impl Into<Signal<ListParams>>,
    options: QueryOptions,
) -> UseQuery<ListResult> {
    let (resource, params) = (resource.into(), params.into());
    let key = Memo::new(move |_| QueryKey::list(resource.clone(), params.get()));
    use_query(key, options, |d| match d {
        QueryData::List(l) => Some(l),
        _ => None,
    })
}

/// getOne, live: record `id` of `resource`.
///
/// ```no_run
/// use herald_framework::hooks::{use_one, QueryOptions};
/// use leptos::prelude::*;
/// let post = use_one("posts", herald_framework::Id::Int(3), QueryOptions::default());
/// let title = move || post.data.get().map(|p| p["title"].to_string());
/// ```
pub fn use_one(
    resource: impl Into<String>,
    id: impl Into<Signal<Id>>,
    options: QueryOptions,
) -> UseQuery<Record> {
    let (resource, id) = (resource.into(), id.into());
    let key = Memo::new(move |_| QueryKey::one(resource.clone(), id.get()));
    use_query(key, options, |d| match d {
        QueryData::One(r) => Some(r),
        _ => None,
    })
}

/// getMany, live: the records of `resource` with these ids.
///
/// ```no_run
/// use herald_framework::hooks::{use_many, QueryOptions};
/// let authors = use_many("users", vec![1.into(), 2.into()], QueryOptions::default());
/// ```
pub fn use_many(
    resource: impl Into<String>,
    ids: impl Into<Signal<Vec<Id>>>,
    options: QueryOptions,
) -> UseQuery<Vec<Record>> {
    let (resource, ids) = (resource.into(), ids.into());
    let key = Memo::new(move |_| QueryKey::many(resource.clone(), ids.get()));
    use_query(key, options, |d| match d {
        QueryData::Many(r) => Some(r),
        _ => None,
    })
}

/// The route's `:id` parameter as an [`Id`] (number or string, as Refine's `useParsed`).
/// A route without one reads as the empty text id, which the server answers with 404.
///
/// ```no_run
/// use herald_framework::hooks::use_route_id;
/// let id = use_route_id();
/// ```
pub fn use_route_id() -> Memo<Id> {
    let params = leptos_router::hooks::use_params_map();
    Memo::new(move |_| {
        params
            .read()
            .get("id")
            .map_or_else(|| Id::Text(String::new()), |id| Id::parse(&id))
    })
}

/// getOne of the record whose id is the route's `:id` (see [`use_route_id`]).
///
/// ```no_run
/// use herald_framework::hooks::{use_show, QueryOptions};
/// let post = use_show("posts", QueryOptions::default());
/// ```
pub fn use_show(resource: impl Into<String>, options: QueryOptions) -> UseQuery<Record> {
    use_one(resource, use_route_id(), options)
}
