//! The live channel (`docs/live-protocol.md`). The HTTP upgrade that opens a connection is
//! [`crate::api::live`]; from there:
//!
//! - [`connection`]: one WebSocket — reads client frames and answers them through the hub,
//!   writes the connection's queue to the socket, heartbeats, closes.
//! - [`hub`]: the registry of connections and subscriptions, the queue each connection
//!   reads, and the fan-out of one event to every matching subscription. Its module doc
//!   holds the ordering argument (log order; replay then live, no gap, no duplicate).
//! - [`event`]: an outgoing event, serialised once, and its frame per subscription id.
//! - [`presence`]: who is on which presence channel, here and on other nodes; returns
//!   `join`/`leave` decisions for the hub to carry out.
//! - [`replay`]: where a resumed subscription starts, and the logged events it missed.
//! - [`dispatch`]: the task that applies committed events to the hub in log order, and
//!   catches up from the log when it lags.
//! - [`retention`]: the task that trims the event log.
//! - [`cluster`] (PostgreSQL): presence and ephemeral events across nodes;
//!   [`cluster_link`]: what the hub and the cluster say to each other.
//! - [`start`]: [`hub::Hub::start`], which builds the hub and spawns the tasks above.
//! - [`channel`]: channel names and who may use them; [`cursor`]: resume positions;
//!   [`protocol`]: [`protocol::FrameError`], the refusal of one client frame;
//!   [`rate`]: the publish limiter.

pub mod channel;
pub mod cluster;
pub mod cluster_link;
pub mod connection;
pub mod cursor;
pub mod dispatch;
pub mod event;
pub mod hub;
pub mod limits;
pub mod presence;
pub mod protocol;
pub mod queue;
pub mod rate;
pub mod replay;
pub mod retention;
pub mod sessions;
pub mod start;

#[cfg(test)]
mod tests;
