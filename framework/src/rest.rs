//! The browser's default providers: [`RestDataProvider`] and [`RestAuthProvider`] speak the
//! REST dialect of the design (simple-rest compatible, base `/api`) with `fetch`.
//!
//! Requests go to the page's own origin, so the session cookie travels with them and no
//! CORS is involved. Every failure becomes an [`HttpError`]: a non-2xx response's JSON body
//! when it has the `HttpError` shape (its `statusCode` replaced by the real status), a
//! synthesised one otherwise, and status `0` when no response arrived at all (network down,
//! request blocked).
//!
//! Only compiled for the browser (`hydrate`); during SSR the server provides store-backed
//! providers through context instead.

use super::auth::{AuthProvider, Identity};
use super::data::{BoxFuture, DataProvider, DataResult, ListResult, Record};
use super::error::HttpError;
use super::http::{error_from_body, list_result, trim_base, TOTAL_COUNT};
use super::query::{encode, encode_pairs, ListParams};
use super::Id;
use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The default API base path: same origin, `/api`.
pub const DEFAULT_BASE: &str = "/api";

pub use super::http::NO_RESPONSE;

/// A [`DataProvider`] over the REST API (`GET /api/posts?_start=0&_end=10`, …).
///
/// Resource names are put into the URL as they are: they come from code, not from users.
///
/// ```no_run
/// use herald_framework::data::SharedDataProvider;
/// use herald_framework::query::{ListParams, Order};
/// use herald_framework::rest::RestDataProvider;
/// use std::sync::Arc;
///
/// # async fn demo() {
/// let data: SharedDataProvider = Arc::new(RestDataProvider::default());
/// let page = data
///     .get_list("posts", ListParams::default().page(1, 10).sort("id", Order::Desc))
///     .await;
/// if let Ok(page) = page {
///     println!("{} of {} posts", page.data.len(), page.total);
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestDataProvider {
    base: String,
    /// Sent as `x-live-origin` on writes, so this client recognises its own live events.
    origin: Option<String>,
}

impl RestDataProvider {
    /// A provider for the API mounted at `base` (no trailing slash), e.g. `"/api"` or
    /// `"https://herald.example/api"`.
    ///
    /// ```
    /// # use herald_framework::rest::RestDataProvider;
    /// let p = RestDataProvider::new("/api/");
    /// assert_eq!(p.base(), "/api");
    /// ```
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: trim_base(base),
            origin: None,
        }
    }

    /// Tags writes with `x-live-origin: origin` (the live provider's client id).
    ///
    /// ```
    /// # use herald_framework::rest::RestDataProvider;
    /// let p = RestDataProvider::default().with_origin("tab-1");
    /// assert_eq!(p.base(), "/api");
    /// ```
    pub fn with_origin(mut self, origin: impl Into<String>) -> Self {
        self.origin = Some(origin.into());
        self
    }

    fn write(&self, builder: RequestBuilder) -> RequestBuilder {
        match &self.origin {
            Some(origin) => builder.header("x-live-origin", origin),
            None => builder,
        }
    }

    /// The base path requests are sent under.
    ///
    /// ```
    /// # use herald_framework::rest::RestDataProvider;
    /// assert_eq!(RestDataProvider::default().base(), "/api");
    /// ```
    pub fn base(&self) -> &str {
        &self.base
    }

    fn collection(&self, resource: &str) -> String {
        format!("{}/{resource}", self.base)
    }

    fn item(&self, resource: &str, id: &Id) -> String {
        format!("{}/{resource}/{}", self.base, encode(&id.to_string()))
    }
}

impl Default for RestDataProvider {
    fn default() -> Self {
        Self::new(DEFAULT_BASE)
    }
}

impl DataProvider for RestDataProvider {
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>> {
        let query = params.to_query();
        let url = match query.is_empty() {
            true => self.collection(resource),
            false => format!("{}?{query}", self.collection(resource)),
        };
        Box::pin(async move {
            let response = ok_response(bare(Request::get(&url))?).await?;
            let total = response.headers().get(TOTAL_COUNT);
            let data: Vec<Record> = read_json(&response).await?;
            Ok(list_result(data, total.as_deref()))
        })
    }

    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>> {
        if ids.is_empty() {
            // `GET /api/res` without an id filter would be every record.
            return Box::pin(async { Ok(Vec::new()) });
        }
        let pairs: Vec<(String, String)> = ids
            .iter()
            .map(|id| ("id".to_owned(), id.to_string()))
            .collect();
        let query = encode_pairs(&pairs);
        let url = format!("{}?{query}", self.collection(resource));
        Box::pin(async move { send_json(bare(Request::get(&url))?).await })
    }

    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        let url = self.item(resource, &id);
        Box::pin(async move { send_json(bare(Request::get(&url))?).await })
    }

    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>> {
        let request = self.write(Request::post(&self.collection(resource)));
        Box::pin(async move { send_json(with_body(request, &data)?).await })
    }

    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>> {
        let request = self.write(Request::patch(&self.item(resource, &id)));
        Box::pin(async move { send_json(with_body(request, &data)?).await })
    }

    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        let request = self.write(Request::delete(&self.item(resource, &id)));
        Box::pin(async move { send_json(bare(request)?).await })
    }
}

