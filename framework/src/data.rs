//! The data provider: how hooks read and write records, whatever the transport.
//!
//! Records are JSON objects (`serde_json::Value`) as the REST dialect sends them, so one
//! provider serves every resource. In the browser the default implementation speaks REST;
//! during SSR the server supplies one that reads its store directly (no HTTP to itself).

use super::error::HttpError;
use super::query::ListParams;
use super::Id;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub use herald_protocol::record::{ListResult, Record};

/// The future every provider call returns. `Send` where threads exist (the server), not in
/// the browser, whose fetch futures are tied to the JS thread.
#[cfg(not(target_arch = "wasm32"))]
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// The future every provider call returns (browser flavour: not `Send`).
#[cfg(target_arch = "wasm32")]
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + 'static>>;

/// The result of a provider call.
pub type DataResult<T> = Result<T, HttpError>;

/// Reads and writes records of named resources. Hooks only ever see this trait.
///
/// ```
/// use herald_framework::data::{DataProvider, SharedDataProvider};
/// fn uses_any_provider(p: SharedDataProvider) -> SharedDataProvider { p }
/// ```
pub trait DataProvider: Send + Sync + 'static {
    /// getList: a page of records plus the total.
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>>;
    /// getMany: the records with these ids (missing ids are simply absent).
    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>>;
    /// getOne: one record, or a 404 error.
    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>>;
    /// create: the stored record, with its `id` and `version`.
    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>>;
    /// update: a partial update; `data.version`, when present, must still be current (409).
    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>>;
    /// deleteOne: the record as it was.
    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>>;
}

/// How providers are shared through context.
pub type SharedDataProvider = Arc<dyn DataProvider>;
