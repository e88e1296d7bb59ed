//! The hub: every open live connection, its subscriptions and the presence of users, and
//! the fan-out of events to them. It owns ordering (events reach a subscription in log
//! order, a resumed subscription gets replay then live with no gap and no duplicate) and
//! isolation (a connection that cannot keep up is cut off; nobody waits for it).
//! It knows nothing of sockets: connections hand it a queue and read frames from it.
//! On PostgreSQL it also starts this node's log follower and cluster membership
//! ([`super::cluster`]): presence shown to clients is this node's users plus other nodes',
//! and a `join`/`leave` is announced only when a user appears or disappears everywhere.
//!
//! Ordering argument: the dispatcher applies committed events strictly in `seq` order and
//! records the last one applied (`last_seq`) under the hub lock. A subscribe registers under
//! that same lock and takes `last_seq` as its head `D`: every event after `D` will be
//! dispatched to it live (buffered while it replays), and replay reads `(since, D]` from
//! the log — the two ranges meet exactly.

use super::channel::Channel;
use super::cluster::{self, Cluster, LocalChange, Members};
use super::cursor::Cursor;
use super::protocol::{self, ErrorCode, FrameError};
use crate::config::LiveConfig;
use crate::store::sql::Backend;
use crate::store::{log, LoggedEvent, Store};
use axum::extract::ws::Utf8Bytes;
use herald_protocol::Identity;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::{broadcast, mpsc};
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

/// Why a connection is being closed by the server.
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const CLOSE_TOO_BIG: u16 = 1009;
pub const CLOSE_TRY_AGAIN: u16 = 1013;

/// Events read from the log per query while replaying or catching up.
const LOG_PAGE: i64 = 500;

/// A shared handle to the hub. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    store: Store,
    config: LiveConfig,
    next_conn: AtomicU64,
    shutdown: CancellationToken,
}

#[derive(Default)]
struct State {
    /// The last log `seq` dispatched.
    last_seq: i64,
    conns: HashMap<ConnId, Conn>,
    /// channel → subscriptions on it.
    channels: HashMap<String, Vec<(ConnId, Arc<str>)>>,
    /// presence channel → user id → (user, subscriptions of that user on the channel).
    presence: HashMap<String, BTreeMap<i64, (Identity, usize)>>,
    /// Users present on other nodes (PostgreSQL clusters only).
    remote: Members,
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

    fn present_elsewhere(&self, channel: &str, user: i64) -> bool {
        self.remote
            .get(channel)
            .is_some_and(|members| members.contains_key(&user))
    }

    fn present_here(&self, channel: &str, user: i64) -> bool {
        self.presence
            .get(channel)
            .is_some_and(|members| members.contains_key(&user))
    }
}

struct Conn {
    user: Identity,
    tx: mpsc::Sender<Outbound>,
    cancel: CancellationToken,
    subs: HashMap<Arc<str>, Sub>,
}

struct Sub {
    channel: String,
    presence: bool,
    /// `None` = every type.
    types: Option<HashSet<String>>,
    ids: Option<HashSet<String>>,
    /// While replaying, live frames wait here.
    buffered: Option<Vec<Utf8Bytes>>,
}

impl Sub {
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

/// A subscribe request, validated for syntax.
#[derive(Debug)]
pub struct SubscribeRequest {
    pub sub: String,
    pub channel: String,
    pub types: Option<Vec<String>>,
    pub ids: Option<Vec<String>>,
    pub since: Option<String>,
}

/// What the connection must do after a successful subscribe.
#[derive(Debug)]
pub struct Replay {
    sub: Arc<str>,
    channel: String,
    after: i64,
    upto: i64,
}

/// One event to fan out, serialised once.
struct Fanout<'a> {
    channel: &'a str,
    kind: &'a str,
    ids: Option<Vec<String>>,
    body: String,
    cursor: Option<String>,
}

impl Fanout<'_> {
    fn frame(&self, sub: &str) -> Utf8Bytes {
        protocol::event(sub, self.cursor.as_deref(), &self.body).into()
    }
}

fn payload_ids(payload: &Value) -> Option<Vec<String>> {
    payload.get("ids")?.as_array().map(|ids| {
        ids.iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect()
    })
}

fn wire_user(user: &Identity) -> Value {
    json!({ "id": user.id.to_string(), "name": user.name })
}

