//! Several nodes on one PostgreSQL database: presence and ephemeral events cross nodes here
//! (durable events cross through the log, see `store::follow`). It owns this node's row
//! in `live_nodes`, its users' rows in `live_presence`, and the `herald_presence` /
//! `herald_publish` notifications. It never imports the hub: it calls it as a [`HubLink`]
//! and hears from it through [`LocalChange`]s (both in [`super::cluster_link`]).
//!
//! Presence: a node writes a row when a user's first subscription on a presence channel
//! opens on it and deletes it when their last one closes, then notifies. Other nodes
//! re-read that channel's rows and the hub turns the difference into `join`/`leave`.
//! Every heartbeat a node refreshes its `seen_at`, deletes nodes silent for longer than
//! the TTL (their presence rows go with them, by cascade) and re-reads every row, which
//! also repairs anything a dropped listener connection missed. A node that dies therefore
//! takes its users with it within `node_ttl + heartbeat`.
//!
//! Ephemeral events (typing) travel in the notification itself, verbatim (not escaped), so
//! they are capped by PostgreSQL's 8,000-byte payload limit less a fixed envelope; the hub
//! refuses larger ones with `too_large` ([`super::cluster_link::PUBLISH_LIMIT`]).
//!
//! Notifications are authenticated: any role that can connect may `NOTIFY` on these
//! channels, so every payload is `{mac}:{content}`, the MAC an HMAC-SHA256 under the
//! database's cluster key (a random row in `herald_meta`, created by the first node and
//! read by every node at start) over the notification channel and the exact content. A
//! note whose MAC is missing or wrong is dropped and logged. A signed ephemeral event is
//! then parsed and checked (channel rules, type, user, date, fields) and re-serialised
//! before it reaches the hub: a malformed note reaches nobody. A role that can `LISTEN`
//! sees signed notes and could replay them (a typing event shown twice); it cannot make
//! new ones without reading `herald_meta`.

use super::channel::Channel;
use super::cluster_link::{HubLink, LocalChange, Members, NOTIFY_MAX, PUBLISH_ENVELOPE};
use crate::config::ClusterConfig;
use crate::store::Store;
use herald_protocol::Identity;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::postgres::PgListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// Notification channels.
const PRESENCE: &str = "herald_presence";
const PUBLISH: &str = "herald_publish";

#[derive(Serialize, Deserialize)]
struct PresenceNote {
    node: String,
    /// `None`: re-read every channel (a node died or rejoined).
    channel: Option<String>,
}

/// Hex digits of a node id.
const NODE_HEX: usize = 16;
/// Longest user name a remote event may carry.
const USER_NAME_MAX: usize = 256;
/// Longest `date` a remote event may carry.
const DATE_MAX: usize = 64;

/// An ephemeral event from another node, checked field by field. Fields are declared in
/// the order `serde_json` writes an object's keys (sorted), so re-serialising one the hub
/// serialised gives the same text.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RemoteEvent {
    channel: String,
    date: String,
    /// `user` and `origin` (checked) and the client's own fields (bounded by the size).
    meta: Map<String, Value>,
    payload: Value,
    #[serde(rename = "type")]
    kind: String,
}

/// `meta.user` as the server stamps it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireUser {
    id: String,
    name: String,
}

impl RemoteEvent {
    /// Parses and checks a serialised ephemeral event; `None` if anything is off.
    fn parse(body: &str, schema: &crate::resource::Schema) -> Option<RemoteEvent> {
        let event: RemoteEvent = serde_json::from_str(body).ok()?;
        Channel::parse(&event.channel, schema)
            .ok()?
            .check_publish(&event.kind)
            .ok()?;
        if event.date.len() > DATE_MAX || chrono::DateTime::parse_from_rfc3339(&event.date).is_err()
        {
            return None;
        }
        let user: WireUser = serde_json::from_value(event.meta.get("user")?.clone()).ok()?;
        user.id.parse::<i64>().ok()?;
        if user.name.is_empty() || user.name.len() > USER_NAME_MAX {
            return None;
        }
        match event.meta.get("origin") {
            Some(Value::Null | Value::String(_)) => Some(event),
            _ => None,
        }
    }
}

