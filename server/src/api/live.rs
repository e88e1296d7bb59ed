//! `GET /api/live`: the WebSocket upgrade into the live channel. Refused with 401 without a
//! session and 403 for a foreign `Origin`; an accepted socket is handed to
//! [`crate::live::connection::run`].

use crate::auth::{credentials, identify, origin_allowed, session};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::{State, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

/// Outgoing bytes collected before a write to the socket (the writer also flushes after
/// each batch, so nothing waits for the buffer to fill).
const WRITE_BUFFER: usize = 16 * 1024;

/// Per-socket read buffer. tungstenite's default (128 KiB) is allocated up front for every
/// socket; frames are at most 64 KiB and the buffer grows when one needs it.
const READ_BUFFER: usize = 8 * 1024;

/// `GET /api/live`.
pub async fn upgrade(
    State(state): State<AppState>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let user = identify(&state.store, &headers)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return Err(ApiError::Forbidden("origin not allowed".to_owned()));
    }
    let ws = ws.map_err(|e| ApiError::BadRequest(format!("expected a WebSocket upgrade: {e}")))?;
    // The place is taken before upgrading, so concurrent upgrades cannot overshoot the limit;
    // the connection holds it until it ends.
    let admission = state
        .hub
        .limits()
        .admit(user.id)
        .ok_or_else(|| ApiError::RateLimited {
            message: format!(
                "too many live connections for this user (at most {})",
                state.config.live.user_connections
            ),
            retry_after_secs: 5,
        })?;
    // The connection remembers its session (as stored: a digest) so it ends with it (4401).
    let session = credentials(&headers).map(|secret| session::digest(&secret));
    let limit = state.config.live.frame_limit;
    let hub = state.hub.clone();
    Ok(ws
        .max_message_size(limit)
        .max_frame_size(limit)
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .on_upgrade(move |socket| {
            crate::live::connection::run(socket, hub, user, session, admission)
        })
        .into_response())
}
