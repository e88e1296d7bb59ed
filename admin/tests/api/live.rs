//! The live channel (`docs/live-protocol.md`, `docs/channels.md`) against the real server,
//! with tokio-tungstenite.

use admin::resources::POSTS;
use reqwest::Client;
use serde_json::{json, Value};
use server::store::{Actor, Change};
use server::testkit::TestServer;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

async fn write(client: &Client, s: &TestServer, method: &str, path: &str, body: Value) -> Value {
    let res = client
        .request(method.parse().unwrap(), s.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        res.status().is_success(),
        "{method} {path}: {}",
        res.status()
    );
    res.json().await.unwrap()
}

fn actor(id: i64, name: &str) -> Actor {
    Actor {
        user: herald_protocol::Identity {
            id,
            name: name.into(),
        },
        origin: None,
    }
}

#[tokio::test]
async fn upgrade_needs_a_session_and_an_allowed_origin() {
    let s = TestServer::start_with(admin::build, |c| {
        c.allowed_origins = vec!["http://admin.example".into()]
    })
    .await;
    assert_eq!(s.ws_with(&[]).await.err(), Some(401));
    assert_eq!(
        s.ws_with(&[("authorization", "Bearer nope".into())])
            .await
            .err(),
        Some(401)
    );
    let bearer = (
        "authorization",
        format!("Bearer {}", s.token("alice").await),
    );
    let foreign = ("origin", "http://evil.example".to_owned());
    assert_eq!(s.ws_with(&[bearer.clone(), foreign]).await.err(), Some(403));
    let own = ("origin", s.base.clone());
    assert!(s.ws_with(&[bearer.clone(), own]).await.is_ok());
    let configured = ("origin", "http://admin.example".to_owned());
    assert!(s.ws_with(&[bearer, configured]).await.is_ok());
    // the session cookie works too
    let cookie = s.session_cookie("bob").await;
    assert!(s.ws_with(&[("cookie", cookie)]).await.is_ok());
}

#[tokio::test]
async fn committed_writes_reach_subscribers_once_with_cursors() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("bob").await;
    let sub = ws.subscribe("s1", "resources/posts").await;
    assert!(sub["cursor"].is_string());
    let alice = s.login("alice").await;
    let res = alice
        .post(s.url("/api/posts"))
        .header("x-live-origin", "tab-9")
        .json(&json!({"title": "Live!"}))
        .send()
        .await
        .unwrap();
    let post: Value = res.json().await.unwrap();
    let frame = ws.event("s1").await;
    let event = &frame["event"];
    assert!(frame["cursor"].is_string() && frame["cursor"] != sub["cursor"]);
    assert_eq!(
        (event["channel"].as_str(), event["type"].as_str()),
        (Some("resources/posts"), Some("created"))
    );
    assert_eq!(event["payload"]["ids"], json!([post["id"].to_string()]));
    assert_eq!(event["payload"]["data"], post);
    assert_eq!(
        event["meta"],
        json!({"user": {"id": "1", "name": "alice"}, "origin": "tab-9"})
    );
    assert!(event["date"].as_str().unwrap().ends_with('Z'));
    write(&alice, &s, "PATCH", "/api/posts/1", json!({"title": "x"})).await;
    write(&alice, &s, "DELETE", "/api/posts/2", json!({})).await;
    assert_eq!(ws.event("s1").await["event"]["type"], "updated");
    let deleted = ws.event("s1").await;
    assert_eq!(
        (
            deleted["event"]["type"].as_str(),
            &deleted["event"]["payload"]["ids"]
        ),
        (Some("deleted"), &json!(["2"]))
    );
    ws.expect_silence().await;
}

