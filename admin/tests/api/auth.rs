//! Sessions over HTTP: cookie login, me, logout, bearer tokens, throttling.

use reqwest::StatusCode;
use serde_json::json;
use server::testkit::{expect_error, json_of, TestServer};

#[tokio::test]
async fn login_sets_a_safe_cookie_and_me_and_logout_work() {
    let s = TestServer::start(admin::build).await;
    let client = s.anon();
    let res = s.post_login(&client, "alice", "demo").await;
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"),
        "{cookie}"
    );
    let (status, me) = json_of(res).await;
    assert_eq!(
        (status, me["name"].as_str()),
        (StatusCode::OK, Some("alice"))
    );
    let (_, me) = json_of(client.get(s.url("/api/auth/me")).send().await.unwrap()).await;
    assert_eq!(me, json!({"id": 1, "name": "alice"}));
    let res = client.post(s.url("/api/auth/logout")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::NO_CONTENT);
    expect_error(client.get(s.url("/api/auth/me")).send().await.unwrap(), 401).await;
    expect_error(client.get(s.url("/api/posts")).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn the_old_cookie_is_dead_after_logout() {
    let s = TestServer::start(admin::build).await;
    let cookie = s.session_cookie("bob").await;
    let plain = reqwest::Client::new();
    let me = plain
        .get(s.url("/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    plain
        .post(s.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    expect_error(
        plain
            .get(s.url("/api/auth/me"))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let s = TestServer::start(admin::build).await;
    let client = s.anon();
    let wrong = expect_error(s.post_login(&client, "alice", "nope").await, 401).await;
    let unknown = expect_error(s.post_login(&client, "mallory", "demo").await, 401).await;
    assert_eq!(wrong, unknown);
    let bad = client
        .post(s.url("/api/auth/login"))
        .json(&json!({"username": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16() / 100, 4);
}

#[tokio::test]
async fn bearer_tokens_for_non_browser_clients() {
    let s = TestServer::start(admin::build).await;
    let plain = reqwest::Client::new();
    let (status, body) = json_of(
        plain
            .post(s.url("/api/auth/token"))
            .json(&json!({"username": "bob", "password": "demo"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = body["token"].as_str().unwrap().to_owned();
    let res = plain
        .get(s.url("/api/posts?_start=0&_end=2"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["x-total-count"], "20");
    let (status, post) = json_of(
        plain
            .post(s.url("/api/posts"))
            .bearer_auth(&token)
            .json(&json!({"title": "via token"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, post["author_id"].as_i64()),
        (StatusCode::CREATED, Some(2))
    );
    expect_error(
        plain
            .get(s.url("/api/posts"))
            .bearer_auth("not-a-token")
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
    expect_error(
        plain
            .post(s.url("/api/auth/token"))
            .json(&json!({"username": "bob", "password": "x"}))
            .send()
            .await
            .unwrap(),
        401,
    )
    .await;
}

#[tokio::test]
async fn expired_sessions_are_refused() {
    let s =
        TestServer::start_with(admin::build, |c| c.session_ttl = std::time::Duration::ZERO).await;
    let client = s.anon();
    let res = s.post_login(&client, "alice", "demo").await;
    assert_eq!(res.status(), StatusCode::OK);
    expect_error(client.get(s.url("/api/auth/me")).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn repeated_failures_are_rate_limited() {
    let s = TestServer::start_with(admin::build, |c| c.login_attempts = 3).await;
    let client = s.anon();
    let attempt = |password: &'static str| {
        client
            .post(s.url("/api/auth/login"))
            .json(&json!({"username": "alice", "password": password}))
            .send()
    };
    for _ in 0..3 {
        expect_error(attempt("guess").await.unwrap(), 401).await;
    }
    let res = attempt("demo").await.unwrap();
    assert!(res.headers().contains_key("retry-after"));
    expect_error(res, 429).await;
    // other users are unaffected
    let res = s.post_login(&client, "bob", "demo").await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn unknown_api_paths_are_json_404() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    expect_error(
        alice
            .get(s.url("/api/posts/1/extra/segments"))
            .send()
            .await
            .unwrap(),
        404,
    )
    .await;
}
