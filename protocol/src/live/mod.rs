//! The live protocol v1 (`GET /api/live`, `docs/live-protocol.md`): events, the frames each
//! side sends, and the channel names both sides build.

pub mod channel;
pub mod event;
pub mod frame;

pub use event::LiveEvent;
pub use frame::{ClientFrame, ErrorCode, ServerFrame, SubscribeParams};
