//! The framework's cache, invalidation, coalescing, subscription and mutation logic, run
//! natively with the in-memory providers, counting fetches and wire subscriptions.

use herald_framework::cache::{Pacing, QueryCache, QueryData, QueryKey};
use herald_framework::data::{BoxFuture, SharedDataProvider};
use herald_framework::live::memory::{Loopback, MemoryLiveProvider};
use herald_framework::live::{LiveEvent, SharedLiveProvider};
use herald_framework::live_query::{LiveMode, LiveQuery, LiveQueryOptions};
use herald_framework::memory::MemoryDataProvider;
use herald_framework::mutation::{mutate, MutationMode, Write};
use herald_framework::query::{FilterOp, ListParams};
use herald_framework::runtime::Sleeper;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct World {
    data: Arc<MemoryDataProvider>,
    cache: QueryCache,
    live: SharedLiveProvider,
    server: Arc<Loopback>,
}

fn world() -> World {
    let posts = (1..=5)
        .map(|i| json!({"id": i, "title": format!("post {i}"), "status": "draft", "version": 1}))
        .collect();
    let data = Arc::new(MemoryDataProvider::default().with("posts", posts));
    let provider: SharedDataProvider = data.clone();
    let cache = QueryCache::new(provider, Arc::new(|f| drop(tokio::spawn(f))));
    let (client, server) = MemoryLiveProvider::pair();
    World {
        data,
        cache,
        live: client,
        server,
    }
}

fn sleeper() -> Sleeper {
    Arc::new(|d| -> BoxFuture<()> { Box::pin(tokio::time::sleep(d)) })
}

/// Lets spawned fetches run to completion.
async fn settle() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
    tokio::time::sleep(Duration::from_millis(5)).await;
}

fn opts(mode: LiveMode) -> LiveQueryOptions {
    LiveQueryOptions {
        mode,
        ..Default::default()
    }
}

fn list_key() -> QueryKey {
    QueryKey::list("posts", ListParams::default().page(1, 10))
}

/// Emits 1,000 `updated` events on posts; with `pause`, sleeps that long after every 25th,
/// so the burst lasts many fetch round trips.
async fn burst(server: &Loopback, pause: Option<Duration>) {
    for i in 0..1000 {
        server.emit(
            "resources/posts",
            "updated",
            json!({"ids": [(i % 5 + 1).to_string()]}),
            None,
        );
        if let Some(pause) = pause.filter(|_| i % 25 == 0) {
            tokio::time::sleep(pause).await;
        }
    }
}

/// Refetches of one live list in `cache` during a burst (see [`burst`]).
async fn refetches_in_burst(w: &World, cache: &QueryCache, pause: Option<Duration>) -> u64 {
    let key = list_key();
    cache.load(&key).await.unwrap();
    let _q = LiveQuery::start(cache, Some(&w.live), key, opts(LiveMode::Auto), None);
    settle().await;
    // past the start-up fetches (load, then the fresh subscription's revalidation) and,
    // when paced, their quiet spells
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = cache.fetch_count();
    burst(&w.server, pause).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    cache.fetch_count() - before
}

#[tokio::test(start_paused = true)]
async fn a_burst_of_1000_events_costs_at_most_two_refetches() {
    let w = world();
    let refetches = refetches_in_burst(&w, &w.cache, None).await;
    assert!((1..=2).contains(&refetches), "{refetches} refetches");
}

#[tokio::test(start_paused = true)]
async fn a_burst_spread_over_time_costs_two_refetches_when_paced() {
    let spread = Some(Duration::from_millis(10)); // 1,000 events over about 400 ms
    let w = world();
    let paced = QueryCache::new(w.data.clone(), Arc::new(|f| drop(tokio::spawn(f))))
        .with_pacing(Pacing::new(sleeper()));
    let refetches = refetches_in_burst(&w, &paced, spread).await;
    assert_eq!(refetches, 2, "one at the burst's start, one after it");
    let unpaced = world();
    let refetches = refetches_in_burst(&unpaced, &unpaced.cache, spread).await;
    assert!(
        refetches > 2,
        "without pacing the same burst costs a fetch per round trip, got {refetches}"
    );
}

