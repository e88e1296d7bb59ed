//! The hub: the registry of this node's live connections and their subscriptions, and the
//! fan-out of one event to every matching subscription on its channel. A connection hands
//! the hub a queue and reads [`Outbound`] frames from it; an event frame is built once per
//! subscription id and the same bytes are queued for every subscription with that id. The
//! hub owns isolation: a connection whose queue is full is cut off, and nobody waits for it.
//! What an outgoing event holds and how it is serialised is [`super::event`]; presence is
//! bookkept by [`super::presence`], and the hub carries out its decisions (`sync`, `join`
//! and `leave` events, telling the cluster).
//!
//! It knows nothing of sockets, and nothing of the tasks that feed it: the dispatcher
//! ([`super::dispatch`]) hands it committed events, replay ([`super::replay`]) drives a
//! resumed subscription back to live, and on PostgreSQL the cluster ([`super::cluster`])
//! calls it as a [`HubLink`] and hears from it through [`LocalChange`]s
//! ([`super::cluster_link`]). [`Hub::start`] ([`super::start`]) wires them together.
//!
//! Ordering: events reach a subscription in log order, and a resumed subscription gets
//! replay then live with no gap and no duplicate. The dispatcher hands the hub committed
//! events strictly in `seq` order (its module doc says why none is missed); `apply` skips
//! any already applied and records the last one applied (`last_seq`) under the hub lock. A
//! subscribe registers under that same lock and takes `last_seq` as its head `D`: every
//! event after `D` will be dispatched to it live (buffered while it replays), and replay
//! reads `(since, D]` from the log — the two ranges meet exactly. When replay is done,
//! `go_live` queues the buffered frames after the replayed ones, under the lock, and the
//! subscription is live.

use super::channel::Channel;
use super::cluster_link::{HubLink, LocalChange, Members, PUBLISH_LIMIT};
use super::cursor::Cursor;
use super::event::{self, Fanout};
use super::limits::UserLimits;
use super::presence::{Kind, Presence};
use super::protocol::FrameError;
use super::queue::QueueTx;
use super::replay::{self, Replay, Resume};
use crate::config::LiveConfig;
use crate::store::{log, LoggedEvent, Store};
use axum::extract::ws::Utf8Bytes;
use herald_protocol::{ErrorCode, Identity, ServerFrame};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Identifies one WebSocket connection.
pub type ConnId = u64;

/// What the hub puts on a connection's queue. Text is shared bytes: one event frame is
/// built once and queued for every subscription that has the same id.
#[derive(Debug)]
pub enum Outbound {
    Text(Utf8Bytes),
    /// The heartbeat's cue to ping.
    Ping,
    /// Close with this code and reason, then stop.
    Close(u16, &'static str),
}

impl From<ServerFrame> for Outbound {
    fn from(frame: ServerFrame) -> Self {
        Outbound::Text(frame.to_text().into())
    }
}

/// Why a connection is being closed by the server.
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_TRY_AGAIN: u16 = 1013;

/// A shared handle to the hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    store: Store,
    config: LiveConfig,
    /// Per-user connection counts and rate limits (their own lock: checked per frame).
    limits: Arc<UserLimits>,
    next_conn: AtomicU64,
    shutdown: CancellationToken,
}

struct State {
    /// The last log `seq` dispatched.
    last_seq: i64,
    conns: HashMap<ConnId, Conn>,
    /// channel → subscriptions on it.
    channels: HashMap<String, Vec<(ConnId, Arc<str>)>>,
    /// Who is on which presence channel, here and on other nodes.
    presence: Presence,
    /// Where presence changes and ephemeral events go to reach other nodes.
    cluster: Option<mpsc::UnboundedSender<LocalChange>>,
}

impl State {
    /// Tells other nodes (if any) about a change on this one.
    fn tell_cluster(&self, change: LocalChange) {
        if let Some(cluster) = &self.cluster {
            // The receiver lives until shutdown; a change after that has nobody to reach.
            let _ = cluster.send(change);
        }
    }

    /// Queues `event` for the matching subscriptions on its channel and cuts off the
    /// connections whose queue is full.
    fn deliver(&mut self, event: &Fanout<'_>) {
        let dead = fan_out(&mut self.conns, self.channels.get(event.channel), event);
        for id in dead {
            remove_conn(self, id, true);
        }
    }
}

