//! The framework's providers as the server implements them for SSR: the same store and
//! commit path the REST API uses, without an HTTP round trip to itself. Each instance
//! carries the rendering request's session secret and authenticates every call with it.

use crate::auth::{credentials, session};
use crate::error::ApiError;
use crate::resource::Resource;
use crate::state::AppState;
use crate::store::{read, Actor, Change, Store, StoreError};
use axum::http::request::Parts;
use herald_framework::auth::SharedAuthProvider;
use herald_framework::auth::{AuthProvider, Identity};
use herald_framework::data::SharedDataProvider;
use herald_framework::data::{BoxFuture, DataProvider, DataResult, ListResult, Record};
use herald_protocol::error::HttpError;
use herald_protocol::query::{FilterOp, ListParams};
use herald_protocol::Id;
use std::future::Future;
use std::sync::Arc;

fn http(e: impl Into<ApiError>) -> HttpError {
    e.into().to_http()
}

/// Reads and writes the store as the session's user.
pub struct StoreDataProvider {
    store: Store,
    secret: Option<String>,
}

impl StoreDataProvider {
    /// A provider acting with the session `secret` (none: every call is a 401).
    pub fn new(store: Store, secret: Option<String>) -> Self {
        Self { store, secret }
    }

    /// Runs `f` with the store, the resource and the signed-in actor.
    fn with<T, F, Fut>(&self, resource: &str, f: F) -> BoxFuture<DataResult<T>>
    where
        T: Send + 'static,
        F: FnOnce(Store, &'static Resource, Actor) -> Fut + Send + 'static,
        Fut: Future<Output = Result<T, StoreError>> + Send,
    {
        let store = self.store.clone();
        let secret = self.secret.clone();
        let name = resource.to_owned();
        Box::pin(async move {
            let user = identify(&store, secret.as_deref())
                .await?
                .ok_or_else(|| http(ApiError::Unauthorized))?;
            let resource = store
                .schema()
                .resource(&name)
                .ok_or_else(|| HttpError::new(404, format!("unknown resource '{name}'")))?;
            f(store, resource, Actor { user, origin: None })
                .await
                .map_err(http)
        })
    }
}

async fn identify(store: &Store, secret: Option<&str>) -> DataResult<Option<Identity>> {
    match secret {
        Some(s) => session::lookup(store, s).await.map_err(http),
        None => Ok(None),
    }
}

fn object(data: Record) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
    match data {
        serde_json::Value::Object(map) => Ok(map),
        _ => Err(StoreError::BadQuery(
            "record data must be a JSON object".to_owned(),
        )),
    }
}

impl DataProvider for StoreDataProvider {
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>> {
        self.with(resource, move |store, res, _| async move {
            read::list(&store, res, &params).await
        })
    }

    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>> {
        self.with(resource, move |store, res, _| async move {
            let params = ids.iter().fold(ListParams::default(), |p, id| {
                p.filter("id", FilterOp::Eq, id.to_string())
            });
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            Ok(read::list(&store, res, &params).await?.data)
        })
    }

    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.with(resource, move |store, res, _| async move {
            read::get_one(store.pool(), res, &id).await
        })
    }

    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>> {
        self.with(resource, move |store, res, actor| async move {
            store
                .commit(
                    res,
                    &actor,
                    Change::Create {
                        data: object(data)?,
                    },
                )
                .await
        })
    }

    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>> {
        self.with(resource, move |store, res, actor| async move {
            let expected_version = data.get("version").and_then(serde_json::Value::as_i64);
            let change = Change::Update {
                id,
                data: object(data)?,
                expected_version,
            };
            store.commit(res, &actor, change).await
        })
    }

    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        self.with(resource, move |store, res, actor| async move {
            let change = Change::Delete {
                id,
                expected_version: None,
            };
            store.commit(res, &actor, change).await
        })
    }
}

/// Says who the rendering request's user is. Login and logout are browser actions that
/// must set cookies, so on the server they are refused.
pub struct StoreAuthProvider {
    store: Store,
    secret: Option<String>,
}

impl StoreAuthProvider {
    /// A provider for the session `secret`.
    pub fn new(store: Store, secret: Option<String>) -> Self {
        Self { store, secret }
    }
}

impl AuthProvider for StoreAuthProvider {
    fn identity(&self) -> BoxFuture<DataResult<Option<Identity>>> {
        let (store, secret) = (self.store.clone(), self.secret.clone());
        Box::pin(async move { identify(&store, secret.as_deref()).await })
    }

    fn login(&self, _username: String, _password: String) -> BoxFuture<DataResult<Identity>> {
        Box::pin(async {
            Err(HttpError::new(
                405,
                "sign in from the browser (POST /api/auth/login)",
            ))
        })
    }

    fn logout(&self) -> BoxFuture<DataResult<()>> {
        Box::pin(async {
            Err(HttpError::new(
                405,
                "sign out from the browser (POST /api/auth/logout)",
            ))
        })
    }
}

/// The data provider for one server render: reads the store directly, as the user whose
/// session the request carries.
pub fn data_provider(state: &AppState, parts: &Parts) -> SharedDataProvider {
    Arc::new(StoreDataProvider::new(
        state.store.clone(),
        credentials(&parts.headers),
    ))
}

/// The auth provider for one server render.
pub fn auth_provider(state: &AppState, parts: &Parts) -> SharedAuthProvider {
    Arc::new(StoreAuthProvider::new(
        state.store.clone(),
        credentials(&parts.headers),
    ))
}
