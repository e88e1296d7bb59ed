//! A live-protocol test client over tokio-tungstenite: raw JSON frames, so tests can send
//! anything a hostile or buggy client could.

use super::{Endpoint, PASSWORD};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(5);
/// How long a test listens to be sure nothing (more) arrives.
pub const QUIET: Duration = Duration::from_millis(300);

/// One live connection.
pub struct Ws {
    pub socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Endpoint {
    /// A bearer token for `user`.
    pub async fn token(&self, user: &str) -> String {
        let body: Value = reqwest::Client::new()
            .post(self.url("/api/auth/token"))
            .json(&json!({"username": user, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["token"].as_str().expect("token").to_owned()
    }

    /// `ws://…/api/live` of this server.
    pub fn ws_url(&self) -> String {
        format!("{}/api/live", self.base.replacen("http", "ws", 1))
    }

    /// A live connection signed in as `user`.
    pub async fn ws(&self, user: &str) -> Ws {
        let token = self.token(user).await;
        self.ws_with(&[("authorization", format!("Bearer {token}"))])
            .await
            .expect("upgrade")
    }

    /// A live connection with these headers, or the HTTP status that refused it.
    pub async fn ws_with(&self, headers: &[(&'static str, String)]) -> Result<Ws, u16> {
        let mut request = self.ws_url().into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(*name, value.parse().unwrap());
        }
        match tokio_tungstenite::connect_async(request).await {
            Ok((socket, _)) => Ok(Ws { socket }),
            Err(tokio_tungstenite::tungstenite::Error::Http(res)) => Err(res.status().as_u16()),
            Err(e) => panic!("unexpected upgrade error: {e}"),
        }
    }
}

impl Ws {
    /// Sends one JSON frame.
    pub async fn send(&mut self, frame: Value) {
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .unwrap();
    }

    /// Sends any WebSocket message as it is.
    pub async fn send_raw(&mut self, message: Message) {
        self.socket.send(message).await.unwrap();
    }

    /// The next JSON frame, failing after `WAIT`.
    pub async fn recv(&mut self) -> Value {
        self.try_recv(WAIT)
            .await
            .expect("a frame before the timeout")
    }

    /// The next JSON frame within `wait`, or `None`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let next = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match next.ok()? {
                Message::Text(text) => {
                    return Some(serde_json::from_str(text.as_str()).expect("JSON frame"))
                }
                Message::Close(_) => return None,
                _ => continue,
            }
        }
    }

    /// Asserts that nothing arrives for a while.
    pub async fn expect_silence(&mut self) {
        if let Some(frame) = self.try_recv(QUIET).await {
            panic!("expected silence, got {frame}");
        }
    }

    /// Waits for the close frame and returns its code.
    pub async fn closed_with(&mut self) -> Option<u16> {
        self.closed_with_within(WAIT).await
    }

    /// Waits up to `wait` for the close frame and returns its code.
    pub async fn closed_with_within(&mut self, wait: Duration) -> Option<u16> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??
            {
                Ok(Message::Close(Some(CloseFrame { code, .. }))) => return Some(code.into()),
                Ok(Message::Close(None)) | Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// Subscribes and returns the `subscribed` frame.
    pub async fn subscribe(&mut self, sub: &str, channel: &str) -> Value {
        self.send(json!({"op": "subscribe", "sub": sub, "channel": channel, "types": ["*"]}))
            .await;
        let frame = self.recv().await;
        assert_eq!(frame["op"], "subscribed", "{frame}");
        frame
    }

    /// The next frame, asserted to be an event for `sub`; returns it.
    pub async fn event(&mut self, sub: &str) -> Value {
        let frame = self.recv().await;
        assert_eq!(
            (frame["op"].as_str(), frame["sub"].as_str()),
            (Some("event"), Some(sub)),
            "{frame}"
        );
        frame
    }
}