struct Conn {
    user: Identity,
    tx: QueueTx,
    cancel: CancellationToken,
    /// The session it was opened with, watched by [`super::sessions`].
    session: Option<SessionWatch>,
    subs: HashMap<Arc<str>, Sub>,
}

struct Sub {
    channel: String,
    presence: bool,
    filter: Arc<Filter>,
    /// While replaying, live frames wait here.
    buffered: Option<Vec<Utf8Bytes>>,
}

/// What a subscription lets through. Shared, so a replay can filter and serialise its page
/// outside the hub lock.
struct Filter {
    /// `None` = every type.
    types: Option<HashSet<String>>,
    ids: Option<HashSet<String>>,
}

impl Filter {
    fn matches(&self, kind: &str, ids: Option<&[String]>) -> bool {
        let type_ok = self.types.as_ref().is_none_or(|t| t.contains(kind));
        let ids_ok = match (&self.ids, ids) {
            (None, _) => true,
            (Some(want), Some(have)) => have.iter().any(|id| want.contains(id)),
            (Some(_), None) => false,
        };
        type_ok && ids_ok
    }
}

/// The session behind a connection: its digest (never the secret), and the signal its
/// connection ends on (close 4401) once the session is gone.
#[derive(Debug, Clone)]
pub struct SessionWatch {
    pub digest: Arc<str>,
    pub ended: CancellationToken,
}

/// A subscribe request, validated for syntax.
#[derive(Debug)]
pub struct SubscribeRequest {
    pub sub: String,
    pub channel: String,
    pub types: Option<Vec<String>>,
    pub ids: Option<Vec<String>>,
    pub since: Option<String>,
}

impl Hub {
    /// A hub over `store` whose dispatcher has applied the log up to `head`; presence
    /// changes and ephemeral events go to `cluster`, if any. Nothing feeds it yet:
    /// [`Hub::start`] is the way to get a running one.
    pub(super) fn new(
        store: Store,
        config: LiveConfig,
        head: i64,
        cluster: Option<mpsc::UnboundedSender<LocalChange>>,
    ) -> Hub {
        Hub {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    last_seq: head,
                    conns: HashMap::new(),
                    channels: HashMap::new(),
                    presence: Presence::default(),
                    cluster,
                }),
                store,
                limits: UserLimits::new(
                    config.publish_rate,
                    config.publish_burst,
                    config.user_connections,
                ),
                config,
                next_conn: AtomicU64::new(1),
                shutdown: CancellationToken::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live limits in force.
    pub fn config(&self) -> &LiveConfig {
        &self.inner.config
    }

    /// The store whose events it fans out.
    pub(super) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Cancelled when the server shuts down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Closes every connection with 1001 (clients reconnect and resume elsewhere/later).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// The per-user limits: connections held, and the bucket their publishes, subscribes and
    /// unsubscribes share.
    pub fn limits(&self) -> &Arc<UserLimits> {
        &self.inner.limits
    }

    /// Number of open connections (for metrics and tests).
    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    /// Registers a connection; frames for it go to `tx`; `cancel` fires if it is cut off;
    /// `session`, if given, is watched and ends the connection when it ends.
    pub fn connect(
        &self,
        user: Identity,
        tx: QueueTx,
        cancel: CancellationToken,
        session: Option<SessionWatch>,
    ) -> ConnId {
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let conn = Conn {
            user,
            tx,
            cancel,
            session,
            subs: HashMap::new(),
        };
        self.lock().conns.insert(id, conn);
        id
    }

    /// Cuts a connection off (close 1013: it did not read), removing everything it had.
    pub(super) fn cut_off(&self, id: ConnId) {
        let mut state = self.lock();
        remove_conn(&mut state, id, true);
    }

    /// The sessions behind open connections (digests, each once).
    pub(super) fn session_digests(&self) -> Vec<String> {
        let state = self.lock();
        let digests: HashSet<&str> = state
            .conns
            .values()
            .filter_map(|c| c.session.as_ref().map(|s| &*s.digest))
            .collect();
        digests.into_iter().map(str::to_owned).collect()
    }

    /// Signals the connections of sessions not in `alive` to close with 4401; returns how
    /// many.
    pub(super) fn end_sessions_except(&self, alive: &HashSet<String>) -> usize {
        let state = self.lock();
        let ended: Vec<&SessionWatch> = state
            .conns
            .values()
            .filter_map(|c| c.session.as_ref())
            .filter(|s| !alive.contains(&*s.digest))
            .collect();
        for s in &ended {
            s.ended.cancel();
        }
        ended.len()
    }

