//! The simple-rest resource routes: getList / getMany, getOne, create, update (PATCH and
//! PUT), deleteOne — one generic set of handlers over the schema's resources.

use super::body::{ApiJson, ApiPath};
use crate::auth::CurrentUser;
use crate::error::ApiError;
use crate::resource::Resource;
use crate::state::AppState;
use crate::store::read;
use crate::store::{Actor, Change};
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use herald_protocol::query::{excerpt, ListParams};
use herald_protocol::Id;
use serde_json::{Map, Value};

/// The header carrying a list's total row count.
pub const TOTAL_COUNT: HeaderName = HeaderName::from_static("x-total-count");

/// `/{resource}` and `/{resource}/{id}`, to be nested under `/api`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/{resource}",
            get(list).post(create).fallback(method_not_allowed),
        )
        .route(
            "/{resource}/{id}",
            get(get_one)
                .patch(update)
                .put(update)
                .delete(delete)
                .fallback(method_not_allowed),
        )
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("method not allowed on this path".to_owned())
}

fn resource(state: &AppState, name: &str) -> Result<&'static Resource, ApiError> {
    state
        .store
        .schema()
        .resource(name)
        .ok_or_else(|| ApiError::NotFound(format!("unknown resource '{}'", excerpt(name))))
}

fn parse_id(resource: &Resource, raw: &str) -> Result<Id, ApiError> {
    resource.id.parse(raw).map_err(ApiError::BadRequest)
}

fn with_etag(record: &Value, mut response: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{}\"", record["version"])) {
        response.headers_mut().insert(header::ETAG, v);
    }
    response
}

async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath(name): ApiPath<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let resource = resource(&state, &name)?;
    let params =
        ListParams::parse(query.as_deref().unwrap_or("")).map_err(|e| ApiError::BadRequest(e.0))?;
    // The rows arrive as JSON from the database and go out verbatim.
    let page_max = Some(state.config.page_max);
    let (rows, total) = read::list_json(&state.store, resource, &params, page_max).await?;
    let headers = [
        (TOTAL_COUNT, HeaderValue::from(total)),
        (
            header::ACCESS_CONTROL_EXPOSE_HEADERS,
            HeaderValue::from_static("x-total-count"),
        ),
        (
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ),
    ];
    Ok((headers, rows).into_response())
}

async fn get_one(
    State(state): State<AppState>,
    _user: CurrentUser,
    ApiPath((name, id)): ApiPath<(String, String)>,
) -> Result<Response, ApiError> {
    let resource = resource(&state, &name)?;
    let record = read::get_one(state.store.pool(), resource, &parse_id(resource, &id)?).await?;
    Ok(with_etag(&record, Json(&record).into_response()))
}

async fn create(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath(name): ApiPath<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let resource = resource(&state, &name)?;
    let record = state
        .store
        .commit(resource, &actor, Change::Create { data: body })
        .await?;
    Ok(with_etag(
        &record,
        (StatusCode::CREATED, Json(&record)).into_response(),
    ))
}

async fn update(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((name, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Response, ApiError> {
    let resource = resource(&state, &name)?;
    let id = parse_id(resource, &id)?;
    let expected_version = match if_match(&headers)? {
        Some(v) => Some(v),
        None => body_version(&body)?,
    };
    let change = Change::Update {
        id,
        data: body,
        expected_version,
    };
    let record = state.store.commit(resource, &actor, change).await?;
    Ok(with_etag(&record, Json(&record).into_response()))
}

async fn delete(
    State(state): State<AppState>,
    actor: Actor,
    ApiPath((name, id)): ApiPath<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let resource = resource(&state, &name)?;
    let change = Change::Delete {
        id: parse_id(resource, &id)?,
        expected_version: if_match(&headers)?,
    };
    let record = state.store.commit(resource, &actor, change).await?;
    Ok(Json(record).into_response())
}

/// `If-Match: "3"` (weak `W/"3"` and bare `3` accepted) → `Some(3)`.
fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(raw) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = raw.to_str().unwrap_or_default().trim();
    let tag = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    tag.parse().map(Some).map_err(|_| {
        ApiError::BadRequest(format!(
            "If-Match must be a record version like \"3\", got '{text}'"
        ))
    })
}

/// The `version` field of an update body, if present.
fn body_version(body: &Map<String, Value>) -> Result<Option<i64>, ApiError> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| ApiError::BadRequest("version must be an integer".to_owned())),
    }
}