/// One node's membership in the cluster, on behalf of this node's hub `H`.
pub struct Cluster<H> {
    node: String,
    /// The database's cluster key: signs and checks notifications.
    key: String,
    store: Store,
    hub: H,
    config: ClusterConfig,
}

impl<H: HubLink> Cluster<H> {
    /// Registers this node and runs until `shutdown`, then removes it (its users leave
    /// everywhere at once rather than after the TTL).
    pub async fn run(
        store: Store,
        hub: H,
        config: ClusterConfig,
        mut changes: mpsc::UnboundedReceiver<LocalChange>,
        shutdown: CancellationToken,
    ) {
        let Some(key) = cluster_key(&store, config.heartbeat, &shutdown).await else {
            return;
        };
        let cluster = Cluster {
            node: hex::encode(rand::random::<[u8; NODE_HEX / 2]>()),
            key,
            store,
            hub,
            config,
        };
        tracing::info!(node = %cluster.node, "joined the cluster");
        cluster.report(cluster.register().await);
        let mut heartbeat = tokio::time::interval(cluster.config.heartbeat);
        let mut listener: Option<PgListener> = None;
        loop {
            if listener.is_none() {
                listener = cluster.listen().await;
                cluster.report(cluster.reconcile_all().await);
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                _ = heartbeat.tick() => cluster.report(cluster.heartbeat().await),
                change = changes.recv() => match change {
                    Some(change) => cluster.report(cluster.apply(change).await),
                    None => break,
                },
                note = recv(&mut listener) => match note {
                    Ok(Some((channel, payload))) => cluster.report(cluster.heard(&channel, &payload).await),
                    // Reconnected: whatever was said meanwhile is lost; re-read it all.
                    Ok(None) => cluster.report(cluster.reconcile_all().await),
                    Err(e) => {
                        tracing::warn!(error = %e, "cluster listener failed; reconnecting");
                        listener = None;
                    }
                },
            }
        }
        cluster.report(cluster.leave().await);
    }

    fn report(&self, result: Result<(), sqlx::Error>) {
        if let Err(e) = result {
            tracing::warn!(node = %self.node, error = %e, "cluster bookkeeping failed");
        }
    }

    async fn listen(&self) -> Option<PgListener> {
        let mut listener = PgListener::connect(self.store.url()).await.ok()?;
        listener.listen_all([PRESENCE, PUBLISH]).await.ok()?;
        Some(listener)
    }

