//! The admin's pages, one module each.

mod login;
mod not_found;
mod posts;

pub use login::LoginPage;
pub use not_found::NotFound;
pub use posts::PostsPage;
