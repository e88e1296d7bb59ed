//! Random live frames against the real server (in process): valid ops, wrong types, huge and
//! deep JSON within the frame limit, unknown ops, reused subs, binary frames, frames over the
//! limit and text frames that are not UTF-8, on several sockets at once. The server never
//! panics; every frame is answered (an `error`, `subscribed`, `unsubscribed` or `pong`; a
//! valid publish may be silent) or the socket is closed with its documented code; and a
//! well-behaved client on the side receives every event of a write stream, in order.
//!
//! Seeded: the seed is printed, and `HERALD_FUZZ_SEED` replays a run. `HERALD_FUZZ_FRAMES`
//! sets how many frames in all (default 5,000).

use futures_util::{SinkExt, StreamExt};
use herald_protocol::ClientFrame;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use server::testkit::ws::Ws;
use server::testkit::{Endpoint, TestServer};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

const DEFAULT_FRAMES: usize = 5_000;
/// Sockets sending at once.
const SOCKETS: usize = 4;
/// Frames sent before their answers are read.
const BATCH: usize = 16;
/// The server's frame limit (the default `HERALD_LIVE_FRAME_LIMIT`).
const FRAME_LIMIT: usize = 64 * 1024;
/// How long a frame may wait for its answer.
const ANSWER: Duration = Duration::from_secs(15);
/// Subscription names a socket reuses.
const SUBS: usize = 8;

/// Close codes a fuzzed socket may end with, and why.
const CLOSE_INVALID_UTF8: u16 = 1007;
const CLOSE_TOO_BIG: u16 = 1009;
const CLOSE_TRY_AGAIN: u16 = 1013;

/// Panics anywhere but in test code (the server's tasks, its dependencies).
static PANICS: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn watch_panics() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let at = info
                .location()
                .map(|l| l.file().to_owned())
                .unwrap_or_default();
            if !at.contains("tests/") && !at.contains("testkit") {
                PANICS
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(format!("{info}"));
            }
            previous(info);
        }));
    });
}

/// One thing sent, and what must come back.
enum Sent {
    /// A text frame; its answer follows from how the server's parser reads it.
    Text(String),
    /// A binary frame: `bad_request`.
    Binary(Vec<u8>),
    /// A text frame whose bytes are not UTF-8: closed with 1007.
    NotUtf8(Vec<u8>),
    /// A text frame over the limit: closed with 1009.
    TooBig(String),
}

/// What answers one frame, before the marker `pong` that follows it.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expect {
    /// `ping`: one `pong`.
    Pong,
    /// `subscribe` or `unsubscribe`: `subscribed`, `unsubscribed` or `error`.
    Reply,
    /// `publish`: nothing, or `error`.
    MaybeError,
    /// Not a frame: `error` `bad_request`.
    BadRequest,
}

fn expect_for_text(text: &str) -> Expect {
    match serde_json::from_str::<ClientFrame>(text) {
        Ok(ClientFrame::Ping) => Expect::Pong,
        Ok(ClientFrame::Publish { .. }) => Expect::MaybeError,
        Ok(_) => Expect::Reply,
        Err(_) => Expect::BadRequest,
    }
}

/// What a run saw.
#[derive(Debug, Default)]
struct Stats {
    frames: usize,
    answers: std::collections::BTreeMap<String, usize>,
    silent_publishes: usize,
    events: usize,
    closes: std::collections::BTreeMap<u16, usize>,
    reconnects: usize,
}

impl Stats {
    fn merge(&mut self, other: Stats) {
        self.frames += other.frames;
        self.silent_publishes += other.silent_publishes;
        self.events += other.events;
        self.reconnects += other.reconnects;
        for (k, v) in other.answers {
            *self.answers.entry(k).or_default() += v;
        }
        for (k, v) in other.closes {
            *self.closes.entry(k).or_default() += v;
        }
    }
}

// ---- generating frames ----------------------------------------------------------------