/// An [`AuthProvider`] over `/api/auth/*`; the HttpOnly session cookie does the rest.
///
/// ```no_run
/// use herald_framework::auth::SharedAuthProvider;
/// use herald_framework::rest::RestAuthProvider;
/// use std::sync::Arc;
///
/// # async fn demo() {
/// let auth: SharedAuthProvider = Arc::new(RestAuthProvider::default());
/// match auth.login("alice".into(), "demo".into()).await {
///     Ok(me) => println!("signed in as {}", me.name),
///     Err(e) if e.status_code == 401 => println!("wrong username or password"),
///     Err(e) => println!("could not sign in: {}", e.message),
/// }
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestAuthProvider {
    base: String,
}

impl RestAuthProvider {
    /// A provider for the API mounted at `base` (its auth endpoints are `{base}/auth/*`).
    ///
    /// ```
    /// # use herald_framework::rest::RestAuthProvider;
    /// assert_eq!(RestAuthProvider::new("/api/").base(), "/api");
    /// ```
    pub fn new(base: impl Into<String>) -> Self {
        Self {
            base: trim_base(base),
        }
    }

    /// The base path requests are sent under.
    ///
    /// ```
    /// # use herald_framework::rest::RestAuthProvider;
    /// assert_eq!(RestAuthProvider::default().base(), "/api");
    /// ```
    pub fn base(&self) -> &str {
        &self.base
    }

    fn url(&self, action: &str) -> String {
        format!("{}/auth/{action}", self.base)
    }
}

impl Default for RestAuthProvider {
    fn default() -> Self {
        Self::new(DEFAULT_BASE)
    }
}

/// The body of `POST /api/auth/login`.
#[derive(Serialize)]
struct Credentials {
    username: String,
    password: String,
}

impl AuthProvider for RestAuthProvider {
    fn identity(&self) -> BoxFuture<DataResult<Option<Identity>>> {
        let url = self.url("me");
        Box::pin(async move {
            match send_json(bare(Request::get(&url))?).await {
                Ok(me) => Ok(Some(me)),
                Err(e) if e.status_code == 401 => Ok(None),
                Err(e) => Err(e),
            }
        })
    }

    fn login(&self, username: String, password: String) -> BoxFuture<DataResult<Identity>> {
        let url = self.url("login");
        Box::pin(async move {
            let body = Credentials { username, password };
            send_json(with_body(Request::post(&url), &body)?).await
        })
    }

    fn logout(&self) -> BoxFuture<DataResult<()>> {
        let url = self.url("logout");
        Box::pin(async move { ok_response(bare(Request::post(&url))?).await.map(drop) })
    }
}

/// Finishes a request that has no body.
fn bare(builder: RequestBuilder) -> DataResult<Request> {
    builder
        .build()
        .map_err(|e| HttpError::new(NO_RESPONSE, format!("could not build the request: {e}")))
}

/// Attaches a JSON body (and its content type).
fn with_body<T: Serialize>(builder: RequestBuilder, body: &T) -> DataResult<Request> {
    builder
        .json(body)
        .map_err(|e| HttpError::new(NO_RESPONSE, format!("could not encode the request: {e}")))
}

/// Sends a request and decodes a successful response's JSON body.
async fn send_json<T: DeserializeOwned>(request: Request) -> DataResult<T> {
    let response = ok_response(request).await?;
    read_json(&response).await
}

/// Sends a request; a response outside 2xx becomes its [`HttpError`].
async fn ok_response(request: Request) -> DataResult<Response> {
    let response = request
        .send()
        .await
        .map_err(|e| HttpError::new(NO_RESPONSE, format!("network error: {e}")))?;
    if response.ok() {
        Ok(response)
    } else {
        Err(error_from(&response).await)
    }
}

async fn read_json<T: DeserializeOwned>(response: &Response) -> DataResult<T> {
    response.json().await.map_err(|e| {
        HttpError::new(
            response.status(),
            format!("unexpected response from {}: {e}", response.url()),
        )
    })
}

/// The error a failed response stands for (see [`error_from_body`]).
async fn error_from(response: &Response) -> HttpError {
    let text = response.text().await.unwrap_or_default();
    error_from_body(response.status(), &text, &response.status_text())
}
