//! The task board against a real Herald server (in process, on an ephemeral port, over a
//! throwaway SQLite or PostgreSQL database), driven the way an app on the framework drives it: the framework's
//! native REST provider for reads and writes, its live client over a real WebSocket, and its
//! query cache with live queries. Every id here is a slug.

use herald_example_tasks::DEMO_PASSWORD;
use herald_framework::auth::AuthProvider;
use herald_framework::cache::{QueryCache, QueryData, QueryKey};
use herald_framework::data::{DataProvider, SharedDataProvider};
use herald_framework::live::{LiveMessage, SharedLiveProvider, SubscriptionSpec};
use herald_framework::live_query::{LiveMode, LiveQuery, LiveQueryOptions};
use herald_framework::native::{live, rest::HttpClient};
use herald_framework::query::{FilterOp, ListParams, Order};
use herald_framework::Id;
use serde_json::{json, Value};
use server::testkit::TestServer;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A running task server (in process, on the database `HERALD_TEST_DATABASE` names) and
/// where it answers.
struct Board {
    api: String,
    live: String,
    _server: TestServer,
}

async fn board() -> Board {
    let server = TestServer::start(herald_example_tasks::build).await;
    Board {
        api: server.url("/api"),
        live: server.ws_url(),
        _server: server,
    }
}

/// A signed-in user of the board: REST and live, sharing one origin id.
struct User {
    rest: HttpClient,
    live: SharedLiveProvider,
}

async fn sign_in(board: &Board, name: &str) -> User {
    let rest = HttpClient::new(&board.api);
    rest.login(name.into(), DEMO_PASSWORD.into())
        .await
        .expect("demo user signs in");
    let live = live::connect(&board.live, rest.token());
    let rest = rest.with_origin(live.origin());
    User { rest, live }
}

/// Waits, politely, until `done` holds (live traffic is asynchronous by nature).
async fn eventually(what: &str, mut done: impl FnMut() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn cache_for(user: &User) -> QueryCache {
    let provider: SharedDataProvider = Arc::new(user.rest.clone());
    QueryCache::new(provider, Arc::new(|f| drop(tokio::spawn(f))))
}

fn auto() -> LiveQueryOptions {
    LiveQueryOptions {
        mode: LiveMode::Auto,
        ..Default::default()
    }
}

fn one(cache: &QueryCache, key: &QueryKey) -> Option<Value> {
    match cache.get(key)? {
        Ok(QueryData::One(record)) => Some(record),
        _ => None,
    }
}

#[tokio::test]
async fn slugs_are_ids_through_rest() {
    let board = board().await;
    let ada = sign_in(&board, "ada").await;
    let grace = sign_in(&board, "grace").await;

    let made = ada
        .rest
        .create(
            "tasks",
            json!({"id": "plan-release", "title": "Plan the release"}),
        )
        .await
        .expect("created");
    assert_eq!(made["id"], "plan-release");
    assert_eq!(made["status"], "todo");
    assert_eq!(made["version"], 1);

    let got = grace.rest.get_one("tasks", Id::from("plan-release")).await;
    assert_eq!(got.expect("found")["title"], "Plan the release");

    let again = ada
        .rest
        .create("tasks", json!({"id": "plan-release", "title": "Twice"}))
        .await
        .expect_err("a taken slug");
    assert_eq!(again.status_code, 409, "{again:?}");

    for (bad, why) in [
        (json!({"title": "No id"}), "is required"),
        (json!({"id": "Not A Slug", "title": "t"}), "must be 1 to 64"),
        (json!({"id": "-dash", "title": "t"}), "must be 1 to 64"),
    ] {
        let e = ada.rest.create("tasks", bad).await.expect_err("refused");
        assert_eq!(e.status_code, 422);
        let errors = e.errors.expect("field errors");
        assert!(errors["id"][0].contains(why), "{errors:?}");
    }

    let many = ada
        .rest
        .get_many(
            "tasks",
            vec!["fix-login".into(), "ship-v1".into(), "nope".into()],
        )
        .await
        .expect("many");
    let ids: Vec<&str> = many.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["fix-login", "ship-v1"]);

    let todo = ada
        .rest
        .get_list(
            "tasks",
            ListParams::default()
                .filter("status", FilterOp::Eq, "todo")
                .sort("id", Order::Desc),
        )
        .await
        .expect("list");
    let ids: Vec<&str> = todo.data.iter().filter_map(|t| t["id"].as_str()).collect();
    assert_eq!(ids, ["ship-v1", "plan-release", "fix-login"]);
    assert_eq!(todo.total, 3);

    let moved = grace
        .rest
        .update(
            "tasks",
            "fix-login".into(),
            json!({"status": "doing", "version": 1}),
        )
        .await
        .expect("moved");
    assert_eq!(
        (moved["status"].as_str(), moved["version"].as_i64()),
        (Some("doing"), Some(2))
    );
    let stale = ada
        .rest
        .update(
            "tasks",
            "fix-login".into(),
            json!({"status": "done", "version": 1}),
        )
        .await
        .expect_err("stale version");
    assert_eq!(stale.status_code, 409);
    assert_eq!(stale.current.expect("current")["version"], 2);

    let refused = grace.rest.delete_one("tasks", "fix-login".into()).await;
    assert_eq!(refused.expect_err("not grace's").status_code, 403);
    let deleted = ada.rest.delete_one("tasks", "fix-login".into()).await;
    assert_eq!(deleted.expect("ada's")["id"], "fix-login");
    let gone = ada.rest.get_one("tasks", "fix-login".into()).await;
    assert_eq!(gone.expect_err("deleted").status_code, 404);
}

