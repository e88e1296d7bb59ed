//! The live provider over a native WebSocket (`tokio-tungstenite`): one task dials, reads
//! frames into the [`LiveClient`] and writes what it sends; on a drop it reconnects with
//! exponential backoff and the client resumes every subscription from its cursor. A 4401
//! close (session ended) or a refused upgrade (401/403) ends it: `Offline`, no retry.

use crate::live::{ConnectionState, LiveClient, Transport};
use futures_util::{SinkExt, StreamExt};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

/// First reconnect delay; doubles per failed attempt up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(200);
const BACKOFF_MAX: Duration = Duration::from_secs(10);
/// The close code a server sends when the session behind a connection ended.
pub const CLOSE_SESSION_ENDED: u16 = 4401;

/// Sends frames to the writer of the current connection, if there is one.
#[derive(Default)]
struct Link(Mutex<Option<mpsc::UnboundedSender<String>>>);

impl Link {
    fn set(&self, tx: Option<mpsc::UnboundedSender<String>>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = tx;
    }
}

impl Transport for Link {
    fn send(&self, frame: String) -> bool {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .is_some_and(|tx| tx.send(frame).is_ok())
    }
}

/// A [`LiveClient`] connected to `url` (`ws://host/api/live`) with bearer `token`. It dials
/// at once and stays connected until the client is dropped.
///
/// ```no_run
/// # async fn demo(token: String) {
/// use herald_framework::live::{LiveProvider, SubscriptionSpec};
/// let live = herald_framework::native::live::connect("ws://127.0.0.1:3000/api/live", Some(token));
/// live.subscribe(SubscriptionSpec::channel("resources/posts"), std::sync::Arc::new(|m| println!("{m:?}")));
/// # }
/// ```
pub fn connect(url: impl Into<String>, token: Option<String>) -> Arc<LiveClient> {
    let link = Arc::new(Link::default());
    let client = Arc::new(
        LiveClient::new(crate::live::random_origin(), link.clone()).with_retry(
            Arc::new(|f| drop(tokio::spawn(f))),
            Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        ),
    );
    client.set_state(ConnectionState::Connecting);
    tokio::spawn(run(url.into(), token, link, Arc::downgrade(&client)));
    client
}

/// How one connection ended.
enum Ended {
    /// Dropped: try again.
    Retry,
    /// Refused or closed for good (no session): stay offline.
    Final,
}

async fn run(url: String, token: Option<String>, link: Arc<Link>, client: Weak<LiveClient>) {
    let mut attempt = 0u32;
    loop {
        let ended = session(&url, token.as_deref(), &link, &client, &mut attempt).await;
        link.set(None);
        let Some(c) = client.upgrade() else {
            return;
        };
        if matches!(ended, Ended::Final) {
            c.on_close(ConnectionState::Offline);
            return;
        }
        c.on_close(ConnectionState::Reconnecting);
        drop(c);
        attempt = attempt.saturating_add(1);
        let delay = BACKOFF_START
            .saturating_mul(1 << attempt.min(6))
            .min(BACKOFF_MAX);
        tokio::time::sleep(delay.mul_f64(jitter())).await;
    }
}

/// Full jitter in [1/2, 1): reconnecting clients do not stampede the server.
fn jitter() -> f64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    0.5 + f64::from(nanos % 1000) / 2000.0
}

async fn session(
    url: &str,
    token: Option<&str>,
    link: &Link,
    client: &Weak<LiveClient>,
    attempt: &mut u32,
) -> Ended {
    let Ok(mut request) = url.into_client_request() else {
        return Ended::Final;
    };
    if let Some(value) = token.and_then(|t| HeaderValue::from_str(&format!("Bearer {t}")).ok()) {
        request.headers_mut().insert("authorization", value);
    }
    let socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(WsError::Http(response)) if matches!(response.status().as_u16(), 401 | 403) => {
            return Ended::Final
        }
        Err(_) => return Ended::Retry,
    };
    *attempt = 0;
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    link.set(Some(tx));
    match client.upgrade() {
        Some(c) => c.on_open(),
        None => return Ended::Final,
    }
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let Some(text) = frame else { return Ended::Retry };
                if sink.send(Message::text(text)).await.is_err() {
                    return Ended::Retry;
                }
            }
            message = stream.next() => match message {
                Some(Ok(Message::Text(text))) => match client.upgrade() {
                    Some(c) => c.on_frame(text.as_str()),
                    None => return Ended::Final,
                },
                Some(Ok(Message::Close(Some(close))))
                    if close.code == CloseCode::from(CLOSE_SESSION_ENDED) => return Ended::Final,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ended::Retry,
                Some(Ok(_)) => {}
            },
        }
    }
}
