//! What a hostile client does to login and sessions — many wrong passwords at once, floods
//! of random or huge user names, lockouts aimed at someone else, tokens minted without end —
//! and the bounded, clear answer it gets: 401 or 429 with `Retry-After`, never a 5xx, and
//! the server's work and memory stay bounded. Contract: the Auth section of `docs/rest.md`.
//! Every case runs on SQLite and on PostgreSQL (`HERALD_TEST_DATABASE=postgres`).

use reqwest::{Client, StatusCode};
use serde_json::{json, Value};
use server::testkit::{expect_error, json_of, TestServer};
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// A client whose connections come from `127.0.0.<last>`: another peer address for the
/// server (all of 127/8 is loopback on Linux). No cookie store: each call stands alone.
fn peer(last: u8) -> Client {
    Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

/// One login (or token) call: its status, `Retry-After` and body.
#[derive(Debug)]
struct Answer {
    status: u16,
    retry_after: Option<u64>,
    body: Value,
}

async fn call(client: &Client, s: &TestServer, path: &str, user: &str, password: &str) -> Answer {
    let res = client
        .post(s.url(path))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .expect("login request");
    answer(res).await
}

/// A response as an [`Answer`].
async fn answer(res: reqwest::Response) -> Answer {
    let retry_after = res
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let (status, body) = json_of(res).await;
    Answer {
        status: status.as_u16(),
        retry_after,
        body,
    }
}

async fn login(client: &Client, s: &TestServer, user: &str, password: &str) -> Answer {
    call(client, s, "/api/auth/login", user, password).await
}

/// `logins` sent all at once from `client`; their answers, in completion order.
async fn at_once(s: &TestServer, client: &Client, logins: Vec<(String, String)>) -> Vec<Answer> {
    let mut set = JoinSet::new();
    for (user, password) in logins {
        let (client, url) = (client.clone(), s.url("/api/auth/login"));
        set.spawn(async move {
            let res = client
                .post(url)
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .expect("login request");
            answer(res).await
        });
    }
    set.join_all().await
}

/// How many answers had each status.
fn tally(answers: &[Answer]) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for a in answers {
        *counts.entry(a.status).or_default() += 1;
    }
    counts
}

/// Every 429 is an `HttpError` with a positive `Retry-After`.
fn assert_429s_say_when(answers: &[Answer]) {
    for a in answers.iter().filter(|a| a.status == 429) {
        assert!(
            a.retry_after.is_some_and(|s| s >= 1),
            "429 without Retry-After: {a:?}"
        );
        assert_eq!(a.body["statusCode"], 429, "HttpError shape: {a:?}");
    }
}

/// Rows in `sessions` (optionally only one user's of one kind).
async fn sessions(s: &TestServer, filter: Option<(i64, &str)>) -> i64 {
    let pool = s.state.store.pool();
    match filter {
        None => sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(pool)
            .await
            .expect("count sessions"),
        Some((user, kind)) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND kind = $2")
                .bind(user)
                .bind(kind)
                .fetch_one(pool)
                .await
                .expect("count sessions")
        }
    }
}

async fn me_with_token(s: &TestServer, token: &str) -> StatusCode {
    Client::new()
        .get(s.url("/api/auth/me"))
        .bearer_auth(token)
        .send()
        .await
        .expect("me")
        .status()
}

// 1. Attempts are reserved before the password is checked.

#[tokio::test]
async fn concurrent_wrong_passwords_get_no_more_tries_than_allowed() {
    const ATTEMPTS: usize = 5;
    let s = TestServer::start_with(admin::build, |c| c.login_attempts = ATTEMPTS).await;
    let client = peer(1);
    let guesses = (0..50)
        .map(|i| ("alice".to_owned(), format!("guess-{i}")))
        .collect();
    let answers = at_once(&s, &client, guesses).await;
    let counts = tally(&answers);
    let wrong = counts.get(&401).copied().unwrap_or(0);
    assert!(
        (1..=ATTEMPTS).contains(&wrong),
        "{wrong} passwords were checked, {ATTEMPTS} allowed: {counts:?}"
    );
    assert_eq!(
        counts.get(&429).copied().unwrap_or(0),
        50 - wrong,
        "every other guess is refused unchecked: {counts:?}"
    );
    assert_429s_say_when(&answers);
    // The name stays locked for this peer, whatever the password.
    let locked = login(&client, &s, "alice", "demo").await;
    assert_eq!(locked.status, 429, "{locked:?}");
}

