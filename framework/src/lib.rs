//! Herald's framework: Refine's data and live-provider system for Leptos — provider traits
//! with their REST, WebSocket and in-memory implementations, the query cache, the live
//! client and the hooks (`use_list`, `use_table`, `use_show`, `use_form`,
//! `use_subscription`, `use_publish`, mutations).
//!
//! Data flow: a hook builds a query key (resource, kind, params) → the cache asks the
//! [`data::DataProvider`] (REST in the browser, the server's store during SSR) → the result is
//! serialised into the SSR page and reused at hydration → live events from the
//! [`live::LiveProvider`] invalidate exactly the keys they touch → the cache refetches,
//! coalescing bursts.
//!
//! The wire types (ids, records, list parameters, `HttpError`, live events) come from
//! `herald-protocol` and are re-exported here ([`protocol`], [`query`], [`error`]), so an
//! app depends on this one crate. This crate knows no app: it never names a resource.
//!
//! ```
//! use herald_framework::memory::MemoryDataProvider;
//! use herald_framework::query::{ListParams, Order};
//! use herald_framework::data::DataProvider;
//! let tasks = MemoryDataProvider::default()
//!     .with("tasks", vec![serde_json::json!({"id": "write-docs", "title": "Write docs", "version": 1})]);
//! let page = futures_executor_lite(tasks.get_list("tasks", ListParams::default().sort("id", Order::Asc)));
//! assert_eq!(page.unwrap().total, 1);
//! # fn futures_executor_lite<F: std::future::Future>(f: F) -> F::Output {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```

pub use herald_protocol as protocol;
pub use herald_protocol::{error, query, Id};

pub mod auth;
pub mod cache;
pub mod context;
pub mod data;
pub mod hooks;
pub mod http;
pub mod live;
pub mod live_query;
pub mod memory;
pub mod mutation;
#[cfg(all(feature = "native", not(target_arch = "wasm32")))]
pub mod native;
pub mod runtime;
// Browser only: the REST providers, the defaults when hydrating.
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
pub mod rest;
