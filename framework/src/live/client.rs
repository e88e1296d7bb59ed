//! The live protocol client, independent of any transport: it owns the wire
//! subscriptions (identical specs share one, refcounted), their resume cursors, and the
//! dispatch of server frames to handlers. A transport (the browser WebSocket, or a test
//! double) feeds it `on_open` / `on_frame` / `on_close` and sends the frames it returns.

use super::event::{ConnectionState, LiveMessage, SubscriptionSpec};
use crate::runtime::{Sleeper, Spawner};
use herald_protocol::live::{ClientFrame, ErrorCode, ServerFrame, SubscribeParams};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Receives what a subscription is told.
pub type LiveHandler = Arc<dyn Fn(LiveMessage) + Send + Sync>;
/// Receives connection state changes.
pub type StateHandler = Arc<dyn Fn(ConnectionState) + Send + Sync>;

/// Identifies one subscriber (not one wire subscription).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId(pub u64);

/// Sends frames to the server.
pub trait Transport: Send + Sync + 'static {
    /// Sends one text frame; `false` when the connection is not open.
    fn send(&self, frame: String) -> bool;

    /// Someone subscribed while not connected: a lazy transport dials now. Pages that
    /// never subscribe (sign-in, 404) thus never open a socket.
    fn wake(&self) {}
}

struct Wire {
    sub: String,
    /// Resume point: last event cursor, else the `since` sent, else the `subscribed` cursor.
    cursor: Option<String>,
    /// The head the server reported in the last `subscribed`.
    head: Option<String>,
    handlers: Vec<(SubscriptionId, LiveHandler)>,
}

#[derive(Default)]
struct State {
    open: bool,
    connection: Option<ConnectionState>,
    next_id: u64,
    wires: HashMap<SubscriptionSpec, Wire>,
    by_sub: HashMap<String, SubscriptionSpec>,
    owners: HashMap<SubscriptionId, SubscriptionSpec>,
    state_handlers: Vec<(u64, StateHandler)>,
    /// Frames sent on the wire since creation (for diagnostics and tests).
    wire_subscribes: u64,
    /// The signed-in user this client acts for, once the app knows it.
    user: Option<i64>,
}

/// The transport-independent live client.
///
/// ```
/// use herald_framework::live::{LiveClient, SubscriptionSpec, Transport};
/// use std::sync::{Arc, Mutex};
/// struct Sink(Mutex<Vec<String>>);
/// impl Transport for Sink { fn send(&self, f: String) -> bool { self.0.lock().unwrap().push(f); true } }
/// let sink = Arc::new(Sink(Mutex::new(vec![])));
/// let client = LiveClient::new("tab-1", sink.clone());
/// client.on_open();
/// let id = client.subscribe(SubscriptionSpec::channel("resources/posts"), Arc::new(|_| {}));
/// assert_eq!(client.wire_count(), 1);
/// client.unsubscribe(id);
/// assert_eq!(client.wire_count(), 0);
/// ```
pub struct LiveClient {
    origin: String,
    transport: Arc<dyn Transport>,
    state: Arc<Mutex<State>>,
    /// Timers for resending subscriptions the server refused as `rate_limited`.
    retry: Option<(Spawner, Sleeper)>,
}

/// How long a subscription refused as `rate_limited` waits before it is sent again (the
/// server's bucket refills many tokens a second).
pub const RATE_LIMITED_RETRY: Duration = Duration::from_secs(1);

impl LiveClient {
    /// A client whose writes and publishes carry `origin` (its `x-live-origin`).
    pub fn new(origin: impl Into<String>, transport: Arc<dyn Transport>) -> Self {
        Self {
            origin: origin.into(),
            transport,
            state: Arc::default(),
            retry: None,
        }
    }

