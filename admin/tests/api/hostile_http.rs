//! Hostile HTTP clients against the real server (`server::serve`), over raw TCP where a
//! well-behaved client library would not misbehave on purpose: half-sent headers, idle
//! keep-alive connections, slow bodies, more connections than allowed, and a live client
//! that never reads while the server shuts down. Each gets a bounded answer — a closed
//! connection or an HttpError — and never holds the server.

use futures_util::SinkExt;
use serde_json::{json, Value};
use server::testkit::TestServer;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// A short timeout for tests, so that waiting it out is cheap.
const SHORT: Duration = Duration::from_millis(300);
/// How late after its deadline the server may act (a busy 2-core machine runs these in
/// parallel with the other suites).
const SLACK: Duration = Duration::from_secs(2);

fn addr(s: &TestServer) -> SocketAddr {
    s.base
        .trim_start_matches("http://")
        .parse()
        .expect("http://ip:port")
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(addr(s)).await.expect("connect")
}

/// Reads until the server closes the connection (end of stream, or a reset); returns what
/// was read. Never returns while the connection is open: wrap it in a timeout.
async fn read_until_closed(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&buf[..n]),
        }
    }
}

/// Waits for the server to close `stream`: `Some(when, bytes received)` if it did within
/// `limit`.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Option<(Duration, Vec<u8>)> {
    let started = Instant::now();
    tokio::time::timeout(limit, read_until_closed(stream))
        .await
        .ok()
        .map(|bytes| (started.elapsed(), bytes))
}

/// One HTTP/1.1 response read off a raw connection: status and body.
async fn read_response(stream: &mut TcpStream) -> (u16, String) {
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = received.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut buf).await.expect("read a response");
        assert!(n > 0, "closed before a response: {received:?}");
        received.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_string();
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let length: usize = head
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while received.len() < head_end + length {
        let n = stream.read(&mut buf).await.expect("read a body");
        assert!(n > 0, "closed inside a body");
        received.extend_from_slice(&buf[..n]);
    }
    let body = String::from_utf8_lossy(&received[head_end..head_end + length]).to_string();
    (status, body)
}

const ME: &[u8] = b"GET /api/auth/me HTTP/1.1\r\nHost: herald\r\n\r\n";

#[tokio::test]
async fn a_half_sent_request_line_is_closed_after_the_header_timeout() {
    let s = TestServer::start_with(admin::build, |c| c.http.header_timeout = SHORT).await;
    let started = Instant::now();
    let mut half = connect(&s).await;
    half.write_all(b"GET /api/auth/me HT").await.unwrap();
    let mut silent = connect(&s).await;
    for (what, stream) in [("half a request line", &mut half), ("nothing", &mut silent)] {
        closed_within(stream, SHORT + SLACK)
            .await
            .unwrap_or_else(|| panic!("a connection that sent {what} was still open"));
        let after = started.elapsed();
        assert!(
            after >= SHORT - Duration::from_millis(100),
            "{what}: closed after {after:?}, before the timeout"
        );
    }
    // The server still answers complete requests.
    let res = reqwest::get(s.url("/api/auth/me")).await.unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
    // Headers may take long; idling between requests may not.
    let s = TestServer::start_with(admin::build, |c| {
        c.http.idle_timeout = SHORT;
        c.http.header_timeout = Duration::from_secs(30);
    })
    .await;
    let mut conn = connect(&s).await;
    conn.write_all(ME).await.unwrap();
    assert_eq!(read_response(&mut conn).await.0, 401);
    // Within the idle timeout the connection is reused.
    tokio::time::sleep(SHORT / 2).await;
    conn.write_all(ME).await.unwrap();
    assert_eq!(read_response(&mut conn).await.0, 401);
    // Then nothing: it is closed.
    let (after, rest) = closed_within(&mut conn, SHORT + SLACK)
        .await
        .expect("an idle keep-alive connection was still open");
    assert!(
        after >= SHORT - Duration::from_millis(100),
        "closed after {after:?}"
    );
    assert!(rest.is_empty(), "nothing more is sent: {rest:?}");
}

