//! The servers under test and how to reach them: Herald (WebSocket live protocol v1) and
//! the reference peer (express + socket.io). Both expose the same REST paths under `/api`
//! and the same token login, so everything but the live handshake is shared.

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use serde::Serialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

/// Which kind of server is on the other end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// Herald: `/api/live`, JSON frames of `docs/live-protocol.md`.
    Herald,
    /// The Node.js reference peer: socket.io (Engine.IO v4 over a WebSocket).
    Peer,
}

/// A server to benchmark: its kind and loopback address.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub target: Target,
    pub addr: SocketAddr,
}

impl Endpoint {
    /// Parses `http://127.0.0.1:PORT`, refusing anything but a loopback address.
    pub fn new(target: Target, base: &str) -> Result<Self> {
        let hostport = base.trim_start_matches("http://").trim_end_matches('/');
        let addr: SocketAddr = hostport
            .parse()
            .with_context(|| format!("'{base}' is not http://IP:PORT"))?;
        if !addr.ip().is_loopback() {
            bail!("refusing to load {addr}: benchmarks only target loopback addresses");
        }
        Ok(Self { target, addr })
    }

    /// `http://ADDR/api{path}`.
    pub fn api(&self, path: &str) -> String {
        format!("http://{}/api{path}", self.addr)
    }

    /// The WebSocket URL of the live channel.
    pub fn live_url(&self) -> String {
        match self.target {
            Target::Herald => format!("ws://{}/api/live", self.addr),
            Target::Peer => format!("ws://{}/socket.io/?EIO=4&transport=websocket", self.addr),
        }
    }

    /// A bearer token for alice (password `demo`), from `POST /api/auth/token`.
    pub async fn token(&self, http: &reqwest::Client) -> Result<String> {
        let res = http
            .post(self.api("/auth/token"))
            .json(&json!({"username": "alice", "password": "demo"}))
            .send()
            .await
            .context("token request")?;
        let status = res.status();
        let body: Value = res.json().await.context("token response")?;
        body["token"]
            .as_str()
            .map(str::to_owned)
            .with_context(|| format!("no token in {status} {body}"))
    }
}

/// A plain HTTP client for the REST calls of a benchmark.
pub fn http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(64)
        .build()
        .context("HTTP client")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback() {
        assert!(Endpoint::new(Target::Herald, "http://127.0.0.1:3000").is_ok());
        assert!(Endpoint::new(Target::Peer, "http://127.0.0.9:1/").is_ok());
        assert!(Endpoint::new(Target::Herald, "http://10.0.0.1:3000").is_err());
        assert!(Endpoint::new(Target::Herald, "localhost:3000").is_err());
    }

    #[test]
    fn urls() {
        let e = Endpoint::new(Target::Peer, "http://127.0.0.1:9").unwrap();
        assert_eq!(e.api("/posts/1"), "http://127.0.0.1:9/api/posts/1");
        assert!(e.live_url().starts_with("ws://127.0.0.1:9/socket.io/"));
    }
}
