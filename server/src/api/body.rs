//! The API's extractors for what a client sends: `ApiJson` (the JSON body) and `ApiPath`
//! (path segments). Axum's own rejections are plain text; these turn every bad body or path
//! into the HttpError shape (400, 413, 415).

use crate::error::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Like `axum::Json`, with HttpError rejections.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(reject(rejection)),
        }
    }
}

fn reject(rejection: JsonRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(
            "expected a JSON body with Content-Type: application/json".to_owned(),
        ),
        _ => ApiError::BadRequest(format!("invalid JSON body: {}", rejection.body_text())),
    }
}

/// Like `axum::extract::Path`, with HttpError rejections: a segment that is not UTF-8 once
/// percent-decoded (`/api/posts/%ff`) is a 400 with a JSON body.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(reject_path(rejection)),
        }
    }
}

fn reject_path(rejection: PathRejection) -> ApiError {
    // Axum answers 500 only when the route and the extractor disagree: our bug, not the
    // client's, so it is logged as one.
    if rejection.status().is_server_error() {
        return ApiError::internal(rejection);
    }
    ApiError::BadRequest(format!("invalid path: {}", rejection.body_text()))
}