    /// Removes a connection and everything it had (presence included).
    pub fn disconnect(&self, id: ConnId) {
        let mut state = self.lock();
        remove_conn(&mut state, id, false);
    }

    /// Handles `subscribe`, all of it: the `subscribed` frame (and `sync` or `reset`) is
    /// queued at once, and a resumed subscription then gets the logged events it missed
    /// before it goes live. Runs on the connection's own task: replay may wait for that
    /// connection's queue, and nobody else waits for it. `Err` is the refusal to send back;
    /// a replay that fails is answered with `reset` (refetch) instead.
    pub async fn subscribe(&self, conn: ConnId, req: SubscribeRequest) -> Result<(), FrameError> {
        let trimmed = log::trimmed_upto(self.inner.store.pool())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "reading log retention failed");
                FrameError::new(ErrorCode::BadRequest, "the event log is unavailable")
            })?;
        if let Some(replay) = self.register(conn, req, trimmed)? {
            replay::run(self, replay).await;
        }
        Ok(())
    }

    /// Registers a subscription (cursors at or below `trimmed_upto` are gone from the log)
    /// and queues its first frames; returns the replay it needs, if any.
    fn register(
        &self,
        conn: ConnId,
        req: SubscribeRequest,
        trimmed_upto: i64,
    ) -> Result<Option<Replay>, FrameError> {
        let channel = Channel::parse(&req.channel, self.inner.store.schema())?;
        let log_id = self.inner.store.log_id();
        let max_subscriptions = self.inner.config.max_subscriptions;
        let mut guard = self.lock();
        let state = &mut *guard;
        let head = state.last_seq;
        let c = state
            .conns
            .get_mut(&conn)
            .ok_or_else(|| FrameError::new(ErrorCode::BadRequest, "connection closed"))?;
        channel.check_subscribe(&c.user)?;
        if c.subs.contains_key(req.sub.as_str()) {
            return Err(FrameError::new(
                ErrorCode::BadRequest,
                format!("subscription '{}' already exists", req.sub),
            ));
        }
        if c.subs.len() >= max_subscriptions {
            return Err(FrameError::new(
                ErrorCode::TooLarge,
                format!("at most {max_subscriptions} subscriptions per connection"),
            ));
        }
        let resume = replay::resume_point(
            req.since.as_deref(),
            channel.durable(),
            log_id,
            trimmed_upto,
            head,
        );
        let sub_id: Arc<str> = req.sub.into();
        let types = req
            .types
            .filter(|t| !t.iter().any(|t| t == "*"))
            .map(|t| t.into_iter().collect());
        let is_presence = channel == Channel::Presence;
        c.subs.insert(
            sub_id.clone(),
            Sub {
                channel: req.channel.clone(),
                presence: is_presence,
                filter: Arc::new(Filter {
                    types,
                    ids: req.ids.map(|ids| ids.into_iter().collect()),
                }),
                buffered: matches!(resume, Resume::Replay { .. }).then(Vec::new),
            },
        );
        let user = c.user.clone();
        let tx = c.tx.clone();
        let mut frames = vec![ServerFrame::Subscribed {
            sub: sub_id.to_string(),
            cursor: Cursor(head).encode(log_id),
        }
        .to_text()];
        if let Resume::Reset(reason) = resume {
            frames.push(
                ServerFrame::Reset {
                    sub: sub_id.to_string(),
                    reason: reason.to_owned(),
                }
                .to_text(),
            );
        }
        // Connections cut off meanwhile are removed last, once this subscription is on its
        // channel with its `sync` queued: a user who leaves with them was in that `sync`,
        // and the newcomer hears their `leave` after it.
        let mut dead = Vec::new();
        if is_presence {
            let joined = state.presence.join(&req.channel, &user);
            if joined.first_here {
                state.tell_cluster(LocalChange::Presence {
                    channel: req.channel.clone(),
                    user: user.clone(),
                    here: true,
                });
            }
            frames.push(event::sync_frame(
                &sub_id,
                &req.channel,
                &user,
                &joined.members,
            ));
            if joined.announce {
                let join = Fanout::presence(&req.channel, Kind::Join, &user);
                dead.extend(fan_out(
                    &mut state.conns,
                    state.channels.get(&req.channel),
                    &join,
                ));
            }
        }
        state
            .channels
            .entry(req.channel.clone())
            .or_default()
            .push((conn, sub_id.clone()));
        if frames
            .into_iter()
            .any(|f| tx.try_send(Outbound::Text(f.into())).is_err())
        {
            dead.push(conn);
        }
        for id in dead {
            remove_conn(state, id, true);
        }
        Ok(match resume {
            Resume::Replay { after } => Some(Replay {
                conn,
                sub: sub_id,
                channel: req.channel,
                after,
                upto: head,
                tx,
            }),
            Resume::Live | Resume::Reset(_) => None,
        })
    }

    /// The frames of `page` (logged events, in order) that subscription `sub` of `conn`
    /// matches; `None` if it is gone (unsubscribed or disconnected meanwhile).
    pub(super) fn replay_frames(
        &self,
        conn: ConnId,
        sub: &str,
        page: &[LoggedEvent],
    ) -> Option<Vec<Utf8Bytes>> {
        let log_id = self.inner.store.log_id();
        // Only the filter is taken under the lock: serialising a page of events is not done
        // while every other connection waits for the hub.
        let filter = self.lock().conns.get(&conn)?.subs.get(sub)?.filter.clone();
        Some(
            page.iter()
                .filter(|e| {
                    let ids = event::payload_ids(&e.event["payload"]);
                    filter.matches(&e.kind, ids.as_deref())
                })
                .map(|e| event::logged_frame(sub, e, log_id))
                .collect(),
        )
    }

    /// Ends the replay of subscription `sub` of `conn`: queues a `reset` first if `reset`
    /// gives a reason, then the live frames buffered meanwhile, and switches it to live. A
    /// connection whose queue cannot take them is cut off.
    pub(super) fn go_live(&self, conn: ConnId, sub: &str, reset: Option<&str>) {
        let mut state = self.lock();
        let Some(c) = state.conns.get_mut(&conn) else {
            return;
        };
        let Some(s) = c.subs.get_mut(sub) else {
            return;
        };
        let mut pending = s.buffered.take().unwrap_or_default();
        if let Some(reason) = reset {
            let frame = ServerFrame::Reset {
                sub: sub.to_owned(),
                reason: reason.to_owned(),
            };
            pending.insert(0, frame.to_text().into());
        }
        if pending
            .into_iter()
            .any(|f| c.tx.try_send(Outbound::Text(f)).is_err())
        {
            remove_conn(&mut state, conn, true);
        }
    }

    /// Handles `unsubscribe`.
    pub fn unsubscribe(&self, conn: ConnId, sub: &str) -> Result<(), FrameError> {
        let mut state = self.lock();
        let Some(removed) = state.conns.get_mut(&conn).and_then(|c| c.subs.remove(sub)) else {
            return Err(FrameError::new(
                ErrorCode::NotFound,
                format!("no subscription '{sub}'"),
            ));
        };
        drop_sub(&mut state, conn, sub, &removed);
        let queued = state.conns.get(&conn).is_some_and(|c| {
            let frame = ServerFrame::Unsubscribed {
                sub: sub.to_owned(),
            };
            c.tx.try_send(frame.into()).is_ok()
        });
        if !queued {
            remove_conn(&mut state, conn, true);
        }
        Ok(())
    }

    /// Handles a client `publish` on an ephemeral channel. The server stamps `date` and
    /// `meta.user`; the client's other meta fields pass through.
    pub fn publish(
        &self,
        conn: ConnId,
        channel: &str,
        kind: &str,
        payload: Value,
        meta: Option<Map<String, Value>>,
    ) -> Result<(), FrameError> {
        Channel::parse(channel, self.inner.store.schema())?.check_publish(kind)?;
        let mut state = self.lock();
        let user = state
            .conns
            .get(&conn)
            .map(|c| c.user.clone())
            .ok_or_else(|| FrameError::new(ErrorCode::BadRequest, "connection closed"))?;
        let fanout = Fanout::published(channel, kind, payload, &user, meta);
        if state.cluster.is_some() {
            if fanout.body().len() > PUBLISH_LIMIT {
                return Err(FrameError::new(
                    ErrorCode::TooLarge,
                    format!(
                        "ephemeral events are limited to {PUBLISH_LIMIT} bytes when nodes share the channel"
                    ),
                ));
            }
            state.tell_cluster(LocalChange::Publish {
                channel: channel.to_owned(),
                kind: kind.to_owned(),
                body: fanout.body().to_owned(),
            });
        }
        state.deliver(&fanout);
        Ok(())
    }

    /// Fans out one committed event, unless it was applied already; events must come in
    /// `seq` order (see the ordering argument above).
    pub(super) fn apply(&self, event: &LoggedEvent) {
        let mut state = self.lock();
        if event.seq <= state.last_seq {
            return;
        }
        state.last_seq = event.seq;
        state.deliver(&Fanout::committed(event, self.inner.store.log_id()));
    }

    /// The `seq` of the last committed event applied.
    pub(super) fn last_applied(&self) -> i64 {
        self.lock().last_seq
    }
}

