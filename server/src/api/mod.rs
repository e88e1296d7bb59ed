//! Every HTTP handler under `/api`: auth ([`auth`]), the live upgrade ([`live`]), the
//! resource routes ([`resources`]), and JSON errors for everything else (unknown paths,
//! oversized bodies, calls that take too long). Handlers parse and answer; the work is the
//! store's and the hub's.

pub mod auth;
pub mod body;
pub mod live;
pub mod resources;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use herald_protocol::error::HttpError;
use std::time::Duration;

/// Everything under `/api`.
pub fn router(config: &Config) -> Router<AppState> {
    let limit = config.http.request_timeout;
    Router::new()
        .nest("/auth", auth::router())
        .merge(resources::router())
        .fallback(|| async { ApiError::NotFound("no such API route".to_owned()) })
        .layer(axum::middleware::from_fn(move |req, next| {
            within(limit, req, next)
        }))
        // Added after the timeout layer, so outside it: a live socket lives for hours.
        .route("/live", axum::routing::get(live::upgrade))
        .layer(DefaultBodyLimit::max(config.body_limit))
}

/// Runs a call, body reading included, for at most `limit`; then answers 503 instead of
/// leaving the client waiting (`HERALD_HTTP_REQUEST_TIMEOUT_SECS`). 503 and not 408: a
/// browser may silently resend a request answered 408, and a write that timed out here may
/// still commit (commits run to their end on a task of their own), so it must not be resent
/// behind the user's back.
async fn within(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            let message = format!(
                "the request did not finish within {limit:?}; a write it carried may still be \
                 applied"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(HttpError::new(503, message)),
            )
                .into_response()
        }
    }
}
