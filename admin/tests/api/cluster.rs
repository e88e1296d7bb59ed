//! Several nodes on one PostgreSQL database (always PostgreSQL, whatever
//! `HERALD_TEST_DATABASE` says): events, cursors and presence cross nodes; a killed node's
//! clients resume elsewhere without loss and its users leave within the configured bound.

use serde_json::{json, Value};
use server::config::Config;
use server::testkit::process::ServerProcess;
use server::testkit::ws::Ws;
use server::testkit::{Endpoint, TestDb, TestServer};
use sqlx::Connection;
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Cluster timings for tests: quick heartbeats and a short TTL, so a dead node is noticed
/// in about a second.
const HEARTBEAT_MS: u64 = 200;
const TTL_MS: u64 = 1000;

fn fast_cluster(config: &mut Config) {
    config.live.cluster.poll = Duration::from_millis(500);
    config.live.cluster.heartbeat = Duration::from_millis(HEARTBEAT_MS);
    config.live.cluster.node_ttl = Duration::from_millis(TTL_MS);
}

async fn two_nodes() -> (Arc<TestDb>, TestServer, TestServer) {
    let db = TestDb::postgres().await;
    let a = TestServer::node(admin::build, &db, fast_cluster).await;
    let b = TestServer::node(admin::build, &db, fast_cluster).await;
    (db, a, b)
}

/// PATCHes post `id`'s title through `node` with a bearer token.
async fn set_title(node: &Endpoint, token: &str, id: i64, title: &str) {
    let res = reqwest::Client::new()
        .patch(node.url(&format!("/api/posts/{id}")))
        .bearer_auth(token)
        .json(&json!({ "title": title }))
        .send()
        .await
        .expect("PATCH");
    assert_eq!(res.status(), 200, "PATCH through {}", node.base);
}

fn seq(frame: &Value) -> i64 {
    frame["cursor"]
        .as_str()
        .and_then(|c| c.rsplit_once('-'))
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("no cursor in {frame}"))
}