#[tokio::test]
async fn filters_by_type_and_ids_on_the_server() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("bob").await;
    ws.send(json!({"op": "subscribe", "sub": "three", "channel": "resources/posts", "types": ["updated"], "params": {"ids": ["3"]}})).await;
    assert_eq!(ws.recv().await["op"], "subscribed");
    ws.send(json!({"op": "subscribe", "sub": "created", "channel": "resources/posts", "types": ["created"]})).await;
    assert_eq!(ws.recv().await["op"], "subscribed");
    let alice = s.login("alice").await;
    write(
        &alice,
        &s,
        "PATCH",
        "/api/posts/4",
        json!({"title": "four"}),
    )
    .await;
    write(
        &alice,
        &s,
        "PATCH",
        "/api/posts/3",
        json!({"title": "three"}),
    )
    .await;
    write(&alice, &s, "POST", "/api/posts", json!({"title": "new"})).await;
    let first = ws.recv().await;
    assert_eq!(
        (
            first["sub"].as_str(),
            first["event"]["payload"]["ids"][0].as_str()
        ),
        (Some("three"), Some("3"))
    );
    let second = ws.recv().await;
    assert_eq!(
        (second["sub"].as_str(), second["event"]["type"].as_str()),
        (Some("created"), Some("created"))
    );
    ws.expect_silence().await;
}

#[tokio::test]
async fn one_event_matching_two_subscriptions_is_sent_to_each() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("bob").await;
    ws.subscribe("a", "resources/posts").await;
    ws.subscribe("b", "resources/posts").await;
    write(
        &s.login("alice").await,
        &s,
        "PATCH",
        "/api/posts/1",
        json!({"title": "x"}),
    )
    .await;
    let subs = [
        ws.recv().await["sub"].clone(),
        ws.recv().await["sub"].clone(),
    ];
    assert!(subs.contains(&json!("a")) && subs.contains(&json!("b")));
}

#[tokio::test]
async fn unsubscribe_stops_events() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("bob").await;
    ws.subscribe("s1", "resources/posts").await;
    ws.send(json!({"op": "unsubscribe", "sub": "s1"})).await;
    assert_eq!(ws.recv().await, json!({"op": "unsubscribed", "sub": "s1"}));
    write(
        &s.login("alice").await,
        &s,
        "PATCH",
        "/api/posts/1",
        json!({"title": "x"}),
    )
    .await;
    ws.expect_silence().await;
    ws.send(json!({"op": "unsubscribe", "sub": "s1"})).await;
    assert_eq!(ws.recv().await["code"], "not_found");
}

#[tokio::test]
async fn resume_replays_what_was_missed_then_goes_live() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    let mut ws = s.ws("bob").await;
    ws.subscribe("s1", "resources/posts").await;
    write(
        &alice,
        &s,
        "PATCH",
        "/api/posts/1",
        json!({"title": "seen"}),
    )
    .await;
    let cursor = ws.event("s1").await["cursor"].clone();
    drop(ws);
    for i in 0..3 {
        write(
            &alice,
            &s,
            "PATCH",
            "/api/posts/1",
            json!({"title": format!("missed {i}")}),
        )
        .await;
    }
    write(
        &alice,
        &s,
        "POST",
        "/api/comments",
        json!({"post_id": 1, "body": "other channel"}),
    )
    .await;
    let mut ws = s.ws("bob").await;
    ws.send(json!({"op": "subscribe", "sub": "s1", "channel": "resources/posts", "since": cursor}))
        .await;
    let subscribed = ws.recv().await;
    assert_eq!(subscribed["op"], "subscribed");
    for i in 0..3 {
        let e = ws.event("s1").await;
        assert_eq!(
            e["event"]["payload"]["data"]["title"],
            format!("missed {i}")
        );
    }
    write(
        &alice,
        &s,
        "PATCH",
        "/api/posts/1",
        json!({"title": "live"}),
    )
    .await;
    assert_eq!(
        ws.event("s1").await["event"]["payload"]["data"]["title"],
        "live"
    );
    ws.expect_silence().await;
}

