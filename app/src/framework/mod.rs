//! Herald's framework: data and live providers, the query cache and the hooks.
//!
//! Data flow: a hook builds a query key (resource, kind, params) → the cache asks the
//! [`data::DataProvider`] (REST in the browser, the store itself during SSR) → the result is
//! serialised into the SSR page and reused at hydration → live events from the live provider
//! invalidate exactly the keys they touch → the cache refetches, coalescing bursts.
//!
//! This module must never import the admin pages (`crate::admin`): any Leptos app can use it
//! against its own resources.

pub mod auth;
pub mod cache;
pub mod context;
pub mod data;
pub mod error;
pub mod hooks;
pub mod live;
pub mod live_query;
pub mod memory;
pub mod mutation;
pub mod query;
// Browser only: the REST providers, the defaults when hydrating.
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
pub mod rest;