    async fn register(&self) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO live_nodes (node) VALUES ($1) ON CONFLICT (node) DO UPDATE SET seen_at = now()")
            .bind(self.node.clone())
            .execute(self.store.pool())
            .await?;
        for (channel, user) in self.hub.local_presence() {
            self.write_presence(&channel, &user, true).await?;
        }
        self.notify_presence(None).await
    }

    async fn leave(&self) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM live_nodes WHERE node = $1")
            .bind(self.node.clone())
            .execute(self.store.pool())
            .await?;
        self.notify_presence(None).await
    }

    /// Says this node is alive, buries silent ones, and re-reads all remote presence.
    async fn heartbeat(&self) -> Result<(), sqlx::Error> {
        let alive = sqlx::query("UPDATE live_nodes SET seen_at = now() WHERE node = $1")
            .bind(self.node.clone())
            .execute(self.store.pool())
            .await?
            .rows_affected();
        if alive == 0 {
            // Another node took us for dead (a stall longer than the TTL): come back.
            tracing::warn!(node = %self.node, "this node was declared dead; registering again");
            self.register().await?;
        }
        let ttl = self.config.node_ttl.as_secs_f64();
        let buried =
            sqlx::query("DELETE FROM live_nodes WHERE seen_at < now() - make_interval(secs => $1)")
                .bind(ttl)
                .execute(self.store.pool())
                .await?
                .rows_affected();
        if buried > 0 {
            tracing::info!(nodes = buried, "removed silent nodes and their presence");
            self.notify_presence(None).await?;
        }
        self.reconcile_all().await
    }

    async fn apply(&self, change: LocalChange) -> Result<(), sqlx::Error> {
        match change {
            LocalChange::Presence {
                channel,
                user,
                here,
            } => {
                self.write_presence(&channel, &user, here).await?;
                self.notify_presence(Some(channel)).await
            }
            LocalChange::Publish { channel, body, .. } => {
                let event_len = body.len();
                let payload = seal(&self.key, PUBLISH, &format!("{}:{body}", self.node));
                debug_assert_eq!(payload.len(), event_len + PUBLISH_ENVELOPE);
                if payload.len() > NOTIFY_MAX {
                    // The hub refuses these with `too_large` (PUBLISH_LIMIT is exact).
                    tracing::warn!(%channel, bytes = payload.len(), "ephemeral event too large to cross nodes");
                    return Ok(());
                }
                self.send(PUBLISH, payload).await
            }
        }
    }

    async fn write_presence(
        &self,
        channel: &str,
        user: &Identity,
        here: bool,
    ) -> Result<(), sqlx::Error> {
        let query = if here {
            sqlx::query(
                "INSERT INTO live_presence (node, channel, user_id, user_name) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
        } else {
            sqlx::query(
                "DELETE FROM live_presence WHERE node = $1 AND channel = $2 AND user_id = $3",
            )
        };
        let query = query
            .bind(self.node.clone())
            .bind(channel.to_owned())
            .bind(user.id);
        let query = if here {
            query.bind(user.name.clone())
        } else {
            query
        };
        query.execute(self.store.pool()).await?;
        Ok(())
    }

    async fn notify_presence(&self, channel: Option<String>) -> Result<(), sqlx::Error> {
        let note = PresenceNote {
            node: self.node.clone(),
            channel,
        };
        self.notify(PRESENCE, &note).await
    }

    async fn notify(&self, channel: &str, note: &impl Serialize) -> Result<(), sqlx::Error> {
        let content = serde_json::to_string(note).unwrap_or_default();
        self.send(channel, seal(&self.key, channel, &content)).await
    }

    /// Sends a sealed payload.
    async fn send(&self, channel: &str, payload: String) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel.to_owned())
            .bind(payload)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    async fn heard(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        let Some(content) = unseal(&self.key, channel, payload) else {
            tracing::warn!(
                node = %self.node,
                channel,
                bytes = payload.len(),
                "dropped a cluster notification without a valid MAC"
            );
            return Ok(());
        };
        match channel {
            PRESENCE => match serde_json::from_str::<PresenceNote>(content) {
                Ok(note) if note.node == self.node => Ok(()),
                Ok(PresenceNote {
                    channel: Some(channel),
                    ..
                }) => self.reconcile(&channel).await,
                _ => self.reconcile_all().await,
            },
            PUBLISH => {
                self.heard_publish(content);
                Ok(())
            }
            _ => Ok(()),
        }
    }

    /// A signed ephemeral event: `{node}:{event}`; checked, then handed to the hub.
    fn heard_publish(&self, content: &str) {
        let Some((node, body)) = content.split_at_checked(NODE_HEX) else {
            return self.malformed(content);
        };
        let Some(body) = body.strip_prefix(':') else {
            return self.malformed(content);
        };
        if node == self.node {
            return;
        }
        let Some(event) = RemoteEvent::parse(body, self.store.schema()) else {
            return self.malformed(content);
        };
        let Ok(body) = serde_json::to_string(&event) else {
            return self.malformed(content);
        };
        self.hub.remote_publish(&event.channel, &event.kind, body);
    }

    fn malformed(&self, content: &str) {
        tracing::warn!(
            node = %self.node,
            bytes = content.len(),
            "dropped a signed but malformed ephemeral event"
        );
    }

    /// Re-reads other nodes' presence on one channel.
    async fn reconcile(&self, channel: &str) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT channel, user_id, user_name FROM live_presence WHERE channel = $1 AND node <> $2",
        )
        .bind(channel.to_owned())
        .bind(self.node.clone())
        .fetch_all(self.store.pool())
        .await?;
        let members = group(rows).remove(channel).unwrap_or_default();
        self.hub.set_remote_presence(channel, members);
        Ok(())
    }

    /// Re-reads other nodes' presence on every channel.
    async fn reconcile_all(&self) -> Result<(), sqlx::Error> {
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT channel, user_id, user_name FROM live_presence WHERE node <> $1",
        )
        .bind(self.node.clone())
        .fetch_all(self.store.pool())
        .await?;
        self.hub.replace_remote_presence(group(rows));
        Ok(())
    }
}

