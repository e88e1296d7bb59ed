//! The dispatcher: the task that hands committed events to the hub, strictly in log order,
//! and catches up from the log when it falls behind.
//!
//! It follows the store's stream of committed events ([`Store::subscribe_committed`]: in
//! log order, without gaps, this node's and, on PostgreSQL, every node's). [`Hub::start`] subscribes to
//! that stream before it reads the log head the hub starts from, so no event falls between
//! the two. When the stream lags (a burst larger than its buffer), the missed events are
//! re-read from the log after the last one the hub applied; the hub skips any `seq` it
//! applied already, so an event that arrives both ways is dispatched once. This is the
//! "strictly in `seq` order" of the ordering argument in [`super::hub`].
//!
//! It sits above the hub and knows nothing of connections, subscriptions or frames.

use super::hub::Hub;
use crate::store::{log, LoggedEvent, Store};
use std::sync::Arc;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

/// Events read from the log per query while catching up.
const LOG_PAGE: i64 = 500;

/// Follows `committed` into `hub` until `shutdown`; after a lag, catches up from the log.
pub(super) async fn run(
    hub: Hub,
    store: Store,
    mut committed: broadcast::Receiver<Arc<LoggedEvent>>,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            received = committed.recv() => match received {
                Ok(event) => hub.apply(&event),
                Err(broadcast::error::RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "live dispatcher lagged; catching up from the log");
                    if let Err(e) = catch_up(&hub, &store).await {
                        tracing::error!(error = %e, "live dispatcher could not read the log");
                    }
                }
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Applies every logged event after the last one `hub` applied, up to the log's end.
pub(super) async fn catch_up(hub: &Hub, store: &Store) -> Result<(), sqlx::Error> {
    loop {
        let page = log::read_after(store.pool(), hub.last_applied(), LOG_PAGE).await?;
        if page.is_empty() {
            return Ok(());
        }
        for event in &page {
            hub.apply(event);
        }
    }
}
