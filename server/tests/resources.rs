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