#[tokio::test(start_paused = true)]
async fn invalidation_is_precise() {
    let w = world();
    let (list, d3, d4) = (
        list_key(),
        QueryKey::one("posts", 3),
        QueryKey::one("posts", 4),
    );
    let counts = Arc::new(Mutex::new(std::collections::HashMap::<String, u32>::new()));
    let mut queries = Vec::new();
    for (name, key) in [("list", &list), ("d3", &d3), ("d4", &d4)] {
        w.cache.load(key).await.unwrap();
        let c = counts.clone();
        let watcher =
            Arc::new(move |_: &_| *c.lock().unwrap().entry(name.to_owned()).or_default() += 1);
        queries.push(LiveQuery::start(
            &w.cache,
            Some(&w.live),
            key.clone(),
            opts(LiveMode::Auto),
            Some(watcher),
        ));
    }
    // Each fresh subscription revalidates once; count from here.
    settle().await;
    counts.lock().unwrap().clear();
    w.server
        .emit("resources/posts", "created", json!({"ids": ["6"]}), None);
    settle().await;
    assert_eq!(
        counts.lock().unwrap().clone(),
        [("list".to_owned(), 1)].into_iter().collect()
    );
    w.server
        .emit("resources/posts", "updated", json!({"ids": ["3"]}), None);
    settle().await;
    let c = counts.lock().unwrap().clone();
    assert_eq!(
        (c.get("list"), c.get("d3"), c.get("d4")),
        (Some(&2), Some(&1), None)
    );
    // deleting 3: the detail learns it without a fetch; the list refetches
    let fetches = w.cache.fetch_count();
    w.server
        .emit("resources/posts", "deleted", json!({"ids": ["3"]}), None);
    settle().await;
    assert_eq!(
        w.cache.fetch_count(),
        fetches + 1,
        "only the list refetched"
    );
    match w.cache.get(&d3) {
        Some(Err(e)) => assert_eq!(e.status_code, 404),
        other => panic!("{other:?}"),
    }
    let c = counts.lock().unwrap().clone();
    // other resources and custom types touch nothing
    w.server
        .emit("resources/comments", "updated", json!({"ids": ["3"]}), None);
    w.server
        .emit("resources/posts", "pinned", json!({"ids": ["3"]}), None);
    settle().await;
    assert_eq!(counts.lock().unwrap().clone(), c);
}

#[tokio::test(start_paused = true)]
async fn manual_reports_without_refetching_and_off_does_not_subscribe() {
    let w = world();
    let key = list_key();
    w.cache.load(&key).await.unwrap();
    let heard = Arc::new(Mutex::new(Vec::<LiveEvent>::new()));
    let h = heard.clone();
    let global = Arc::new(Mutex::new(0));
    let g = global.clone();
    let options = LiveQueryOptions {
        mode: LiveMode::Manual,
        on_live_event: Some(Arc::new(move |e: &LiveEvent| {
            h.lock().unwrap().push(e.clone())
        })),
        global_on_live_event: Some(Arc::new(move |_: &LiveEvent| *g.lock().unwrap() += 1)),
    };
    let manual = LiveQuery::start(&w.cache, Some(&w.live), key.clone(), options, None);
    let before = w.cache.fetch_count();
    w.server
        .emit("resources/posts", "updated", json!({"ids": ["1"]}), None);
    settle().await;
    assert_eq!(heard.lock().unwrap().len(), 1);
    assert_eq!(*global.lock().unwrap(), 1);
    assert_eq!(w.cache.fetch_count(), before, "manual refetches nothing");
    drop(manual);
    let off = LiveQuery::start(&w.cache, Some(&w.live), key, opts(LiveMode::Off), None);
    assert!(!off.is_subscribed());
    assert_eq!(w.server.wire_subscriptions(), 0);
}

