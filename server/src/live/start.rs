//! Starting the live side of this node: [`Hub::start`] builds the hub and spawns the tasks
//! above it — the dispatcher ([`super::dispatch`]), retention ([`super::retention`]) and,
//! on PostgreSQL, the follower of other nodes' commits (`store::follow`) and cluster
//! membership ([`super::cluster`]) — all running until [`Hub::shutdown`]. This is the one
//! place that knows every part; the parts know only what they are handed.

use super::cluster::Cluster;
use super::hub::Hub;
use super::{dispatch, retention, sessions};
use crate::config::LiveConfig;
use crate::store::sql::Backend;
use crate::store::{log, Store};
use tokio::sync::mpsc;

impl Hub {
    /// Starts the hub over `store`: the dispatcher follows committed events and retention
    /// trims the log, both until [`Hub::shutdown`].
    pub async fn start(store: Store, config: LiveConfig) -> Result<Hub, sqlx::Error> {
        // Subscribe before reading the head: nothing can fall between the two.
        let committed = store.subscribe_committed();
        let head = log::head(store.pool()).await?;
        let clustered = store.backend() == Backend::Postgres;
        let (cluster_tx, cluster_rx) = mpsc::unbounded_channel();
        let hub = Hub::new(
            store.clone(),
            config.clone(),
            head,
            clustered.then_some(cluster_tx),
        );
        let shutdown = hub.shutdown_token();
        tokio::spawn(dispatch::run(
            hub.clone(),
            store.clone(),
            committed,
            shutdown.clone(),
        ));
        tokio::spawn(retention::run(
            store.clone(),
            config.clone(),
            shutdown.clone(),
        ));
        tokio::spawn(sessions::run(hub.clone(), shutdown.clone()));
        if clustered {
            tokio::spawn(
                store
                    .clone()
                    .follow_other_nodes(config.cluster.poll, shutdown.clone()),
            );
            tokio::spawn(Cluster::run(
                store,
                hub.clone(),
                config.cluster,
                cluster_rx,
                shutdown,
            ));
        }
        Ok(hub)
    }
}