/// Writes commit continuously while clients resume: every client must see exactly the
/// logged events after its cursor, in order, with no gap and no duplicate.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_races_concurrent_commits_without_gap_or_duplicate() {
    let s = TestServer::start(admin::build).await;
    let store = s.state.store.clone();
    let posts = &POSTS;
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..400 {
                let change = Change::Update {
                    id: (1 + i % 5).into(),
                    data: json!({"title": format!("race {i}")})
                        .as_object()
                        .unwrap()
                        .clone(),
                    expected_version: None,
                };
                store
                    .commit(posts, &actor(1, "alice"), change)
                    .await
                    .unwrap();
                if i % 20 == 0 {
                    tokio::task::yield_now().await;
                }
            }
        })
    };
    let log_id = store.log_id().to_owned();
    let seq = |cursor: &Value| -> i64 {
        cursor
            .as_str()
            .unwrap()
            .rsplit_once('-')
            .unwrap()
            .1
            .parse()
            .unwrap()
    };
    let mut rounds = 0;
    while !writer.is_finished() || rounds < 5 {
        rounds += 1;
        let head: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM events")
            .fetch_one(store.pool())
            .await
            .unwrap();
        let since = (head - 7).max(0);
        let mut ws = s.ws("bob").await;
        ws.send(json!({"op": "subscribe", "sub": "r", "channel": "resources/posts", "since": format!("{log_id}-{since}")})).await;
        assert_eq!(ws.recv().await["op"], "subscribed");
        let mut got = Vec::new();
        // Read until a quiet gap after the writer is done, or 60 events.
        while let Some(frame) = ws
            .try_recv(Duration::from_millis(if writer.is_finished() {
                200
            } else {
                1500
            }))
            .await
        {
            got.push(seq(&frame["cursor"]));
            if got.len() >= 60 {
                break;
            }
        }
        let expected: Vec<i64> = sqlx::query_scalar("SELECT seq FROM events WHERE seq > $1 AND channel = 'resources/posts' ORDER BY seq LIMIT $2")
            .bind(since)
            .bind(got.len() as i64)
            .fetch_all(store.pool())
            .await
            .unwrap();
        assert_eq!(
            got, expected,
            "round {rounds}: replay + live must equal the log"
        );
        assert!(got.len() >= 7.min(got.len()));
    }
    writer.await.unwrap();
    assert!(rounds >= 5);
}

