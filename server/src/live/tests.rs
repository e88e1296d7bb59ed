//! The hub driven through its queues, without sockets: a store on a temporary SQLite file
//! (the test fixture's schema), the hub started on it, connections registered with a plain queue,
//! writes committed through the store's commit path, and the frames that arrive on each
//! queue asserted.
//!
//! Frames the hub queues while answering a call (subscribe, unsubscribe, publish, presence)
//! are on the queue when the call returns. Committed events go through the dispatcher task:
//! a test waits for them, and proves that something did *not* arrive by first seeing the
//! same event reach another subscriber (one event is fanned out to all, under one lock).

use super::dispatch;
use super::hub::{ConnId, Hub, Outbound, SubscribeRequest};
use super::protocol::FrameError;
use super::queue::{queue, QueueRx};
use crate::config::LiveConfig;
use crate::store::{log, open::open, Actor, Change, Store};
use crate::testkit::fixture::{alice, bob, NOTES, SCHEMA};
use axum::extract::ws::Utf8Bytes;
use herald_protocol::{ErrorCode, Identity};
use serde_json::{json, Value};
use std::time::Duration;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;

/// Longest wait for a frame that must come (real time: the store runs on real I/O).
const PATIENCE: Duration = Duration::from_secs(10);

const NOTES_CHANNEL: &str = "resources/notes";

struct Fixture {
    store: Store,
    hub: Hub,
    _dir: TempDir,
}

/// A store with users alice (1) and bob (2) and nothing else, and a hub started on it.
async fn fixture(config: LiveConfig) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("live.db").display());
    let store = open(&url, SCHEMA, false).await.expect("store opens");
    for name in ["alice", "bob"] {
        sqlx::query(
            "INSERT INTO users (name, password_hash, created_at, updated_at) VALUES ($1, '-', $2, $2)",
        )
        .bind(name)
        .bind(log::now())
        .execute(store.pool())
        .await
        .expect("user");
    }
    let hub = Hub::start(store.clone(), config).await.expect("hub starts");
    Fixture {
        store,
        hub,
        _dir: dir,
    }
}

/// One registered connection: its id, the queue it reads and its cut-off signal.
struct Client {
    id: ConnId,
    rx: QueueRx,
    cancel: CancellationToken,
}

impl Fixture {
    fn connect(&self, user: Identity) -> Client {
        self.connect_with_queue(user, self.hub.config().queue)
    }

    fn connect_with_queue(&self, user: Identity, frames: usize) -> Client {
        let (tx, rx) = queue(frames, self.hub.config().queue_bytes);
        let cancel = CancellationToken::new();
        let id = self.hub.connect(user, tx, cancel.clone(), None);
        Client { id, rx, cancel }
    }

    async fn subscribe(
        &self,
        client: &Client,
        sub: &str,
        channel: &str,
        since: Option<String>,
    ) -> Result<(), FrameError> {
        let req = SubscribeRequest {
            sub: sub.into(),
            channel: channel.into(),
            types: None,
            ids: None,
            since,
        };
        self.hub.subscribe(client.id, req).await
    }

    /// Creates a note as alice through the commit path; returns it.
    async fn create_note(&self, body: &str) -> Value {
        let actor = Actor {
            user: alice(),
            origin: None,
        };
        let data = json!({ "body": body }).as_object().cloned().unwrap();
        self.store
            .commit(&NOTES, &actor, Change::Create { data })
            .await
            .expect("commit")
    }

    fn cursor(&self, seq: i64) -> String {
        format!("{}-{seq}", self.store.log_id())
    }
}

impl Client {
    /// The next frame already queued, as shared bytes.
    fn next_bytes(&mut self) -> Utf8Bytes {
        match self.rx.try_recv() {
            Some(Outbound::Text(text)) => text,
            other => panic!("expected a queued text frame, got {other:?}"),
        }
    }

    /// The next frame already queued.
    fn next(&mut self) -> Value {
        serde_json::from_str(self.next_bytes().as_str()).expect("JSON frame")
    }