#[tokio::test]
async fn a_numeric_slug_is_the_same_record_as_text_or_number() {
    let board = board().await;
    let ada = sign_in(&board, "ada").await;
    ada.rest
        .create("tasks", json!({"id": "2027", "title": "Plan 2027"}))
        .await
        .expect("created");
    let by_number = ada
        .rest
        .get_one("tasks", Id::Int(2027))
        .await
        .expect("by number");
    let by_text = ada
        .rest
        .get_one("tasks", Id::from("2027"))
        .await
        .expect("by text");
    assert_eq!(by_number, by_text);
    assert_eq!(Id::of(&by_text), Some(Id::Int(2027)));
}

#[tokio::test]
async fn live_queries_follow_their_slug() {
    let board = board().await;
    let ada = sign_in(&board, "ada").await;
    let grace = sign_in(&board, "grace").await;
    let cache = cache_for(&ada);
    let login = QueryKey::one("tasks", "fix-login");
    let ship = QueryKey::one("tasks", "ship-v1");
    let todo = QueryKey::list(
        "tasks",
        ListParams::default().filter("status", FilterOp::Eq, "todo"),
    );
    for key in [&login, &ship, &todo] {
        cache.load(key).await.expect("loads");
    }
    let _queries: Vec<LiveQuery> = [&login, &ship, &todo]
        .into_iter()
        .map(|key| LiveQuery::start(&cache, Some(&ada.live), key.clone(), auto(), None))
        .collect();
    eventually("ada's three subscriptions", || {
        ada.live.connection_state() == herald_framework::live::ConnectionState::Open
    })
    .await;
    // Let the fresh subscriptions' one revalidation pass before counting fetches.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = cache.fetch_count();

    grace
        .rest
        .update(
            "tasks",
            "fix-login".into(),
            json!({"title": "Fix the login page"}),
        )
        .await
        .expect("grace renames it");
    eventually("the detail to show grace's title", || {
        one(&cache, &login).is_some_and(|t| t["title"] == "Fix the login page")
    })
    .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fetched = cache.fetch_count() - before;
    assert_eq!(
        fetched, 2,
        "the fix-login detail and the list refetch; ship-v1 does not"
    );
    assert_eq!(
        one(&cache, &ship).expect("ship-v1")["title"],
        "Ship version 1"
    );

    grace
        .rest
        .create("tasks", json!({"id": "celebrate", "title": "Celebrate"}))
        .await
        .expect("created");
    eventually("the todo list to hold the new slug", || {
        match cache.get(&todo) {
            Some(Ok(QueryData::List(page))) => page.data.iter().any(|t| t["id"] == "celebrate"),
            _ => false,
        }
    })
    .await;
}

#[tokio::test]
async fn the_server_filters_events_by_slug() {
    let board = board().await;
    let ada = sign_in(&board, "ada").await;
    let grace = sign_in(&board, "grace").await;
    let seen = Arc::new(Mutex::new(Vec::<Vec<Id>>::new()));
    let sink = seen.clone();
    let spec = SubscriptionSpec::channel("resources/tasks").with_ids(vec!["ship-v1".into()]);
    let subscribed = Arc::new(Mutex::new(false));
    let flag = subscribed.clone();
    ada.live.subscribe(
        spec,
        Arc::new(move |message| match message {
            LiveMessage::Event(e) => sink.lock().unwrap().push(e.ids()),
            LiveMessage::Subscribed => *flag.lock().unwrap() = true,
            LiveMessage::Reset { .. } => {}
        }),
    );
    eventually("the subscription", || *subscribed.lock().unwrap()).await;
    for id in ["fix-login", "ship-v1", "write-the-docs", "ship-v1"] {
        grace
            .rest
            .update("tasks", id.into(), json!({"assignee": "grace"}))
            .await
            .expect("assigned");
    }
    eventually("two events about ship-v1", || {
        seen.lock().unwrap().len() >= 2
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        vec![vec![Id::from("ship-v1")], vec![Id::from("ship-v1")]]
    );
}
