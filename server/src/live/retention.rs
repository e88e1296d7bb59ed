//! Retention: the task that trims the event log every `trim_interval`, keeping at most
//! `keep_events` events and `keep_bytes` bytes of payload and meta (the newest event always),
//! and none older than `keep_age` ([`LiveConfig`]). A cursor from before what is kept gets
//! `reset` when it resumes ([`super::replay`]).
//!
//! It only trims the log: it knows nothing of the hub, connections or subscriptions.

use crate::config::LiveConfig;
use crate::store::{log, Store};
use tokio_util::sync::CancellationToken;

/// Applies the log's retention now, and then every `trim_interval`, until `shutdown`.
pub(super) async fn run(store: Store, config: LiveConfig, shutdown: CancellationToken) {
    let mut tick = tokio::time::interval(config.trim_interval);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => {
                let trimmed = log::trim(
                    store.pool(),
                    store.backend(),
                    config.keep_events,
                    config.keep_bytes,
                    config.keep_age,
                );
                match trimmed.await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "event log trimmed"),
                    Err(e) => tracing::warn!(error = %e, "event log trim failed"),
                }
            }
        }
    }
}
