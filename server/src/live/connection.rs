//! One WebSocket connection: reads client frames in order and answers them through the
//! hub, writes the connection's outbound queue to the socket, pings to find dead peers, and
//! closes with 1001 on shutdown, 1007 on a text frame that is not UTF-8, 1009 on an oversized
//! frame, 1013 when cut off.

use super::hub::{
    ConnId, Hub, Outbound, SessionWatch, SubscribeRequest, CLOSE_GOING_AWAY, CLOSE_TOO_BIG,
    CLOSE_TRY_AGAIN,
};
use super::limits::Admission;
use super::protocol::FrameError;
use super::queue::{queue, QueueRx, QueueTx};
use super::sessions::{CLOSE_SESSION_ENDED, SESSION_ENDED};
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use herald_protocol::{ClientFrame, ErrorCode, Identity, ServerFrame};
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// How long a closing connection may take to flush its last frames.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// Close code for a text frame that is not UTF-8 (RFC 6455: inconsistent data).
const CLOSE_INVALID_DATA: u16 = 1007;
/// Longest subscription id accepted.
const SUB_MAX: usize = 128;

/// Serves one upgraded socket for `user` until either side ends it, or the session it was
/// opened with (`session`, a digest) ends: then it closes with 4401. `_admission` is this
/// connection's place among its user's connections, given back when it ends.
pub async fn run(
    socket: WebSocket,
    hub: Hub,
    user: Identity,
    session: Option<String>,
    _admission: Admission,
) {
    let user_id = user.id;
    let config = hub.config().clone();
    let (tx, rx) = queue(config.queue, config.queue_bytes);
    let cancel = CancellationToken::new();
    let ended = CancellationToken::new();
    let watch = session.map(|digest| SessionWatch {
        digest: digest.into(),
        ended: ended.clone(),
    });
    let conn = hub.connect(user, tx.clone(), cancel.clone(), watch);
    let (sink, mut stream) = socket.split();
    let writer = tokio::spawn(write_loop(sink, rx, cancel.clone()));
    let mut heartbeat = tokio::time::interval(config.heartbeat);
    heartbeat.tick().await;
    let mut last_seen = Instant::now();
    let shutdown = hub.shutdown_token();
    loop {
        tokio::select! {
            () = cancel.cancelled() => break,
            () = shutdown.cancelled() => {
                let _ = tx.try_send(Outbound::Close(CLOSE_GOING_AWAY, "server shutting down"));
                break;
            }
            () = ended.cancelled() => {
                let _ = tx.try_send(Outbound::Close(CLOSE_SESSION_ENDED, SESSION_ENDED));
                break;
            }
            _ = heartbeat.tick() => {
                if last_seen.elapsed() > config.heartbeat * 2 {
                    break;
                }
                let _ = tx.try_send(Outbound::Ping);
            }
            received = stream.next() => {
                last_seen = Instant::now();
                match received {
                    Some(Ok(Message::Text(text))) => handle_text(&hub, conn, user_id, &tx, text.as_str()).await,
                    Some(Ok(Message::Binary(_))) => send_error(&tx, None, FrameError::new(ErrorCode::BadRequest, "frames must be JSON text")),
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {} // ping/pong: liveness only
                    Some(Err(e)) => {
                        if is_too_big(&e) {
                            let _ = tx.try_send(Outbound::Close(CLOSE_TOO_BIG, "frame too large"));
                        } else if is_not_utf8(&e) {
                            let _ = tx.try_send(Outbound::Close(CLOSE_INVALID_DATA, "text frame is not UTF-8"));
                        }
                        break;
                    }
                }
            }
        }
    }
    hub.disconnect(conn);
    drop(tx);
    if tokio::time::timeout(CLOSE_GRACE, writer).await.is_err() {
        cancel.cancel();
    }
}

/// A text frame whose bytes are not UTF-8 (tungstenite refuses it while reading).
fn is_not_utf8(e: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::error::Error;
    let source = std::error::Error::source(e);
    matches!(
        source.and_then(|s| s.downcast_ref::<Error>()),
        Some(Error::Utf8(_))
    )
}

fn is_too_big(e: &axum::Error) -> bool {
    use tokio_tungstenite::tungstenite::error::{CapacityError, Error};
    let source = std::error::Error::source(e);
    matches!(
        source.and_then(|s| s.downcast_ref::<Error>()),
        Some(Error::Capacity(CapacityError::MessageTooLong { .. }))
    ) || e.to_string().contains("too long")
}

/// Most frames written per flush: frames already queued go out in one write under load,
/// instead of one system call each.
const BATCH: usize = 64;

/// What the writer does with one queued item.
enum Step {
    Send(Message),
    /// Send this close frame (if any), then stop.
    Close(Option<CloseFrame>),
}

