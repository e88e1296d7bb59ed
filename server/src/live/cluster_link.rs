//! The link between this node's hub and the cluster (several nodes on one PostgreSQL
//! database): what the hub tells the cluster ([`LocalChange`], sent over a channel), what
//! the cluster asks of the hub ([`HubLink`], which the hub implements), and the data both
//! speak ([`Members`], [`PUBLISH_LIMIT`]). The hub ([`super::hub`]) and the cluster
//! ([`super::cluster`]) both import this module and never each other. It holds data and
//! signatures only: no SQL, no sockets, no locks.

use herald_protocol::Identity;
use std::collections::{BTreeMap, HashMap};

/// The largest serialised ephemeral event that may cross nodes (PostgreSQL's NOTIFY
/// payload limit is 8,000 bytes; the rest is room for the envelope). The hub refuses larger
/// ones with `too_large` when it is part of a cluster.
pub const PUBLISH_LIMIT: usize = 7_500;

/// What the hub tells the cluster.
#[derive(Debug)]
pub enum LocalChange {
    /// `user` is now present on `channel` on this node (`here`), or no longer.
    Presence {
        channel: String,
        user: Identity,
        here: bool,
    },
    /// An ephemeral event published on this node, already serialised.
    Publish {
        channel: String,
        kind: String,
        body: String,
    },
}

/// Remote presence: channel → user id → user.
pub type Members = HashMap<String, BTreeMap<i64, Identity>>;

/// What the cluster asks of this node's hub.
pub trait HubLink: Send + Sync + 'static {
    /// Every (presence channel, user) present on this node, for re-registering.
    fn local_presence(&self) -> Vec<(String, Identity)>;

    /// Other nodes' users on every channel, as last read: announces who joined and left.
    fn replace_remote_presence(&self, members: Members);

    /// Other nodes' users on `channel`, as last read: announces who joined and left.
    fn set_remote_presence(&self, channel: &str, now: BTreeMap<i64, Identity>);

    /// An ephemeral event published on another node (`body` is the serialised event).
    fn remote_publish(&self, channel: &str, kind: &str, body: String);
}