    /// Resends a subscription the server refused as `rate_limited` (a reconnect of many
    /// tabs can exceed a user's burst) after [`RATE_LIMITED_RETRY`], with these timers.
    /// Without them a refused subscription stays refused.
    ///
    /// ```
    /// # use herald_framework::live::{LiveClient, Transport};
    /// # use std::sync::Arc;
    /// # struct Null; impl Transport for Null { fn send(&self, _: String) -> bool { true } }
    /// let client = LiveClient::new("tab-1", Arc::new(Null))
    ///     .with_retry(herald_framework::runtime::spawner(), herald_framework::runtime::sleeper());
    /// ```
    pub fn with_retry(mut self, spawn: Spawner, sleep: Sleeper) -> Self {
        self.retry = Some((spawn, sleep));
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// This client's origin id.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The signed-in user this client acts for, once known.
    pub fn user(&self) -> Option<i64> {
        self.lock().user
    }

    /// Records the signed-in user.
    pub fn set_user(&self, user: Option<i64>) {
        self.lock().user = user;
    }

    /// Wire subscriptions currently held.
    pub fn wire_count(&self) -> usize {
        self.lock().wires.len()
    }

    /// `subscribe` frames sent so far (resubscribes after a reconnect included).
    pub fn wire_subscribes(&self) -> u64 {
        self.lock().wire_subscribes
    }

    /// The resume cursor of the wire subscription for `spec`.
    pub fn cursor(&self, spec: &SubscriptionSpec) -> Option<String> {
        self.lock().wires.get(spec).and_then(|w| w.cursor.clone())
    }

    /// The current connection state (`Connecting` before the first open).
    pub fn connection_state(&self) -> ConnectionState {
        self.lock()
            .connection
            .unwrap_or(ConnectionState::Connecting)
    }

    /// Calls `handler` on every state change; returns a key for [`Self::unwatch_state`].
    pub fn watch_state(&self, handler: StateHandler) -> u64 {
        let mut s = self.lock();
        s.next_id += 1;
        let id = s.next_id;
        s.state_handlers.push((id, handler));
        id
    }

    /// Stops a state watcher.
    pub fn unwatch_state(&self, key: u64) {
        self.lock().state_handlers.retain(|(id, _)| *id != key);
    }

    /// Adds a subscriber; the wire subscription is shared with identical specs.
    pub fn subscribe(&self, spec: SubscriptionSpec, handler: LiveHandler) -> SubscriptionId {
        let mut s = self.lock();
        s.next_id += 1;
        let id = SubscriptionId(s.next_id);
        s.owners.insert(id, spec.clone());
        if let Some(wire) = s.wires.get_mut(&spec) {
            wire.handlers.push((id, handler));
            return id;
        }
        let sub = format!("s{}", s.next_id);
        s.by_sub.insert(sub.clone(), spec.clone());
        let wire = Wire {
            sub,
            cursor: None,
            head: None,
            handlers: vec![(id, handler)],
        };
        let frame = s.open.then(|| subscribe_frame(&spec, &wire));
        s.wires.insert(spec, wire);
        drop(s);
        match frame {
            Some(frame) => {
                self.lock().wire_subscribes += 1;
                self.transport.send(frame);
            }
            None => self.transport.wake(),
        }
        id
    }

    /// Removes a subscriber; the wire subscription goes when its last subscriber does.
    pub fn unsubscribe(&self, id: SubscriptionId) {
        let mut s = self.lock();
        let Some(spec) = s.owners.remove(&id) else {
            return;
        };
        let Some(wire) = s.wires.get_mut(&spec) else {
            return;
        };
        wire.handlers.retain(|(h, _)| *h != id);
        if !wire.handlers.is_empty() {
            return;
        }
        let Some(wire) = s.wires.remove(&spec) else {
            return;
        };
        s.by_sub.remove(&wire.sub);
        let open = s.open;
        drop(s);
        if open {
            self.transport
                .send(frame_text(&ClientFrame::Unsubscribe { sub: wire.sub }));
        }
    }

    /// Publishes an ephemeral event (dropped while disconnected: typing and the like are
    /// only meaningful now).
    pub fn publish(&self, channel: &str, kind: &str, payload: Value) -> bool {
        let mut meta = serde_json::Map::new();
        meta.insert("origin".to_owned(), Value::from(self.origin.as_str()));
        let frame = ClientFrame::Publish {
            channel: channel.to_owned(),
            kind: kind.to_owned(),
            payload,
            meta: Some(meta),
        };
        self.lock().open && self.transport.send(frame_text(&frame))
    }

    /// The transport connected: (re)subscribe everything, resuming from each cursor.
    pub fn on_open(&self) {
        let mut s = self.lock();
        s.open = true;
        let frames: Vec<String> = s
            .wires
            .iter()
            .map(|(spec, wire)| subscribe_frame(spec, wire))
            .collect();
        s.wire_subscribes += frames.len() as u64;
        drop(s);
        for frame in frames {
            self.transport.send(frame);
        }
        self.set_state(ConnectionState::Open);
    }

    /// The transport closed; `next` says whether it will retry (`Reconnecting`) or is
    /// `Offline`.
    pub fn on_close(&self, next: ConnectionState) {
        self.lock().open = false;
        self.set_state(next);
    }

    /// Announces a state (e.g. `Connecting` while dialling).
    pub fn set_state(&self, state: ConnectionState) {
        let handlers: Vec<StateHandler> = {
            let mut s = self.lock();
            if s.connection == Some(state) {
                return;
            }
            s.connection = Some(state);
            s.state_handlers.iter().map(|(_, h)| h.clone()).collect()
        };
        for h in handlers {
            h(state);
        }
    }

    /// Sends the subscription `sub` again after [`RATE_LIMITED_RETRY`], if it still exists
    /// and the connection is open then.
    fn retry_later(&self, sub: String) {
        let Some((spawn, sleep)) = self.retry.clone() else {
            return;
        };
        let (state, transport) = (self.state.clone(), self.transport.clone());
        spawn(Box::pin(async move {
            sleep(RATE_LIMITED_RETRY).await;
            let frame = {
                let mut s = lock(&state);
                let frame = s
                    .by_sub
                    .get(&sub)
                    .and_then(|spec| Some(subscribe_frame(spec, s.wires.get(spec)?)))
                    .filter(|_| s.open);
                if frame.is_some() {
                    s.wire_subscribes += 1;
                }
                frame
            };
            if let Some(frame) = frame {
                transport.send(frame);
            }
        }));
    }

    /// Handles one frame from the server (frames it cannot read are ignored: a newer server
    /// may send ops this client does not know).
    pub fn on_frame(&self, text: &str) {
        let Ok(frame) = serde_json::from_str::<ServerFrame>(text) else {
            return;
        };
        if let ServerFrame::Error {
            sub: Some(sub),
            code: ErrorCode::RateLimited,
            ..
        } = &frame
        {
            if self.lock().by_sub.contains_key(sub) {
                self.retry_later(sub.clone());
            }
        }
        let delivery = {
            let mut s = self.lock();
            let Some(sub) = frame_sub(&frame) else {
                return;
            };
            let Some(spec) = s.by_sub.get(sub).cloned() else {
                return;
            };
            let Some(wire) = s.wires.get_mut(&spec) else {
                return;
            };
            wire.message(frame).map(|m| (m, wire.handlers()))
        };
        if let Some((message, handlers)) = delivery {
            for h in handlers {
                h(message.clone());
            }
        }
    }
}

/// The subscription a server frame is about.
fn frame_sub(frame: &ServerFrame) -> Option<&str> {
    match frame {
        ServerFrame::Subscribed { sub, .. }
        | ServerFrame::Unsubscribed { sub }
        | ServerFrame::Event { sub, .. }
        | ServerFrame::Reset { sub, .. } => Some(sub),
        ServerFrame::Error { sub, .. } => sub.as_deref(),
        ServerFrame::Pong => None,
    }
}

impl Wire {
    fn handlers(&self) -> Vec<LiveHandler> {
        self.handlers.iter().map(|(_, h)| h.clone()).collect()
    }

