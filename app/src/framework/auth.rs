//! The auth provider: who is signed in, and signing in and out.
//!
//! In the browser the default speaks to `/api/auth/*` (the session cookie does the rest);
//! during SSR the server supplies one that reads the request's session from its store.

use super::data::{BoxFuture, DataResult};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The signed-in user as `/api/auth/me` returns it.
///
/// ```
/// # use app::framework::auth::Identity;
/// let me: Identity = serde_json::from_str(r#"{"id":1,"name":"alice"}"#).unwrap();
/// assert_eq!(me.name, "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub id: i64,
    pub name: String,
}

/// Signs users in and out and says who is signed in.
///
/// ```
/// use app::framework::auth::{AuthProvider, SharedAuthProvider};
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