#[tokio::test(start_paused = true)]
async fn subscriptions_follow_the_query_and_are_shared() {
    let w = world();
    let drafts = QueryKey::list(
        "posts",
        ListParams::default().filter("status", FilterOp::Eq, "draft"),
    );
    let published = QueryKey::list(
        "posts",
        ListParams::default().filter("status", FilterOp::Eq, "published"),
    );
    let a = LiveQuery::start(
        &w.cache,
        Some(&w.live),
        drafts.clone(),
        opts(LiveMode::Auto),
        None,
    );
    let b = LiveQuery::start(
        &w.cache,
        Some(&w.live),
        drafts.clone(),
        opts(LiveMode::Auto),
        None,
    );
    assert_eq!(
        w.server.wire_subscriptions(),
        1,
        "same scope shares one wire subscription"
    );
    // paging does not move the subscription, filters do
    let paged = LiveQuery::start(
        &w.cache,
        Some(&w.live),
        QueryKey::list(
            "posts",
            ListParams::default()
                .filter("status", FilterOp::Eq, "draft")
                .page(2, 10),
        ),
        opts(LiveMode::Auto),
        None,
    );
    assert_eq!(w.server.wire_subscriptions(), 1);
    drop(b);
    // a hook changing its filter drops the old query and starts the new one
    drop(a);
    drop(paged);
    let moved = LiveQuery::start(
        &w.cache,
        Some(&w.live),
        published,
        opts(LiveMode::Auto),
        None,
    );
    assert_eq!(w.server.wire_subscriptions(), 1);
    let frames = w.server.frames();
    let last_sub = frames
        .iter()
        .rev()
        .find(|f| f["op"] == "subscribe")
        .unwrap();
    assert!(last_sub["params"]["scope"]
        .as_str()
        .unwrap()
        .contains("published"));
    assert!(frames.iter().any(|f| f["op"] == "unsubscribe"));
    drop(moved);
    assert_eq!(
        w.server.wire_subscriptions(),
        0,
        "disposing the owner unsubscribes"
    );
    assert_eq!(
        w.live.connection_state(),
        herald_framework::live::ConnectionState::Open
    );
}

#[tokio::test(start_paused = true)]
async fn identical_queries_share_one_fetch() {
    let w = world();
    let key = QueryKey::one("posts", 2);
    let (a, b) = (w.cache.load(&key), w.cache.load(&key));
    let (a, b) = tokio::join!(a, b);
    assert_eq!(a.unwrap(), b.unwrap());
    assert_eq!(w.data.calls(), 1);
    w.cache.load(&key).await.unwrap();
    assert_eq!(w.data.calls(), 1, "fresh data is served from the cache");
}

#[tokio::test(start_paused = true)]
async fn optimistic_update_rolls_back_on_failure() {
    let w = world();
    let key = list_key();
    w.cache.load(&key).await.unwrap();
    let title_of = |cache: &QueryCache| match cache.get(&key) {
        Some(Ok(QueryData::List(l))) => l.data[0]["title"].clone(),
        other => panic!("{other:?}"),
    };
    w.data.fail_writes(true);
    let (_, outcome) = mutate(
        &w.cache,
        sleeper(),
        "posts",
        Write::Update {
            id: 1.into(),
            data: json!({"title": "optimistic"}),
        },
        MutationMode::Optimistic,
    );
    assert_eq!(title_of(&w.cache), "optimistic", "applied at once");
    assert!(outcome.await.is_err());
    assert_eq!(title_of(&w.cache), "post 1", "rolled back");
    w.data.fail_writes(false);
    let (_, outcome) = mutate(
        &w.cache,
        sleeper(),
        "posts",
        Write::Update {
            id: 1.into(),
            data: json!({"title": "kept"}),
        },
        MutationMode::Optimistic,
    );
    assert_eq!(outcome.await.unwrap()["title"], "kept");
    settle().await;
    assert_eq!(title_of(&w.cache), "kept");
}

