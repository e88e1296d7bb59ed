//! Test harness: the real router on an ephemeral port over a temporary database, talked to
//! over HTTP like any client would. `HERALD_TEST_DATABASE=postgres` runs every test on a
//! fresh PostgreSQL database (created on `HERALD_TEST_POSTGRES_URL`'s server, default
//! `postgres://postgres@127.0.0.1:5432/postgres`, and dropped afterwards) instead of a
//! temporary SQLite file.
#![allow(dead_code)]

pub mod db;
pub mod process;
pub mod ws;

pub use db::TestDb;
use std::sync::Arc;

use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use server::config::Config;
use server::state::AppState;
use tokio::sync::oneshot;

/// Where a server answers; the client helpers (HTTP here, live in [`ws`]) live on it, so
/// they work alike for an in-process server and a server process ([`process`]).
pub struct Endpoint {
    pub base: String,
}

pub struct TestServer {
    pub endpoint: Endpoint,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    pub db: Arc<TestDb>,
}

impl TestServer {
    /// A seeded server with default config.
    pub async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// A seeded server with config adjusted by `tweak`.
    pub async fn start_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::node(&TestDb::from_env().await, tweak).await
    }

    /// A server on `db`, which other servers (nodes) may share.
    pub async fn node(db: &Arc<TestDb>, tweak: impl FnOnce(&mut Config)) -> Self {
        let mut config = Config::for_database(db.url());
        tweak(&mut config);
        let options = leptos::config::LeptosOptions::builder()
            .output_name("herald")
            .build();
        let (router, state) = server::admin::build(config, options)
            .await
            .expect("server builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        tokio::spawn(server::serve(listener, router, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            endpoint: Endpoint { base },
            state,
            shutdown: Some(tx),
            db: Arc::clone(db),
        }
    }

    /// Starts a graceful shutdown (live sockets get 1001).
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

impl std::ops::Deref for TestServer {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Endpoint {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with no session.
    pub fn anon(&self) -> Client {
        Client::builder()
            .cookie_store(true)
            .build()
            .expect("client")
    }

    /// `POST /api/auth/login` through `client` (its cookie store keeps the session).
    pub async fn post_login(&self, client: &Client, user: &str, password: &str) -> Response {
        client
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": user, "password": password}))
            .send()
            .await
            .expect("login request")
    }

    /// The `herald_session=…` pair a cookie login for `user` sets.
    pub async fn session_cookie(&self, user: &str) -> String {
        let res = reqwest::Client::new()
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": user, "password": "demo"}))
            .send()
            .await
            .expect("login request");
        let header = res.headers()["set-cookie"].to_str().expect("ascii cookie");
        header.split(';').next().unwrap_or_default().to_owned()
    }

    /// A client signed in as `user` (password `demo`) through the cookie login.
    pub async fn login(&self, user: &str) -> Client {
        let client = self.anon();
        let res = client
            .post(self.url("/api/auth/login"))
            .json(&json!({"username": user, "password": "demo"}))
            .send()
            .await
            .expect("login request");
        assert_eq!(res.status(), StatusCode::OK, "login as {user}");
        client
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Status and JSON body of a response.
pub async fn json_of(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let body = res.json::<Value>().await.unwrap_or(Value::Null);
    (status, body)
}

/// Asserts an HttpError body with `status`, and returns it.
pub async fn expect_error(res: Response, status: u16) -> Value {
    let (got, body) = json_of(res).await;
    assert_eq!(got.as_u16(), status, "body: {body}");
    assert_eq!(body["statusCode"], status, "HttpError shape: {body}");
    assert!(
        body["message"].as_str().is_some_and(|m| !m.is_empty()),
        "message in {body}"
    );
    body
}
