//! The real `server` binary killed with SIGKILL in the middle of a write stream, then
//! restarted on the same database (SQLite, or PostgreSQL with
//! `HERALD_TEST_DATABASE=postgres`): every write answered 200 is in the database and has its
//! `updated` event in the log, and a client resuming from its last cursor gets exactly the
//! events it missed, in order, then live ones.

use serde_json::{json, Value};
use server::testkit::process::ServerProcess;
use server::testkit::ws::Ws;
use server::testkit::{Endpoint, TestDb};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Writes answered 200 before the kill, at least.
const ACKED_BEFORE_KILL: usize = 30;
/// Events the subscriber reads before it goes away (the stream goes on without it).
const SEEN_BEFORE_LEAVING: usize = 12;
/// Posts the stream writes to, in turn.
const POSTS: i64 = 5;
/// Writes after the restart, to see the resumed client go live.
const AFTER_RESTART: usize = 5;

/// One write answered 200: the post, and the title and version the answer gave.
#[derive(Debug, Clone, PartialEq)]
struct Acked {
    id: i64,
    title: String,
    version: i64,
}

fn data(frame: &Value) -> &Value {
    &frame["event"]["payload"]["data"]
}

fn cursor(frame: &Value) -> String {
    frame["cursor"]
        .as_str()
        .unwrap_or_else(|| panic!("no cursor in {frame}"))
        .to_owned()
}

fn seq(cursor: &str) -> i64 {
    cursor
        .rsplit_once('-')
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("cursor {cursor}"))
}

