//! A connection's outbound queue, bounded in frames AND in bytes. Events carry whole
//! records (a post's content may be up to the REST body limit), so a frame count alone lets
//! a few sockets that never read hold gigabytes; the byte bound holds each connection's
//! queued memory to `max_bytes` plus one frame, whatever clients send or fail to read.
//!
//! The hub queues with [`QueueTx::try_send`], which never waits: a full queue means the
//! connection is cut off. Replay, which runs on the connection's own task, may wait for
//! room with [`QueueTx::send_within`], but only for a bounded time: a client that stops
//! reading during a replay is cut off like one that stops reading live.
//!
//! It knows nothing of sockets or of the hub.

use super::hub::Outbound;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Notify};

/// The queue has no room (frames or bytes): the connection must be cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("outbound queue full")]
pub struct Full;

struct Shared {
    bytes: AtomicUsize,
    max_bytes: usize,
    /// Signalled whenever the reader takes a frame (room may have appeared).
    drained: Notify,
}

/// The hub's end of a connection's queue. Cheap to clone.
#[derive(Clone)]
pub struct QueueTx {
    tx: mpsc::Sender<Outbound>,
    shared: Arc<Shared>,
}

/// The connection writer's end.
pub struct QueueRx {
    rx: mpsc::Receiver<Outbound>,
    shared: Arc<Shared>,
}

/// A queue of at most `frames` frames and `max_bytes` bytes of frame text (a single frame
/// larger than `max_bytes` still fits into an empty queue, so no frame is unsendable).
///
/// ```
/// # use server::live::queue::queue;
/// # use server::live::hub::Outbound;
/// let (tx, mut rx) = queue(8, 10);
/// assert!(tx.try_send(Outbound::Text("123456".into())).is_ok());
/// assert!(tx.try_send(Outbound::Text("123456".into())).is_err(), "12 bytes > 10");
/// assert!(rx.try_recv().is_some());
/// assert_eq!(tx.queued_bytes(), 0);
/// ```
pub fn queue(frames: usize, max_bytes: usize) -> (QueueTx, QueueRx) {
    let (tx, rx) = mpsc::channel(frames.max(1));
    let shared = Arc::new(Shared {
        bytes: AtomicUsize::new(0),
        max_bytes,
        drained: Notify::new(),
    });
    (
        QueueTx {
            tx,
            shared: shared.clone(),
        },
        QueueRx { rx, shared },
    )
}

fn size(item: &Outbound) -> usize {
    match item {
        Outbound::Text(text) => text.len(),
        Outbound::Ping | Outbound::Close(..) => 0,
    }
}

impl QueueTx {
    /// Queues `item` now, or says the queue is full.
    pub fn try_send(&self, item: Outbound) -> Result<(), Full> {
        self.offer(item).map_err(|_| Full)
    }

    /// Queues `item` now, or hands it back.
    fn offer(&self, item: Outbound) -> Result<(), Outbound> {
        let n = size(&item);
        let before = self.shared.bytes.fetch_add(n, Ordering::AcqRel);
        if before > 0 && before + n > self.shared.max_bytes {
            self.shared.bytes.fetch_sub(n, Ordering::AcqRel);
            return Err(item);
        }
        self.tx.try_send(item).map_err(|e| {
            self.shared.bytes.fetch_sub(n, Ordering::AcqRel);
            match e {
                mpsc::error::TrySendError::Full(item) | mpsc::error::TrySendError::Closed(item) => {
                    item
                }
            }
        })
    }

    /// Queues `item`, waiting up to `patience` for room; `Full` if none came (or the
    /// connection is gone).
    pub async fn send_within(&self, mut item: Outbound, patience: Duration) -> Result<(), Full> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            // Register before trying, so a drain between the try and the wait is not missed.
            let drained = self.shared.drained.notified();
            item = match self.offer(item) {
                Ok(()) => return Ok(()),
                Err(_) if self.tx.is_closed() => return Err(Full),
                Err(item) => item,
            };
            if tokio::time::timeout_at(deadline, drained).await.is_err() {
                return Err(Full);
            }
        }
    }

    /// Frame text queued and not yet taken by the writer.
    pub fn queued_bytes(&self) -> usize {
        self.shared.bytes.load(Ordering::Acquire)
    }

    /// Frames the queue can hold.
    pub fn max_frames(&self) -> usize {
        self.tx.max_capacity()
    }
}

impl QueueRx {
    /// The next frame; `None` once every sender is gone.
    pub async fn recv(&mut self) -> Option<Outbound> {
        let item = self.rx.recv().await?;
        Some(self.taken(item))
    }

    /// The next frame if one is queued now.
    pub fn try_recv(&mut self) -> Option<Outbound> {
        let item = self.rx.try_recv().ok()?;
        Some(self.taken(item))
    }

    fn taken(&self, item: Outbound) -> Outbound {
        self.shared.bytes.fetch_sub(size(&item), Ordering::AcqRel);
        self.shared.drained.notify_waiters();
        item
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(n: usize) -> Outbound {
        Outbound::Text("x".repeat(n).into())
    }

    #[test]
    fn bounded_in_frames_and_in_bytes() {
        let (tx, mut rx) = queue(3, 100);
        assert!(tx.try_send(text(60)).is_ok());
        assert_eq!(tx.try_send(text(60)), Err(Full), "120 bytes > 100");
        assert!(tx.try_send(text(40)).is_ok());
        assert_eq!(tx.queued_bytes(), 100);
        assert!(rx.try_recv().is_some());
        assert!(tx.try_send(Outbound::Ping).is_ok());
        assert!(tx.try_send(Outbound::Ping).is_ok());
        assert_eq!(
            tx.try_send(Outbound::Ping),
            Err(Full),
            "three frames at most"
        );
        let (tx, _rx) = queue(3, 100);
        assert!(
            tx.try_send(text(500)).is_ok(),
            "one oversized frame fits an empty queue"
        );
        assert_eq!(tx.try_send(text(1)), Err(Full));
    }

    #[tokio::test(start_paused = true)]
    async fn send_within_waits_for_room_but_not_forever() {
        let (tx, mut rx) = queue(1, 100);
        tx.try_send(text(10)).unwrap();
        let waiting = {
            let tx = tx.clone();
            tokio::spawn(async move { tx.send_within(text(10), Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_secs(1)).await;
        assert!(rx.try_recv().is_some(), "the reader takes one");
        assert_eq!(
            waiting.await.unwrap(),
            Ok(()),
            "so the waiting frame goes in"
        );
        let started = tokio::time::Instant::now();
        assert_eq!(
            tx.send_within(text(10), Duration::from_secs(5)).await,
            Err(Full)
        );
        assert_eq!(
            started.elapsed(),
            Duration::from_secs(5),
            "a reader that stopped is given up on"
        );
    }
}
