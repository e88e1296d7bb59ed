//! Herald's admin UI: the HTML shell, the router and the pages, built on [`crate::framework`].
//!
//! - [`shell`]: the HTML document the server renders around the app.
//! - [`App`]: providers, meta tags and the routes.
//! - `context`: where pages get their data and auth providers.
//! - `layout`: the signed-in frame (header with the user and logout) around the pages.
//! - [`pages`]: one module per page.

mod app;
mod context;
mod layout;
pub mod pages;
mod shell;

pub use app::App;
pub use shell::shell;
