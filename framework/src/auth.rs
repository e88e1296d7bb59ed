//! The auth provider: who is signed in, and signing in and out.
//!
//! In the browser the default speaks to `/api/auth/*` (the session cookie does the rest);
//! during SSR the server supplies one that reads the request's session from its store.

use super::data::{BoxFuture, DataResult};
use std::sync::Arc;

pub use herald_protocol::Identity;

/// Signs users in and out and says who is signed in.
///
/// ```
/// use herald_framework::auth::{AuthProvider, SharedAuthProvider};
/// fn takes(p: SharedAuthProvider) -> SharedAuthProvider { p }
/// ```
pub trait AuthProvider: Send + Sync + 'static {
    /// The signed-in user, or `None` without a valid session.
    fn identity(&self) -> BoxFuture<DataResult<Option<Identity>>>;
    /// Signs in; a wrong user or password is a 401 error.
    fn login(&self, username: String, password: String) -> BoxFuture<DataResult<Identity>>;
    /// Ends the session.
    fn logout(&self) -> BoxFuture<DataResult<()>>;
}

/// How auth providers are shared through context.
pub type SharedAuthProvider = Arc<dyn AuthProvider>;
