//! Test support for apps on Herald and for Herald itself (feature `testkit`): the real router
//! on an ephemeral port over a throwaway database ([`TestServer`], [`TestDb`]), clients that
//! talk HTTP ([`Endpoint`]) and the live protocol ([`ws::Ws`]) to it as any client would, a
//! server as a separate process ([`process::ServerProcess`]) for crash tests, and a small
//! fixture app ([`fixture`]) for tests of the server itself.
//!
//! ```no_run
//! # async fn demo() {
//! use server::testkit::{fixture, TestServer};
//! let server = TestServer::start(fixture::build).await;
//! let alice = server.login("alice").await;
//! let notes = alice.get(server.url("/api/notes")).send().await.unwrap();
//! assert_eq!(notes.status(), 200);
//! # }
//! ```

pub mod db;
pub mod fixture;
pub mod process;
pub mod ws;

pub use db::TestDb;

use crate::config::Config;
use crate::state::AppState;
use crate::store::StoreError;
use axum::Router;
use leptos::config::LeptosOptions;
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The password of every user the test seeds create.
pub const PASSWORD: &str = "demo";

/// Where a server answers; the client helpers (HTTP here, live in [`ws`]) live on it, so
/// they work alike for an in-process server and a server process ([`process`]).
pub struct Endpoint {
    pub base: String,
}

/// A server in this process, shut down when dropped.
pub struct TestServer {
    pub endpoint: Endpoint,
    pub state: AppState,
    shutdown: Option<oneshot::Sender<()>>,
    serving: Option<JoinHandle<std::io::Result<()>>>,
    pub db: Arc<TestDb>,
}

/// Builds an app's router and state from a config (`admin::build`, [`fixture::build`], or
/// `server::start` + `server::router` for your schema).
pub trait Build: Fn(Config, LeptosOptions) -> Self::Fut {
    type Fut: Future<Output = Result<(Router, AppState), StoreError>>;
}

impl<F, Fut> Build for F
where
    F: Fn(Config, LeptosOptions) -> Fut,
    Fut: Future<Output = Result<(Router, AppState), StoreError>>,
{
    type Fut = Fut;
}

impl TestServer {
    /// A seeded server with the default config, on the database `HERALD_TEST_DATABASE` names.
    pub async fn start(build: impl Build) -> Self {
        Self::start_with(build, |_| {}).await
    }

    /// A seeded server with config adjusted by `tweak`.
    pub async fn start_with(build: impl Build, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::node(build, &TestDb::from_env().await, tweak).await
    }

    /// A server on `db`, which other servers (nodes) may share.
    pub async fn node(
        build: impl Build,
        db: &Arc<TestDb>,
        tweak: impl FnOnce(&mut Config),
    ) -> Self {
        let mut config = Config::for_database(db.url());
        tweak(&mut config);
        let options = LeptosOptions::builder().output_name("herald").build();
        let (router, state) = build(config, options).await.expect("server builds");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (tx, rx) = oneshot::channel::<()>();
        let serving = tokio::spawn(crate::serve(listener, router, state.clone(), async move {
            let _ = rx.await;
        }));
        Self {
            endpoint: Endpoint { base },
            state,
            shutdown: Some(tx),
            serving: Some(serving),
            db: Arc::clone(db),
        }
    }

    /// Starts a graceful shutdown (live sockets get 1001).
    pub fn shutdown(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }

    /// Shuts down (as [`TestServer::shutdown`]) and waits until `serve` has returned: every
    /// connection, live sockets included, is closed (or was cut at the shutdown deadline).
    pub async fn stop(&mut self) {
        self.shutdown();
        if let Some(serving) = self.serving.take() {
            serving
                .await
                .expect("serve did not panic")
                .expect("serve ended without an error");
        }
    }
}

impl std::ops::Deref for TestServer {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Endpoint {
    /// The absolute URL of `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A client with no session (it keeps cookies it is given).
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
        let res = self.post_login(&Client::new(), user, PASSWORD).await;
        let header = res.headers()["set-cookie"].to_str().expect("ascii cookie");
        header.split(';').next().unwrap_or_default().to_owned()
    }

    /// A client signed in as `user` through the cookie login.
    pub async fn login(&self, user: &str) -> Client {
        let client = self.anon();
        let res = self.post_login(&client, user, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login as {user}");
        client
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
