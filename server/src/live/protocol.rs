//! The server's side of the wire: the frames come from `herald-protocol` (one definition for
//! browser and server); this module adds the server's refusal type, [`FrameError`], and
//! spells the frames the hub and connections send as text.

pub use herald_protocol::live::frame::event_frame_text as event;
pub use herald_protocol::live::{ClientFrame, ErrorCode, ServerFrame};

/// A refusal of one client frame; the connection stays usable.
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

/// `{"op":"subscribed",…}`.
pub fn subscribed(sub: &str, cursor: &str) -> String {
    ServerFrame::Subscribed {
        sub: sub.to_owned(),
        cursor: cursor.to_owned(),
    }
    .to_text()
}

/// `{"op":"unsubscribed",…}`.
pub fn unsubscribed(sub: &str) -> String {
    ServerFrame::Unsubscribed {
        sub: sub.to_owned(),
    }
    .to_text()
}

/// `{"op":"reset",…}`.
pub fn reset(sub: &str, reason: &str) -> String {
    ServerFrame::Reset {
        sub: sub.to_owned(),
        reason: reason.to_owned(),
    }
    .to_text()
}

/// `{"op":"error",…}`.
pub fn error(sub: Option<&str>, e: &FrameError) -> String {
    ServerFrame::error(sub, e.code, e.message.clone()).to_text()
}

/// `{"op":"pong"}`.
pub fn pong() -> String {
    ServerFrame::Pong.to_text()
}