#[tokio::test(start_paused = true)]
async fn undoable_can_be_cancelled_and_then_writes_nothing() {
    let w = world();
    let key = list_key();
    w.cache.load(&key).await.unwrap();
    let calls = w.data.calls();
    let (undo, outcome) = mutate(
        &w.cache,
        sleeper(),
        "posts",
        Write::Delete { id: 2.into() },
        MutationMode::Undoable(Duration::from_millis(200)),
    );
    let task = tokio::spawn(outcome);
    match w.cache.get(&key) {
        Some(Ok(QueryData::List(l))) => assert_eq!(l.data.len(), 4, "hidden at once"),
        other => panic!("{other:?}"),
    }
    assert!(undo.undo());
    let err = task.await.unwrap().unwrap_err();
    assert_eq!(err.status_code, 499);
    assert_eq!(w.data.calls(), calls, "nothing written");
    assert_eq!(w.data.records("posts").len(), 5);
    match w.cache.get(&key) {
        Some(Ok(QueryData::List(l))) => assert_eq!(l.data.len(), 5, "restored"),
        other => panic!("{other:?}"),
    }
    // not undone: written after the delay
    let (undo, outcome) = mutate(
        &w.cache,
        sleeper(),
        "posts",
        Write::Delete { id: 2.into() },
        MutationMode::Undoable(Duration::from_millis(20)),
    );
    outcome.await.unwrap();
    assert!(!undo.undo());
    assert_eq!(w.data.records("posts").len(), 4);
}

#[tokio::test(start_paused = true)]
async fn reconnect_resumes_from_the_last_cursor_and_reset_refetches_once() {
    let w = world();
    let key = list_key();
    w.cache.load(&key).await.unwrap();
    let _q = LiveQuery::start(
        &w.cache,
        Some(&w.live),
        key.clone(),
        opts(LiveMode::Auto),
        None,
    );
    w.server
        .emit("resources/posts", "updated", json!({"ids": ["1"]}), None);
    settle().await;
    w.server.disconnect();
    assert_eq!(
        w.live.connection_state(),
        herald_framework::live::ConnectionState::Reconnecting
    );
    w.server
        .emit("resources/posts", "updated", json!({"ids": ["2"]}), None);
    let before = w.cache.fetch_count();
    w.server.reconnect();
    settle().await;
    let resubscribe = w
        .server
        .frames()
        .into_iter()
        .rev()
        .find(|f| f["op"] == "subscribe")
        .unwrap();
    assert_eq!(
        resubscribe["since"], "mem-1",
        "resumes after the last event it saw"
    );
    assert_eq!(
        w.cache.fetch_count() - before,
        1,
        "the missed event was replayed and refetched"
    );
    let sub = resubscribe["sub"].as_str().unwrap();
    let before = w.cache.fetch_count();
    w.server
        .push_frame(json!({"op": "reset", "sub": sub, "reason": "trimmed"}));
    settle().await;
    assert_eq!(
        w.cache.fetch_count() - before,
        1,
        "reset refetches the live query once"
    );
}

#[tokio::test(start_paused = true)]
async fn own_events_do_not_refetch_twice() {
    let w = world();
    let key = list_key();
    w.cache.load(&key).await.unwrap();
    let _q = LiveQuery::start(&w.cache, Some(&w.live), key, opts(LiveMode::Auto), None);
    settle().await; // the one revalidation a fresh subscription makes
    w.live.set_user(Some(1));
    let origin = w.live.origin();
    let w = &w;
    let refetches_after = |origin: &str, user: i64| {
        let before = w.cache.fetch_count();
        w.server.emit_as(
            "resources/posts",
            "updated",
            json!({"ids": ["1"]}),
            Some(origin),
            Some(user),
        );
        async move {
            settle().await;
            w.cache.fetch_count() - before
        }
    };
    assert_eq!(refetches_after(&origin, 1).await, 0, "our own write");
    assert_eq!(refetches_after("another-tab", 1).await, 1, "our other tab");
    assert_eq!(
        refetches_after(&origin, 2).await,
        1,
        "someone else copied our origin: still refreshed"
    );
}

