//! Herald's Leptos library, shared by the SSR (`ssr`) and browser (`hydrate`) builds.
//!
//! - [`framework`]: data and live providers, query cache, hooks — reusable by any Leptos app.
//! - [`admin`]: the posts and comments admin built on the framework.

pub mod admin;
pub mod framework;

pub use admin::{shell, App};