/// Reads (creating it if it is the first node) the database's cluster key, retrying every
/// `retry` until it can; `None` on shutdown.
async fn cluster_key(
    store: &Store,
    retry: std::time::Duration,
    shutdown: &CancellationToken,
) -> Option<String> {
    loop {
        match crate::store::open::cluster_key(store.pool()).await {
            Ok(key) => return Some(key),
            Err(e) => tracing::warn!(error = %e, "cannot read the cluster key; retrying"),
        }
        tokio::select! {
            () = shutdown.cancelled() => return None,
            () = tokio::time::sleep(retry) => {}
        }
    }
}

/// The notification payload for `content` on notification channel `channel`:
/// `{mac}:{content}`, the MAC a hex HMAC-SHA256 under `key` over `{channel}:{content}`.
/// Public so tests can sign what a node would.
pub fn seal(key: &str, channel: &str, content: &str) -> String {
    let mac = hmac_sha256(
        key.as_bytes(),
        &[channel.as_bytes(), b":", content.as_bytes()],
    );
    format!("{}:{content}", hex::encode(mac))
}

/// The content of `payload` if its MAC is right (compared in constant time).
fn unseal<'a>(key: &str, channel: &str, payload: &'a str) -> Option<&'a str> {
    let (mac, content) = payload.split_once(':')?;
    let mut given = [0u8; 32];
    hex::decode_to_slice(mac, &mut given).ok()?;
    let expected = hmac_sha256(
        key.as_bytes(),
        &[channel.as_bytes(), b":", content.as_bytes()],
    );
    let diff = given
        .iter()
        .zip(expected.iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b));
    (diff == 0).then_some(content)
}

