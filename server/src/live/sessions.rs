//! Ends the live connections of sessions that ended. Every [`SWEEP`] it asks the database
//! which of the sessions behind this node's connections still exist and have not expired;
//! the connections of the others are closed with 4401 `session ended`, so a logout (on any
//! node: the sessions table is shared) or an expiry stops a socket within about a second,
//! and its user's private notifications stop with it. Above the hub: it knows the hub's
//! connections only by their session digests.

use super::hub::Hub;
use crate::auth::session;
use std::collections::HashSet;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How often sessions are checked: the contract is a 4401 within 2 s of a logout.
pub const SWEEP: Duration = Duration::from_secs(1);

/// The close code and reason of a connection whose session ended.
pub const CLOSE_SESSION_ENDED: u16 = 4401;
pub const SESSION_ENDED: &str = "session ended";

/// Sweeps every [`SWEEP`] until `shutdown`.
pub async fn run(hub: Hub, shutdown: CancellationToken) {
    let mut every = tokio::time::interval(SWEEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = every.tick() => {
                if let Err(e) = sweep(&hub).await {
                    // The next sweep tries again; connections stay open meanwhile.
                    tracing::warn!(error = %e, "could not check live sessions");
                }
            }
        }
    }
}

/// One sweep; returns how many connections were told to close.
pub async fn sweep(hub: &Hub) -> Result<usize, crate::store::StoreError> {
    let digests = hub.session_digests();
    if digests.is_empty() {
        return Ok(0);
    }
    let alive: HashSet<String> = session::alive(hub.store(), &digests).await?;
    Ok(hub.end_sessions_except(&alive))
}
