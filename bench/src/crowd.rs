//! A crowd of subscribed live sockets: opened with bounded concurrency, each read by its
//! own task from the moment it is subscribed, and stopped together at the end.

use crate::live::{self, Tally};
use crate::target::Endpoint;
use futures_util::StreamExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How the crowd is opened.
#[derive(Debug, Clone, Copy)]
pub struct CrowdOptions {
    pub sockets: usize,
    /// Sockets being opened at once (keeps the listen backlog from overflowing).
    pub concurrency: usize,
    /// Loopback source addresses to spread sockets over.
    pub spread: u8,
}

/// Subscribed sockets being read.
pub struct Crowd {
    listeners: Vec<JoinHandle<Tally>>,
    delivered: Arc<AtomicU64>,
    stop: watch::Sender<bool>,
    /// Sockets that could not be opened, and the first reason.
    pub failed: usize,
    pub first_error: Option<String>,
    /// How long opening them all took.
    pub open_time: Duration,
}

impl Crowd {
    /// Opens and subscribes `opts.sockets` sockets.
    pub async fn open(endpoint: &Endpoint, token: &str, opts: CrowdOptions) -> Crowd {
        let started = Instant::now();
        let delivered = Arc::new(AtomicU64::new(0));
        let (stop, stop_rx) = watch::channel(false);
        let mut crowd = Crowd {
            listeners: Vec::with_capacity(opts.sockets),
            delivered: delivered.clone(),
            stop,
            failed: 0,
            first_error: None,
            open_time: Duration::ZERO,
        };
        let mut opening = futures_util::stream::iter(0..opts.sockets)
            .map(|i| live::open(endpoint, token, i, opts.spread))
            .buffer_unordered(opts.concurrency.max(1));
        while let Some(opened) = opening.next().await {
            match opened {
                Ok(socket) => crowd.listeners.push(tokio::spawn(live::listen(
                    socket,
                    delivered.clone(),
                    stop_rx.clone(),
                ))),
                Err(e) => {
                    crowd.failed += 1;
                    crowd.first_error.get_or_insert_with(|| format!("{e:#}"));
                }
            }
        }
        crowd.open_time = started.elapsed();
        crowd
    }

    /// Sockets open and subscribed.
    pub fn len(&self) -> usize {
        self.listeners.len()
    }

    /// Stamped frames received so far, all sockets together.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Waits until `expected` frames have arrived or `timeout` has passed; returns whether
    /// they all did.
    pub async fn wait_for(&self, expected: u64, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while self.delivered() < expected {
            if Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        true
    }

    /// Stops every reader and returns what each saw; the sockets close as they drop.
    pub async fn finish(self) -> Vec<Tally> {
        let _ = self.stop.send(true);
        let mut tallies = Vec::with_capacity(self.listeners.len());
        for listener in self.listeners {
            if let Ok(tally) = listener.await {
                tallies.push(tally);
            }
        }
        tallies
    }
}