fn random_string(rng: &mut StdRng, max: usize) -> String {
    let len = rng.gen_range(0..=max);
    (0..len)
        .map(|_| match rng.gen_range(0..10) {
            0 => char::from_u32(rng.gen_range(0x80..0xD800)).unwrap_or('?'),
            1 => ['"', '\\', '{', '}', '[', ']', ':', ',', '\0', '\n'][rng.gen_range(0..10)],
            _ => rng.gen_range(b' '..=b'~') as char,
        })
        .collect()
}

fn random_json(rng: &mut StdRng, depth: u32) -> Value {
    let kinds = if depth == 0 { 5 } else { 7 };
    match rng.gen_range(0..kinds) {
        0 => Value::Null,
        1 => Value::Bool(rng.gen()),
        2 => match rng.gen_range(0..3) {
            0 => Value::from(rng.gen::<i64>()),
            1 => Value::from(rng.gen::<u64>()),
            _ => Value::from(rng.gen::<f64>() * 1e6),
        },
        3 | 4 => Value::String(random_string(rng, 24)),
        5 => Value::Array(
            (0..rng.gen_range(0..5))
                .map(|_| random_json(rng, depth - 1))
                .collect(),
        ),
        _ => Value::Object(
            (0..rng.gen_range(0..5))
                .map(|_| (random_string(rng, 8), random_json(rng, depth - 1)))
                .collect(),
        ),
    }
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str]) -> &'a str {
    from[rng.gen_range(0..from.len())]
}

/// What a socket knows that makes its frames plausible.
struct Context {
    /// A real cursor of this log, for `since`.
    cursor: String,
    /// Sub names made up so far (they pile up towards the subscription limit).
    fresh_subs: usize,
}

fn sub_name(rng: &mut StdRng, ctx: &mut Context) -> String {
    match rng.gen_range(0..20) {
        0 => String::new(),
        1 => "x".repeat(rng.gen_range(120..140)),
        2 => random_string(rng, 16),
        3..=6 => {
            ctx.fresh_subs += 1;
            format!("fresh{}", ctx.fresh_subs)
        }
        _ => format!("s{}", rng.gen_range(0..SUBS)),
    }
}

fn channel(rng: &mut StdRng) -> String {
    match rng.gen_range(0..16) {
        0 => random_string(rng, 30),
        1 => format!("presence/posts/{}", rng.gen_range(0..5)),
        2 => format!("typing/posts/{}", rng.gen::<i64>()),
        _ => pick(
            rng,
            &[
                "resources/posts",
                "resources/comments",
                "resources/users",
                "resources/nope",
                "resources/",
                "notifications/user/1",
                "notifications/user/2",
                "notifications/user/x",
                "notifications/",
                "presence/posts/1",
                "typing/posts/1",
                "typing/",
                "custom/thing",
                "",
            ],
        )
        .to_owned(),
    }
}

fn subscribe(rng: &mut StdRng, ctx: &mut Context) -> Value {
    let mut frame = json!({"op": "subscribe", "sub": sub_name(rng, ctx), "channel": channel(rng)});
    match rng.gen_range(0..4) {
        0 => frame["types"] = json!(["*"]),
        1 => frame["types"] = json!(["updated", "created", random_string(rng, 8)]),
        _ => {}
    }
    if rng.gen_bool(0.3) {
        let ids: Vec<Value> = (0..rng.gen_range(0..4))
            .map(|_| {
                if rng.gen() {
                    json!(rng.gen_range(1..30))
                } else {
                    json!(random_string(rng, 6))
                }
            })
            .collect();
        frame["params"] = json!({"ids": ids, "scope": random_string(rng, 5)});
    }
    match rng.gen_range(0..6) {
        0 => frame["since"] = json!(ctx.cursor),
        1 => frame["since"] = json!(random_string(rng, 20)),
        2 => {
            let (log, _) = ctx.cursor.rsplit_once('-').unwrap_or(("x", "0"));
            frame["since"] = json!(format!("{log}-{}", rng.gen_range(-5i64..1_000_000)));
        }
        _ => {}
    }
    frame
}

