//! The live channel (`docs/live-protocol.md`): protocol frames, channel rules, cursors, the
//! hub that fans events out, and per-connection socket handling. The HTTP upgrade that opens
//! a connection is [`crate::api::live`].

pub mod channel;
pub mod cluster;
pub mod connection;
pub mod cursor;
pub mod hub;
pub mod protocol;
pub mod rate;
