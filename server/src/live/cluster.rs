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
//! Ephemeral events (typing) travel in the notification itself, so they are capped by
//! PostgreSQL's 8,000-byte payload limit; the hub refuses larger ones with `too_large`
//! ([`super::cluster_link::PUBLISH_LIMIT`]).

use super::cluster_link::{HubLink, LocalChange, Members};
use crate::config::ClusterConfig;
use crate::store::Store;
use herald_protocol::Identity;
use serde::{Deserialize, Serialize};
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

#[derive(Serialize, Deserialize)]
struct PublishNote {
    node: String,
    channel: String,
    kind: String,
    body: String,
}

/// One node's membership in the cluster, on behalf of this node's hub `H`.
pub struct Cluster<H> {
    node: String,
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
        let cluster = Cluster {
            node: hex::encode(rand::random::<[u8; 8]>()),
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
            LocalChange::Publish {
                channel,
                kind,
                body,
            } => {
                let note = PublishNote {
                    node: self.node.clone(),
                    channel,
                    kind,
                    body,
                };
                self.notify(PUBLISH, &note).await
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
        let payload = serde_json::to_string(note).unwrap_or_default();
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(channel.to_owned())
            .bind(payload)
            .execute(self.store.pool())
            .await?;
        Ok(())
    }

    async fn heard(&self, channel: &str, payload: &str) -> Result<(), sqlx::Error> {
        match channel {
            PRESENCE => match serde_json::from_str::<PresenceNote>(payload) {
                Ok(note) if note.node == self.node => Ok(()),
                Ok(PresenceNote {
                    channel: Some(channel),
                    ..
                }) => self.reconcile(&channel).await,
                _ => self.reconcile_all().await,
            },
            PUBLISH => {
                if let Ok(note) = serde_json::from_str::<PublishNote>(payload) {
                    if note.node != self.node {
                        self.hub
                            .remote_publish(&note.channel, &note.kind, note.body);
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
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