impl HubLink for Hub {
    fn local_presence(&self) -> Vec<(String, Identity)> {
        self.lock().presence.local_members()
    }

    fn replace_remote_presence(&self, mut members: Members) {
        let channels: HashSet<String> = {
            let state = self.lock();
            state
                .presence
                .remote_channels()
                .chain(members.keys())
                .cloned()
                .collect()
        };
        for channel in channels {
            let now = members.remove(&channel).unwrap_or_default();
            self.set_remote_presence(&channel, now);
        }
    }

    fn set_remote_presence(&self, channel: &str, now: BTreeMap<i64, Identity>) {
        let mut state = self.lock();
        for change in state.presence.set_remote(channel, now) {
            state.deliver(&Fanout::presence(channel, change.kind, &change.user));
        }
    }

    fn remote_publish(&self, channel: &str, kind: &str, body: String) {
        self.lock().deliver(&Fanout::remote(channel, kind, body));
    }
}

/// Queues `event` for every matching subscription on its channel; returns connections
/// whose queue was full (to be cut off by the caller).
fn fan_out(
    conns: &mut HashMap<ConnId, Conn>,
    subs: Option<&Vec<(ConnId, Arc<str>)>>,
    event: &Fanout<'_>,
) -> Vec<ConnId> {
    let mut dead = Vec::new();
    // Clients of one app name their subscriptions alike ("s1", "s2", …): subscriptions with
    // the same id get the very same frame, built once and shared by reference count.
    let mut frames: HashMap<&str, Utf8Bytes> = HashMap::new();
    for (conn_id, sub_id) in subs.into_iter().flatten() {
        let Some(conn) = conns.get_mut(conn_id) else {
            continue;
        };
        let Some(sub) = conn.subs.get_mut(sub_id) else {
            continue;
        };
        if sub.channel != event.channel || !sub.filter.matches(event.kind, event.ids.as_deref()) {
            continue;
        }
        let frame = frames
            .entry(sub_id)
            .or_insert_with(|| event.frame(sub_id))
            .clone();
        let full = match &mut sub.buffered {
            Some(buffer) => {
                buffer.push(frame);
                buffer.len() > conn.tx.max_frames()
            }
            None => conn.tx.try_send(Outbound::Text(frame)).is_err(),
        };
        if full {
            dead.push(*conn_id);
        }
    }
    dead
}

