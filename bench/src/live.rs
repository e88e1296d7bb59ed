//! One live subscriber socket, for either server: connect (from a spread loopback source
//! address), authenticate with the bearer token in the upgrade request, subscribe to
//! `resources/posts`, then yield text frames. Herald speaks live protocol v1; the peer
//! speaks socket.io over Engine.IO v4, implemented here by hand (open packet `0{…}`,
//! namespace connect `40`, events `42[…]`, ping `2` answered with pong `3`), so both are
//! measured by the very same client code.

use crate::clock;
use crate::net;
use crate::target::{Endpoint, Target};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::WebSocketStream;

/// Client read buffer per socket: frames here are small; tungstenite's 128 KiB default
/// would cost the load generator 1.3 GB at 10,000 sockets.
const READ_BUFFER: usize = 8 * 1024;
/// How long connecting and subscribing one socket may take.
const OPEN_TIMEOUT: Duration = Duration::from_secs(30);
/// The channel every benchmark subscriber follows.
const HERALD_SUBSCRIBE: &str =
    r#"{"op":"subscribe","sub":"s1","channel":"resources/posts","types":["*"]}"#;
const PEER_SUBSCRIBE: &str = r#"42["subscribe",{"channel":"resources/posts"}]"#;

/// A connected, subscribed live socket.
pub struct LiveSocket {
    ws: WebSocketStream<TcpStream>,
    target: Target,
    /// The code of the close frame the server sent, once one has arrived.
    close_code: Option<u16>,
}

/// Opens socket number `index` to `endpoint` and subscribes it.
pub async fn open(
    endpoint: &Endpoint,
    token: &str,
    index: usize,
    spread: u8,
) -> Result<LiveSocket> {
    tokio::time::timeout(OPEN_TIMEOUT, open_inner(endpoint, token, index, spread))
        .await
        .map_err(|_| anyhow!("socket {index}: connect + subscribe took over {OPEN_TIMEOUT:?}"))?
}

async fn open_inner(
    endpoint: &Endpoint,
    token: &str,
    index: usize,
    spread: u8,
) -> Result<LiveSocket> {
    let stream = net::connect(endpoint.addr, index, spread)
        .await
        .with_context(|| {
            format!(
                "socket {index}: TCP connect from {}",
                net::source_addr(index, spread)
            )
        })?;
    let mut request = endpoint.live_url().into_client_request()?;
    request.headers_mut().insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}"))?,
    );
    let config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .with_context(|| format!("socket {index}: WebSocket upgrade"))?;
    let mut socket = LiveSocket {
        ws,
        target: endpoint.target,
        close_code: None,
    };
    socket
        .subscribe()
        .await
        .with_context(|| format!("socket {index}: subscribe"))?;
    Ok(socket)
}

impl LiveSocket {
    async fn subscribe(&mut self) -> Result<()> {
        match self.target {
            Target::Herald => {
                self.send(HERALD_SUBSCRIBE).await?;
                self.expect(|t| t.contains(r#""op":"subscribed""#)).await
            }
            Target::Peer => {
                self.expect(|t| t.starts_with('0')).await?;
                self.send("40").await?;
                self.expect(|t| t.starts_with("40")).await?;
                self.send(PEER_SUBSCRIBE).await?;
                self.expect(|t| t.starts_with(r#"42["subscribed""#)).await
            }
        }
    }

    /// The code of the server's close frame, if one has been read.
    pub fn close_code(&self) -> Option<u16> {
        self.close_code
    }

    async fn send(&mut self, text: &str) -> Result<()> {
        self.ws.send(Message::text(text)).await.context("send")
    }

    /// Reads until a frame satisfies `want`; an error frame or a close fails.
    async fn expect(&mut self, want: impl Fn(&str) -> bool) -> Result<()> {
        loop {
            let text = self
                .next_text()
                .await
                .ok_or_else(|| anyhow!("closed during the handshake"))??;
            if want(text.as_str()) {
                return Ok(());
            }
            if text.contains(r#""op":"error""#) || text.starts_with("44") {
                bail!("refused: {text}");
            }
        }
    }

    /// The next text frame (Engine.IO pings are answered on the way); `None` once closed.
    pub async fn next_text(&mut self) -> Option<Result<Utf8Bytes>> {
        loop {
            match self.ws.next().await? {
                Ok(Message::Text(text)) if self.target == Target::Peer && text.as_str() == "2" => {
                    if let Err(e) = self.send("3").await {
                        return Some(Err(e));
                    }
                }
                Ok(Message::Text(text)) => return Some(Ok(text)),
                Ok(Message::Close(frame)) => {
                    self.close_code = frame.map(|f| u16::from(f.code));
                    return None;
                }
                Ok(_) => {}
                Err(e) => return Some(Err(e.into())),
            }
        }
    }
}

/// What one subscriber saw of the benchmark's writes.
pub struct Tally {
    /// Write → this subscriber latency of every stamped frame, microseconds. A plain list:
    /// a histogram per socket would cost the load generator ~200 KB each (2 GB at 10,000).
    pub latencies: Vec<u32>,
    pub delivered: u64,
    /// When the last stamped frame arrived ([`clock::now_micros`]).
    pub last_at: u64,
    /// Why the socket ended early, if it did.
    pub error: Option<String>,
}

/// A latency histogram: 1 µs to 60 s, 3 significant digits.
pub fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// Reads `socket` until `stop` turns true, timing every stamped frame and counting it in
/// `shared` as well (so the driver can tell when everything has arrived).
pub async fn listen(
    mut socket: LiveSocket,
    shared: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> Tally {
    let mut tally = Tally {
        latencies: Vec::new(),
        delivered: 0,
        last_at: 0,
        error: None,
    };
    // One waiter for the whole loop, not one registered and dropped per frame.
    let stopped = stop.changed();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            next = socket.next_text() => match next {
                Some(Ok(text)) => record(&mut tally, &shared, text.as_str()),
                Some(Err(e)) => {
                    tally.error = Some(e.to_string());
                    break;
                }
                None => {
                    tally.error = Some("closed by the server".to_owned());
                    break;
                }
            },
        }
    }
    tally
}

fn record(tally: &mut Tally, shared: &AtomicU64, frame: &str) {
    let Some(sent) = clock::find_stamp(frame) else {
        return;
    };
    let now = clock::now_micros();
    let micros = now.saturating_sub(sent).max(1);
    tally
        .latencies
        .push(u32::try_from(micros).unwrap_or(u32::MAX));
    tally.delivered += 1;
    tally.last_at = now;
    shared.fetch_add(1, Ordering::Relaxed);
}