#[tokio::test]
async fn a_successful_login_gives_its_attempt_back() {
    let s = TestServer::start_with(admin::build, |c| c.login_attempts = 2).await;
    let client = peer(1);
    assert_eq!(login(&client, &s, "alice", "nope").await.status, 401);
    // Each success returns the attempt it reserved (and clears this peer's failures).
    for _ in 0..5 {
        assert_eq!(login(&client, &s, "alice", "demo").await.status, 200);
    }
    // Concurrent correct logins within the limit all succeed.
    let answers = at_once(&s, &client, vec![("alice".into(), "demo".into()); 2]).await;
    assert_eq!(tally(&answers), BTreeMap::from([(200, 2)]));
    assert_eq!(login(&client, &s, "alice", "nope").await.status, 401);
    assert_eq!(login(&client, &s, "alice", "nope").await.status, 401);
    assert_eq!(login(&client, &s, "alice", "demo").await.status, 429);
}

// 2. Argon2 work is bounded.

#[tokio::test]
async fn a_flood_of_random_names_is_answered_within_the_verifier_bound() {
    const VERIFIERS: usize = 2;
    assert_eq!(
        server::config::Config::default().login_verifiers,
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        "the default bound is the number of cores"
    );
    let s = TestServer::start_with(admin::build, |c| c.login_verifiers = VERIFIERS).await;
    let client = peer(1);
    let flood = (0..200)
        .map(|_| (hex::encode(rand::random::<[u8; 8]>()), "guess".to_owned()))
        .collect();
    let answers = at_once(&s, &client, flood).await;
    let counts = tally(&answers);
    assert!(
        counts.keys().all(|status| [401, 429].contains(status)),
        "only 401 and 429: {counts:?}"
    );
    assert!(counts.contains_key(&401), "some were checked: {counts:?}");
    assert_429s_say_when(&answers);
    let peak = s.state.throttle.peak_verifications();
    assert!(
        (1..=VERIFIERS).contains(&peak),
        "{peak} verifications ran at once, bound {VERIFIERS}"
    );
    // The queue drains: a real login goes through afterwards.
    assert_eq!(login(&client, &s, "alice", "demo").await.status, 200);
}

// 3. User names are capped, and so is the throttle's memory.

#[tokio::test]
async fn overlong_user_names_are_refused_without_hashing() {
    let s = TestServer::start(admin::build).await;
    let client = peer(1);
    let wrong = login(&client, &s, "alice", "nope").await;
    assert_eq!(wrong.status, 401);
    let hashed = s.state.throttle.verifications();
    let tracked = s.state.throttle.len();
    let max = server::auth::NAME_MAX;
    for name in [
        "a".repeat(max + 1),
        "é".repeat(max / 2 + 1),
        "x".repeat(100_000),
    ] {
        let refused = login(&client, &s, &name, "nope").await;
        assert_eq!(refused.status, 401, "{} bytes: {refused:?}", name.len());
        assert_eq!(refused.body, wrong.body, "same answer as a wrong password");
    }
    assert_eq!(
        s.state.throttle.verifications(),
        hashed,
        "no password was hashed for an over-long name"
    );
    assert_eq!(s.state.throttle.len(), tracked, "nor was it tracked");
    // The longest allowed name is checked like any other.
    let at_max = login(&client, &s, &"a".repeat(max), "nope").await;
    assert_eq!(at_max.status, 401);
    assert_eq!(s.state.throttle.verifications(), hashed + 1);
}

#[tokio::test]
async fn the_throttle_forgets_the_oldest_names_beyond_its_capacity() {
    let s = TestServer::start_with(admin::build, |c| c.login_attempts = 3).await;
    let throttle = &s.state.throttle;
    let here = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let started = Instant::now();
    for i in 0..100_000 {
        // Each one a wrong password, as a login would record it.
        let attempt = throttle.reserve(&format!("flood-{i}"), here);
        attempt.expect("a fresh name may try").failed();
        assert!(
            throttle.len() <= throttle.capacity(),
            "{} entries after {i} names, capacity {}",
            throttle.len(),
            throttle.capacity()
        );
    }
    assert_eq!(
        throttle.len(),
        throttle.capacity(),
        "full, and held there by forgetting the oldest"
    );
    assert!(
        throttle.capacity() <= 2 * server::auth::throttle::MAX_TRACKED,
        "capacity {} is the documented bound",
        throttle.capacity()
    );
    // Still throttling: the newest names are remembered.
    for _ in 0..3 {
        throttle
            .reserve("late", here)
            .expect("a fresh name")
            .failed();
    }
    assert!(throttle.reserve("late", here).is_err());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "bookkeeping is cheap"
    );
}

