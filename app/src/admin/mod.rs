//! Herald's admin UI: the HTML shell, the router and the pages, built only on the
//! framework's hooks (`herald_framework`); the framework never imports from here.
//!
//! - [`shell`]: the HTML document the server renders around the app.
//! - [`App`]: the root context (`provide_herald`), meta tags and the routes.
//! - `layout`: the signed-in frame (header, connection badge, notifications, toasts).
//! - `components`: toasts, connection badge, bell, presence, typing.
//! - [`pages`]: one module per page.

mod app;
mod components;
mod format;
mod layout;
pub mod pages;
mod shell;

pub use app::App;
pub use shell::shell;