    /// The next frame, waiting for it (events come through the dispatcher task).
    async fn recv_bytes(&mut self) -> Utf8Bytes {
        match tokio::time::timeout(PATIENCE, self.rx.recv()).await {
            Ok(Some(Outbound::Text(text))) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    async fn recv(&mut self) -> Value {
        serde_json::from_str(self.recv_bytes().await.as_str()).expect("JSON frame")
    }

    /// Nothing is queued.
    fn assert_silent(&mut self) {
        if let Some(frame) = self.rx.try_recv() {
            panic!("expected no frame, got {frame:?}");
        }
    }
}

#[tokio::test]
async fn a_committed_write_reaches_its_subscriber_with_a_cursor() {
    let f = fixture(LiveConfig::default()).await;
    let mut bobs = f.connect(bob());
    f.subscribe(&bobs, "s1", NOTES_CHANNEL, None).await.unwrap();
    assert_eq!(
        bobs.next(),
        json!({"op": "subscribed", "sub": "s1", "cursor": f.cursor(0)})
    );
    let post = f.create_note("Live!").await;
    let frame = bobs.recv().await;
    assert_eq!(
        (&frame["op"], &frame["sub"], &frame["cursor"]),
        (&json!("event"), &json!("s1"), &json!(f.cursor(1)))
    );
    let event = &frame["event"];
    assert_eq!(
        (&event["channel"], &event["type"]),
        (&json!(NOTES_CHANNEL), &json!("created"))
    );
    assert_eq!(event["payload"]["ids"], json!([post["id"].to_string()]));
    assert_eq!(event["payload"]["data"], post);
    assert_eq!(
        event["meta"],
        json!({"user": {"id": "1", "name": "alice"}, "origin": null})
    );
    bobs.assert_silent();
}

#[tokio::test]
async fn subscriptions_with_one_id_share_one_frame_and_filters_apply() {
    let f = fixture(LiveConfig::default()).await;
    let (mut a, mut b) = (f.connect(alice()), f.connect(bob()));
    f.subscribe(&a, "s1", NOTES_CHANNEL, None).await.unwrap();
    f.subscribe(&b, "s1", NOTES_CHANNEL, None).await.unwrap();
    let updates_only = SubscribeRequest {
        sub: "s2".into(),
        channel: NOTES_CHANNEL.into(),
        types: Some(vec!["updated".into()]),
        ids: None,
        since: None,
    };
    f.hub.subscribe(b.id, updates_only).await.unwrap();
    for client in [&mut a, &mut b] {
        assert_eq!(client.next()["op"], "subscribed");
    }
    assert_eq!(b.next()["sub"], "s2");
    f.create_note("shared").await;
    let (to_a, to_b) = (a.recv_bytes().await, b.recv_bytes().await);
    assert_eq!(to_a, to_b);
    assert_eq!(
        to_a.as_str().as_ptr(),
        to_b.as_str().as_ptr(),
        "one frame, built once, shared by both queues"
    );
    b.assert_silent(); // s2 takes only `updated`
}

#[tokio::test]
async fn presence_counts_users_not_sockets() {
    let f = fixture(LiveConfig::default()).await;
    let room = "presence/posts/1";
    let users = |names: &[(i64, &str)]| -> Value {
        names
            .iter()
            .map(|(id, name)| json!({"id": id.to_string(), "name": name}))
            .collect()
    };
    let mut bobs = f.connect(bob());
    f.subscribe(&bobs, "p", room, None).await.unwrap();
    assert_eq!(bobs.next()["op"], "subscribed");
    let sync = bobs.next();
    assert_eq!(
        (&sync["cursor"], &sync["event"]["type"]),
        (&Value::Null, &json!("sync"))
    );
    assert_eq!(sync["event"]["payload"]["users"], users(&[(2, "bob")]));
    bobs.assert_silent(); // nobody hears their own join

    let mut tab1 = f.connect(alice());
    f.subscribe(&tab1, "p", room, None).await.unwrap();
    assert_eq!(tab1.next()["op"], "subscribed");
    assert_eq!(
        tab1.next()["event"]["payload"]["users"],
        users(&[(1, "alice"), (2, "bob")])
    );
    let join = bobs.next();
    assert_eq!(
        (&join["event"]["type"], &join["event"]["payload"]["user"]),
        (&json!("join"), &json!({"id": "1", "name": "alice"}))
    );

    // A second tab of alice's: synced, but nobody hears her join again.
    let mut tab2 = f.connect(alice());
    f.subscribe(&tab2, "p", room, None).await.unwrap();
    assert_eq!(tab2.next()["op"], "subscribed");
    assert_eq!(tab2.next()["event"]["type"], "sync");
    bobs.assert_silent();
    tab1.assert_silent();

    // One tab leaves: she is still there.
    f.hub.unsubscribe(tab1.id, "p").unwrap();
    assert_eq!(tab1.next(), json!({"op": "unsubscribed", "sub": "p"}));
    bobs.assert_silent();
    tab2.assert_silent();

    // The other tab closes: she is gone.
    f.hub.disconnect(tab2.id);
    let leave = bobs.next();
    assert_eq!(
        (&leave["event"]["type"], &leave["event"]["payload"]["user"]),
        (&json!("leave"), &json!({"id": "1", "name": "alice"}))
    );
    bobs.assert_silent();
    assert_eq!(f.hub.connection_count(), 2);
}

#[tokio::test]
async fn unsubscribe_stops_events() {
    let f = fixture(LiveConfig::default()).await;
    let (mut gone, mut witness) = (f.connect(alice()), f.connect(bob()));
    f.subscribe(&gone, "s1", NOTES_CHANNEL, None).await.unwrap();
    f.subscribe(&witness, "s1", NOTES_CHANNEL, None)
        .await
        .unwrap();
    assert_eq!(gone.next()["op"], "subscribed");
    assert_eq!(witness.next()["op"], "subscribed");
    f.hub.unsubscribe(gone.id, "s1").unwrap();
    assert_eq!(gone.next(), json!({"op": "unsubscribed", "sub": "s1"}));
    let again = f.hub.unsubscribe(gone.id, "s1").unwrap_err();
    assert_eq!(
        again,
        FrameError::new(ErrorCode::NotFound, "no subscription 's1'")
    );
    f.create_note("after").await;
    assert_eq!(witness.recv().await["cursor"], f.cursor(1));
    gone.assert_silent();
}

#[tokio::test]
async fn resume_replays_what_was_missed_then_goes_live() {
    let f = fixture(LiveConfig::default()).await;
    let mut witness = f.connect(bob());
    f.subscribe(&witness, "w", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    for title in ["one", "two", "three"] {
        f.create_note(title).await;
    }
    for seq in 1..=3 {
        assert_eq!(witness.recv().await["cursor"], f.cursor(seq)); // the hub is at 3
    }
    let mut resumed = f.connect(alice());
    f.subscribe(&resumed, "s1", NOTES_CHANNEL, Some(f.cursor(1)))
        .await
        .unwrap();
    assert_eq!(
        resumed.next(),
        json!({"op": "subscribed", "sub": "s1", "cursor": f.cursor(3)})
    );
    for seq in 2..=3 {
        let replayed = resumed.next();
        assert_eq!(
            (&replayed["sub"], &replayed["cursor"]),
            (&json!("s1"), &json!(f.cursor(seq)))
        );
    }
    resumed.assert_silent();
    f.create_note("four").await;
    assert_eq!(resumed.recv().await["cursor"], f.cursor(4));
    // Resuming at the head replays nothing.
    let mut current = f.connect(alice());
    assert_eq!(witness.recv().await["cursor"], f.cursor(4));
    f.subscribe(&current, "s1", NOTES_CHANNEL, Some(f.cursor(4)))
        .await
        .unwrap();
    assert_eq!(current.next()["op"], "subscribed");
    current.assert_silent();
}

#[tokio::test]
async fn resume_racing_commits_has_no_gap_and_no_duplicate() {
    let f = fixture(LiveConfig::default()).await;
    let mut witness = f.connect(bob());
    f.subscribe(&witness, "w", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    for i in 0..4 {
        f.create_note(&format!("before {i}")).await;
    }
    assert_eq!(witness.recv().await["cursor"], f.cursor(1));
    let mut resumed = f.connect(alice());
    let writes = async {
        for i in 0..6 {
            f.create_note(&format!("during {i}")).await;
        }
    };
    let (subscribed, ()) = tokio::join!(
        f.subscribe(&resumed, "s1", NOTES_CHANNEL, Some(f.cursor(1))),
        writes
    );
    subscribed.unwrap();
    assert_eq!(resumed.recv().await["op"], "subscribed");
    for seq in 2..=10 {
        let event = resumed.recv().await;
        assert_eq!(event["cursor"], f.cursor(seq), "in order, no gap, once");
    }
    resumed.assert_silent();
}

#[tokio::test]
async fn cursors_that_cannot_be_served_get_reset() {
    let config = LiveConfig {
        keep_events: 2,
        trim_interval: Duration::from_millis(20),
        ..LiveConfig::default()
    };
    let f = fixture(config).await;
    let mut witness = f.connect(bob());
    f.subscribe(&witness, "w", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    for title in ["one", "two", "three", "four"] {
        f.create_note(title).await;
    }
    for seq in 1..=4 {
        assert_eq!(witness.recv().await["cursor"], f.cursor(seq));
    }
    // Retention keeps the last two events: 3 and 4.
    tokio::time::timeout(PATIENCE, async {
        while log::trimmed_upto(f.store.pool()).await.unwrap() < 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("retention trims the log");

    let mut c = f.connect(alice());
    let reset = |sub: &str, reason: &str| json!({"op": "reset", "sub": sub, "reason": reason});
    let cases = [
        ("old", f.cursor(1), "cursor is older than the retained log"),
        ("ahead", f.cursor(99), "cursor is ahead of this log"),
        (
            "foreign",
            "elsewhere-1".to_owned(),
            "cursor is not from this log",
        ),
    ];
    for (sub, since, reason) in cases {
        f.subscribe(&c, sub, NOTES_CHANNEL, Some(since))
            .await
            .unwrap();
        assert_eq!(c.next()["op"], "subscribed");
        assert_eq!(c.next(), reset(sub, reason));
    }
    // The oldest cursor still covered replays what is kept.
    f.subscribe(&c, "kept", NOTES_CHANNEL, Some(f.cursor(2)))
        .await
        .unwrap();
    assert_eq!(c.next()["op"], "subscribed");
    assert_eq!(c.next()["cursor"], f.cursor(3));
    assert_eq!(c.next()["cursor"], f.cursor(4));
    c.assert_silent();
}

#[tokio::test]
async fn a_connection_that_cannot_keep_up_is_cut_off() {
    let f = fixture(LiveConfig::default()).await;
    let mut slow = f.connect_with_queue(alice(), 1);
    let mut witness = f.connect(bob());
    f.subscribe(&slow, "s1", NOTES_CHANNEL, None).await.unwrap(); // fills its queue
    f.subscribe(&witness, "s1", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    f.create_note("too much").await;
    witness.recv().await;
    assert!(slow.cancel.is_cancelled(), "cut off");
    assert_eq!(f.hub.connection_count(), 1);
    assert_eq!(slow.next()["op"], "subscribed");
    slow.assert_silent();
    f.create_note("unaffected").await;
    assert_eq!(witness.recv().await["cursor"], f.cursor(2));
}

#[tokio::test]
async fn the_queue_is_bounded_in_bytes_not_only_in_frames() {
    // Room for 1,024 frames but only ~10 KB: large events cut a non-reader off long before
    // its frame count matters, so its memory stays bounded whatever the records weigh.
    let config = LiveConfig {
        queue_bytes: 10 * 1024,
        ..LiveConfig::default()
    };
    let f = fixture(config).await;
    let mut slow = f.connect(alice());
    let mut witness = f.connect(bob());
    f.subscribe(&slow, "s1", NOTES_CHANNEL, None).await.unwrap();
    f.subscribe(&witness, "s1", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    let body = "x".repeat(900);
    for n in 1..=40 {
        f.create_note(&body).await;
        assert_eq!(
            witness.recv().await["cursor"],
            f.cursor(n),
            "the reader gets all"
        );
    }
    assert!(slow.cancel.is_cancelled(), "the non-reader was cut off");
    let mut queued = 0;
    while let Some(Outbound::Text(frame)) = slow.rx.try_recv() {
        queued += frame.len();
    }
    assert!(
        queued <= 10 * 1024 + 2 * 1024,
        "at most the byte bound (plus one frame) was held: {queued} bytes"
    );
}

#[tokio::test]
async fn a_client_that_stops_reading_during_a_replay_is_cut_off() {
    let config = LiveConfig {
        heartbeat: Duration::from_millis(200),
        ..LiveConfig::default()
    };
    let f = fixture(config).await;
    for _ in 0..30 {
        f.create_note("history").await;
    }
    let mut witness = f.connect(bob());
    f.subscribe(&witness, "w", NOTES_CHANNEL, None)
        .await
        .unwrap();
    witness.next();
    // Room for 4 frames, never read: the replay of 30 events cannot finish.
    let stalled = f.connect_with_queue(alice(), 4);
    let replay = f.subscribe(&stalled, "s1", NOTES_CHANNEL, Some(f.cursor(0)));
    tokio::time::timeout(PATIENCE, replay)
        .await
        .expect("the replay gives up instead of waiting forever")
        .unwrap();
    assert!(stalled.cancel.is_cancelled(), "cut off");
    f.create_note("live").await;
    assert_eq!(
        witness.recv().await["cursor"],
        f.cursor(31),
        "others are unaffected"
    );
}

#[tokio::test]
async fn publishes_reach_subscribers_with_the_server_stamped_user() {
    let f = fixture(LiveConfig::default()).await;
    let channel = "typing/posts/1";
    let (mut a, mut b) = (f.connect(alice()), f.connect(bob()));
    f.subscribe(&b, "t", channel, None).await.unwrap();
    b.next();
    let meta = json!({"origin": "tab-1", "user": {"id": "2", "name": "mallory"}});
    f.hub
        .publish(
            a.id,
            channel,
            "typing",
            json!({"typing": true}),
            meta.as_object().cloned(),
        )
        .unwrap();
    let frame = b.next();
    assert_eq!(
        (&frame["sub"], &frame["cursor"]),
        (&json!("t"), &Value::Null)
    );
    let event = &frame["event"];
    assert_eq!(
        (&event["channel"], &event["type"], &event["payload"]),
        (&json!(channel), &json!("typing"), &json!({"typing": true}))
    );
    assert_eq!(
        event["meta"],
        json!({"origin": "tab-1", "user": {"id": "1", "name": "alice"}})
    );
    a.assert_silent();
    let refused = f
        .hub
        .publish(a.id, "presence/posts/1", "join", Value::Null, None)
        .unwrap_err();
    assert_eq!(refused.code, ErrorCode::Forbidden);
}

#[tokio::test]
async fn subscribe_refusals_leave_the_connection_usable() {
    let config = LiveConfig {
        max_subscriptions: 2,
        ..LiveConfig::default()
    };
    let f = fixture(config).await;
    let mut c = f.connect(alice());
    let refusal = |r: Result<(), FrameError>| r.unwrap_err().code;
    assert_eq!(
        refusal(f.subscribe(&c, "x", "resources/nope", None).await),
        ErrorCode::NotFound
    );
    assert_eq!(
        refusal(f.subscribe(&c, "x", "notifications/user/2", None).await),
        ErrorCode::Forbidden
    );
    f.subscribe(&c, "s1", NOTES_CHANNEL, None).await.unwrap();
    assert_eq!(
        refusal(f.subscribe(&c, "s1", NOTES_CHANNEL, None).await),
        ErrorCode::BadRequest
    );
    f.subscribe(&c, "mine", "notifications/user/1", None)
        .await
        .unwrap();
    assert_eq!(
        refusal(f.subscribe(&c, "s3", NOTES_CHANNEL, None).await),
        ErrorCode::TooLarge
    );
    assert_eq!(c.next()["sub"], "s1");
    assert_eq!(c.next()["sub"], "mine");
    c.assert_silent();
}

#[tokio::test]
async fn catch_up_applies_what_the_stream_missed_once() {
    let f = fixture(LiveConfig::default()).await;
    // A second hub nobody feeds: as if its dispatcher had lagged from the start.
    let hub = Hub::new(f.store.clone(), LiveConfig::default(), 0, None);
    let (tx, rx) = queue(16, LiveConfig::default().queue_bytes);
    let cancel = CancellationToken::new();
    let id = hub.connect(alice(), tx, cancel.clone(), None);
    let mut client = Client { id, rx, cancel };
    let req = SubscribeRequest {
        sub: "s1".into(),
        channel: NOTES_CHANNEL.into(),
        types: None,
        ids: None,
        since: None,
    };
    hub.subscribe(client.id, req).await.unwrap();
    assert_eq!(client.next()["op"], "subscribed");
    f.create_note("one").await;
    f.create_note("two").await;
    client.assert_silent(); // nothing dispatched to this hub
    dispatch::catch_up(&hub, &f.store).await.unwrap();
    assert_eq!(client.next()["cursor"], f.cursor(1));
    assert_eq!(client.next()["cursor"], f.cursor(2));
    assert_eq!(hub.last_applied(), 2);
    dispatch::catch_up(&hub, &f.store).await.unwrap();
    let first = log::read_after(f.store.pool(), 0, 1).await.unwrap();
    hub.apply(&first[0]);
    client.assert_silent();
}
