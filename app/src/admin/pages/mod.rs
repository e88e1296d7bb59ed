//! The admin's pages, one module each.

mod comments;
mod login;
mod not_found;
mod post_form;
mod post_show;
mod posts;

pub use comments::CommentsPage;
pub use login::LoginPage;
pub use not_found::NotFound;
pub use post_form::{PostClonePage, PostCreatePage, PostEditPage};
pub use post_show::PostShowPage;
pub use posts::PostsPage;
