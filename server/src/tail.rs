//! `server live tail`: a command-line live client that subscribes to channels and prints
//! every frame it receives as one JSON line — for operators, scripts and demos.

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;

/// What to tail.
#[derive(Debug, Clone)]
pub struct TailOptions {
    /// `ws://host:port/api/live`.
    pub url: String,
    /// Bearer token.
    pub token: String,
    pub channels: Vec<String>,
    /// Resume after this cursor (applies to every channel).
    pub since: Option<String>,
}

/// Errors of the tail client.
#[derive(Debug, thiserror::Error)]
pub enum TailError {
    #[error("connection failed: {0}")]
    Connect(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("invalid token")]
    Token,
    #[error("server closed the connection")]
    Closed,
}

/// Connects, subscribes and writes each received frame to `out` until the server closes.
pub async fn tail(opts: &TailOptions, mut out: impl std::io::Write) -> Result<(), TailError> {
    let mut request = opts.url.as_str().into_client_request()?;
    let auth =
        HeaderValue::from_str(&format!("Bearer {}", opts.token)).map_err(|_| TailError::Token)?;
    request.headers_mut().insert("authorization", auth);
    let (mut socket, _) = tokio_tungstenite::connect_async(request).await?;
    for (i, channel) in opts.channels.iter().enumerate() {
        let mut frame = json!({ "op": "subscribe", "sub": format!("tail{i}"), "channel": channel, "types": ["*"] });
        if let Some(since) = &opts.since {
            frame["since"] = json!(since);
        }
        socket.send(Message::Text(frame.to_string().into())).await?;
    }
    while let Some(message) = socket.next().await {
        match message? {
            // stdout closed (e.g. piped into head): done.
            Message::Text(text)
                if writeln!(out, "{}", text.as_str())
                    .and_then(|()| out.flush())
                    .is_err() =>
            {
                return Ok(())
            }
            Message::Close(_) => return Err(TailError::Closed),
            _ => {}
        }
    }
    Err(TailError::Closed)
}