fn title(frame: &Value) -> String {
    frame["event"]["payload"]["data"]["title"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

/// Reads `n` events for `sub`.
async fn events(ws: &mut Ws, sub: &str, n: usize) -> Vec<Value> {
    let mut got = Vec::with_capacity(n);
    while got.len() < n {
        got.push(ws.event(sub).await);
    }
    got
}

/// Asserts cursors are strictly consecutive: no gap, no duplicate, in log order.
fn assert_consecutive(frames: &[Value]) {
    let seqs: Vec<i64> = frames.iter().map(seq).collect();
    for pair in seqs.windows(2) {
        assert_eq!(
            pair[1],
            pair[0] + 1,
            "cursors must be consecutive: {seqs:?}"
        );
    }
}

#[tokio::test]
async fn writes_on_one_node_reach_subscribers_on_another_in_order_exactly_once() {
    let (_db, a, b) = two_nodes().await;
    let mut ws = b.ws("bob").await;
    ws.subscribe("p", "resources/posts").await;
    let token = a.token("alice").await;
    for i in 0..20 {
        set_title(&a, &token, 1 + i % 3, &format!("from A {i}")).await;
    }
    let got = events(&mut ws, "p", 20).await;
    assert_consecutive(&got);
    let titles: Vec<String> = got.iter().map(title).collect();
    let expected: Vec<String> = (0..20).map(|i| format!("from A {i}")).collect();
    assert_eq!(titles, expected);
    ws.expect_silence().await;
}

#[tokio::test]
async fn concurrent_writers_on_both_nodes_are_seen_in_one_order_everywhere() {
    const WRITERS: usize = 4;
    const WRITES: usize = 25;
    let (_db, a, b) = two_nodes().await;
    let mut subscribers = Vec::new();
    for node in [&a, &b, &a, &b] {
        let mut ws = node.ws("bob").await;
        ws.subscribe("p", "resources/posts").await;
        subscribers.push(ws);
    }
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let node = Endpoint {
            base: if w % 2 == 0 { &a } else { &b }.base.clone(),
        };
        let token = node.token("alice").await;
        writers.push(tokio::spawn(async move {
            for i in 0..WRITES {
                set_title(&node, &token, (w + 1) as i64, &format!("w{w} #{i}")).await;
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    let mut orders = Vec::new();
    for ws in &mut subscribers {
        let got = events(ws, "p", WRITERS * WRITES).await;
        assert_consecutive(&got);
        ws.expect_silence().await;
        orders.push(got.iter().map(title).collect::<Vec<_>>());
    }
    let distinct: HashSet<&String> = orders[0].iter().collect();
    assert_eq!(distinct.len(), WRITERS * WRITES, "every write exactly once");
    for order in &orders[1..] {
        assert_eq!(order, &orders[0], "every subscriber sees the same order");
    }
    // each writer's own writes keep their order
    for w in 0..WRITERS {
        let mine: Vec<&String> = orders[0]
            .iter()
            .filter(|t| t.starts_with(&format!("w{w} ")))
            .collect();
        let expected: Vec<String> = (0..WRITES).map(|i| format!("w{w} #{i}")).collect();
        assert_eq!(mine, expected.iter().collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_cursor_from_one_node_resumes_on_another() {
    let (_db, a, b) = two_nodes().await;
    let token = a.token("alice").await;
    let mut first = a.ws("bob").await;
    first.subscribe("p", "resources/posts").await;
    set_title(&a, &token, 1, "seen").await;
    let seen = first.event("p").await;
    drop(first);
    for i in 0..5 {
        set_title(&a, &token, 2, &format!("missed {i}")).await;
    }
    let mut resumed = b.ws("bob").await;
    resumed
        .send(json!({"op": "subscribe", "sub": "p", "channel": "resources/posts", "since": seen["cursor"]}))
        .await;
    assert_eq!(resumed.recv().await["op"], "subscribed");
    let replayed = events(&mut resumed, "p", 5).await;
    assert_eq!(seq(&replayed[0]), seq(&seen) + 1);
    assert_consecutive(&replayed);
    assert_eq!(
        replayed.iter().map(title).collect::<Vec<_>>(),
        (0..5).map(|i| format!("missed {i}")).collect::<Vec<_>>()
    );
    // and live continues from there, whichever node takes the write
    set_title(&b, &token, 3, "live again").await;
    let live = resumed.event("p").await;
    assert_eq!(
        (seq(&live), title(&live)),
        (seq(&replayed[4]) + 1, "live again".to_owned())
    );
}

fn presence_users(frame: &Value) -> Vec<String> {
    let mut names: Vec<String> = frame["event"]["payload"]["users"]
        .as_array()
        .unwrap_or_else(|| panic!("a sync frame: {frame}"))
        .iter()
        .filter_map(|u| u["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

fn presence_change(frame: &Value) -> (String, String) {
    (
        frame["event"]["type"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        frame["event"]["payload"]["user"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    )
}

#[tokio::test]
async fn presence_and_typing_cross_nodes() {
    let (_db, a, b) = two_nodes().await;
    let channel = "presence/posts/1";
    let mut alice = a.ws("alice").await;
    alice.subscribe("p", channel).await;
    assert_eq!(presence_users(&alice.event("p").await), ["alice"]);
    let mut bob = b.ws("bob").await;
    // the join travels through the database: give it a moment, then bob's sync has alice
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        bob.subscribe("p", channel).await;
        let users = presence_users(&bob.event("p").await);
        if users == ["alice", "bob"] {
            break;
        }
        assert!(Instant::now() < deadline, "bob never saw alice: {users:?}");
        bob.send(json!({"op": "unsubscribe", "sub": "p"})).await;
        assert_eq!(bob.recv().await["op"], "unsubscribed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // alice on A hears bob join on B, exactly once
    let mut heard = Vec::new();
    while let Some(frame) = alice.try_recv(Duration::from_millis(800)).await {
        heard.push(presence_change(&frame));
    }
    assert!(
        heard.contains(&("join".into(), "bob".into())),
        "alice heard {heard:?}"
    );
    // typing (ephemeral) on A reaches B
    bob.subscribe("t", "typing/posts/1").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    alice
        .send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"typing": true}}))
        .await;
    let typing = bob.event("t").await;
    assert_eq!(typing["event"]["meta"]["user"]["name"], "alice");
    assert_eq!(typing["event"]["payload"]["typing"], true);
    // bob leaves B: alice on A hears it
    drop(bob);
    let leave = alice.event("p").await;
    assert_eq!(presence_change(&leave), ("leave".into(), "bob".into()));
}

#[tokio::test]
async fn a_killed_nodes_clients_resume_elsewhere_and_its_users_leave() {
    let db = TestDb::postgres().await;
    let survivor = TestServer::node(admin::build, &db, fast_cluster).await;
    let mut doomed = ServerProcess::start(
        env!("CARGO_BIN_EXE_server"),
        &db,
        &[
            ("HERALD_NODE_HEARTBEAT_MS", HEARTBEAT_MS.to_string()),
            ("HERALD_NODE_TTL_MS", TTL_MS.to_string()),
            ("HERALD_CLUSTER_POLL_MS", "500".to_string()),
        ],
    )
    .await;
    // alice watches presence on the survivor; bob is present on the doomed node
    let mut alice = survivor.ws("alice").await;
    alice.subscribe("p", "presence/posts/1").await;
    alice.event("p").await; // sync
    let mut bob_presence = doomed.ws("bob").await;
    bob_presence.subscribe("p", "presence/posts/1").await;
    let join = alice.event("p").await;
    assert_eq!(presence_change(&join), ("join".into(), "bob".into()));

    // a stream: bob follows posts on the doomed node while writes go to the survivor
    let mut stream = doomed.ws("bob").await;
    stream.subscribe("s", "resources/posts").await;
    let token = survivor.token("alice").await;
    const WRITES: usize = 40;
    let writer = {
        let node = Endpoint {
            base: survivor.base.clone(),
        };
        tokio::spawn(async move {
            for i in 0..WRITES {
                set_title(&node, &token, 1, &format!("stream {i}")).await;
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
    };
    let mut got = events(&mut stream, "s", 10).await;
    doomed.kill();
    let killed_at = Instant::now();
    let leave = tokio::spawn(async move {
        let frame = alice.event("p").await;
        (presence_change(&frame), killed_at.elapsed())
    });
    // the client reads what reached it before the socket died, then resumes on the
    // survivor from the last cursor it saw
    while let Some(frame) = stream.try_recv(Duration::from_secs(2)).await {
        got.push(frame);
    }
    let last = got
        .last()
        .map(|f| f["cursor"].clone())
        .unwrap_or(Value::Null);
    let mut resumed = survivor.ws("bob").await;
    resumed
        .send(json!({"op": "subscribe", "sub": "s", "channel": "resources/posts", "since": last}))
        .await;
    assert_eq!(resumed.recv().await["op"], "subscribed");
    writer.await.expect("writer");
    got.extend(events(&mut resumed, "s", WRITES - got.len()).await);
    assert_consecutive(&got);
    assert_eq!(
        got.iter().map(title).collect::<Vec<_>>(),
        (0..WRITES)
            .map(|i| format!("stream {i}"))
            .collect::<Vec<_>>()
    );
    resumed.expect_silence().await;

    // bob's presence died with the node, within the TTL plus a heartbeat (and slack for
    // a loaded machine): the configured bound, not a speed goal
    let (change, after) = leave.await.expect("leave watcher");
    assert_eq!(change, ("leave".into(), "bob".into()));
    let bound = Duration::from_millis(TTL_MS + HEARTBEAT_MS) + Duration::from_secs(2);
    assert!(after < bound, "bob left {after:?} after the kill");
}

#[tokio::test]
async fn nodes_starting_together_on_an_empty_database_seed_it_once() {
    let db = TestDb::postgres().await;
    let (a, b) = tokio::join!(
        TestServer::node(admin::build, &db, fast_cluster),
        TestServer::node(admin::build, &db, fast_cluster)
    );
    let client = a.login("alice").await;
    let res = client.get(a.url("/api/posts")).send().await.expect("list");
    assert_eq!(res.headers()["x-total-count"], "20");
    let users: Value = b
        .login("bob")
        .await
        .get(b.url("/api/users"))
        .send()
        .await
        .expect("users")
        .json()
        .await
        .expect("JSON");
    assert_eq!(users.as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn ephemeral_events_too_large_to_cross_nodes_are_refused() {
    let (_db, a, _b) = two_nodes().await;
    let mut ws = a.ws("alice").await;
    ws.subscribe("t", "typing/posts/1").await;
    let big = "x".repeat(server::live::cluster_link::PUBLISH_LIMIT);
    ws.send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"text": big}}))
        .await;
    let frame = ws.recv().await;
    assert_eq!(
        (frame["op"].as_str(), frame["code"].as_str()),
        (Some("error"), Some("too_large")),
        "{frame}"
    );
    // a normal one still goes through
    ws.send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"typing": true}}))
        .await;
    assert_eq!(ws.event("t").await["event"]["payload"]["typing"], true);
}

#[tokio::test]
async fn events_still_arrive_after_the_listener_connections_are_cut() {
    let (db, a, b) = two_nodes().await;
    let mut ws = b.ws("bob").await;
    ws.subscribe("p", "resources/posts").await;
    let token = a.token("alice").await;
    set_title(&a, &token, 1, "before").await;
    assert_eq!(title(&ws.event("p").await), "before");
    // Cut every LISTEN connection (both nodes'), as a database restart or a network blip
    // would: the nodes must notice, listen again and read what they missed from the log.
    let mut admin = sqlx::PgConnection::connect(&db.url()).await.expect("admin");
    let cut: Vec<i32> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid)::int FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND query ILIKE 'LISTEN%'",
    )
    .fetch_all(&mut admin)
    .await
    .expect("terminate listeners");
    assert!(!cut.is_empty(), "the nodes have listener connections");
    for i in 0..5 {
        set_title(&a, &token, 2, &format!("while cut {i}")).await;
    }
    // nothing is lost, order is kept
    let got = events(&mut ws, "p", 5).await;
    assert_consecutive(&got);
    assert_eq!(
        got.iter().map(title).collect::<Vec<_>>(),
        (0..5).map(|i| format!("while cut {i}")).collect::<Vec<_>>()
    );
}

/// An ephemeral event as a node serialises it (what crosses in a notification).
fn event_body(channel: &str, kind: &str, payload: Value) -> String {
    json!({
        "channel": channel,
        "type": kind,
        "payload": payload,
        "date": "2026-01-01T00:00:00.000Z",
        "meta": {"user": {"id": "1", "name": "alice"}, "origin": null},
    })
    .to_string()
}

/// Publishes a typing event from `from`, then reads it on `from` and on every subscriber
/// in `to` (each subscribed as "t" on typing/posts/1): it must be the next frame there.
async fn typing_crosses(from: &mut Ws, to: &mut [&mut Ws], marker: &str) {
    from.send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"marker": marker}}))
        .await;
    assert_eq!(from.event("t").await["event"]["payload"]["marker"], marker);
    for ws in to.iter_mut() {
        let frame = ws.event("t").await;
        assert_eq!(frame["event"]["payload"]["marker"], marker, "{frame}");
    }
}

#[tokio::test]
async fn forged_cluster_notifications_reach_no_one_and_real_ones_still_cross() {
    let (db, a, b) = two_nodes().await;
    // bob listens to his notifications and to typing on both nodes; alice types on A
    let mut bob_a = a.ws("bob").await;
    let mut bob_b = b.ws("bob").await;
    for ws in [&mut bob_a, &mut bob_b] {
        ws.subscribe("n", "notifications/user/2").await;
        ws.subscribe("t", "typing/posts/1").await;
    }
    let mut alice_a = a.ws("alice").await;
    let mut alice_b = b.ws("alice").await;
    alice_a.subscribe("t", "typing/posts/1").await;
    alice_b.subscribe("t", "typing/posts/1").await;
    // both nodes listen: a real event crosses each way
    typing_crosses(
        &mut alice_a,
        &mut [&mut bob_a, &mut bob_b, &mut alice_b],
        "warm-up A",
    )
    .await;
    typing_crosses(
        &mut alice_b,
        &mut [&mut bob_a, &mut bob_b, &mut alice_a],
        "warm-up B",
    )
    .await;

    let mut forger = sqlx::PgConnection::connect(&db.url())
        .await
        .expect("forger");
    let notification = event_body(
        "notifications/user/2",
        "comment",
        json!({"text": "forged: your password expired, log in at evil.example"}),
    );
    let typing = event_body("typing/posts/1", "typing", json!({"marker": "forged"}));
    let node = "0123456789abcdef";

    // Round 1, by a role that cannot read the key: the notes of the unauthenticated
    // protocol, then notes with no MAC, an empty one, one under a guessed key; garbage.
    let mut unsigned: Vec<String> = Vec::new();
    for body in [&notification, &typing] {
        let event: Value = serde_json::from_str(body).expect("JSON");
        unsigned.push(
            json!({"node": node, "channel": event["channel"], "kind": event["type"], "body": body})
                .to_string(),
        );
        unsigned.push(format!("{node}:{body}"));
        unsigned.push(format!(":{node}:{body}"));
        unsigned.push(server::live::cluster::seal(
            "guessed",
            "herald_publish",
            &format!("{node}:{body}"),
        ));
    }
    for garbage in ["", "garbage", "{", "null", &"\u{1F4A5}".repeat(1000)] {
        unsigned.push(garbage.to_owned());
    }
    notify_all(&mut forger, &unsigned).await;
    // a real event still crosses, and is the first thing anyone sees after the forgeries
    typing_crosses(
        &mut alice_a,
        &mut [&mut bob_a, &mut bob_b, &mut alice_b],
        "real A",
    )
    .await;
    typing_crosses(
        &mut alice_b,
        &mut [&mut bob_a, &mut bob_b, &mut alice_a],
        "real B",
    )
    .await;

    // Round 2, signed with the real key (as only a role that reads herald_meta could) but
    // malformed: a notification (only the server writes those), a presence announcement, a
    // created event on a resource, an event without its user, signed garbage, and a note
    // signed for the other notification channel.
    let key: String = sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'cluster_key'")
        .fetch_one(&mut forger)
        .await
        .expect("the nodes created a cluster key");
    let seal = |channel: &str, content: &str| server::live::cluster::seal(&key, channel, content);
    let mut signed = vec![
        seal("herald_publish", &format!("{node}:{notification}")),
        seal("herald_presence", &format!("{node}:{typing}")),
    ];
    for (channel, kind) in [("presence/posts/1", "join"), ("resources/posts", "created")] {
        let body = event_body(channel, kind, json!({"user": {"id": "1", "name": "x"}}));
        signed.push(seal("herald_publish", &format!("{node}:{body}")));
    }
    let mut userless: Value = serde_json::from_str(&typing).expect("JSON");
    userless["meta"] = json!({"origin": null});
    signed.push(seal("herald_publish", &format!("{node}:{userless}")));
    for garbage in [
        "",
        "garbage",
        node,
        &format!("{node}:"),
        &format!("{node}:null"),
    ] {
        signed.push(seal("herald_publish", garbage));
    }
    notify_all(&mut forger, &signed).await;
    typing_crosses(
        &mut alice_a,
        &mut [&mut bob_a, &mut bob_b, &mut alice_b],
        "again A",
    )
    .await;
    typing_crosses(
        &mut alice_b,
        &mut [&mut bob_a, &mut bob_b, &mut alice_a],
        "again B",
    )
    .await;
    for ws in [&mut bob_a, &mut bob_b, &mut alice_a, &mut alice_b] {
        ws.expect_silence().await;
    }
}

/// Sends each payload on both of the cluster's notification channels.
async fn notify_all(conn: &mut sqlx::PgConnection, payloads: &[String]) {
    for payload in payloads {
        for channel in ["herald_publish", "herald_presence"] {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&mut *conn)
                .await
                .expect("NOTIFY");
        }
    }
}

#[tokio::test]
async fn an_ephemeral_event_is_size_checked_as_it_is_sent_not_before_escaping() {
    use server::live::cluster_link::PUBLISH_LIMIT;
    let (_db, a, b) = two_nodes().await;
    let mut alice = a.ws("alice").await;
    alice.subscribe("t", "typing/posts/1").await;
    let mut bob = b.ws("bob").await;
    bob.subscribe("t", "typing/posts/1").await;
    typing_crosses(&mut alice, &mut [&mut bob], "warm-up").await;
    // text of quotes, backslashes and non-ASCII (2 bytes each once serialised) whose event
    // is exactly PUBLISH_LIMIT bytes: it was accepted, then escaped again into a note over
    // PostgreSQL's 8,000 bytes and dropped silently; now it crosses as it is
    let overhead = event_body("typing/posts/1", "typing", json!({"text": ""})).len();
    let room = PUBLISH_LIMIT - overhead;
    let mut text = "\"\\é".repeat(room / 6);
    text.push_str(&"x".repeat(room - 2 * text.chars().count()));
    assert_eq!(
        event_body("typing/posts/1", "typing", json!({"text": text})).len(),
        PUBLISH_LIMIT
    );
    alice
        .send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"text": text}}))
        .await;
    assert_eq!(alice.event("t").await["event"]["payload"]["text"], *text);
    let crossed = bob.event("t").await;
    assert_eq!(crossed["event"]["payload"]["text"], *text, "crossed intact");
    assert_eq!(crossed["event"]["meta"]["user"]["name"], "alice");
    // one byte more would not fit in the notification: the publisher is told, nobody
    // gets it
    text.push('x');
    alice
        .send(json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": {"text": text}}))
        .await;
    let frame = alice.recv().await;
    assert_eq!(
        (frame["op"].as_str(), frame["code"].as_str()),
        (Some("error"), Some("too_large")),
        "{frame}"
    );
    bob.expect_silence().await;
    alice.expect_silence().await;
}
