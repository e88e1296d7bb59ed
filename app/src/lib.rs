//! The Herald admin: a posts-and-comments admin built only on `herald-framework`, shared by
//! the server-rendered (`ssr`) and browser (`hydrate`) builds. It is one app on the
//! framework; `examples/` holds another.

pub mod admin;

pub use admin::{shell, App};
