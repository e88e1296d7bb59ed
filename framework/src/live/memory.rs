//! An in-process live "server" behind a real [`LiveClient`]: it answers subscribes
//! (replaying its log after a `since`), filters by type and ids like the server, and can
//! drop and restore the connection — for tests and examples without a network.

use super::client::{LiveClient, Transport};
use super::event::ConnectionState;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, Weak};

struct WireSub {
    channel: String,
    types: Vec<String>,
    ids: Option<Vec<String>>,
}

#[derive(Default)]
struct FakeServer {
    connected: bool,
    seq: u64,
    log: Vec<(u64, Value)>,
    subs: HashMap<String, WireSub>,
    frames: Vec<Value>,
}

/// The fake server's side of the connection.
#[derive(Default)]
pub struct Loopback {
    server: Mutex<FakeServer>,
    client: OnceLock<Weak<LiveClient>>,
}

impl Loopback {
    fn deliver(&self, frames: Vec<String>) {
        if let Some(client) = self.client.get().and_then(Weak::upgrade) {
            for f in frames {
                client.on_frame(&f);
            }
        }
    }
}

fn matches(sub: &WireSub, event: &Value) -> bool {
    let kind = event["type"].as_str().unwrap_or_default();
    let type_ok = sub.types.iter().any(|t| t == "*" || t == kind);
    let ids: Vec<String> = event["payload"]["ids"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| v.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let ids_ok = sub
        .ids
        .as_ref()
        .is_none_or(|want| ids.iter().any(|i| want.contains(i)));
    event["channel"] == sub.channel.as_str() && type_ok && ids_ok
}

impl Transport for Loopback {
    fn send(&self, frame: String) -> bool {
        let Ok(frame) = serde_json::from_str::<Value>(&frame) else {
            return false;
        };
        let mut replies = Vec::new();
        {
            let mut s = self.server.lock().unwrap_or_else(|p| p.into_inner());
            if !s.connected {
                return false;
            }
            s.frames.push(frame.clone());
            let sub = frame["sub"].as_str().unwrap_or_default().to_owned();
            match frame["op"].as_str() {
                Some("subscribe") => {
                    let wire = WireSub {
                        channel: frame["channel"].as_str().unwrap_or_default().to_owned(),
                        types: frame["types"]
                            .as_array()
                            .map(|a| {
                                a.iter()
                                    .filter_map(|t| t.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        ids: frame["params"]["ids"].as_array().map(|a| {
                            a.iter()
                                .filter_map(|t| t.as_str().map(str::to_owned))
                                .collect()
                        }),
                    };
                    replies.push(
                        json!({"op": "subscribed", "sub": sub, "cursor": format!("mem-{}", s.seq)})
                            .to_string(),
                    );
                    let since = frame["since"]
                        .as_str()
                        .and_then(|c| c.strip_prefix("mem-"))
                        .and_then(|n| n.parse::<u64>().ok());
                    if let Some(since) = since {
                        for (seq, event) in s
                            .log
                            .iter()
                            .filter(|(seq, e)| *seq > since && matches(&wire, e))
                        {
                            replies.push(json!({"op": "event", "sub": sub, "cursor": format!("mem-{seq}"), "event": event}).to_string());
                        }
                    }
                    s.subs.insert(sub, wire);
                }
                Some("unsubscribe") => {
                    s.subs.remove(&sub);
                    replies.push(json!({"op": "unsubscribed", "sub": sub}).to_string());
                }
                _ => {}
            }
        }
        self.deliver(replies);
        true
    }
}

/// A live provider backed by the in-process fake server.
pub struct MemoryLiveProvider;

impl MemoryLiveProvider {
    /// A connected client and its fake server.
    ///
    /// ```
    /// use herald_framework::live::memory::MemoryLiveProvider;
    /// let (client, server) = MemoryLiveProvider::pair();
    /// assert_eq!(server.wire_subscriptions(), 0);
    /// # drop(client);
    /// ```
    pub fn pair() -> (Arc<LiveClient>, Arc<Loopback>) {
        let server = Arc::new(Loopback::default());
        let client = Arc::new(LiveClient::new(super::random_origin(), server.clone()));
        let _ = server.client.set(Arc::downgrade(&client));
        server.reconnect();
        (client, server)
    }

    /// A connected client (its server is only reachable through the client).
    #[allow(clippy::new_ret_no_self)]
    pub fn new() -> Arc<LiveClient> {
        Self::pair().0
    }
}

impl Loopback {
    /// Commits an event: logged with a cursor, delivered to matching subscriptions if
    /// connected (else replayed on resume).
    pub fn emit(&self, channel: &str, kind: &str, payload: Value, origin: Option<&str>) {
        self.emit_as(channel, kind, payload, origin, None);
    }

    /// Emits an event written by `user` (the server stamps `meta.user`) from `origin`.
    pub fn emit_as(
        &self,
        channel: &str,
        kind: &str,
        payload: Value,
        origin: Option<&str>,
        user: Option<i64>,
    ) {
        let meta = match user {
            Some(id) => {
                json!({"origin": origin, "user": {"id": id.to_string(), "name": format!("user {id}")}})
            }
            None => json!({"origin": origin}),
        };
        let frames = {
            let mut s = self.server.lock().unwrap_or_else(|p| p.into_inner());
            s.seq += 1;
            let seq = s.seq;
            let event = json!({"channel": channel, "type": kind, "payload": payload, "date": "", "meta": meta});
            s.log.push((seq, event.clone()));
            if !s.connected {
                return;
            }
            s.subs
                .iter()
                .filter(|(_, w)| matches(w, &event))
                .map(|(sub, _)| json!({"op": "event", "sub": sub, "cursor": format!("mem-{seq}"), "event": event}).to_string())
                .collect::<Vec<_>>()
        };
        self.deliver(frames);
    }

    /// Sends a frame as the server would (e.g. a `reset`).
    pub fn push_frame(&self, frame: Value) {
        self.deliver(vec![frame.to_string()]);
    }

    /// Drops the connection; the client goes `Reconnecting`.
    pub fn disconnect(&self) {
        {
            let mut s = self.server.lock().unwrap_or_else(|p| p.into_inner());
            s.connected = false;
            s.subs.clear();
        }
        if let Some(c) = self.client.get().and_then(Weak::upgrade) {
            c.on_close(ConnectionState::Reconnecting);
        }
    }

    /// Restores the connection; the client resubscribes from its cursors.
    pub fn reconnect(&self) {
        self.server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .connected = true;
        if let Some(c) = self.client.get().and_then(Weak::upgrade) {
            c.on_open();
        }
    }

    /// Wire subscriptions the server holds now.
    pub fn wire_subscriptions(&self) -> usize {
        self.server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .subs
            .len()
    }

    /// Every frame the client sent.
    pub fn frames(&self) -> Vec<Value> {
        self.server
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .frames
            .clone()
    }
}