    /// Updates the resume point for `frame` and says what the subscribers are told.
    fn message(&mut self, frame: ServerFrame) -> Option<LiveMessage> {
        match frame {
            ServerFrame::Subscribed { cursor, .. } => {
                self.head = Some(cursor);
                // A fresh subscription (not a resume) starts live now.
                let fresh = self.cursor.is_none();
                if fresh {
                    self.cursor.clone_from(&self.head);
                }
                fresh.then_some(LiveMessage::Subscribed)
            }
            ServerFrame::Event { cursor, event, .. } => {
                if cursor.is_some() {
                    self.cursor = cursor;
                }
                Some(LiveMessage::Event(event))
            }
            ServerFrame::Reset { reason, .. } => {
                // Live from now: resume from the head the server sent in `subscribed` (the
                // refetch the subscriber does covers everything before it).
                self.cursor = self.head.clone();
                Some(LiveMessage::Reset { reason })
            }
            ServerFrame::Unsubscribed { .. } | ServerFrame::Error { .. } | ServerFrame::Pong => {
                None
            }
        }
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

fn frame_text(frame: &ClientFrame) -> String {
    // Client frames hold only strings and JSON values: serialising cannot fail.
    serde_json::to_string(frame).unwrap_or_default()
}

fn subscribe_frame(spec: &SubscriptionSpec, wire: &Wire) -> String {
    let types = if spec.types.is_empty() {
        vec!["*".to_owned()]
    } else {
        spec.types.clone()
    };
    let params = (spec.ids.is_some() || spec.scope.is_some()).then(|| SubscribeParams {
        ids: spec.ids.clone(),
        scope: spec.scope.clone(),
    });
    frame_text(&ClientFrame::Subscribe {
        sub: wire.sub.clone(),
        channel: spec.channel.clone(),
        types: Some(types),
        params,
        since: wire.cursor.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Value>>);
    impl Transport for Recorder {
        fn send(&self, frame: String) -> bool {
            self.0
                .lock()
                .unwrap()
                .push(serde_json::from_str(&frame).unwrap());
            true
        }
    }
    impl Recorder {
        fn take(&self) -> Vec<Value> {
            std::mem::take(&mut *self.0.lock().unwrap())
        }
    }

    fn event_frame(sub: &str, cursor: &str, kind: &str) -> String {
        json!({"op":"event","sub":sub,"cursor":cursor,"event":{"channel":"resources/posts","type":kind,"payload":{"ids":["1"]},"date":"","meta":{}}}).to_string()
    }

    #[test]
    fn shares_wire_subscriptions_and_resumes_from_the_last_cursor() {
        let rec = Arc::new(Recorder::default());
        let client = LiveClient::new("o", rec.clone());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let spec = SubscriptionSpec::channel("resources/posts");
        let s1 = seen.clone();
        let a = client.subscribe(spec.clone(), Arc::new(move |m| s1.lock().unwrap().push(m)));
        let s2 = seen.clone();
        let b = client.subscribe(spec.clone(), Arc::new(move |m| s2.lock().unwrap().push(m)));
        assert!(rec.take().is_empty(), "nothing sent before open");
        client.on_open();
        let frames = rec.take();
        assert_eq!(frames.len(), 1, "one wire subscription for two subscribers");
        let sub = frames[0]["sub"].as_str().unwrap().to_owned();
        assert!(frames[0].get("since").is_none());
        client.on_frame(&json!({"op":"subscribed","sub":sub,"cursor":"L-5"}).to_string());
        assert_eq!(client.cursor(&spec).as_deref(), Some("L-5"));
        client.on_frame(&event_frame(&sub, "L-7", "updated"));
        let events = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|m| matches!(m, LiveMessage::Event(_)))
            .count();
        assert_eq!(events, 2, "one event, two subscribers");
        assert!(seen.lock().unwrap().contains(&LiveMessage::Subscribed));
        client.on_close(ConnectionState::Reconnecting);
        assert_eq!(client.connection_state(), ConnectionState::Reconnecting);
        client.on_open();
        let frames = rec.take();
        assert_eq!(frames[0]["since"], "L-7");
        // a since-subscription keeps its since cursor until events arrive
        client.on_frame(&json!({"op":"subscribed","sub":sub,"cursor":"L-9"}).to_string());
        assert_eq!(client.cursor(&spec).as_deref(), Some("L-7"));
        client.unsubscribe(a);
        assert!(rec.take().is_empty());
        client.unsubscribe(b);
        assert_eq!(rec.take()[0]["op"], "unsubscribe");
        assert_eq!(client.wire_count(), 0);
    }

    #[test]
    fn reset_is_delivered_and_clears_the_stale_cursor() {
        let rec = Arc::new(Recorder::default());
        let client = LiveClient::new("o", rec.clone());
        client.on_open();
        let got = Arc::new(Mutex::new(Vec::new()));
        let g = got.clone();
        let spec = SubscriptionSpec::channel("resources/posts").with_ids(vec!["1".into()]);
        client.subscribe(spec.clone(), Arc::new(move |m| g.lock().unwrap().push(m)));
        let sent = rec.take();
        assert_eq!(sent[0]["params"]["ids"], json!(["1"]));
        let sub = sent[0]["sub"].as_str().unwrap().to_owned();
        client.on_frame(&json!({"op":"subscribed","sub":sub,"cursor":"L-9"}).to_string());
        client.on_frame(&event_frame(&sub, "L-10", "updated"));
        client.on_close(ConnectionState::Reconnecting);
        client.on_open();
        client.on_frame(&json!({"op":"subscribed","sub":sub,"cursor":"M-2"}).to_string());
        client.on_frame(&json!({"op":"reset","sub":sub,"reason":"foreign cursor"}).to_string());
        assert!(matches!(
            got.lock().unwrap().last(),
            Some(LiveMessage::Reset { .. })
        ));
        assert_eq!(client.cursor(&spec).as_deref(), Some("M-2"));
    }

    #[tokio::test(start_paused = true)]
    async fn a_rate_limited_subscription_is_sent_again_unless_dropped() {
        let rec = Arc::new(Recorder::default());
        let client = LiveClient::new("o", rec.clone()).with_retry(
            Arc::new(|f| drop(tokio::spawn(f))),
            Arc::new(|d| Box::pin(tokio::time::sleep(d))),
        );
        client.on_open();
        let kept = SubscriptionSpec::channel("resources/posts");
        let dropped = SubscriptionSpec::channel("resources/comments");
        client.subscribe(kept, Arc::new(|_| {}));
        let gone = client.subscribe(dropped, Arc::new(|_| {}));
        let sent = rec.take();
        let (a, b) = (sent[0]["sub"].clone(), sent[1]["sub"].clone());
        for sub in [&a, &b] {
            client.on_frame(
                &json!({"op":"error","sub":sub,"code":"rate_limited","message":"slow down"})
                    .to_string(),
            );
        }
        assert!(rec.take().is_empty(), "nothing is resent at once");
        client.unsubscribe(gone);
        assert_eq!(rec.take()[0]["op"], "unsubscribe");
        tokio::time::sleep(RATE_LIMITED_RETRY + Duration::from_millis(10)).await;
        let resent = rec.take();
        assert_eq!(
            resent.len(),
            1,
            "only the subscription still wanted: {resent:?}"
        );
        assert_eq!(
            (resent[0]["op"].clone(), resent[0]["sub"].clone()),
            (json!("subscribe"), a)
        );
    }
}
