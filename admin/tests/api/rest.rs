//! Every row of the REST contract (`docs/rest.md`) and every error code, over HTTP.

use crate::seeded::{posts_mentioning, posts_where, POSTS_SEEDED, USERS_SEEDED};
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use server::testkit::{expect_error, json_of, TestServer};

async fn list(client: &Client, server: &TestServer, query: &str) -> (Vec<Value>, u64) {
    let res = client
        .get(server.url(&format!("/api/posts?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "GET ?{query}");
    let total = res.headers()["x-total-count"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let rows: Vec<Value> = res.json().await.unwrap();
    (rows, total)
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().unwrap()).collect()
}

async fn create_post(client: &Client, server: &TestServer, body: Value) -> Value {
    let res = client
        .post(server.url("/api/posts"))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}

#[tokio::test]
async fn get_list_paginates_and_counts() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let res = alice
        .get(s.url("/api/posts?_start=5&_end=10&_sort=id&_order=desc"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-total-count"],
        POSTS_SEEDED.to_string().as_str()
    );
    let expose = res.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(expose.contains("x-total-count"));
    let rows: Vec<Value> = res.json().await.unwrap();
    let newest = POSTS_SEEDED as i64;
    assert_eq!(
        ids(&rows),
        ((newest - 9)..=(newest - 5)).rev().collect::<Vec<_>>()
    );
    // Beyond the end: empty page, same total.
    let (rows, total) = list(&alice, &s, "_start=40&_end=50").await;
    assert!(rows.is_empty());
    assert_eq!(total, POSTS_SEEDED);
    // No range: every row.
    assert_eq!(list(&alice, &s, "").await.0.len() as u64, POSTS_SEEDED);
}

#[tokio::test]
async fn get_list_sorts_by_several_columns() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let (rows, _) = list(&alice, &s, "_sort=status,id&_order=asc,desc").await;
    let keys: Vec<(String, i64)> = rows
        .iter()
        .map(|r| {
            (
                r["status"].as_str().unwrap().to_owned(),
                r["id"].as_i64().unwrap(),
            )
        })
        .collect();
    let mut expected = keys.clone();
    expected.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    assert_eq!(keys, expected);
    assert_eq!(keys.first().unwrap().0, "draft");
}

#[tokio::test]
async fn get_list_filters() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    // eq, repeated = any of
    let (rows, total) = list(&alice, &s, "status=draft&status=rejected").await;
    assert!(rows.iter().all(|r| r["status"] != "published"));
    let (_, published) = list(&alice, &s, "status=published").await;
    assert_eq!(total + published, POSTS_SEEDED);
    // ne
    let (rows, _) = list(&alice, &s, "status_ne=draft").await;
    assert!(rows.iter().all(|r| r["status"] != "draft"));
    // gte + lte
    let (rows, _) = list(&alice, &s, "id_gte=3&id_lte=6").await;
    assert_eq!(ids(&rows), vec![3, 4, 5, 6]);
    // like: case-insensitive contains
    let (rows, total) = list(&alice, &s, "title_like=SQLITE").await;
    assert_eq!(
        total,
        posts_where(|p| p.title.to_lowercase().contains("sqlite"))
    );
    assert!(total > 0, "the seed has posts about SQLite");
    assert!(rows
        .iter()
        .all(|r| r["title"].as_str().unwrap().contains("SQLite")));
    // q over title, content and category
    let (_, total) = list(&alice, &s, "q=ops").await;
    assert_eq!(total, posts_mentioning("ops"));
    assert!(total > 0, "the seed has ops posts");
    // filters combine with AND and with paging
    let (rows, total) = list(
        &alice,
        &s,
        "status=published&category=engineering&_start=0&_end=1",
    )
    .await;
    assert_eq!(rows.len(), 1);
    assert!(total >= 1);
}

#[tokio::test]
async fn like_and_q_match_literally() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let pct = create_post(&alice, &s, json!({"title": "100% done"})).await;
    create_post(&alice, &s, json!({"title": "100X done"})).await;
    let under = create_post(&alice, &s, json!({"title": "snake_case"})).await;
    create_post(&alice, &s, json!({"title": "snakeXcase"})).await;
    assert_eq!(
        ids(&list(&alice, &s, "title_like=100%25").await.0),
        vec![pct["id"].as_i64().unwrap()]
    );
    assert_eq!(
        ids(&list(&alice, &s, "q=e_c").await.0),
        vec![under["id"].as_i64().unwrap()]
    );
    // SQL in a value is just text.
    let (rows, _) = list(&alice, &s, "q=%27%3B%20DROP%20TABLE%20posts%3B%20--").await;
    assert!(rows.is_empty());
    assert_eq!(list(&alice, &s, "").await.1, 24);
}

