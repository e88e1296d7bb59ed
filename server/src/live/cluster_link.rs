//! The link between this node's hub and the cluster (several nodes on one PostgreSQL
//! database): what the hub tells the cluster ([`LocalChange`], sent over a channel), what
//! the cluster asks of the hub ([`HubLink`], which the hub implements), and the data both
//! speak ([`Members`], [`PUBLISH_LIMIT`]). The hub ([`super::hub`]) and the cluster
//! ([`super::cluster`]) both import this module and never each other. It holds data and
//! signatures only: no SQL, no sockets, no locks.

use herald_protocol::Identity;
use std::collections::{BTreeMap, HashMap};

/// The longest NOTIFY payload PostgreSQL accepts, in bytes (it must be shorter than 8,000;
/// a longer one fails, and the notification is lost).
pub const NOTIFY_MAX: usize = 7_999;

/// What the cluster adds around a serialised ephemeral event in its notification, in bytes,
/// always exactly: the MAC (64 hex digits), `:`, the sending node (16 hex digits), `:`.
/// The event itself is carried verbatim, not escaped (`super::cluster`).
pub const PUBLISH_ENVELOPE: usize = 64 + 1 + 16 + 1;

/// The largest serialised ephemeral event that may cross nodes: exactly what keeps the
/// notification actually sent (envelope included) within [`NOTIFY_MAX`]. The hub refuses
/// larger ones with `too_large` when it is part of a cluster, so none is dropped silently.
pub const PUBLISH_LIMIT: usize = NOTIFY_MAX - PUBLISH_ENVELOPE;

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

    /// An ephemeral event published on another node (`body` is the serialised event, as
    /// the cluster re-serialised it after checking it).
    fn remote_publish(&self, channel: &str, kind: &str, body: String);
}
