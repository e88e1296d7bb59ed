//! The stream of committed events, in log order, without gaps: [`Store::subscribe_committed`]
//! carries every event this node commits and — on PostgreSQL, where several nodes share one
//! log — every event any other node commits.
//!
//! The log is the source of truth; notifications only say "look". A node learns of other
//! nodes' commits from `NOTIFY herald_log` (queued by each append, delivered at commit) and,
//! because notifications are lost while a listener is disconnected, also reads the head on
//! every reconnect and on a slow poll. Positions are contiguous (see [`super::log`]), so
//! whichever path arrives first, the publisher sees exactly which events it has not sent
//! and reads them from the log before sending anything newer.

use super::log::{self, LoggedEvent, NOTIFY_CHANNEL};
use super::Store;
use sqlx::postgres::PgListener;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Events read from the log per query while catching up.
const PAGE: i64 = 500;

impl Store {
    /// Sends `events` (consecutive, just committed here) to in-process listeners, first
    /// reading from the log whatever committed before them that was not sent yet.
    pub(crate) async fn publish(&self, events: &[Arc<LoggedEvent>]) -> Result<(), sqlx::Error> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let mut published = self.published.lock().await;
        let fresh: Vec<&Arc<LoggedEvent>> = events.iter().filter(|e| e.seq > *published).collect();
        match fresh.first() {
            None => Ok(()),
            Some(first) if first.seq == *published + 1 => {
                for event in fresh {
                    // No listener is fine: the event is in the log for whoever comes later.
                    let _ = self.committed.send(Arc::clone(event));
                }
                *published = last.seq;
                Ok(())
            }
            Some(_) => self.send_from_log(&mut published, last.seq).await,
        }
    }

    /// Sends everything committed up to `upto` that was not sent yet, read from the log.
    pub async fn catch_up_to(&self, upto: i64) -> Result<(), sqlx::Error> {
        let mut published = self.published.lock().await;
        self.send_from_log(&mut published, upto).await
    }

    async fn send_from_log(&self, published: &mut i64, upto: i64) -> Result<(), sqlx::Error> {
        while *published < upto {
            let page = log::read_after(&self.pool, *published, PAGE).await?;
            if page.is_empty() {
                return Ok(());
            }
            for event in page {
                *published = event.seq;
                let _ = self.committed.send(Arc::new(event));
            }
        }
        Ok(())
    }

    /// Follows commits made by other nodes until `shutdown` (PostgreSQL only; a SQLite
    /// file has one writer process). `poll` bounds how late an event can be if
    /// notifications stop arriving without the connection noticing.
    pub async fn follow_other_nodes(self, poll: Duration, shutdown: CancellationToken) {
        let mut retry = tokio::time::interval(poll);
        loop {
            let mut listener = match self.listen().await {
                Ok(listener) => listener,
                Err(e) => {
                    tracing::warn!(error = %e, "log follower cannot listen; retrying");
                    tokio::select! {
                        () = shutdown.cancelled() => return,
                        _ = retry.tick() => continue,
                    }
                }
            };
            self.catch_up_to_head().await;
            let mut tick = tokio::time::interval(poll);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = tick.tick() => self.catch_up_to_head().await,
                    received = listener.try_recv() => match received {
                        Ok(Some(note)) => match note.payload().parse::<i64>() {
                            Ok(seq) => self.log_error(self.catch_up_to(seq).await),
                            Err(_) => self.catch_up_to_head().await,
                        },
                        // The connection dropped (sqlx reconnects on the next call):
                        // notifications sent meanwhile are lost, the log is not.
                        Ok(None) => self.catch_up_to_head().await,
                        Err(e) => {
                            tracing::warn!(error = %e, "log follower lost its listener");
                            break;
                        }
                    },
                }
            }
        }
    }

    async fn listen(&self) -> Result<PgListener, sqlx::Error> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(NOTIFY_CHANNEL).await?;
        Ok(listener)
    }

    async fn catch_up_to_head(&self) {
        let result = match log::head(&self.pool).await {
            Ok(head) => self.catch_up_to(head).await,
            Err(e) => Err(e),
        };
        self.log_error(result);
    }

    fn log_error(&self, result: Result<(), sqlx::Error>) {
        if let Err(e) = result {
            tracing::warn!(error = %e, "log follower could not read the log");
        }
    }
}