/// Takes a subscription off its channel, with presence bookkeeping.
fn drop_sub(state: &mut State, conn: ConnId, sub_id: &str, sub: &Sub) {
    if let Some(list) = state.channels.get_mut(&sub.channel) {
        list.retain(|(c, s)| !(*c == conn && &**s == sub_id));
        if list.is_empty() {
            state.channels.remove(&sub.channel);
        }
    }
    if !sub.presence {
        return;
    }
    let Some(user) = state.conns.get(&conn).map(|c| c.user.clone()) else {
        return;
    };
    let left = state.presence.leave(&sub.channel, user.id);
    if left.last_here {
        state.tell_cluster(LocalChange::Presence {
            channel: sub.channel.clone(),
            user: user.clone(),
            here: false,
        });
    }
    if left.announce {
        state.deliver(&Fanout::presence(&sub.channel, Kind::Leave, &user));
    }
}

/// Forgets a connection and all its subscriptions; `cut` also cancels it, so its tasks
/// stop and the peer is told it was too slow.
fn remove_conn(state: &mut State, id: ConnId, cut: bool) {
    let Some(conn) = state.conns.get_mut(&id) else {
        return;
    };
    if cut {
        conn.cancel.cancel();
    }
    let subs: Vec<(Arc<str>, Sub)> = conn.subs.drain().collect();
    for (sub_id, sub) in &subs {
        drop_sub(state, id, sub_id, sub);
    }
    state.conns.remove(&id);
}