fn publish(rng: &mut StdRng) -> Value {
    let channel = match rng.gen_range(0..4) {
        0 => channel(rng),
        _ => format!("typing/posts/{}", rng.gen_range(1..4)),
    };
    let kind = pick(rng, &["typing", "custom", "updated", "join", "", "created"]).to_owned();
    let mut frame = json!({"op": "publish", "channel": channel, "type": kind,
        "payload": random_json(rng, 3)});
    if rng.gen() {
        let mut meta = Map::new();
        meta.insert("user".into(), json!({"id": "2", "name": "bob"}));
        meta.insert(random_string(rng, 6), random_json(rng, 2));
        frame["meta"] = Value::Object(meta);
    }
    frame
}

fn valid(rng: &mut StdRng, ctx: &mut Context) -> Value {
    match rng.gen_range(0..10) {
        0..=3 => subscribe(rng, ctx),
        4 | 5 => json!({"op": "unsubscribe", "sub": sub_name(rng, ctx)}),
        6..=8 => publish(rng),
        _ => json!({"op": "ping"}),
    }
}

/// A frame of a valid shape with one field given a value of some other type.
fn wrong_types(rng: &mut StdRng, ctx: &mut Context) -> Value {
    let mut frame = valid(rng, ctx);
    let Value::Object(map) = &mut frame else {
        unreachable!()
    };
    let keys: Vec<String> = map.keys().cloned().collect();
    let key = keys[rng.gen_range(0..keys.len())].clone();
    let replacement = match rng.gen_range(0..5) {
        0 => json!(rng.gen::<i64>()),
        1 => json!([random_string(rng, 4)]),
        2 => json!({"nested": random_json(rng, 2)}),
        3 => Value::Null,
        _ => json!(rng.gen::<bool>()),
    };
    map.insert(key, replacement);
    frame
}

fn pad_to(rng: &mut StdRng, overhead: usize) -> usize {
    rng.gen_range(1_000..FRAME_LIMIT - overhead)
}

/// A frame under the limit made of one big value.
fn huge(rng: &mut StdRng) -> String {
    let room = pad_to(rng, 200);
    let payload = match rng.gen_range(0..4) {
        0 => json!("y".repeat(room)),
        1 => Value::Array(vec![json!(7); room / 2]),
        2 => Value::Object(
            (0..room / 12)
                .map(|i| (format!("k{i:06}"), json!(1)))
                .collect(),
        ),
        _ => json!({"ids": (0..room / 8).map(|i| json!(i.to_string())).collect::<Vec<_>>()}),
    };
    let frame = match rng.gen_range(0..3) {
        0 => {
            json!({"op": "publish", "channel": "typing/posts/1", "type": "typing", "payload": payload})
        }
        1 => {
            json!({"op": "subscribe", "sub": "h", "channel": "resources/posts", "params": payload})
        }
        _ => json!({"op": "ping", "junk": payload}),
    };
    let text = frame.to_string();
    assert!(
        text.len() < FRAME_LIMIT,
        "huge frame of {} bytes",
        text.len()
    );
    text
}