/// A clock the test moves by hand: its sleeper's naps end only when [`Clock::advance`]
/// passes their deadline, so pacing is exercised without real sleeps (tokio's paused time
/// would need its `test-util` feature).
#[derive(Clone, Default)]
struct Clock(Arc<Mutex<ClockState>>);

#[derive(Default)]
struct ClockState {
    now: Duration,
    naps: Vec<(Duration, tokio::sync::oneshot::Sender<()>)>,
}

impl Clock {
    fn sleeper(&self) -> Sleeper {
        let clock = self.clone();
        Arc::new(move |d| -> BoxFuture<()> {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let mut s = clock.0.lock().unwrap();
            let due = s.now + d;
            s.naps.push((due, tx));
            Box::pin(async move {
                let _ = rx.await;
            })
        })
    }

    /// Moves time forward by `d`, ending naps in deadline order and letting what they
    /// wake run (and take new naps) before moving on.
    async fn advance(&self, d: Duration) {
        let end = self.0.lock().unwrap().now + d;
        loop {
            let nap = {
                let mut s = self.0.lock().unwrap();
                let next = (0..s.naps.len())
                    .filter(|&i| s.naps[i].0 <= end)
                    .min_by_key(|&i| s.naps[i].0);
                next.map(|i| {
                    let (due, tx) = s.naps.remove(i);
                    s.now = due;
                    tx
                })
            };
            let Some(tx) = nap else { break };
            let _ = tx.send(());
            run_ready().await;
        }
        self.0.lock().unwrap().now = end;
        run_ready().await;
    }
}

/// Lets every spawned task that can run, run (no time passes).
async fn run_ready() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

/// A paced cache on `clock` over `w`'s data, with a live list on it, past its start-up
/// fetches.
async fn paced_live_list(w: &World, clock: &Clock) -> (QueryCache, LiveQuery) {
    let cache = QueryCache::new(w.data.clone(), Arc::new(|f| drop(tokio::spawn(f))))
        .with_pacing(Pacing::new(clock.sleeper()));
    let key = list_key();
    cache.load(&key).await.unwrap();
    let q = LiveQuery::start(&cache, Some(&w.live), key, opts(LiveMode::Auto), None);
    run_ready().await;
    clock.advance(Duration::from_secs(2)).await;
    (cache, q)
}

fn emit_update(server: &Loopback, id: u64) {
    server.emit(
        "resources/posts",
        "updated",
        json!({"ids": [(id % 5 + 1).to_string()]}),
        None,
    );
}

/// `count` updates, one every 50 ms of the hand-moved clock (shorter than the pacing's
/// 100 ms quiet, so they are one burst).
async fn stream_updates(w: &World, clock: &Clock, count: u64) {
    for i in 0..count {
        emit_update(&w.server, i);
        run_ready().await;
        clock.advance(Duration::from_millis(50)).await;
    }
}

#[tokio::test(start_paused = true)]
async fn paced_a_burst_shorter_than_max_wait_costs_two_fetches_whatever_its_rhythm() {
    let w = world();
    let clock = Clock::default();
    let (cache, _q) = paced_live_list(&w, &clock).await;
    let before = cache.fetch_count();
    // 900 ms of events, one every 50 ms (less than the 100 ms quiet): one burst
    stream_updates(&w, &clock, 18).await;
    assert_eq!(
        cache.fetch_count() - before,
        1,
        "the burst's first event, at once"
    );
    clock.advance(Duration::from_millis(200)).await;
    assert_eq!(cache.fetch_count() - before, 2, "one more once it paused");
    clock.advance(Duration::from_secs(5)).await;
    assert_eq!(cache.fetch_count() - before, 2, "and nothing after");
}