fn step(item: Option<Outbound>) -> Step {
    match item {
        Some(Outbound::Ping) => Step::Send(Message::Ping(Default::default())),
        Some(Outbound::Text(text)) => Step::Send(Message::Text(text)),
        Some(Outbound::Close(code, reason)) => Step::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })),
        None => Step::Close(None),
    }
}

async fn write_loop(
    mut sink: futures_util::stream::SplitSink<WebSocket, Message>,
    mut rx: QueueRx,
    cancel: CancellationToken,
) {
    loop {
        // Cancelled = cut off by the hub: what is queued is what the peer failed to read.
        let first = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            next = rx.recv() => Some(next),
        };
        let Some(first) = first else {
            let frame = CloseFrame {
                code: CLOSE_TRY_AGAIN,
                reason: "too slow: outbound queue full".into(),
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, sink.send(Message::Close(Some(frame)))).await;
            return;
        };
        let mut batch = vec![step(first)];
        while batch.len() < BATCH {
            match rx.try_recv() {
                Some(item) => batch.push(step(Some(item))),
                None => break,
            }
        }
        let mut close = None;
        let written = async {
            for item in batch {
                match item {
                    Step::Send(message) => sink.feed(message).await?,
                    Step::Close(frame) => {
                        close = Some(frame);
                        break;
                    }
                }
            }
            sink.flush().await
        };
        let ok = tokio::select! {
            result = written => result.is_ok(),
            () = cancel.cancelled() => false,
        };
        if !ok {
            cancel.cancel();
            return;
        }
        if let Some(frame) = close {
            let farewell = async {
                match frame {
                    Some(frame) => sink.send(Message::Close(Some(frame))).await,
                    None => sink.close().await,
                }
            };
            let _ = tokio::time::timeout(CLOSE_GRACE, farewell).await;
            return;
        }
    }
}

fn send_error(tx: &QueueTx, sub: Option<&str>, e: FrameError) {
    let _ = tx.try_send(ServerFrame::error(sub, e.code, e.message).into());
}

async fn handle_text(hub: &Hub, conn: ConnId, user: i64, tx: &QueueTx, text: &str) {
    let frame = match serde_json::from_str::<ClientFrame>(text) {
        Ok(frame) => frame,
        Err(e) => {
            return send_error(
                tx,
                None,
                FrameError::new(ErrorCode::BadRequest, describe(text, &e)),
            )
        }
    };
    // Publishes, subscribes and unsubscribes share one bucket per user across all their
    // connections: more sockets buy no more churn.
    let sub_of = |frame: &ClientFrame| match frame {
        ClientFrame::Subscribe { sub, .. } | ClientFrame::Unsubscribe { sub } => Some(sub.clone()),
        ClientFrame::Publish { .. } | ClientFrame::Ping => None,
    };
    if !matches!(frame, ClientFrame::Ping) && !hub.limits().try_take(user) {
        let message = "too many publishes, subscribes or unsubscribes; slow down";
        return send_error(
            tx,
            sub_of(&frame).as_deref(),
            FrameError::new(ErrorCode::RateLimited, message),
        );
    }
    match frame {
        ClientFrame::Ping => {
            let _ = tx.try_send(ServerFrame::Pong.into());
        }
        ClientFrame::Subscribe {
            sub,
            channel,
            types,
            params,
            since,
        } => {
            if sub.is_empty() || sub.len() > SUB_MAX {
                return send_error(
                    tx,
                    None,
                    FrameError::new(ErrorCode::BadRequest, "sub must be 1 to 128 characters"),
                );
            }
            let req = SubscribeRequest {
                sub: sub.clone(),
                channel,
                types,
                ids: params.and_then(|p| p.ids),
                since,
            };
            if let Err(e) = hub.subscribe(conn, req).await {
                send_error(tx, Some(&sub), e);
            }
        }
        ClientFrame::Unsubscribe { sub } => {
            if let Err(e) = hub.unsubscribe(conn, &sub) {
                send_error(tx, Some(&sub), e);
            }
        }
        ClientFrame::Publish {
            channel,
            kind,
            payload,
            meta,
        } => {
            if let Err(e) = hub.publish(conn, &channel, &kind, payload, meta) {
                send_error(tx, None, e);
            }
        }
    }
}

/// A helpful message for a frame that did not parse.
fn describe(text: &str, e: &serde_json::Error) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(_) => format!("malformed JSON: {e}"),
        Ok(v) => match v.get("op").and_then(|op| op.as_str()) {
            Some(op) if !["subscribe", "unsubscribe", "publish", "ping"].contains(&op) => {
                format!("unknown op '{op}'")
            }
            _ => format!("invalid frame: {e}"),
        },
    }
}