impl Hub {
    /// Starts the hub over `store`: the dispatcher follows committed events and retention
    /// trims the log, both until [`Hub::shutdown`].
    pub async fn start(store: Store, config: LiveConfig) -> Result<Hub, sqlx::Error> {
        // Subscribe before reading the head: nothing can fall between the two.
        let committed = store.subscribe_committed();
        let head = log::head(store.pool()).await?;
        let clustered = store.backend() == Backend::Postgres;
        let (cluster_tx, cluster_rx) = mpsc::unbounded_channel();
        let hub = Hub {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    last_seq: head,
                    cluster: clustered.then_some(cluster_tx),
                    ..State::default()
                }),
                store: store.clone(),
                config,
                next_conn: AtomicU64::new(1),
                shutdown: CancellationToken::new(),
            }),
        };
        tokio::spawn(hub.clone().dispatch_committed(committed));
        tokio::spawn(hub.clone().retention());
        if clustered {
            let config = hub.inner.config.cluster.clone();
            let shutdown = hub.inner.shutdown.clone();
            tokio::spawn(
                store
                    .clone()
                    .follow_other_nodes(config.poll, shutdown.clone()),
            );
            tokio::spawn(Cluster::run(
                store,
                hub.clone(),
                config,
                cluster_rx,
                shutdown,
            ));
        }
        Ok(hub)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live limits in force.
    pub fn config(&self) -> &LiveConfig {
        &self.inner.config
    }

    /// Cancelled when the server shuts down.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Closes every connection with 1001 (clients reconnect and resume elsewhere/later).
    pub fn shutdown(&self) {
        self.inner.shutdown.cancel();
    }

    /// Number of open connections (for metrics and tests).
    pub fn connection_count(&self) -> usize {
        self.lock().conns.len()
    }

    /// Registers a connection; frames for it go to `tx`; `cancel` fires if it is cut off.
    pub fn connect(
        &self,
        user: Identity,
        tx: mpsc::Sender<Outbound>,
        cancel: CancellationToken,
    ) -> ConnId {
        let id = self.inner.next_conn.fetch_add(1, Ordering::Relaxed);
        let conn = Conn {
            user,
            tx,
            cancel,
            subs: HashMap::new(),
        };
        self.lock().conns.insert(id, conn);
        id
    }

    /// Removes a connection and everything it had (presence included).
    pub fn disconnect(&self, id: ConnId) {
        let mut state = self.lock();
        remove_conn(&mut state, id, false);
    }

    /// Handles `subscribe`. On success the `subscribed` frame (and `sync` or `reset`) is
    /// already queued; a returned [`Replay`] must be run with [`Hub::replay`].
    pub fn subscribe(
        &self,
        conn: ConnId,
        req: SubscribeRequest,
        trimmed_upto: i64,
    ) -> Result<Option<Replay>, FrameError> {
        let channel = Channel::parse(&req.channel, self.inner.store.schema())?;
        let log_id = self.inner.store.log_id().to_owned();
        let mut state = self.lock();
        let head = state.last_seq;
        let State {
            conns,
            channels,
            presence,
            remote,
            cluster,
            ..
        } = &mut *state;
        let c = conns
            .get_mut(&conn)
            .ok_or_else(|| FrameError::new(ErrorCode::BadRequest, "connection closed"))?;
        channel.check_subscribe(&c.user)?;
        if c.subs.contains_key(req.sub.as_str()) {
            return Err(FrameError::new(
                ErrorCode::BadRequest,
                format!("subscription '{}' already exists", req.sub),
            ));
        }
        if c.subs.len() >= self.inner.config.max_subscriptions {
            return Err(FrameError::new(
                ErrorCode::TooLarge,
                format!(
                    "at most {} subscriptions per connection",
                    self.inner.config.max_subscriptions
                ),
            ));
        }
        // Resume point: replay (since, head] when the log still covers it, else reset.
        let (replay_after, reset) = match (&req.since, channel.durable()) {
            (Some(since), true) => match Cursor::decode(since, &log_id) {
                Some(Cursor(s)) if s >= trimmed_upto && s <= head => (Some(s), None),
                Some(Cursor(s)) if s > head => (None, Some("cursor is ahead of this log")),
                Some(_) => (None, Some("cursor is older than the retained log")),
                None => (None, Some("cursor is not from this log")),
            },
            _ => (None, None),
        };
        let sub_id: Arc<str> = req.sub.into();
        let types = req
            .types
            .filter(|t| !t.iter().any(|t| t == "*"))
            .map(|t| t.into_iter().collect());
        let is_presence = channel == Channel::Presence;
        let needs_replay = replay_after.is_some_and(|s| s < head);
        c.subs.insert(
            sub_id.clone(),
            Sub {
                channel: req.channel.clone(),
                presence: is_presence,
                types,
                ids: req.ids.map(|ids| ids.into_iter().collect()),
                buffered: needs_replay.then(Vec::new),
            },
        );
        let user = c.user.clone();
        let mut frames = vec![protocol::subscribed(&sub_id, &Cursor(head).encode(&log_id))];
        if let Some(reason) = reset {
            frames.push(protocol::reset(&sub_id, reason));
        }
        let mut dead = Vec::new();
        if is_presence {
            let members = presence.entry(req.channel.clone()).or_default();
            let entry = members.entry(user.id).or_insert_with(|| (user.clone(), 0));
            entry.1 += 1;
            let first_here = entry.1 == 1;
            let elsewhere = remote.get(&req.channel);
            let mut everyone: BTreeMap<i64, &Identity> =
                members.iter().map(|(id, (u, _))| (*id, u)).collect();
            everyone.extend(elsewhere.into_iter().flatten().map(|(id, u)| (*id, u)));
            let users: Vec<Value> = everyone.values().map(|u| wire_user(u)).collect();
            let joined = first_here && !elsewhere.is_some_and(|m| m.contains_key(&user.id));
            if first_here {
                if let Some(cluster) = cluster {
                    let _ = cluster.send(LocalChange::Presence {
                        channel: req.channel.clone(),
                        user: user.clone(),
                        here: true,
                    });
                }
            }
            let sync = Fanout {
                channel: &req.channel,
                kind: "sync",
                ids: None,
                body: event_body(&req.channel, "sync", json!({ "users": users }), &user, None),
                cursor: None,
            };
            frames.push(protocol::event(&sub_id, None, &sync.body));
            if joined {
                let join = presence_event(&req.channel, "join", &user);
                dead.extend(fan_out(conns, channels.get(&req.channel), &join));
            }
        }
        channels
            .entry(req.channel.clone())
            .or_default()
            .push((conn, sub_id.clone()));
        if let Some(c) = conns.get(&conn) {
            if frames
                .into_iter()
                .any(|f| c.tx.try_send(Outbound::Text(f.into())).is_err())
            {
                dead.push(conn);
            }
        }
        for id in dead {
            remove_conn(&mut state, id, true);
        }
        Ok(needs_replay.then(|| Replay {
            sub: sub_id,
            channel: req.channel,
            after: replay_after.unwrap_or(head),
            upto: head,
        }))
    }

    /// Sends the logged events of a resumed subscription, then switches it to live.
    /// Runs on the connection's own task: it may wait for that connection's queue, and
    /// nobody else waits for it.
    pub async fn replay(
        &self,
        conn: ConnId,
        tx: &mpsc::Sender<Outbound>,
        replay: Replay,
    ) -> Result<(), sqlx::Error> {
        let log_id = self.inner.store.log_id().to_owned();
        let mut after = replay.after;
        loop {
            let page = log::read_range(
                self.inner.store.pool(),
                &replay.channel,
                after,
                replay.upto,
                LOG_PAGE,
            )
            .await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            let frames: Vec<Utf8Bytes> = {
                let state = self.lock();
                let Some(sub) = state.conns.get(&conn).and_then(|c| c.subs.get(&replay.sub)) else {
                    return Ok(()); // unsubscribed or disconnected meanwhile
                };
                page.iter()
                    .filter(|e| sub.matches(&e.kind, payload_ids(&e.event["payload"]).as_deref()))
                    .map(|e| {
                        protocol::event(
                            &replay.sub,
                            Some(&Cursor(e.seq).encode(&log_id)),
                            &e.event.to_string(),
                        )
                        .into()
                    })
                    .collect()
            };
            for frame in frames {
                if tx.send(Outbound::Text(frame)).await.is_err() {
                    return Ok(());
                }
            }
        }
        // Retention may have trimmed under our feet: then the replay had a hole.
        let trimmed = log::trimmed_upto(self.inner.store.pool()).await?;
        let mut state = self.lock();
        let Some(c) = state.conns.get_mut(&conn) else {
            return Ok(());
        };
        let Some(sub) = c.subs.get_mut(&replay.sub) else {
            return Ok(());
        };
        let mut pending = sub.buffered.take().unwrap_or_default();
        if trimmed > replay.after {
            pending.insert(
                0,
                protocol::reset(&replay.sub, "the log was trimmed during replay").into(),
            );
        }
        if pending
            .into_iter()
            .any(|f| c.tx.try_send(Outbound::Text(f)).is_err())
        {
            remove_conn(&mut state, conn, true);
        }
        Ok(())
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
            c.tx.try_send(Outbound::Text(protocol::unsubscribed(sub).into()))
                .is_ok()
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
        let fanout = Fanout {
            channel,
            kind,
            ids: payload_ids(&payload),
            body: event_body(channel, kind, payload, &user, meta),
            cursor: None,
        };
        if state.cluster.is_some() {
            if fanout.body.len() > cluster::PUBLISH_LIMIT {
                return Err(FrameError::new(
                    ErrorCode::TooLarge,
                    format!(
                        "ephemeral events are limited to {} bytes when nodes share the channel",
                        cluster::PUBLISH_LIMIT
                    ),
                ));
            }
            state.tell_cluster(LocalChange::Publish {
                channel: channel.to_owned(),
                kind: kind.to_owned(),
                body: fanout.body.clone(),
            });
        }
        self.fan_out_ephemeral(&mut state, &fanout);
        Ok(())
    }

    fn fan_out_ephemeral(&self, state: &mut State, fanout: &Fanout<'_>) {
        let State {
            conns, channels, ..
        } = &mut *state;
        let dead = fan_out(conns, channels.get(fanout.channel), fanout);
        for id in dead {
            remove_conn(state, id, true);
        }
    }

    /// An ephemeral event published on another node.
    pub fn remote_publish(&self, channel: &str, kind: &str, body: String) {
        let ids = serde_json::from_str::<Value>(&body)
            .ok()
            .and_then(|event| payload_ids(&event["payload"]));
        let fanout = Fanout {
            channel,
            kind,
            ids,
            body,
            cursor: None,
        };
        self.fan_out_ephemeral(&mut self.lock(), &fanout);
    }

    /// Every (presence channel, user) present on this node, for re-registering.
    pub fn local_presence(&self) -> Vec<(String, Identity)> {
        let state = self.lock();
        state
            .presence
            .iter()
            .flat_map(|(channel, members)| {
                members
                    .values()
                    .map(move |(user, _)| (channel.clone(), user.clone()))
            })
            .collect()
    }

    /// Other nodes' users on every channel, as last read: announces who joined and left.
    pub fn replace_remote_presence(&self, mut members: Members) {
        let channels: HashSet<String> = {
            let state = self.lock();
            state.remote.keys().chain(members.keys()).cloned().collect()
        };
        for channel in channels {
            let now = members.remove(&channel).unwrap_or_default();
            self.set_remote_presence(&channel, now);
        }
    }

    /// Other nodes' users on `channel`, as last read: announces who joined and left.
    pub fn set_remote_presence(&self, channel: &str, now: BTreeMap<i64, Identity>) {
        let mut state = self.lock();
        let before = match now.is_empty() {
            true => state.remote.remove(channel),
            false => state.remote.insert(channel.to_owned(), now.clone()),
        }
        .unwrap_or_default();
        let joined = now.iter().filter(|(id, _)| !before.contains_key(id));
        let left = before.iter().filter(|(id, _)| !now.contains_key(id));
        let changes: Vec<(&str, &Identity)> = joined
            .map(|(_, u)| ("join", u))
            .chain(left.map(|(_, u)| ("leave", u)))
            .collect();
        for (kind, user) in changes {
            // Someone also here on this node was already announced, and stays.
            if state.present_here(channel, user.id) {
                continue;
            }
            let event = presence_event(channel, kind, user);
            self.fan_out_ephemeral(&mut state, &event);
        }
    }

    /// Dispatches one committed event (skipping any already dispatched).
    fn dispatch_logged(&self, event: &LoggedEvent) {
        let mut state = self.lock();
        if event.seq <= state.last_seq {
            return;
        }
        state.last_seq = event.seq;
        let fanout = Fanout {
            channel: &event.channel,
            kind: &event.kind,
            ids: payload_ids(&event.event["payload"]),
            body: event.event.to_string(),
            cursor: Some(Cursor(event.seq).encode(self.inner.store.log_id())),
        };
        let State {
            conns, channels, ..
        } = &mut *state;
        let dead = fan_out(conns, channels.get(&event.channel), &fanout);
        for id in dead {
            remove_conn(&mut state, id, true);
        }
    }

    /// Follows the store's committed events; after a lag, catches up from the log.
    async fn dispatch_committed(self, mut committed: broadcast::Receiver<Arc<LoggedEvent>>) {
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                received = committed.recv() => match received {
                    Ok(event) => self.dispatch_logged(&event),
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "live dispatcher lagged; catching up from the log");
                        if let Err(e) = self.catch_up().await {
                            tracing::error!(error = %e, "live dispatcher could not read the log");
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            }
        }
    }

    async fn catch_up(&self) -> Result<(), sqlx::Error> {
        loop {
            let after = self.lock().last_seq;
            let page = log::read_after(self.inner.store.pool(), after, LOG_PAGE).await?;
            if page.is_empty() {
                return Ok(());
            }
            for event in &page {
                self.dispatch_logged(event);
            }
        }
    }

    /// Applies the log's retention now and then.
    async fn retention(self) {
        let config = self.inner.config.clone();
        let mut tick = tokio::time::interval(config.trim_interval);
        loop {
            tokio::select! {
                () = self.inner.shutdown.cancelled() => return,
                _ = tick.tick() => {
                    let store = &self.inner.store;
                    match log::trim(store.pool(), store.backend(), config.keep_events, config.keep_age).await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(deleted = n, "event log trimmed"),
                        Err(e) => tracing::warn!(error = %e, "event log trim failed"),
                    }
                }
            }
        }
    }

    /// The highest trimmed `seq` (cursors below it get `reset`).
    pub async fn trimmed_upto(&self) -> Result<i64, sqlx::Error> {
        log::trimmed_upto(self.inner.store.pool()).await
    }
}

