//! What the server does for any app's declared resources, shown on the testkit's fixture app
//! (notes, their replies, UUID-keyed labels) over HTTP and WebSocket: keys the server
//! generates and checks, cascades announced on the dependents' channels, access rules
//! refusing with 403 and changing nothing, and declarations that do not hang together
//! refused at start.

use serde_json::{json, Value};
use server::resource::{Field, IdKind, Resource, Schema, USERS};
use server::testkit::{expect_error, fixture, json_of, TestServer};

async fn post(client: &reqwest::Client, s: &TestServer, path: &str, body: Value) -> Value {
    let res = client.post(s.url(path)).json(&body).send().await.unwrap();
    let (status, body) = json_of(res).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn events_logged(s: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM events")
        .fetch_one(s.state.store.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn uuid_keys_are_generated_or_checked() {
    let s = TestServer::start(fixture::build).await;
    let alice = s.login("alice").await;
    let made = post(&alice, &s, "/api/labels", json!({"name": "urgent"})).await;
    let id = made["id"].as_str().expect("a text id").to_owned();
    let groups: Vec<usize> = id.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12], "a UUID: {id}");
    assert_eq!(&id[14..15], "4", "version 4: {id}");
    let (status, got) = json_of(
        alice
            .get(s.url(&format!("/api/labels/{id}")))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!((status.as_u16(), &got), (200, &made));

    let chosen = "6f1c2a7e-0000-4000-8000-000000000001";
    let kept = post(
        &alice,
        &s,
        "/api/labels",
        json!({"id": chosen, "name": "mine"}),
    )
    .await;
    assert_eq!(kept["id"], chosen);
    let res = alice
        .post(s.url("/api/labels"))
        .json(&json!({"id": chosen, "name": "again"}))
        .send()
        .await
        .unwrap();
    expect_error(res, 409).await;
    let res = alice
        .post(s.url("/api/labels"))
        .json(&json!({"id": "not-a-uuid", "name": "x"}))
        .send()
        .await
        .unwrap();
    let e = expect_error(res, 422).await;
    assert!(
        e["errors"]["id"][0].as_str().unwrap().contains("UUID"),
        "{e}"
    );
    let res = alice
        .get(s.url("/api/labels/not-there"))
        .send()
        .await
        .unwrap();
    expect_error(res, 404).await;
    let res = alice
        .get(s.url(&format!("/api/labels?id={id}&id={chosen}&_sort=name")))
        .send()
        .await
        .unwrap();
    let (_, many) = json_of(res).await;
    let names: Vec<&str> = many
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names, ["mine", "urgent"]);
}

#[tokio::test]
async fn a_cascade_is_announced_on_the_dependents_channel() {
    let s = TestServer::start(fixture::build).await;
    let alice = s.login("alice").await;
    let note = post(&alice, &s, "/api/notes", json!({"body": "with replies"})).await;
    let mut replies = Vec::new();
    for body in ["one", "two"] {
        let reply = post(
            &alice,
            &s,
            "/api/replies",
            json!({"note_id": note["id"], "body": body}),
        )
        .await;
        replies.push(reply["id"].to_string());
    }
    let mut ws = s.ws("bob").await;
    ws.subscribe("r", "resources/replies").await;
    ws.subscribe("n", "resources/notes").await;
    let res = alice
        .delete(s.url(&format!("/api/notes/{}", note["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let first = ws.recv().await;
    let second = ws.recv().await;
    let (notes, replies_event) = if first["sub"] == "n" {
        (first, second)
    } else {
        (second, first)
    };
    assert_eq!(notes["event"]["type"], "deleted");
    assert_eq!(
        notes["event"]["payload"]["ids"],
        json!([note["id"].to_string()])
    );
    assert_eq!(replies_event["event"]["type"], "deleted");
    assert_eq!(replies_event["event"]["payload"]["ids"], json!(replies));
    for id in &replies {
        let res = alice
            .get(s.url(&format!("/api/replies/{id}")))
            .send()
            .await
            .unwrap();
        expect_error(res, 404).await;
    }
}

#[tokio::test]
async fn an_access_rule_refuses_with_403_and_changes_nothing() {
    let s = TestServer::start(fixture::build).await;
    let (alice, bob) = (s.login("alice").await, s.login("bob").await);
    let before = events_logged(&s).await;
    let res = bob
        .patch(s.url("/api/notes/1"))
        .json(&json!({"body": "bob was here"}))
        .send()
        .await
        .unwrap();
    let e = expect_error(res, 403).await;
    assert!(e["message"].as_str().unwrap().contains("author"), "{e}");
    expect_error(bob.delete(s.url("/api/notes/1")).send().await.unwrap(), 403).await;
    let (_, note) = json_of(alice.get(s.url("/api/notes/1")).send().await.unwrap()).await;
    assert_eq!(
        (note["body"].as_str(), note["version"].as_i64()),
        (Some("note 1"), Some(1))
    );
    assert_eq!(
        events_logged(&s).await,
        before,
        "a refused write logs nothing"
    );
    let res = alice
        .patch(s.url("/api/notes/1"))
        .json(&json!({"body": "alice may"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let bobs = post(&bob, &s, "/api/notes", json!({"body": "bob's own"})).await;
    let res = bob
        .delete(s.url(&format!("/api/notes/{}", bobs["id"])))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "anyone may create, and delete their own");
}

static MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate::Migrator::DEFAULT;

fn schema(resources: &'static [&'static Resource]) -> Schema {
    Schema {
        resources,
        sqlite_migrations: &MIGRATIONS,
        postgres_migrations: &MIGRATIONS,
        seed: None,
    }
}

#[tokio::test]
async fn declarations_that_do_not_hang_together_are_refused_at_start() {
    static TEXT_ID_ON_AUTO: Resource = Resource {
        fields: &[Field::id_text()],
        ..Resource::new("things", IdKind::Auto)
    };
    static SEARCHES_A_NUMBER: Resource = Resource {
        fields: &[Field::id_int(), Field::int("rank")],
        text_fields: &["rank"],
        ..Resource::new("ranks", IdKind::Auto)
    };
    static DANGLING: Resource = Resource {
        fields: &[
            Field::id_int(),
            Field::int("owner").references("owners", server::resource::OnDelete::Restrict),
        ],
        ..Resource::new("pets", IdKind::Auto)
    };
    static TWICE: [&Resource; 2] = [&USERS, &USERS];
    static TEXT_ID: [&Resource; 1] = [&TEXT_ID_ON_AUTO];
    static SEARCH: [&Resource; 1] = [&SEARCHES_A_NUMBER];
    static DANGLE: [&Resource; 1] = [&DANGLING];
    static FINE: [&Resource; 1] = [&USERS];
    for (resources, needle) in [
        (&TWICE[..], "declared twice"),
        (&TEXT_ID[..], "id column"),
        (&SEARCH[..], "not a text column"),
        (&DANGLE[..], "undeclared resource 'owners'"),
    ] {
        let error = schema(resources).check().expect_err(needle);
        assert!(error.contains(needle), "{error}");
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("x.db").display());
        let refused = server::store::open::open(&url, schema(resources), false).await;
        assert!(refused.is_err(), "the store refuses to open: {needle}");
    }
    assert!(schema(&FINE).check().is_ok());
}

/// Subscribes `sub` to replies with `since` and takes its `subscribed` frame.
async fn resume(ws: &mut server::testkit::ws::Ws, sub: &str, since: Value) {
    let frame =
        json!({"op": "subscribe", "sub": sub, "channel": "resources/replies", "since": since});
    ws.send(frame).await;
    assert_eq!(ws.recv().await["op"], "subscribed");
}

/// The event log is bounded in bytes as well as in events (`HERALD_LOG_KEEP_BYTES`): events
/// carry whole records, so forty ~20 KB events under a 64 KiB cap are trimmed to the newest
/// three. A cursor from before them resumes with `reset`; one still covered replays exactly
/// what is kept; and the newest event survives even a cap it alone exceeds.
#[tokio::test]
async fn the_event_log_is_bounded_in_bytes() {
    use server::store::log;
    use std::time::Duration;

    const CAP: i64 = 64 * 1024;
    let s = TestServer::start_with(fixture::build, |c| {
        c.live.keep_bytes = CAP;
        c.live.trim_interval = Duration::from_millis(50);
    })
    .await;
    let store = &s.state.store;
    let alice = s.login("alice").await;
    let note = post(&alice, &s, "/api/notes", json!({"body": "big replies"})).await;
    let mut watcher = s.ws("bob").await;
    watcher.subscribe("w", "resources/replies").await;
    let body = "x".repeat(20_000);
    let mut seen = Vec::new(); // every reply event as it happened
    for _ in 0..40 {
        post(
            &alice,
            &s,
            "/api/replies",
            json!({"note_id": note["id"], "body": body}),
        )
        .await;
        seen.push(watcher.event("w").await);
    }
    let cursor = |i: usize| seen[i]["cursor"].clone();

    let kept = || async {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT seq, octet_length(payload) + octet_length(meta) FROM events ORDER BY seq",
        )
        .fetch_all(store.pool())
        .await
        .unwrap();
        rows
    };
    let within = tokio::time::timeout(Duration::from_secs(10), async {
        while kept().await.iter().map(|(_, n)| n).sum::<i64>() > CAP {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let rows = kept().await;
    let total: i64 = rows.iter().map(|(_, n)| n).sum();
    assert!(
        within.is_ok(),
        "retention never brought the log within {CAP} bytes: {} events, {total} bytes",
        rows.len()
    );
    // As many of the newest as fit, and no fewer: three ~20 KB events, and the head.
    let seqs: Vec<i64> = rows.iter().map(|(seq, _)| *seq).collect();
    let head = log::head(store.pool()).await.unwrap();
    assert_eq!(seqs, [head - 2, head - 1, head], "{rows:?}");
    assert!(rows.iter().all(|(_, n)| *n > 20_000), "{rows:?}");
    assert_eq!(log::trimmed_upto(store.pool()).await.unwrap(), head - 3);

    let mut ws = s.ws("alice").await;
    // From a trimmed event: reset, nothing replayed.
    resume(&mut ws, "old", cursor(0)).await;
    assert_eq!(
        ws.recv().await,
        json!({"op": "reset", "sub": "old", "reason": "cursor is older than the retained log"})
    );
    ws.expect_silence().await;
    // From the newest trimmed event: exactly the three kept, as they were first sent.
    resume(&mut ws, "edge", cursor(36)).await;
    for event in &seen[37..] {
        let replayed = ws.event("edge").await;
        assert_eq!(
            (&replayed["cursor"], &replayed["event"]),
            (&event["cursor"], &event["event"])
        );
    }
    ws.expect_silence().await;
    // From a kept event: the two after it.
    resume(&mut ws, "kept", cursor(37)).await;
    for event in &seen[38..] {
        assert_eq!(ws.event("kept").await["cursor"], event["cursor"]);
    }
    ws.expect_silence().await;

    // A cap smaller than any event still keeps the newest.
    log::trim(
        store.pool(),
        store.backend(),
        100_000,
        1,
        Duration::from_secs(3600),
    )
    .await
    .unwrap();
    let rows = kept().await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0].0, head);
    resume(&mut ws, "late", cursor(37)).await;
    assert_eq!(ws.recv().await["op"], "reset");
    resume(&mut ws, "newest", cursor(38)).await;
    assert_eq!(ws.event("newest").await["cursor"], cursor(39));
    ws.expect_silence().await;
}