#[tokio::test]
async fn unknown_foreign_or_trimmed_cursors_get_reset() {
    let s = TestServer::start(admin::build).await;
    let alice = s.login("alice").await;
    for i in 0..5 {
        write(
            &alice,
            &s,
            "PATCH",
            "/api/posts/1",
            json!({"title": format!("t{i}")}),
        )
        .await;
    }
    let mut ws = s.ws("bob").await;
    for (n, since) in [
        "garbage".to_owned(),
        "otherdb-1".to_owned(),
        format!("{}-999", s.state.store.log_id()),
    ]
    .iter()
    .enumerate()
    {
        let sub = format!("s{n}");
        ws.send(
            json!({"op": "subscribe", "sub": sub, "channel": "resources/posts", "since": since}),
        )
        .await;
        assert_eq!(ws.recv().await["op"], "subscribed");
        let reset = ws.recv().await;
        assert_eq!(
            (reset["op"].as_str(), reset["sub"].as_str()),
            (Some("reset"), Some(sub.as_str())),
            "{since}"
        );
    }
    // Trim all but the last 2 events: a cursor at 1 is no longer covered.
    server::store::log::trim(
        s.state.store.pool(),
        s.state.store.backend(),
        2,
        i64::MAX,
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let old = format!("{}-1", s.state.store.log_id());
    ws.send(json!({"op": "subscribe", "sub": "old", "channel": "resources/posts", "since": old}))
        .await;
    assert_eq!(ws.recv().await["op"], "subscribed");
    assert_eq!(ws.recv().await["op"], "reset");
    // …and the subscription stays live.
    write(
        &alice,
        &s,
        "PATCH",
        "/api/posts/1",
        json!({"title": "after reset"}),
    )
    .await;
    let mut subs: Vec<String> = Vec::new();
    while let Some(f) = ws.try_recv(Duration::from_millis(500)).await {
        subs.push(f["sub"].as_str().unwrap().to_owned());
    }
    assert!(subs.contains(&"old".to_owned()), "{subs:?}");
    // A still-covered cursor replays.
    let recent = format!("{}-4", s.state.store.log_id());
    ws.send(
        json!({"op": "subscribe", "sub": "recent", "channel": "resources/posts", "since": recent}),
    )
    .await;
    assert_eq!(ws.recv().await["op"], "subscribed");
    assert_eq!(ws.event("recent").await["event"]["type"], "updated");
}

#[tokio::test]
async fn notifications_are_private_and_server_only() {
    let s = TestServer::start(admin::build).await;
    let mut alice_ws = s.ws("alice").await;
    alice_ws.subscribe("n", "notifications/user/1").await;
    alice_ws
        .send(json!({"op": "subscribe", "sub": "spy", "channel": "notifications/user/2"}))
        .await;
    let refused = alice_ws.recv().await;
    assert_eq!(
        (
            refused["op"].as_str(),
            refused["code"].as_str(),
            refused["sub"].as_str()
        ),
        (Some("error"), Some("forbidden"), Some("spy"))
    );
    alice_ws.send(json!({"op": "publish", "channel": "notifications/user/1", "type": "comment", "payload": {}})).await;
    assert_eq!(alice_ws.recv().await["code"], "forbidden");
    // bob comments on alice's post 1: alice is notified, with a cursor (durable)
    write(
        &s.login("bob").await,
        &s,
        "POST",
        "/api/comments",
        json!({"post_id": 1, "body": "hello alice"}),
    )
    .await;
    let n = alice_ws.event("n").await;
    assert!(n["cursor"].is_string());
    assert_eq!(n["event"]["type"], "comment");
    assert_eq!(n["event"]["payload"]["data"]["by"]["name"], "bob");
    // alice commenting on her own post notifies nobody
    write(
        &s.login("alice").await,
        &s,
        "POST",
        "/api/comments",
        json!({"post_id": 1, "body": "thanks"}),
    )
    .await;
    alice_ws.expect_silence().await;
}

#[tokio::test]
async fn channel_rules_for_publishing() {
    let s = TestServer::start(admin::build).await;
    let mut bob = s.ws("bob").await;
    bob.subscribe("posts", "resources/posts").await;
    bob.subscribe("typing", "typing/posts/1").await;
    let mut alice = s.ws("alice").await;
    for reserved in ["created", "updated", "deleted"] {
        alice.send(json!({"op": "publish", "channel": "resources/posts", "type": reserved, "payload": {"ids": ["1"]}})).await;
        assert_eq!(alice.recv().await["code"], "forbidden");
    }
    alice
        .send(
            json!({"op": "publish", "channel": "presence/posts/1", "type": "join", "payload": {}}),
        )
        .await;
    assert_eq!(alice.recv().await["code"], "forbidden");
    for (channel, code) in [("resources/nope", "not_found"), ("resources", "not_found")] {
        alice
            .send(json!({"op": "subscribe", "sub": channel, "channel": channel}))
            .await;
        assert_eq!(alice.recv().await["code"], code, "{channel}");
    }
    // custom type on a resource channel: delivered, ephemeral
    alice.send(json!({"op": "publish", "channel": "resources/posts", "type": "pinned", "payload": {"ids": ["1"]}})).await;
    let pinned = bob.event("posts").await;
    assert_eq!(
        (pinned["event"]["type"].as_str(), pinned["cursor"].is_null()),
        (Some("pinned"), true)
    );
    // typing: server stamps user and date; a spoofed user is overwritten
    alice
        .send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"typing": true},
            "meta": {"user": {"id": "2", "name": "bob"}, "origin": "tab-a", "date": "1999"}}))
        .await;
    let typing = bob.event("typing").await;
    assert_eq!(
        typing["event"]["meta"]["user"],
        json!({"id": "1", "name": "alice"})
    );
    assert_eq!(typing["event"]["meta"]["origin"], "tab-a");
    assert_ne!(typing["event"]["date"], "1999");
    assert_eq!(typing["event"]["payload"], json!({"typing": true}));
}