fn summary(frames: &[Value]) -> Vec<(String, String)> {
    frames
        .iter()
        .map(|f| {
            (
                cursor(f),
                data(f)["title"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

/// PATCHes `id`'s title; the answer's record, if it was a 200.
async fn patch(
    client: &reqwest::Client,
    node: &Endpoint,
    token: &str,
    id: i64,
    title: &str,
) -> Result<Value, String> {
    let res = client
        .patch(node.url(&format!("/api/posts/{id}")))
        .bearer_auth(token)
        .json(&json!({ "title": title }))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if res.status() != 200 {
        return Err(format!("status {}", res.status()));
    }
    res.json().await.map_err(|e| e.to_string())
}

/// Every event frame for `sub` until nothing arrives for `quiet` (or the socket ends).
async fn drain(ws: &mut Ws, sub: &str, quiet: Duration) -> Vec<Value> {
    let mut got = Vec::new();
    while let Some(frame) = ws.try_recv(quiet).await {
        if frame["op"] == "event" && frame["sub"] == sub {
            got.push(frame);
        } else {
            panic!("unexpected frame {frame}");
        }
    }
    got
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_server_keeps_every_acknowledged_write_and_resumes_without_gap() {
    let db = TestDb::from_env().await;
    let exe = env!("CARGO_BIN_EXE_server");
    let mut server = ServerProcess::start(exe, &db, &[]).await;
    let token = server.token("alice").await;

    // bob follows posts and remembers what he got
    let mut watcher = server.ws("bob").await;
    let start = watcher.subscribe("s", "resources/posts").await["cursor"]
        .as_str()
        .expect("subscribed cursor")
        .to_owned();
    let seen = Arc::new(Mutex::new(Vec::<Value>::new()));
    let reader = {
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            // a client that goes away in the middle of the stream, and comes back after
            // the crash
            while let Some(frame) = watcher.try_recv(Duration::from_secs(30)).await {
                assert_eq!(frame["op"], "event", "{frame}");
                let mut seen = seen.lock().unwrap();
                seen.push(frame);
                if seen.len() == SEEN_BEFORE_LEAVING {
                    break;
                }
            }
        })
    };

    // alice streams writes until the server is gone
    let acked = Arc::new(Mutex::new(Vec::<Acked>::new()));
    let killed = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, killed) = (Arc::clone(&acked), Arc::clone(&killed));
        let node = Endpoint {
            base: server.base.clone(),
        };
        let token = token.clone();
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap();
            for i in 0usize.. {
                let id = 1 + i as i64 % POSTS;
                let title = format!("crash {i}");
                match patch(&client, &node, &token, id, &title).await {
                    Ok(post) => {
                        assert_eq!(post["title"], title.as_str());
                        acked.lock().unwrap().push(Acked {
                            id,
                            title,
                            version: post["version"].as_i64().expect("version"),
                        });
                    }
                    Err(e) => {
                        assert!(
                            killed.load(Ordering::SeqCst),
                            "write {i} failed before the kill: {e}"
                        );
                        return i;
                    }
                }
            }
            unreachable!()
        })
    };
    while acked.lock().unwrap().len() < ACKED_BEFORE_KILL {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    killed.store(true, Ordering::SeqCst);
    server.kill();
    reader.await.expect("reader");
    let attempted = writer.await.expect("writer");
    let acked = acked.lock().unwrap().clone();
    let seen = seen.lock().unwrap().clone();
    eprintln!(
        "crash: {} writes answered 200 of {} attempted; the subscriber read {} events, then left",
        acked.len(),
        attempted + 1,
        seen.len()
    );

    // same database, new process; alice's token was stored, so it still works
    let server = ServerProcess::start(exe, &db, &[]).await;

    // the database has every acknowledged write (a later one may have committed unanswered)
    let client = reqwest::Client::new();
    for id in 1..=POSTS {
        let Some(last) = acked.iter().rev().find(|a| a.id == id) else {
            continue;
        };
        let post: Value = client
            .get(server.url(&format!("/api/posts/{id}")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let version = post["version"].as_i64().expect("version");
        assert!(version >= last.version, "post {id}: {post} lost {last:?}");
        if version == last.version {
            assert_eq!(post["title"], last.title.as_str(), "post {id}");
        }
    }

    // the log, replayed from before the stream: one `updated` per committed write, in
    // order, with every acknowledged one among them
    let mut full = server.ws("bob").await;
    full.send(
        json!({"op": "subscribe", "sub": "all", "channel": "resources/posts", "since": start}),
    )
    .await;
    let subscribed = full.recv().await;
    assert_eq!(subscribed["op"], "subscribed", "{subscribed}");
    let log = drain(&mut full, "all", Duration::from_secs(1)).await;
    assert!(
        log.len() >= acked.len(),
        "log {} < acked {}",
        log.len(),
        acked.len()
    );
    assert!(log.len() <= attempted + 1, "more events than writes");
    let seqs: Vec<i64> = log.iter().map(|f| seq(&cursor(f))).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "log order: {seqs:?}");
    let logged: Vec<Acked> = log
        .iter()
        .map(|f| {
            assert_eq!(f["event"]["type"], "updated", "{f}");
            Acked {
                id: data(f)["id"].as_i64().expect("id"),
                title: data(f)["title"].as_str().expect("title").to_owned(),
                version: data(f)["version"].as_i64().expect("version"),
            }
        })
        .collect();
    // writes are sequential, so the log is the acknowledged writes, then at most the one
    // in flight at the kill
    assert_eq!(
        &logged[..acked.len()],
        &acked[..],
        "acknowledged writes in the log"
    );
    assert!(
        logged.len() - acked.len() <= 1,
        "unanswered: {:?}",
        &logged[acked.len()..]
    );

    // what the subscriber got before the kill is the head of the log: no gap, no duplicate
    assert_eq!(summary(&seen), summary(&log[..seen.len()]));

    // resuming from its last cursor: exactly the rest of the log, then live events
    let since = seen.last().map_or(start.clone(), cursor);
    let mut resumed = server.ws("bob").await;
    resumed
        .send(json!({"op": "subscribe", "sub": "s", "channel": "resources/posts", "since": since}))
        .await;
    let subscribed = resumed.recv().await;
    assert_eq!(subscribed["op"], "subscribed", "{subscribed}");
    let mut missed = Vec::new();
    for _ in seen.len()..log.len() {
        missed.push(resumed.event("s").await);
    }
    assert_eq!(summary(&missed), summary(&log[seen.len()..]));
    let mut expected = Vec::new();
    for i in 0..AFTER_RESTART {
        let title = format!("after {i}");
        patch(&client, &server, &token, 1, &title)
            .await
            .expect("write after the restart");
        expected.push(title);
    }
    let mut live = Vec::new();
    for _ in 0..AFTER_RESTART {
        live.push(resumed.event("s").await);
    }
    let titles: Vec<&str> = live
        .iter()
        .map(|f| data(f)["title"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(titles, expected);
    let last_logged = seqs.last().copied().unwrap_or(seq(&start));
    assert!(seq(&cursor(&live[0])) > last_logged);
    resumed.expect_silence().await;
    eprintln!(
        "crash: resumed with {} missed events, then {} live",
        missed.len(),
        live.len()
    );
}
