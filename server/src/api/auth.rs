//! `/api/auth/*`: login and logout (session cookie), `me`, and bearer tokens for
//! non-browser clients.

use super::body::ApiJson;
use crate::auth::{credentials, password, session, CurrentUser, COOKIE};
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

/// Checks a user name and password, throttling repeated failures.
pub async fn authenticate(state: &AppState, creds: &Credentials) -> Result<Identity, ApiError> {
    if let Err(retry_after_secs) = state.throttle.check(&creds.username) {
        return Err(ApiError::RateLimited {
            message: "too many failed logins; try again later".to_owned(),
            retry_after_secs,
        });
    }
    let found = session::find_user(&state.store, &creds.username).await?;
    let password = creds.password.clone();
    // Argon2 is deliberately slow: keep it off the async worker threads.
    let ok = tokio::task::spawn_blocking(move || match &found {
        Some((user, hash)) if password::verify(&password, hash) => Some(user.clone()),
        Some(_) => None,
        None => {
            password::verify_dummy(&password);
            None
        }
    })
    .await
    .map_err(ApiError::internal)?;
    match ok {
        Some(user) => {
            state.throttle.succeeded(&creds.username);
            Ok(user)
        }
        None => {
            state.throttle.failed(&creds.username);
            Err(ApiError::BadCredentials)
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
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &creds).await?;
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

async fn token(
    State(state): State<AppState>,
    ApiJson(creds): ApiJson<Credentials>,
) -> Result<Response, ApiError> {
    let user = authenticate(&state, &creds).await?;
    let secret = session::create(
        &state.store,
        user.id,
        session::Kind::Token,
        state.config.token_ttl,
    )
    .await?;
    Ok(Json(
        json!({ "token": secret, "user": user, "expires_in": state.config.token_ttl.as_secs() }),
    )
    .into_response())
}