/// Nesting to any depth (serde_json refuses past 128), within the limit.
fn deep(rng: &mut StdRng) -> String {
    let depth = match rng.gen_range(0..3) {
        0 => rng.gen_range(100..140),
        1 => rng.gen_range(1..100),
        _ => rng.gen_range(140..(FRAME_LIMIT - 200) / 6),
    };
    let (open, close) = if rng.gen() {
        ("[", "]")
    } else {
        (r#"{"a":"#, "}")
    };
    let nested = format!("{}1{}", open.repeat(depth), close.repeat(depth));
    if rng.gen() {
        format!(
            r#"{{"op":"publish","channel":"typing/posts/1","type":"typing","payload":{nested}}}"#
        )
    } else {
        nested
    }
}

/// Text a byte or so away from a frame, or no JSON at all.
fn malformed(rng: &mut StdRng, ctx: &mut Context) -> String {
    let text = valid(rng, ctx).to_string();
    match rng.gen_range(0..6) {
        0 => text.chars().take(rng.gen_range(0..text.len())).collect(),
        1 => {
            let mut chars: Vec<char> = text.chars().collect();
            let at = rng.gen_range(0..chars.len());
            chars[at] = pick(rng, &["{", "\"", ":", ",", "]", "x"])
                .chars()
                .next()
                .unwrap();
            chars.into_iter().collect()
        }
        2 => random_string(rng, 100),
        3 => pick(
            rng,
            &[
                "",
                " ",
                "null",
                "[]",
                "{}",
                "0",
                "\"ping\"",
                "{\"op\":null}",
                "{\"op\":\"ping\"}{",
            ],
        )
        .to_owned(),
        4 => format!("{text}{text}"),
        _ => text.replace(':', "="),
    }
}

fn generate(rng: &mut StdRng, ctx: &mut Context) -> Sent {
    match rng.gen_range(0..1000) {
        0..=299 => Sent::Text(valid(rng, ctx).to_string()),
        300..=419 => Sent::Text(wrong_types(rng, ctx).to_string()),
        420..=499 => {
            let op = pick(
                rng,
                &[
                    "dance",
                    "SUBSCRIBE",
                    "Ping",
                    "",
                    "event",
                    "pong",
                    "subscribed",
                ],
            );
            let mut frame = valid(rng, ctx);
            match rng.gen_range(0..3) {
                0 => frame["op"] = json!(op),
                1 => frame["op"] = random_json(rng, 1),
                _ => {
                    frame.as_object_mut().unwrap().remove("op");
                }
            }
            Sent::Text(frame.to_string())
        }
        500..=559 => Sent::Text(huge(rng)),
        560..=619 => Sent::Text(deep(rng)),
        620..=799 => Sent::Text(malformed(rng, ctx)),
        800..=829 => Sent::Text(random_json(rng, 4).to_string()),
        830..=989 => {
            // the same subscription again, or its unsubscribe: reused subs
            let sub = format!("s{}", rng.gen_range(0..SUBS));
            let frame = if rng.gen() {
                json!({"op": "subscribe", "sub": sub, "channel": "resources/posts"})
            } else {
                json!({"op": "unsubscribe", "sub": sub})
            };
            Sent::Text(frame.to_string())
        }
        990..=994 => {
            let mut bytes = vec![0u8; rng.gen_range(0..2_000)];
            rng.fill(&mut bytes[..]);
            if rng.gen() {
                bytes = valid(rng, ctx).to_string().into_bytes();
            }
            Sent::Binary(bytes)
        }
        995..=997 => {
            let mut bytes = valid(rng, ctx).to_string().into_bytes();
            let at = rng.gen_range(0..=bytes.len());
            let bad: &[u8] = [
                &[0xff][..],
                &[0xc3, 0x28],
                &[0xed, 0xa0, 0x80],
                &[0xf0, 0x9f],
            ][rng.gen_range(0..4)];
            bytes.splice(at..at, bad.iter().copied());
            Sent::NotUtf8(bytes)
        }
        _ => Sent::TooBig("z".repeat(FRAME_LIMIT + rng.gen_range(1..8_192))),
    }
}

// ---- one fuzzing socket ---------------------------------------------------------------

enum Got {
    Answer(Value),
    Closed(Option<u16>),
}

/// The next frame that is not an event (nor a `reset`, which follows a `subscribed`).
async fn next_answer(ws: &mut Ws, stats: &mut Stats) -> Result<Got, String> {
    loop {
        let next = tokio::time::timeout(ANSWER, ws.socket.next())
            .await
            .map_err(|_| format!("no answer within {ANSWER:?}"))?;
        let message = match next {
            None | Some(Err(_)) => return Ok(Got::Closed(None)),
            Some(Ok(m)) => m,
        };
        match message {
            Message::Text(text) => {
                // events carry what clients published, maybe nested past serde_json's limit
                if text.starts_with(r#"{"op":"event""#) {
                    stats.events += 1;
                    continue;
                }
                let frame: Value = serde_json::from_str(text.as_str())
                    .map_err(|e| format!("server sent a frame that is not JSON ({e}): {text}"))?;
                if frame["op"] == "reset" {
                    continue;
                }
                return Ok(Got::Answer(frame));
            }
            Message::Close(frame) => return Ok(Got::Closed(frame.map(|f| f.code.into()))),
            Message::Binary(_) => return Err("server sent a binary frame".into()),
            _ => continue,
        }
    }
}

fn op(frame: &Value) -> &str {
    frame["op"].as_str().unwrap_or("?")
}

/// Whether the socket ended (cut off with 1013) instead of answering the batch.
enum Checked {
    Answered,
    Cut,
}

/// Reads the answers to `batch` (each frame was followed by a marker ping).
async fn check_batch(
    ws: &mut Ws,
    batch: &[(Expect, String)],
    stats: &mut Stats,
) -> Result<Checked, String> {
    for (expect, shown) in batch {
        let mut answers = Vec::new();
        // the answers, up to the marker pong (a ping's own pong comes first)
        let wanted_pongs = if *expect == Expect::Pong { 2 } else { 1 };
        let mut pongs = 0;
        while pongs < wanted_pongs {
            match next_answer(ws, stats)
                .await
                .map_err(|e| format!("{e} for {shown}"))?
            {
                Got::Answer(frame) => {
                    let kind = match frame["code"].as_str() {
                        Some(code) => format!("error {code}"),
                        None => op(&frame).to_owned(),
                    };
                    *stats.answers.entry(kind).or_default() += 1;
                    if op(&frame) == "pong" {
                        pongs += 1;
                    } else {
                        answers.push(frame);
                    }
                }
                Got::Closed(Some(CLOSE_TRY_AGAIN)) => {
                    *stats.closes.entry(CLOSE_TRY_AGAIN).or_default() += 1;
                    return Ok(Checked::Cut);
                }
                Got::Closed(code) => {
                    return Err(format!(
                        "socket closed ({code:?}) instead of answering {shown}"
                    ))
                }
            }
        }
        let ok = match (expect, answers.as_slice()) {
            (Expect::Pong, []) => true,
            (Expect::Reply, [a]) => ["subscribed", "unsubscribed", "error"].contains(&op(a)),
            (Expect::MaybeError, []) => {
                stats.silent_publishes += 1;
                true
            }
            (Expect::MaybeError, [a]) => op(a) == "error",
            (Expect::BadRequest, [a]) => op(a) == "error" && a["code"] == "bad_request",
            _ => false,
        };
        let well_formed = answers.iter().all(|a| {
            op(a) != "error"
                || (a["code"].is_string()
                    && a["message"].as_str().is_some_and(|m| !m.is_empty())
                    && (a["sub"].is_null() || a["sub"].is_string()))
        });
        if !ok || !well_formed {
            return Err(format!(
                "{shown} ({expect:?}) was answered with {answers:?}"
            ));
        }
    }
    Ok(Checked::Answered)
}

fn shown(text: &str) -> String {
    let cut: String = text.chars().take(160).collect();
    if cut.len() < text.len() {
        format!("{cut}… ({} bytes)", text.len())
    } else {
        cut
    }
}

async fn connect(node: &Endpoint, token: &str) -> Ws {
    let bearer = [("authorization", format!("Bearer {token}"))];
    for _ in 0..100 {
        match node.ws_with(&bearer).await {
            Ok(ws) => return ws,
            // a closed socket of this user not yet counted out
            Err(429) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(status) => panic!("upgrade refused: {status}"),
        }
    }
    panic!("upgrade kept being refused with 429")
}

/// Flushes what was sent and checks the answers to `batch`; a socket cut off meanwhile
/// (1013) is replaced.
async fn settle(
    ws: &mut Ws,
    node: &Endpoint,
    token: &str,
    batch: &mut Vec<(Expect, String)>,
    stats: &mut Stats,
) -> Result<(), String> {
    // a send that failed shows up as a socket closed before its answers
    let _ = ws.socket.flush().await;
    let checked = check_batch(ws, batch, stats).await?;
    batch.clear();
    if let Checked::Cut = checked {
        stats.reconnects += 1;
        *ws = connect(node, token).await;
    }
    Ok(())
}

/// Sends a frame that must close the socket with `code`, checks that it does, and opens a
/// new socket.
async fn send_closing(
    ws: &mut Ws,
    node: &Endpoint,
    token: &str,
    message: Message,
    code: u16,
    stats: &mut Stats,
) -> Result<(), String> {
    let _ = ws.socket.send(message).await;
    let closed = loop {
        match next_answer(ws, stats).await? {
            Got::Answer(_) => continue,
            Got::Closed(code) => break code,
        }
    };
    if closed != Some(code) {
        return Err(format!("the socket was closed with {closed:?}, not {code}"));
    }
    *stats.closes.entry(code).or_default() += 1;
    stats.reconnects += 1;
    *ws = connect(node, token).await;
    Ok(())
}

/// Sends `frames` random frames on one socket (a new one after each close), checking every
/// answer; returns what it saw.
async fn fuzz_socket(
    node: Endpoint,
    token: String,
    seed: u64,
    frames: usize,
    cursor: String,
) -> Result<Stats, String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut ctx = Context {
        cursor,
        fresh_subs: 0,
    };
    let mut stats = Stats::default();
    let mut ws = connect(&node, &token).await;
    let mut batch: Vec<(Expect, String)> = Vec::new();
    let ping = Message::Text(r#"{"op":"ping"}"#.into());
    let fail = |e: String| format!("socket seeded {seed}: {e}");
    for _ in 0..frames {
        stats.frames += 1;
        match generate(&mut rng, &mut ctx) {
            Sent::Text(text) => {
                batch.push((expect_for_text(&text), shown(&text)));
                let _ = ws.socket.feed(Message::Text(text.into())).await;
                let _ = ws.socket.feed(ping.clone()).await;
            }
            Sent::Binary(bytes) => {
                batch.push((
                    Expect::BadRequest,
                    format!("binary frame of {} bytes", bytes.len()),
                ));
                let _ = ws.socket.feed(Message::Binary(bytes.into())).await;
                let _ = ws.socket.feed(ping.clone()).await;
            }
            Sent::NotUtf8(bytes) => {
                settle(&mut ws, &node, &token, &mut batch, &mut stats)
                    .await
                    .map_err(fail)?;
                let frame = Frame::message(bytes, OpCode::Data(Data::Text), true);
                send_closing(
                    &mut ws,
                    &node,
                    &token,
                    Message::Frame(frame),
                    CLOSE_INVALID_UTF8,
                    &mut stats,
                )
                .await
                .map_err(|e| fail(format!("{e} after a text frame that is not UTF-8")))?;
            }
            Sent::TooBig(text) => {
                settle(&mut ws, &node, &token, &mut batch, &mut stats)
                    .await
                    .map_err(fail)?;
                let size = text.len();
                send_closing(
                    &mut ws,
                    &node,
                    &token,
                    Message::Text(text.into()),
                    CLOSE_TOO_BIG,
                    &mut stats,
                )
                .await
                .map_err(|e| fail(format!("{e} after a frame of {size} bytes")))?;
            }
        }
        if batch.len() >= BATCH {
            settle(&mut ws, &node, &token, &mut batch, &mut stats)
                .await
                .map_err(fail)?;
        }
    }
    settle(&mut ws, &node, &token, &mut batch, &mut stats)
        .await
        .map_err(fail)?;
    Ok(stats)
}

// ---- the test -------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_frames_are_answered_or_closed_and_a_bystander_misses_nothing() {
    watch_panics();
    let seed: u64 = std::env::var("HERALD_FUZZ_SEED")
        .ok()
        .map(|s| s.parse().expect("HERALD_FUZZ_SEED is a number"))
        .unwrap_or_else(rand::random);
    let frames: usize = std::env::var("HERALD_FUZZ_FRAMES")
        .ok()
        .map(|s| s.parse().expect("HERALD_FUZZ_FRAMES is a number"))
        .unwrap_or(DEFAULT_FRAMES);
    eprintln!("fuzz: seed {seed} (HERALD_FUZZ_SEED={seed} replays it), {frames} frames");
    // room in the bucket, so most publishes and subscribes get past the rate limit to the
    // code behind it (some still hit it), and a subscription limit that fresh subs reach
    let s = TestServer::start_with(admin::build, |c| {
        c.live.publish_rate = 1_500;
        c.live.publish_burst = 300;
        c.live.max_subscriptions = 10;
    })
    .await;
    let token = s.token("alice").await;

    // the bystander: bob follows posts while alice writes, through the storm
    let mut bob = s.ws("bob").await;
    // (`updated` only: custom types that clients publish on resources/… are live-only)
    bob.send(json!({"op": "subscribe", "sub": "watch", "channel": "resources/posts", "types": ["updated"]}))
        .await;
    let subscribed = bob.recv().await;
    assert_eq!(subscribed["op"], "subscribed", "{subscribed}");
    let cursor = subscribed["cursor"].as_str().expect("cursor").to_owned();
    let storm_over = Arc::new(AtomicBool::new(false));
    let writer = {
        let node = Endpoint {
            base: s.base.clone(),
        };
        let (token, storm_over) = (token.clone(), Arc::clone(&storm_over));
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut titles = Vec::new();
            while !storm_over.load(Ordering::SeqCst) || titles.len() < 3 {
                let title = format!("storm {}", titles.len());
                let res = client
                    .patch(node.url(&format!("/api/posts/{}", 1 + titles.len() % 3)))
                    .bearer_auth(&token)
                    .json(&json!({ "title": title }))
                    .send()
                    .await
                    .expect("PATCH");
                assert_eq!(res.status(), 200, "write during the storm");
                titles.push(title);
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            titles
        })
    };
    let watcher = tokio::spawn(async move {
        let mut got: Vec<(i64, String)> = Vec::new();
        loop {
            let frame = bob.event("watch").await;
            let cursor = frame["cursor"].as_str().expect("cursor");
            let seq = cursor
                .rsplit_once('-')
                .expect("cursor")
                .1
                .parse()
                .expect("seq");
            let title = frame["event"]["payload"]["data"]["title"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let end = title == "storm end";
            got.push((seq, title));
            if end {
                return (got, bob);
            }
        }
    });

    let started = Instant::now();
    let per_socket = frames.div_ceil(SOCKETS);
    let sockets: Vec<_> = (0..SOCKETS as u64)
        .map(|i| {
            let node = Endpoint {
                base: s.base.clone(),
            };
            tokio::spawn(fuzz_socket(
                node,
                token.clone(),
                seed.wrapping_add(i),
                per_socket,
                cursor.clone(),
            ))
        })
        .collect();
    let mut stats = Stats::default();
    for socket in sockets {
        match socket.await {
            Ok(Ok(s)) => stats.merge(s),
            Ok(Err(e)) => panic!("fuzz seed {seed}: {e}"),
            Err(e) => panic!("fuzz seed {seed}: a socket's task failed: {e}"),
        }
    }
    let took = started.elapsed();
    storm_over.store(true, Ordering::SeqCst);
    let mut titles = writer.await.expect("writer");
    let res = reqwest::Client::new()
        .patch(s.url("/api/posts/1"))
        .bearer_auth(&token)
        .json(&json!({"title": "storm end"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    titles.push("storm end".into());
    let (got, mut bob) = tokio::time::timeout(Duration::from_secs(30), watcher)
        .await
        .unwrap_or_else(|_| panic!("fuzz seed {seed}: the bystander missed events"))
        .expect("watcher");
    assert_eq!(
        got.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>(),
        titles,
        "fuzz seed {seed}: the bystander's events"
    );
    assert!(
        got.windows(2).all(|w| w[0].0 < w[1].0),
        "fuzz seed {seed}: cursors out of order"
    );
    bob.expect_silence().await;

    // the server is still itself
    let mut after = connect(&s, &token).await;
    after.send(json!({"op": "ping"})).await;
    assert_eq!(after.recv().await["op"], "pong");
    let res = reqwest::Client::new()
        .get(s.url("/api/posts/1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let panics = PANICS.lock().unwrap_or_else(|e| e.into_inner()).clone();
    assert!(panics.is_empty(), "fuzz seed {seed}: panics: {panics:#?}");
    eprintln!(
        "fuzz: {} frames on {SOCKETS} sockets in {took:.1?} ({} reconnects); answers {:?}; \
         {} silent publishes; closes {:?}; {} events to fuzzing sockets; the bystander got {} \
         events in order",
        stats.frames,
        stats.reconnects,
        stats.answers,
        stats.silent_publishes,
        stats.closes,
        stats.events,
        got.len()
    );
}
