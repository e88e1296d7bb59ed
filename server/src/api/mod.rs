//! The REST API under `/api`: auth routes, resource routes, and JSON errors for
//! everything else (unknown paths, oversized bodies).

pub mod body;
pub mod resources;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::Router;

/// Everything under `/api`.
pub fn router(body_limit: usize) -> Router<AppState> {
    Router::new()
        .nest("/auth", crate::auth::routes::router())
        .route("/live", axum::routing::get(crate::live::upgrade))
        .merge(resources::router())
        .fallback(|| async { ApiError::NotFound("no such API route".to_owned()) })
        .layer(DefaultBodyLimit::max(body_limit))
}