/// The event object of an ephemeral event, serialised.
fn event_body(
    channel: &str,
    kind: &str,
    payload: Value,
    user: &Identity,
    meta: Option<Map<String, Value>>,
) -> String {
    let mut meta = meta.unwrap_or_default();
    meta.insert("user".to_owned(), wire_user(user));
    meta.entry("origin").or_insert(Value::Null);
    json!({
        "channel": channel,
        "type": kind,
        "payload": payload,
        "date": log::now(),
        "meta": meta,
    })
    .to_string()
}

fn presence_event<'a>(channel: &'a str, kind: &'a str, user: &Identity) -> Fanout<'a> {
    Fanout {
        channel,
        kind,
        ids: None,
        body: event_body(
            channel,
            kind,
            json!({ "user": wire_user(user) }),
            user,
            None,
        ),
        cursor: None,
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
        if sub.channel != event.channel || !sub.matches(event.kind, event.ids.as_deref()) {
            continue;
        }
        let frame = frames
            .entry(sub_id)
            .or_insert_with(|| event.frame(sub_id))
            .clone();
        let full = match &mut sub.buffered {
            Some(buffer) => {
                buffer.push(frame);
                buffer.len() > conn.tx.max_capacity()
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
    let Some(members) = state.presence.get_mut(&sub.channel) else {
        return;
    };
    let Some(entry) = members.get_mut(&user.id) else {
        return;
    };
    entry.1 -= 1;
    if entry.1 > 0 {
        return;
    }
    members.remove(&user.id);
    if members.is_empty() {
        state.presence.remove(&sub.channel);
    }
    state.tell_cluster(LocalChange::Presence {
        channel: sub.channel.clone(),
        user: user.clone(),
        here: false,
    });
    if state.present_elsewhere(&sub.channel, user.id) {
        return;
    }
    let leave = presence_event(&sub.channel, "leave", &user);
    let State {
        conns, channels, ..
    } = state;
    let dead = fan_out(conns, channels.get(&sub.channel), &leave);
    for id in dead {
        remove_conn(state, id, true);
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
