//! `/api/auth/*`: login and logout (session cookie), `me`, and bearer tokens for
//! non-browser clients. Logins go through the throttle and the bounded password checker
//! of [`crate::auth::throttle`].

use super::body::ApiJson;
use crate::auth::throttle::{Unchecked, BUSY_RETRY_SECS};
use crate::auth::{credentials, password, session, CurrentUser, Peer, COOKIE, NAME_MAX};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use herald_protocol::Identity;
use serde::Deserialize;
use serde_json::json;

/// The body of login and token requests.
#[derive(Debug, Deserialize)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

/// The auth routes, to be nested under `/api/auth`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/logout", post(logout))
        .route("/me", get(me))
        .route("/token", post(token))
}

/// Checks a user name and password from `peer`: an attempt is reserved first (429 when
/// this name has used its attempts), then the password is checked by a free verifier (429
/// when they are all busy and the queue is full).
pub async fn authenticate(
    state: &AppState,
    creds: &Credentials,
    peer: std::net::IpAddr,
) -> Result<Identity, ApiError> {
    let name = creds.username.as_str();
    // No account has such a name: answer as for a wrong password, without counting it
    // (nothing is learnt) or hashing (an attacker's huge names cost nothing).
    if name.is_empty() || name.len() > NAME_MAX {
        return Err(ApiError::BadCredentials);
    }
    let mut attempt = state
        .throttle
        .reserve(name, peer)
        .map_err(|retry_after_secs| ApiError::RateLimited {
            message: "too many failed logins; try again later".to_owned(),
            retry_after_secs,
        })?;
    let found = match session::find_user(&state.store, name).await {
        Ok(found) => found,
        Err(e) => {
            attempt.refund();
            return Err(e.into());
        }
    };
    let password = creds.password.clone();
    // An unknown name is checked against a dummy hash, so its answer takes as long as a
    // known name's and timing does not tell which names exist.
    let checked = state
        .throttle
        .check_password(&mut attempt, move || match &found {
            Some((user, hash)) if password::verify(&password, hash) => Some(user.clone()),
            Some(_) => None,
            None => {
                password::verify_dummy(&password);
                None
            }
        })
        .await;
    match checked {
        Ok(Some(user)) => {
            attempt.succeeded();
            Ok(user)
        }
        Ok(None) => {
            attempt.failed();
            Err(ApiError::BadCredentials)
        }
        Err(Unchecked::Busy) => {
            attempt.refund();
            Err(ApiError::RateLimited {
                message: "too many logins at once; try again shortly".to_owned(),
                retry_after_secs: BUSY_RETRY_SECS,
            })
        }
        Err(Unchecked::Failed(e)) => {
            attempt.refund();
            Err(ApiError::internal(e))
        }
    }
}

fn session_cookie(state: &AppState, value: &str, max_age: u64) -> Result<HeaderValue, ApiError> {
    let secure = if state.config.cookie_secure {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    ))
    .map_err(ApiError::internal)
}

async fn login(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &creds, peer).await?;
    let ttl = state.config.session_ttl;
    let secret = session::create(&state.store, user.id, session::Kind::Cookie, ttl).await?;
    let cookie = session_cookie(&state, &secret, ttl.as_secs())?;
    Ok(([(header::SET_COOKIE, cookie)], Json(user)).into_response())
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(secret) = credentials(&headers) {
        session::delete(&state.store, &secret).await?;
    }
    let cookie = session_cookie(&state, "", 0)?;
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cookie)]).into_response())
}

async fn me(CurrentUser(user): CurrentUser) -> Json<Identity> {
    Json(user)
}

/// Mints a bearer token. A user keeps at most `max_tokens` of them: the oldest beyond that
/// are revoked, so a script minting in a loop cannot grow the sessions table without end.
async fn token(
    State(state): State<AppState>,
    Peer(peer): Peer,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &creds, peer).await?;
    let secret = session::create(
        &state.store,
        user.id,
        session::Kind::Token,
        state.config.token_ttl,
    )
    .await?;
    // At least one: the token just minted must survive its own mint.
    let keep = state.config.max_tokens.max(1);
    session::keep_newest(&state.store, user.id, session::Kind::Token, keep).await?;
    Ok(Json(
        json!({ "token": secret, "user": user, "expires_in": state.config.token_ttl.as_secs() }),
    )
    .into_response())
}