/// HMAC-SHA256 (RFC 2104) of the concatenation of `parts`.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut block = [0u8; BLOCK];
    if key.len() > BLOCK {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    for part in parts {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn group(rows: Vec<(String, i64, String)>) -> Members {
    let mut members = Members::new();
    for (channel, id, name) in rows {
        members
            .entry(channel)
            .or_default()
            .insert(id, Identity { id, name });
    }
    members
}

/// The next notification as (channel, payload); `Ok(None)` after a reconnect. Without a
/// listener it waits forever (the heartbeat retries the connection).
async fn recv(listener: &mut Option<PgListener>) -> Result<Option<(String, String)>, sqlx::Error> {
    match listener {
        Some(listener) => Ok(listener
            .try_recv()
            .await?
            .map(|n| (n.channel().to_owned(), n.payload().to_owned()))),
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::cluster_link::PUBLISH_LIMIT;
    use crate::live::event::Fanout;
    use crate::testkit::fixture::{alice, SCHEMA};

    #[test]
    fn hmac_matches_rfc_4231() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya ", b"want for nothing?"]);
        assert_eq!(
            hex::encode(mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        // a key longer than the block is hashed first
        let mac = hmac_sha256(
            &[0xaa; 131],
            &[b"Test Using Larger Than Block-Size Key - Hash Key First"],
        );
        assert_eq!(
            hex::encode(mac),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        );
    }

    #[test]
    fn only_the_key_holder_can_seal() {
        let sealed = seal("k1", PUBLISH, "0123456789abcdef:{}");
        assert_eq!(unseal("k1", PUBLISH, &sealed), Some("0123456789abcdef:{}"));
        assert_eq!(unseal("k2", PUBLISH, &sealed), None, "another key");
        assert_eq!(unseal("k1", PRESENCE, &sealed), None, "another channel");
        let tampered = sealed.replace("{}", "[]");
        assert_eq!(unseal("k1", PUBLISH, &tampered), None, "other content");
        for garbage in ["", ":", "{}", "zz:{}", &sealed[..63]] {
            assert_eq!(unseal("k1", PUBLISH, garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn the_envelope_is_exact_so_the_limit_is_the_notify_limit() {
        let body = "\"".repeat(PUBLISH_LIMIT);
        let payload = seal("key", PUBLISH, &format!("{}:{body}", "0".repeat(NODE_HEX)));
        assert_eq!(payload.len(), body.len() + PUBLISH_ENVELOPE);
        assert_eq!(payload.len(), NOTIFY_MAX);
    }

    #[test]
    fn a_published_event_round_trips_unchanged() {
        let mut meta = Map::new();
        meta.insert("origin".into(), "tab-1".into());
        meta.insert("extra".into(), serde_json::json!({"a": "\"é\\"}));
        let payload = serde_json::json!({"typing": true, "text": "«\"\\»", "ids": [1, "x"]});
        let fanout = Fanout::published("typing/posts/1", "typing", payload, &alice(), Some(meta));
        let event = RemoteEvent::parse(fanout.body(), &SCHEMA).expect("valid");
        assert_eq!(serde_json::to_string(&event).unwrap(), fanout.body());
    }

    #[test]
    fn malformed_or_forbidden_events_are_refused() {
        let valid = Fanout::published(
            "typing/posts/1",
            "typing",
            serde_json::json!({}),
            &alice(),
            None,
        );
        let valid: Value = serde_json::from_str(valid.body()).unwrap();
        let with = |f: &dyn Fn(&mut Value)| {
            let mut event = valid.clone();
            f(&mut event);
            event.to_string()
        };
        let bad = [
            with(&|e| e["channel"] = "notifications/user/2".into()),
            with(&|e| e["channel"] = "presence/posts/1".into()),
            with(&|e| e["channel"] = "resources/nope".into()),
            with(&|e| e["channel"] = "a//b".into()),
            with(&|e| e["channel"] = "x".repeat(201).into()),
            with(&|e| e["type"] = "".into()),
            with(&|e| {
                e["channel"] = "resources/notes".into();
                e["type"] = "created".into();
            }),
            with(&|e| e["date"] = "yesterday".into()),
            with(&|e| e["meta"]["user"]["id"] = 1.into()),
            with(&|e| e["meta"]["user"]["id"] = "one".into()),
            with(&|e| e["meta"]["user"]["name"] = "".into()),
            with(&|e| e["meta"]["user"]["admin"] = true.into()),
            with(&|e| e["meta"]["origin"] = 3.into()),
            with(&|e| {
                e["meta"].as_object_mut().unwrap().remove("user");
            }),
            with(&|e| e["cursor"] = "x-1".into()),
            "not json".into(),
            "[]".into(),
        ];
        assert!(RemoteEvent::parse(&valid.to_string(), &SCHEMA).is_some());
        for body in bad {
            assert!(RemoteEvent::parse(&body, &SCHEMA).is_none(), "{body}");
        }
    }
}