#[tokio::test(start_paused = true)]
async fn paced_an_endless_stream_still_refreshes_once_per_max_wait() {
    let w = world();
    let clock = Clock::default();
    let (cache, _q) = paced_live_list(&w, &clock).await;
    let before = cache.fetch_count();
    // 3 s of events every 50 ms: never a quiet spell
    stream_updates(&w, &clock, 60).await;
    let during = cache.fetch_count() - before;
    assert!(
        (3..=4).contains(&during),
        "one at once, then one per second of max_wait: {during}"
    );
    clock.advance(Duration::from_secs(5)).await;
    assert!(cache.fetch_count() - before <= during + 1);
}

#[tokio::test(start_paused = true)]
async fn paced_a_reader_does_not_wait_out_the_burst() {
    let w = world();
    let clock = Clock::default();
    let (cache, _q) = paced_live_list(&w, &clock).await;
    let before = cache.fetch_count();
    emit_update(&w.server, 0); // fetches at once
    emit_update(&w.server, 1); // queued behind it
    run_ready().await; // the first fetch ends: the queued one waits for a pause
    assert_eq!(cache.fetch_count() - before, 1);
    // a reader arrives before any time passes: the queued refetch goes now, for it
    let page = tokio::time::timeout(Duration::from_secs(5), cache.load(&list_key()))
        .await
        .expect("answered without the clock moving");
    assert!(page.is_ok());
    assert_eq!(cache.fetch_count() - before, 2);
    // the pacing wait it cut short is moot: nothing more when the clock moves
    clock.advance(Duration::from_secs(5)).await;
    assert_eq!(cache.fetch_count() - before, 2);
}

#[tokio::test(start_paused = true)]
async fn live_events_and_writes_invalidate_through_one_entry_point() {
    use herald_framework::cache::Invalidation;
    let w = world();
    let (list, d1, d2) = (
        list_key(),
        QueryKey::one("posts", 1),
        QueryKey::one("posts", 2),
    );
    for key in [&list, &d1, &d2] {
        w.cache.load(key).await.unwrap();
        w.cache.watch(key, Arc::new(|_| {}));
    }
    // what a write of post 1 touches, the event it causes touches too
    let write = Write::Update {
        id: 1.into(),
        data: json!({"title": "x"}),
    };
    let by_write = write.invalidation("posts");
    assert_eq!(
        by_write,
        Invalidation::event("posts", "updated", vec![1.into()])
    );
    let mut refetched = w.cache.invalidate(by_write);
    refetched.sort_by_key(|k| format!("{k:?}"));
    let mut expected = vec![list.clone(), d1.clone()];
    expected.sort_by_key(|k| format!("{k:?}"));
    assert_eq!(refetched, expected);
    settle().await;
    // a reset covers the whole resource; narrowed to one query, only that one
    assert_eq!(
        w.cache
            .invalidate(Invalidation::resource("posts").only(&d2))
            .len(),
        1
    );
    assert_eq!(w.cache.invalidate(Invalidation::resource("posts")).len(), 3);
    // unwatched queries only go stale, and refetch when next read
    let d3 = QueryKey::one("posts", 3);
    w.cache.load(&d3).await.unwrap();
    let refetched = w
        .cache
        .invalidate(Invalidation::event("posts", "updated", vec![3.into()]));
    assert_eq!(refetched, vec![list.clone()], "the watched list only");
    settle().await;
    let fetches = w.cache.fetch_count();
    w.cache.load(&d3).await.unwrap();
    assert_eq!(w.cache.fetch_count(), fetches + 1, "stale: read through");
    w.cache.load(&d3).await.unwrap();
    assert_eq!(w.cache.fetch_count(), fetches + 1, "fresh again");
}