// 4. A lockout is per (name, peer), under a higher per-name ceiling.

#[tokio::test]
async fn a_stranger_cannot_lock_alice_out_but_many_peers_hit_the_name_ceiling() {
    let s = TestServer::start_with(admin::build, |c| {
        c.login_attempts = 3;
        c.login_name_attempts = 9;
    })
    .await;
    let (stranger, alice) = (peer(1), peer(2));
    for _ in 0..3 {
        assert_eq!(login(&stranger, &s, "alice", "guess").await.status, 401);
    }
    let locked = login(&stranger, &s, "alice", "demo").await;
    assert_eq!(locked.status, 429, "{locked:?}");
    assert_429s_say_when(&[locked]);

    // Alice, from her own address, is not locked out by the stranger.
    let own = login(&alice, &s, "alice", "demo").await;
    assert_eq!(own.status, 200, "{own:?}");

    // Two more addresses bring alice's name to its ceiling of 9 failures...
    for last in [3, 4] {
        let other = peer(last);
        for _ in 0..3 {
            assert_eq!(login(&other, &s, "alice", "guess").await.status, 401);
        }
    }
    // ...after which nobody may try alice's password, from anywhere, until the window passes.
    for last in [2, 5] {
        let refused = login(&peer(last), &s, "alice", "demo").await;
        assert_eq!(refused.status, 429, "from 127.0.0.{last}: {refused:?}");
        assert_429s_say_when(&[refused]);
    }
    // Other names are untouched.
    assert_eq!(login(&peer(5), &s, "bob", "demo").await.status, 200);
}

// 5. Sessions are purged and tokens are capped.

#[tokio::test]
async fn expired_sessions_are_purged() {
    let s = TestServer::start_with(admin::build, |c| c.session_ttl = Duration::ZERO).await;
    for _ in 0..3 {
        assert_eq!(login(&peer(1), &s, "alice", "demo").await.status, 200);
    }
    let token = s.token("bob").await;
    assert_eq!(
        sessions(&s, None).await,
        4,
        "three expired cookies, one live token"
    );
    let purged = server::auth::session::purge_expired(&s.state.store)
        .await
        .expect("purge");
    assert_eq!(purged, 3);
    assert_eq!(sessions(&s, None).await, 1, "only the live token is left");
    assert_eq!(me_with_token(&s, &token).await, StatusCode::OK);
}

#[tokio::test]
async fn the_purge_runs_in_the_background() {
    let s = TestServer::start_with(admin::build, |c| {
        c.session_ttl = Duration::ZERO;
        c.session_purge_interval = Duration::from_millis(100);
    })
    .await;
    for _ in 0..2 {
        assert_eq!(login(&peer(1), &s, "alice", "demo").await.status, 200);
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while sessions(&s, None).await > 0 {
        assert!(
            Instant::now() < deadline,
            "expired sessions still stored after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn minting_one_token_too_many_revokes_the_oldest() {
    let s = TestServer::start(admin::build).await;
    let most = s.state.config.max_tokens;
    assert_eq!(most, 20, "the documented default");
    let cookie = s.session_cookie("bob").await;
    let client = peer(1);
    let mut tokens = Vec::new();
    for _ in 0..=most {
        let minted = call(&client, &s, "/api/auth/token", "bob", "demo").await;
        assert_eq!(minted.status, 200, "{minted:?}");
        tokens.push(minted.body["token"].as_str().expect("token").to_owned());
    }
    expect_error(
        Client::new()
            .get(s.url("/api/auth/me"))
            .bearer_auth(&tokens[0])
            .send()
            .await
            .expect("me"),
        401,
    )
    .await;
    for token in &tokens[1..] {
        assert_eq!(me_with_token(&s, token).await, StatusCode::OK);
    }
    let bob = 2;
    assert_eq!(sessions(&s, Some((bob, "token"))).await, most as i64);
    // Browser sessions are not bearer tokens: bob's cookie still works.
    let me = Client::new()
        .get(s.url("/api/auth/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
}