#[tokio::test]
async fn get_many_by_repeated_id() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let rows: Vec<Value> = alice
        .get(s.url("/api/posts?id=1&id=3&id=999"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ids(&rows), vec![1, 3]);
    let rows: Vec<Value> = alice
        .get(s.url("/api/comments?post_id=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(rows.iter().all(|c| c["post_id"] == 1) && !rows.is_empty());
}

#[tokio::test]
async fn get_one_with_etag_and_404() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let res = alice.get(s.url("/api/posts/2")).send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let post: Value = res.json().await.unwrap();
    for field in [
        "id",
        "title",
        "content",
        "status",
        "category",
        "author_id",
        "created_at",
        "updated_at",
        "version",
    ] {
        assert!(post.get(field).is_some(), "missing {field} in {post}");
    }
    assert_eq!(post["id"], 2);
    expect_error(
        alice.get(s.url("/api/posts/999")).send().await.unwrap(),
        404,
    )
    .await;
    expect_error(
        alice.get(s.url("/api/nothing/1")).send().await.unwrap(),
        404,
    )
    .await;
    expect_error(
        alice.get(s.url("/api/posts/abc")).send().await.unwrap(),
        400,
    )
    .await;
}

#[tokio::test]
async fn create_sets_server_fields() {
    let s = TestServer::start(admin::build).await;
    let bob = s.login("bob").await;
    let post = create_post(&bob, &s, json!({"title": "Hello", "content": "x", "status": "published", "category": "ops", "author_id": 1, "id": 77})).await;
    assert_eq!(
        post["author_id"], 2,
        "author is the signed-in user, not the body"
    );
    assert_ne!(post["id"], 77);
    assert_eq!(post["version"], 1);
    assert!(post["created_at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(post["created_at"], post["updated_at"]);
    // defaults
    let draft = create_post(&bob, &s, json!({"title": "Defaults"})).await;
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["content"], "");
    // comments
    let res = bob
        .post(s.url("/api/comments"))
        .json(&json!({"post_id": post["id"], "body": "first!"}))
        .send()
        .await
        .unwrap();
    let (status, comment) = json_of(res).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(comment["post_id"], post["id"]);
    assert_eq!(comment["author_id"], 2);
}

#[tokio::test]
async fn update_patch_put_and_version_conflicts() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let url = s.url("/api/posts/1");
    // PATCH is partial
    let res = alice
        .patch(&url)
        .json(&json!({"title": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    let (_, post) = json_of(res).await;
    assert_eq!(
        (post["title"].as_str(), post["version"].as_i64()),
        (Some("Renamed"), Some(2))
    );
    assert_ne!(post["content"], "");
    assert!(post["updated_at"].as_str() >= post["created_at"].as_str());
    // PUT accepted too, with a current version in the body
    let (status, post) = json_of(
        alice
            .put(&url)
            .json(&json!({"status": "rejected", "version": 2}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, post["version"].as_i64()),
        (StatusCode::OK, Some(3))
    );
    // stale version in the body → 409 with the current record
    let body = expect_error(
        alice
            .patch(&url)
            .json(&json!({"title": "Stale", "version": 2}))
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(body["current"]["version"], 3);
    assert_eq!(body["current"]["status"], "rejected");
    // stale If-Match → 409
    let res = alice
        .patch(&url)
        .header("if-match", "\"1\"")
        .json(&json!({"title": "Stale"}))
        .send()
        .await
        .unwrap();
    expect_error(res, 409).await;
    // current If-Match → ok
    let res = alice
        .patch(&url)
        .header("if-match", "\"3\"")
        .json(&json!({"title": "Fresh"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // no version: last write wins
    let (status, post) = json_of(
        alice
            .patch(&url)
            .json(&json!({"title": "LWW"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, post["version"].as_i64()),
        (StatusCode::OK, Some(5))
    );
    // unknown id
    expect_error(
        alice
            .patch(s.url("/api/posts/999"))
            .json(&json!({"title": "x"}))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
    expect_error(
        alice
            .patch(&url)
            .header("if-match", "nope")
            .json(&json!({}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}

#[tokio::test]
async fn delete_returns_the_record_and_cascades_comments() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let comments: Vec<Value> = alice
        .get(s.url("/api/comments?post_id=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(!comments.is_empty());
    let (status, deleted) =
        json_of(alice.delete(s.url("/api/posts/1")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["id"], 1);
    assert!(deleted["title"].is_string());
    expect_error(alice.get(s.url("/api/posts/1")).send().await.unwrap(), 404).await;
    expect_error(
        alice.delete(s.url("/api/posts/1")).send().await.unwrap(),
        404,
    )
    .await;
    let left: Vec<Value> = alice
        .get(s.url("/api/comments?post_id=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(left.is_empty());
    // stale If-Match on delete → 409, nothing deleted
    expect_error(
        alice
            .delete(s.url("/api/posts/2"))
            .header("if-match", "\"9\"")
            .send()
            .await
            .unwrap(),
        409,
    )
    .await;
    assert_eq!(
        alice
            .get(s.url("/api/posts/2"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn validation_errors_are_422_by_field() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let cases = [
        ("posts", json!({"title": ""}), "title", "must not be empty"),
        (
            "posts",
            json!({"title": "   "}),
            "title",
            "must not be empty",
        ),
        (
            "posts",
            json!({"title": "x".repeat(201)}),
            "title",
            "at most 200",
        ),
        (
            "posts",
            json!({"content": "no title"}),
            "title",
            "is required",
        ),
        (
            "posts",
            json!({"title": "t", "status": "archived"}),
            "status",
            "must be one of",
        ),
        (
            "posts",
            json!({"title": "t", "colour": "red"}),
            "colour",
            "unknown field",
        ),
        (
            "posts",
            json!({"title": "t", "category": 5}),
            "category",
            "must be a string",
        ),
        (
            "posts",
            json!({"title": "t", "content": "a\u{0}b"}),
            "content",
            "NUL",
        ),
        (
            "posts",
            json!({"title": "t", "content": "x".repeat(admin::resources::CONTENT_MAX + 1)}),
            "content",
            "at most",
        ),
        (
            "comments",
            json!({"post_id": 1, "body": "   "}),
            "body",
            "must not be empty",
        ),
        (
            "comments",
            json!({"post_id": 9999, "body": "hi"}),
            "post_id",
            "does not exist",
        ),
        (
            "comments",
            json!({"post_id": "abc", "body": "hi"}),
            "post_id",
            "must be an integer",
        ),
        ("comments", json!({"body": "hi"}), "post_id", "is required"),
    ];
    for (resource, body, field, needle) in cases {
        let res = alice
            .post(s.url(&format!("/api/{resource}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let e = expect_error(res, 422).await;
        let message = e["errors"][field][0].as_str().unwrap_or_default();
        assert!(message.contains(needle), "{resource} {body}: {e}");
    }
    // The limit is in characters, not bytes.
    let res = alice
        .post(s.url("/api/posts"))
        .json(&json!({"title": "é".repeat(200)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    // Updates validate too, and a failed write changes nothing.
    let res = alice
        .patch(s.url("/api/posts/3"))
        .json(&json!({"title": ""}))
        .send()
        .await
        .unwrap();
    expect_error(res, 422).await;
    let (_, p3) = json_of(alice.get(s.url("/api/posts/3")).send().await.unwrap()).await;
    assert_eq!(p3["version"], 1);
    let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap();
    assert_eq!(logged, 1, "only the one valid create was logged");
}

#[tokio::test]
async fn bad_queries_are_400_with_a_message() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    for (query, needle) in [
        ("colour=red", "unknown field 'colour'"),
        ("title_between=a", "unknown filter operator 'between'"),
        ("_sort=colour", "cannot sort"),
        ("_sort=id&_order=sideways", "asc or desc"),
        ("_start=abc&_end=10", "_start"),
        ("_start=5", "go together"),
        ("id=abc", "integer"),
        ("id_like=1", "text fields only"),
        ("_page=2", "unknown query parameter"),
    ] {
        let e = expect_error(
            alice
                .get(s.url(&format!("/api/posts?{query}")))
                .send()
                .await
                .unwrap(),
            400,
        )
        .await;
        let message = e["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
    // malformed JSON body
    let res = alice
        .post(s.url("/api/posts"))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    expect_error(res, 400).await;
}

#[tokio::test]
async fn body_over_the_limit_is_413() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let huge = json!({"title": "big", "content": "x".repeat(1024 * 1024 + 1)});
    expect_error(
        alice
            .post(s.url("/api/posts"))
            .json(&huge)
            .send()
            .await
            .unwrap(),
        413,
    )
    .await;
    assert_eq!(
        list(&alice, &s, "").await.1,
        POSTS_SEEDED,
        "nothing was written"
    );
}

#[tokio::test]
async fn users_are_read_only() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let res = alice
        .get(s.url("/api/users?_sort=name&_order=asc"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.headers()["x-total-count"],
        USERS_SEEDED.to_string().as_str()
    );
    let users: Vec<Value> = res.json().await.unwrap();
    assert_eq!(users[0]["name"], "alice");
    assert!(users[0].get("password_hash").is_none());
    expect_error(
        alice
            .post(s.url("/api/users"))
            .json(&json!({"name": "eve"}))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    expect_error(
        alice
            .patch(s.url("/api/users/1"))
            .json(&json!({"name": "eve"}))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
    expect_error(
        alice.delete(s.url("/api/users/1")).send().await.unwrap(),
        405,
    )
    .await;
    // a method no route has
    expect_error(
        alice
            .request(reqwest::Method::OPTIONS, s.url("/api/posts/1"))
            .send()
            .await
            .unwrap(),
        405,
    )
    .await;
}

#[tokio::test]
async fn every_resource_call_needs_a_session() {
    let s = TestServer::start(admin::build).await;
    let anon = s.anon();
    for (method, path) in [
        ("GET", "/api/posts"),
        ("GET", "/api/posts?id=1"),
        ("GET", "/api/posts/1"),
        ("POST", "/api/posts"),
        ("PATCH", "/api/posts/1"),
        ("PUT", "/api/posts/1"),
        ("DELETE", "/api/posts/1"),
        ("GET", "/api/comments"),
        ("GET", "/api/users"),
    ] {
        let req = anon.request(method.parse().unwrap(), s.url(path));
        let req = if method == "GET" || method == "DELETE" {
            req
        } else {
            req.json(&json!({"title": "x"}))
        };
        expect_error(req.send().await.unwrap(), 401).await;
    }
    let alice = s.login("alice").await;
    assert_eq!(
        list(&alice, &s, "").await.1,
        POSTS_SEEDED,
        "anonymous writes changed nothing"
    );
}

#[tokio::test]
async fn cross_origin_cookie_writes_are_403() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let res = alice
        .post(s.url("/api/posts"))
        .header("origin", "http://evil.example")
        .json(&json!({"title": "csrf"}))
        .send()
        .await
        .unwrap();
    expect_error(res, 403).await;
    let own = s.base.clone();
    let res = alice
        .post(s.url("/api/posts"))
        .header("origin", own)
        .json(&json!({"title": "same origin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
}

#[tokio::test]
async fn each_write_logs_one_event_with_origin() {
    let s = TestServer::start(admin::build).await;
    let mut events = s.state.store.subscribe_committed();
    let alice = s.login("alice").await;
    let res = alice
        .post(s.url("/api/posts"))
        .header("x-live-origin", "tab-1")
        .json(&json!({"title": "Evented"}))
        .send()
        .await
        .unwrap();
    let (_, post) = json_of(res).await;
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.channel.as_str(), e.kind.as_str()),
        ("resources/posts", "created")
    );
    assert_eq!(e.event["payload"]["ids"], json!([post["id"].to_string()]));
    assert_eq!(e.event["payload"]["data"]["title"], "Evented");
    assert_eq!(e.event["meta"]["user"]["name"], "alice");
    assert_eq!(e.event["meta"]["origin"], "tab-1");
    alice
        .patch(s.url("/api/posts/2"))
        .json(&json!({"title": "U"}))
        .send()
        .await
        .unwrap();
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.kind.as_str(), e.event["meta"]["origin"].is_null()),
        ("updated", true)
    );
    // bob comments on alice's post 1 → comment event + a notification for alice
    let bob = s.login("bob").await;
    bob.post(s.url("/api/comments"))
        .json(&json!({"post_id": 1, "body": "Nice"}))
        .send()
        .await
        .unwrap();
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.channel.as_str(), e.kind.as_str()),
        ("resources/comments", "created")
    );
    let n = events.recv().await.unwrap();
    assert_eq!(n.channel, "notifications/user/1");
    assert_eq!(n.event["payload"]["data"]["by"]["name"], "bob");
    assert!(n.seq > e.seq);
    alice.delete(s.url("/api/posts/1")).send().await.unwrap();
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.channel.as_str(), e.kind.as_str()),
        ("resources/posts", "deleted")
    );
    let e = events.recv().await.unwrap();
    assert_eq!(
        (e.channel.as_str(), e.kind.as_str()),
        ("resources/comments", "deleted")
    );
    assert!(events.try_recv().is_err(), "exactly the events above");
}