#[tokio::test]
async fn presence_counts_users_not_sockets_and_has_no_ghosts() {
    let s = TestServer::start(admin::build).await;
    let channel = "presence/posts/1";
    let users = |frame: &Value| -> Vec<String> {
        frame["event"]["payload"]["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let mut alice1 = s.ws("alice").await;
    alice1.subscribe("p", channel).await;
    let sync = alice1.event("p").await;
    assert_eq!(
        (sync["event"]["type"].as_str(), users(&sync)),
        (Some("sync"), vec!["alice".to_owned()])
    );
    let mut bob = s.ws("bob").await;
    bob.subscribe("p", channel).await;
    assert_eq!(users(&bob.event("p").await), vec!["alice", "bob"]);
    let join = alice1.event("p").await;
    assert_eq!(
        (
            join["event"]["type"].as_str(),
            &join["event"]["payload"]["user"]
        ),
        (Some("join"), &json!({"id": "2", "name": "bob"}))
    );
    // a second tab of alice: a sync for it, no join for bob
    let mut alice2 = s.ws("alice").await;
    alice2.subscribe("p", channel).await;
    assert_eq!(users(&alice2.event("p").await), vec!["alice", "bob"]);
    bob.expect_silence().await;
    // closing one tab: alice is still there
    alice1.socket.close(None).await.unwrap();
    bob.expect_silence().await;
    // the last tab dies abruptly (TCP dropped, no close frame): alice leaves
    drop(alice2);
    let leave = bob.event("p").await;
    assert_eq!(
        (
            leave["event"]["type"].as_str(),
            &leave["event"]["payload"]["user"]["name"]
        ),
        (Some("leave"), &json!("alice"))
    );
    // unsubscribing leaves too
    let mut alice3 = s.ws("alice").await;
    alice3.subscribe("p", channel).await;
    alice3.event("p").await;
    assert_eq!(bob.event("p").await["event"]["type"], "join");
    alice3.send(json!({"op": "unsubscribe", "sub": "p"})).await;
    assert_eq!(bob.event("p").await["event"]["type"], "leave");
}

#[tokio::test]
async fn bad_frames_get_errors_and_the_socket_stays_usable() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("alice").await;
    ws.send_raw(Message::Text("{not json".into())).await;
    let e = ws.recv().await;
    assert_eq!(
        (e["op"].as_str(), e["code"].as_str(), e["sub"].is_null()),
        (Some("error"), Some("bad_request"), true)
    );
    ws.send(json!({"op": "dance"})).await;
    let e = ws.recv().await;
    assert!(e["message"].as_str().unwrap().contains("unknown op"), "{e}");
    ws.subscribe("s1", "resources/posts").await;
    ws.send(json!({"op": "subscribe", "sub": "s1", "channel": "resources/comments"}))
        .await;
    let e = ws.recv().await;
    assert_eq!(
        (e["code"].as_str(), e["sub"].as_str()),
        (Some("bad_request"), Some("s1"))
    );
    ws.send_raw(Message::Binary(vec![1, 2, 3].into())).await;
    assert_eq!(ws.recv().await["code"], "bad_request");
    ws.send(json!({"op": "ping"})).await;
    assert_eq!(ws.recv().await, json!({"op": "pong"}));
}

#[tokio::test]
async fn oversized_frames_close_with_1009() {
    let s = TestServer::start(admin::build).await;
    let mut ws = s.ws("alice").await;
    let big = json!({"op": "publish", "channel": "typing/x", "type": "t", "payload": "x".repeat(70 * 1024)});
    let _ =
        futures_util::SinkExt::send(&mut ws.socket, Message::Text(big.to_string().into())).await;
    assert_eq!(ws.closed_with().await, Some(1009));
}

#[tokio::test]
async fn publishes_subscribes_and_unsubscribes_share_one_bucket_per_user() {
    let s = TestServer::start_with(admin::build, |c| {
        c.live.publish_rate = 1;
        c.live.publish_burst = 6;
    })
    .await;
    // Two sockets of one user: churn from both draws on one bucket.
    let (mut a, mut b) = (s.ws("alice").await, s.ws("alice").await);
    // Back to back, far faster than the refill (1/s): subscribes and unsubscribes on a
    // presence channel, and publishes, all from socket a.
    for i in 0..4 {
        a.send(json!({"op": "subscribe", "sub": format!("p{i}"), "channel": "presence/posts/1"}))
            .await;
        a.send(json!({"op": "unsubscribe", "sub": format!("p{i}")}))
            .await;
    }
    a.send(json!({"op": "publish", "channel": "typing/x", "type": "typing", "payload": {}}))
        .await;
    let mut refused = 0;
    // (A short quiet gap: the bucket must not refill a token before b asks.)
    while let Some(frame) = a.try_recv(Duration::from_millis(150)).await {
        refused += usize::from(frame["code"] == "rate_limited");
    }
    assert!(
        refused >= 3,
        "9 operations against a burst of 6: {refused} refused"
    );
    // Socket b has done nothing, yet its user's bucket is empty.
    b.send(json!({"op": "subscribe", "sub": "q", "channel": "presence/posts/2"}))
        .await;
    let e = b.recv().await;
    assert_eq!(
        (e["code"].as_str(), e["sub"].as_str()),
        (Some("rate_limited"), Some("q"))
    );
    // Another user is not slowed, and the refused sockets stay usable.
    let mut bob = s.ws("bob").await;
    bob.subscribe("p", "presence/posts/2").await;
    b.send(json!({"op": "ping"})).await;
    assert_eq!(b.recv().await["op"], "pong");
}

#[tokio::test]
async fn live_connections_per_user_are_limited() {
    let s = TestServer::start_with(admin::build, |c| c.live.user_connections = 3).await;
    let token = s.token("alice").await;
    let bearer = [("authorization", format!("Bearer {token}"))];
    let mut open = Vec::new();
    for _ in 0..3 {
        open.push(s.ws_with(&bearer).await.expect("within the limit"));
    }
    assert_eq!(
        s.ws_with(&bearer).await.err(),
        Some(429),
        "the next upgrade is refused"
    );
    s.ws("bob").await; // others are unaffected
    let mut gone = open.pop().expect("one");
    gone.send_raw(Message::Close(None)).await;
    assert_eq!(gone.closed_with().await, None);
    let mut again = None;
    for _ in 0..50 {
        if let Ok(ws) = s.ws_with(&bearer).await {
            again = Some(ws);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(again.is_some(), "a closed connection gives its place back");
}

#[tokio::test]
async fn subscriptions_per_connection_are_limited() {
    let s = TestServer::start_with(admin::build, |c| c.live.max_subscriptions = 2).await;
    let mut ws = s.ws("alice").await;
    ws.subscribe("a", "typing/a").await;
    ws.subscribe("b", "typing/b").await;
    ws.send(json!({"op": "subscribe", "sub": "c", "channel": "typing/c"}))
        .await;
    assert_eq!(ws.recv().await["code"], "too_large");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_does_not_read_is_cut_off_and_slows_nobody() {
    let s = TestServer::start_with(admin::build, |c| c.live.queue = 32).await;
    let mut stalled = s.ws("bob").await;
    stalled.subscribe("s", "resources/posts").await;
    let mut reader = s.ws("alice").await;
    reader.subscribe("s", "resources/posts").await;
    let store = s.state.store.clone();
    let posts = &POSTS;
    let writes = 300;
    let big = "x".repeat(64 * 1024);
    let writer = tokio::spawn(async move {
        for i in 0..writes {
            let data = json!({"content": format!("{i}{big}")})
                .as_object()
                .unwrap()
                .clone();
            let change = Change::Update {
                id: 1.into(),
                data,
                expected_version: None,
            };
            store
                .commit(posts, &actor(1, "alice"), change)
                .await
                .unwrap();
            // A steady stream the reader can keep up with; the stalled client cannot.
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    });
    for _ in 0..writes {
        reader.event("s").await;
    }
    writer.await.unwrap();
    // The hub has dropped the stalled client; the reader is still connected.
    assert_eq!(s.state.hub.connection_count(), 1);
    // The stalled client gets what fitted in its buffers, then the connection ends: with a
    // 1013 close when that frame still fits, else without one (it was not reading).
    let mut received = 0;
    let code = loop {
        match tokio::time::timeout(
            Duration::from_secs(5),
            futures_util::StreamExt::next(&mut stalled.socket),
        )
        .await
        {
            Ok(Some(Ok(Message::Text(_)))) => received += 1,
            Ok(Some(Ok(Message::Close(frame)))) => break frame.map(|f| u16::from(f.code)),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(_)) | None) => break None,
            Err(_) => panic!("the stalled connection was not closed ({received} frames)"),
        }
    };
    assert!(code.is_none() || code == Some(1013), "{code:?}");
    assert!(
        received < writes,
        "cut off before the end ({received} of {writes})"
    );
}

#[tokio::test]
async fn shutdown_closes_sockets_with_1001() {
    let mut s = TestServer::start(admin::build).await;
    let mut ws = s.ws("alice").await;
    ws.subscribe("s", "resources/posts").await;
    s.shutdown();
    assert_eq!(ws.closed_with().await, Some(1001));
}

#[tokio::test]
async fn silent_peers_are_closed_by_the_heartbeat() {
    let s = TestServer::start_with(admin::build, |c| {
        c.live.heartbeat = Duration::from_millis(200)
    })
    .await;
    let mut watcher = s.ws("alice").await;
    watcher.subscribe("p", "presence/room").await;
    watcher.event("p").await;
    let mut silent = s.ws("bob").await;
    silent.subscribe("p", "presence/room").await;
    assert_eq!(watcher.event("p").await["event"]["type"], "join");
    // `silent` never reads again, so it never answers pings; the watcher keeps reading.
    let leave = watcher.event("p").await;
    assert_eq!(leave["event"]["type"], "leave");
    drop(silent);
}

/// After a logout, that session's sockets close with 4401 and hear nothing more — not even
/// the user's own notifications; another session of the same user is unaffected.
#[tokio::test]
async fn a_logout_closes_that_sessions_sockets_with_4401() {
    let s = TestServer::start(admin::build).await;
    let cookie = s.session_cookie("alice").await;
    let mut ended = s
        .ws_with(&[("cookie", cookie.clone())])
        .await
        .expect("upgrade with the cookie session");
    ended.subscribe("n", "notifications/user/1").await;
    let mut kept = s.ws("alice").await; // a bearer-token session of alice
    kept.subscribe("n", "notifications/user/1").await;
    let res = Client::new()
        .post(s.url("/api/auth/logout"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(ended.closed_with().await, Some(4401), "session ended");
    // bob comments on alice's post 1: only the session still signed in hears of it
    let bob = s.login("bob").await;
    let res = bob
        .post(s.url("/api/comments"))
        .json(&json!({"post_id": 1, "body": "after the logout"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(kept.event("n").await["event"]["type"], "comment");
    // and the ended cookie cannot open a new socket
    assert_eq!(s.ws_with(&[("cookie", cookie)]).await.err(), Some(401));
}

#[tokio::test]
async fn an_expired_session_closes_its_sockets_with_4401() {
    let s = TestServer::start_with(admin::build, |c| {
        c.token_ttl = Duration::from_secs(2);
    })
    .await;
    let mut ws = s.ws("alice").await;
    ws.subscribe("p", "resources/posts").await;
    assert_eq!(
        ws.closed_with_within(Duration::from_secs(10)).await,
        Some(4401)
    );
}
