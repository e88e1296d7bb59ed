//! Authentication: password hashing, sessions, login throttling, and the extractors that
//! resolve a request's user. The `/api/auth/*` handlers are in [`crate::api::auth`].

pub mod password;
pub mod session;
pub mod throttle;

use crate::error::ApiError;
use crate::state::AppState;
use crate::store::{Actor, Store};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap};
use herald_protocol::Identity;
use std::convert::Infallible;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The session cookie's name.
pub const COOKIE: &str = "herald_session";
/// The header a client sets on writes so it can recognise its own live events.
pub const ORIGIN_HEADER: &str = "x-live-origin";
/// Longest accepted `x-live-origin` value.
const ORIGIN_MAX: usize = 128;
/// Longest user name (in bytes) that can sign in. A longer one is refused like a wrong
/// password, before any lookup or hashing: it costs the server nothing.
pub const NAME_MAX: usize = 64;

/// Extractor: the address of the connection's peer, which the login throttle counts by.
/// It needs [`crate::serve`] (connect info); a router served some other way gets the
/// unspecified address for every peer, so all its logins share one count per name.
///
/// Behind a reverse proxy this is the proxy. Forwarded-for headers are not trusted: any
/// client could set them to escape its count.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let ip = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |c| c.0.ip());
        Ok(Peer(ip))
    }
}

/// The session secret a request presents: a bearer token first, else the session cookie.
pub fn credentials(headers: &HeaderMap) -> Option<String> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(token) = bearer.filter(|t| !t.is_empty()) {
        return Some(token.to_owned());
    }
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.to_owned())
}

/// Resolves the user behind a request's headers, if any.
pub async fn identify(store: &Store, headers: &HeaderMap) -> Result<Option<Identity>, ApiError> {
    match credentials(headers) {
        Some(secret) => Ok(session::lookup(store, &secret).await?),
        None => Ok(None),
    }
}

/// Extractor: the signed-in user, or 401.
#[derive(Debug, Clone)]
pub struct CurrentUser(pub Identity);

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        identify(&state.store, &parts.headers)
            .await?
            .map(CurrentUser)
            .ok_or(ApiError::Unauthorized)
    }
}

/// Whether the request's `Origin` (if it sent one) is its own origin — scheme plus the
/// `Host` it was sent to — or one of the configured allowed origins.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let own = origin.split_once("://").is_some_and(|(scheme, rest)| {
        matches!(scheme, "http" | "https") && !host.is_empty() && rest == host
    });
    own || allowed.iter().any(|a| a == origin)
}

/// Extractor for writes: the signed-in user plus the request's live origin. A
/// cookie-authenticated write from a foreign `Origin` is refused (403): defence against
/// cross-site request forgery beyond what SameSite=Lax already gives.
impl FromRequestParts<AppState> for Actor {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let CurrentUser(user) = CurrentUser::from_request_parts(parts, state).await?;
        let bearer = parts.headers.contains_key(header::AUTHORIZATION);
        if !bearer && !origin_allowed(&parts.headers, &state.config.allowed_origins) {
            return Err(ApiError::Forbidden("cross-origin write refused".to_owned()));
        }
        Ok(Actor {
            user,
            origin: live_origin(&parts.headers)?,
        })
    }
}

/// The `x-live-origin` header: short, printable, or a 400.
fn live_origin(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(ORIGIN_HEADER) else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(v) if !v.is_empty() && v.len() <= ORIGIN_MAX => Ok(Some(v.to_owned())),
        _ => Err(ApiError::BadRequest(format!(
            "{ORIGIN_HEADER} must be 1 to {ORIGIN_MAX} printable ASCII characters"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_wins_over_cookie() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; herald_session=cookie".parse().unwrap(),
        );
        assert_eq!(credentials(&h).as_deref(), Some("cookie"));
        h.insert(header::AUTHORIZATION, "Bearer tok".parse().unwrap());
        assert_eq!(credentials(&h).as_deref(), Some("tok"));
    }
}
