//! [`HttpClient`]: the data and auth providers over HTTP for native code. It signs in for a
//! bearer token (`POST /api/auth/token`), as non-browser clients do, and sends it with every
//! request; failures become [`HttpError`]s exactly as in the browser provider.

use crate::auth::{AuthProvider, Identity};
use crate::data::{BoxFuture, DataProvider, DataResult, ListResult, Record};
use crate::error::HttpError;
use crate::http::{error_from_body, list_result, trim_base, TOTAL_COUNT};
use crate::query::{encode, encode_pairs, ListParams};
use crate::Id;
use serde::de::DeserializeOwned;
use serde_json::json;
use std::sync::{Arc, Mutex};

pub use crate::http::NO_RESPONSE;

/// Data and auth providers for the API mounted at a base URL.
///
/// ```no_run
/// use herald_framework::native::rest::HttpClient;
/// use herald_framework::auth::AuthProvider;
/// use herald_framework::data::DataProvider;
/// # async fn demo() -> Result<(), herald_framework::error::HttpError> {
/// let client = HttpClient::new("http://127.0.0.1:3000/api");
/// client.login("alice".into(), "demo".into()).await?;
/// let page = client.get_list("posts", Default::default()).await?;
/// println!("{} posts", page.total);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpClient {
    base: String,
    http: reqwest::Client,
    token: Arc<Mutex<Option<String>>>,
    origin: Option<String>,
}

impl HttpClient {
    /// A client for the API at `base` (e.g. `http://127.0.0.1:3000/api`), not signed in.
    ///
    /// ```
    /// let c = herald_framework::native::rest::HttpClient::new("http://h/api/");
    /// assert_eq!(c.base(), "http://h/api");
    /// ```
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: trim_base(base),
            http: reqwest::Client::new(),
            token: Arc::default(),
            origin: None,
        }
    }

    /// Tags writes with `x-live-origin` (the live client's origin id) so that client knows
    /// its own events.
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    /// Uses an existing bearer token.
    pub fn with_token(self, token: impl Into<String>) -> Self {
        *self.lock() = Some(token.into());
        self
    }

    /// The API base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The bearer token, once signed in (for [`super::live::connect`]).
    pub fn token(&self) -> Option<String> {
        self.lock().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.token.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn request(&self, method: reqwest::Method, url: String) -> reqwest::RequestBuilder {
        let mut builder = self.http.request(method.clone(), url);
        if let Some(token) = self.token() {
            builder = builder.bearer_auth(token);
        }
        match (&self.origin, method != reqwest::Method::GET) {
            (Some(origin), true) => builder.header("x-live-origin", origin),
            _ => builder,
        }
    }

    fn collection(&self, resource: &str) -> String {
        format!("{}/{resource}", self.base)
    }

    fn item(&self, resource: &str, id: &Id) -> String {
        format!("{}/{resource}/{}", self.base, encode(&id.to_string()))
    }

    fn send<T: DeserializeOwned + Send + 'static>(
        &self,
        builder: reqwest::RequestBuilder,
    ) -> BoxFuture<DataResult<T>> {
        Box::pin(async move { read_json(ok_response(builder).await?).await })
    }
}

async fn ok_response(builder: reqwest::RequestBuilder) -> DataResult<reqwest::Response> {
    let response = builder
        .send()
        .await
        .map_err(|e| HttpError::new(NO_RESPONSE, format!("network error: {e}")))?;
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    Err(error_from_body(
        status.as_u16(),
        &text,
        status.canonical_reason().unwrap_or_default(),
    ))
}

async fn read_json<T: DeserializeOwned>(response: reqwest::Response) -> DataResult<T> {
    let status = response.status().as_u16();
    response
        .json()
        .await
        .map_err(|e| HttpError::new(status, format!("unexpected response: {e}")))
}

impl DataProvider for HttpClient {
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>> {
        let query = params.to_query();
        let url = match query.is_empty() {
            true => self.collection(resource),
            false => format!("{}?{query}", self.collection(resource)),
        };
        let builder = self.request(reqwest::Method::GET, url);
        Box::pin(async move {
            let response = ok_response(builder).await?;
            let total = response
                .headers()
                .get(TOTAL_COUNT)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let data: Vec<Record> = read_json(response).await?;
            Ok(list_result(data, total.as_deref()))
        })
    }

    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>> {
        if ids.is_empty() {
            return Box::pin(async { Ok(Vec::new()) });
        }
        let pairs: Vec<(String, String)> = ids
            .iter()
            .map(|id| ("id".to_owned(), id.to_string()))
            .collect();
        let url = format!("{}?{}", self.collection(resource), encode_pairs(&pairs));
        self.send(self.request(reqwest::Method::GET, url))
    }

    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.send(self.request(reqwest::Method::GET, self.item(resource, &id)))
    }

    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>> {
        let builder = self.request(reqwest::Method::POST, self.collection(resource));
        self.send(builder.json(&data))
    }

    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>> {
        let builder = self.request(reqwest::Method::PATCH, self.item(resource, &id));
        self.send(builder.json(&data))
    }

    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.send(self.request(reqwest::Method::DELETE, self.item(resource, &id)))
    }
}

impl AuthProvider for HttpClient {
    fn identity(&self) -> BoxFuture<DataResult<Option<Identity>>> {
        let me: BoxFuture<DataResult<Identity>> =
            self.send(self.request(reqwest::Method::GET, format!("{}/auth/me", self.base)));
        Box::pin(async move {
            match me.await {
                Ok(me) => Ok(Some(me)),
                Err(e) if e.status_code == 401 => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    /// Signs in for a bearer token, then asks who that is.
    fn login(&self, username: String, password: String) -> BoxFuture<DataResult<Identity>> {
        let url = format!("{}/auth/token", self.base);
        let builder = self
            .http
            .post(url)
            .json(&json!({ "username": username, "password": password }));
        let this = self.clone();
        Box::pin(async move {
            #[derive(serde::Deserialize)]
            struct Token {
                token: String,
            }
            let Token { token } = read_json(ok_response(builder).await?).await?;
            *this.lock() = Some(token);
            this.identity()
                .await?
                .ok_or_else(|| HttpError::new(401, "the new token was refused"))
        })
    }

    fn logout(&self) -> BoxFuture<DataResult<()>> {
        let builder = self.request(reqwest::Method::POST, format!("{}/auth/logout", self.base));
        let this = self.clone();
        Box::pin(async move {
            ok_response(builder).await?;
            *this.lock() = None;
            Ok(())
        })
    }
}
