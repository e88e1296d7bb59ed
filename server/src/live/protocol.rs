//! The server's side of the wire. The frames themselves are `herald-protocol`'s — one
//! definition for browser and server: [`herald_protocol::ClientFrame`] in,
//! [`herald_protocol::ServerFrame`] out, and `event_frame_text` for event frames wrapped
//! around an event body serialised once. This module adds only [`FrameError`], the server's
//! refusal of one client frame.

use herald_protocol::ErrorCode;

/// A refusal of one client frame; the connection stays usable. It reaches the client as
/// an `error` frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FrameError {
    pub code: ErrorCode,
    pub message: String,
}

impl FrameError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}
