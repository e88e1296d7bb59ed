//! Who is signed in, as `/api/auth/me` answers and as the server stamps `meta.user` on live
//! events. Users are the server's own table, keyed by integers.

use serde::{Deserialize, Serialize};

/// The signed-in user.
///
/// ```
/// use herald_protocol::Identity;
/// let me: Identity = serde_json::from_str(r#"{"id":1,"name":"alice"}"#).unwrap();
/// assert_eq!(me.name, "alice");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub id: i64,
    pub name: String,
}
