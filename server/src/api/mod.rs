//! Every HTTP handler under `/api`: auth ([`auth`]), the live upgrade ([`live`]), the
//! resource routes ([`resources`]), and JSON errors for everything else (unknown paths,
//! oversized bodies). Handlers parse and answer; the work is the store's and the hub's.

pub mod auth;
pub mod body;
pub mod live;
pub mod resources;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;

/// Everything under `/api`.
pub fn router(body_limit: usize) -> Router<AppState> {
    Router::new()
        .nest("/auth", auth::router())
        .route("/live", axum::routing::get(live::upgrade))
        .merge(resources::router())
        .fallback(|| async { ApiError::NotFound("no such API route".to_owned()) })
        .layer(DefaultBodyLimit::max(body_limit))
}