#[tokio::test]
async fn a_request_whose_body_never_arrives_gets_503_json_not_a_hang() {
    let s = TestServer::start_with(admin::build, |c| c.http.request_timeout = SHORT).await;
    let token = s.token("alice").await;
    let mut conn = connect(&s).await;
    let head = format!(
        "POST /api/posts HTTP/1.1\r\nHost: herald\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"title\":"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let (status, body) = tokio::time::timeout(SHORT + SLACK, read_response(&mut conn))
        .await
        .expect("a slow request was left hanging");
    assert!(started.elapsed() >= SHORT - Duration::from_millis(100));
    assert_eq!(status, 503, "{body}");
    let body: Value = serde_json::from_str(&body).expect("HttpError JSON");
    assert_eq!(body["statusCode"], 503, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("did not finish")),
        "{body}"
    );
    // Nothing was created from half a body.
    let alice = s.login("alice").await;
    let list: Value = alice
        .get(s.url("/api/posts?title_like=zzz-never"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn live_sockets_outlive_the_request_timeout() {
    let s = TestServer::start_with(admin::build, |c| c.http.request_timeout = SHORT).await;
    let mut ws = s.ws("alice").await;
    tokio::time::sleep(SHORT * 2).await;
    ws.subscribe("s", "resources/posts").await;
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once_and_others_still_served() {
    const CAP: usize = 5;
    const EXTRA: usize = 5;
    let s = TestServer::start_with(admin::build, |c| c.http.max_connections = CAP).await;
    let mut conns = Vec::new();
    for _ in 0..CAP + EXTRA {
        conns.push(connect(&s).await);
    }
    // Every connection is watched for a second at once: the extra ones are closed (with a
    // 503 if the client can still read it), the others stay open.
    let watched = futures_util::future::join_all(
        conns
            .iter_mut()
            .map(|c| closed_within(c, Duration::from_secs(1))),
    )
    .await;
    let refused: Vec<_> = watched.iter().flatten().collect();
    assert_eq!(refused.len(), EXTRA, "{watched:?}");
    for (_, bytes) in &refused {
        assert!(
            bytes.is_empty() || bytes.starts_with(b"HTTP/1.1 503"),
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    let open: Vec<TcpStream> = conns
        .into_iter()
        .zip(&watched)
        .filter(|(_, w)| w.is_none())
        .map(|(c, _)| c)
        .collect();
    assert_eq!(open.len(), CAP);
    // At the cap, a new client is turned away.
    let res = reqwest::get(s.url("/api/auth/me")).await;
    assert!(res.as_ref().map_or(true, |r| r.status() == 503), "{res:?}");
    // Once some close, requests are served again.
    drop(open);
    let deadline = Instant::now() + SLACK;
    loop {
        let res = reqwest::get(s.url("/api/auth/me")).await;
        if res.as_ref().is_ok_and(|r| r.status() == 401) {
            break;
        }
        assert!(Instant::now() < deadline, "still refused: {res:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_finishes_within_its_deadline_though_a_live_client_never_reads() {
    let grace = Duration::from_millis(500);
    let mut s = TestServer::start_with(admin::build, |c| {
        c.http.shutdown_grace = grace;
        // Room for everything below in the stalled client's queue: it must be stuck on a
        // full socket at shutdown, not already cut off for a full queue.
        c.live.queue = 100_000;
        c.live.queue_bytes = 1 << 30;
    })
    .await;
    // A client with a tiny receive buffer that subscribes and then never reads.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let tcp = socket.connect(addr(&s)).await.unwrap();
    let mut request = s.ws_url().into_client_request().unwrap();
    let token = s.token("bob").await;
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (mut stalled, _) = tokio_tungstenite::client_async(request, tcp)
        .await
        .expect("upgrade");
    let subscribe = json!({"op": "subscribe", "sub": "s", "channel": "resources/posts"});
    stalled
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    let mut reader = s.ws("alice").await;
    reader.subscribe("s", "resources/posts").await;
    // 16 MB of events: far more than the stalled client's socket buffers hold.
    let alice = s.login("alice").await;
    let big = "x".repeat(64 * 1024);
    for i in 0..256 {
        let res = alice
            .patch(s.url("/api/posts/1"))
            .json(&json!({"content": format!("{i}{big}")}))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
        reader.event("s").await;
    }
    drop(alice);

    let started = Instant::now();
    tokio::time::timeout(grace + SLACK, s.stop())
        .await
        .expect("shutdown waited past its deadline for a client that does not read");
    let took = started.elapsed();
    // It waited for the stalled socket (which cannot even take its close frame) until the
    // deadline, then cut it.
    assert!(
        took >= grace - Duration::from_millis(50) && took < grace + SLACK,
        "shutdown took {took:?}"
    );
    // A reading client was told to go away.
    assert_eq!(reader.closed_with().await, Some(1001));
    // The stalled client's socket is no longer held: the server has closed its end, so
    // writing to it fails (the peer answers with a reset) — without reading a byte.
    let tcp = stalled.get_mut();
    let deadline = Instant::now() + Duration::from_secs(1);
    loop {
        if tcp.write_all(b"are you there?").await.is_err() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server still holds the socket of a client that never read, {:?} after \
             shutdown returned",
            started.elapsed() - took
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
