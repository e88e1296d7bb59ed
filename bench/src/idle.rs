//! The idle-socket benchmark: hold N subscribed sockets and divide the server's RSS growth
//! by N. A warm-up crowd first brings the server's pools and threads to their working size,
//! so the baseline is a warm server rather than a cold one; one write at the end proves
//! every socket is still subscribed.

use crate::crowd::{Crowd, CrowdOptions};
use crate::rss;
use crate::target::{http_client, Endpoint, Target};
use crate::writer::{self, Stamp};
use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use std::time::Duration;

/// `bench idle`.
#[derive(Debug, Clone, Args)]
pub struct IdleArgs {
    #[arg(long, value_enum)]
    pub target: Target,
    #[arg(long)]
    pub base: String,
    #[arg(long)]
    pub server_pid: u32,
    #[arg(long, default_value_t = 10_000)]
    pub sockets: usize,
    #[arg(long, default_value_t = 8)]
    pub spread: u8,
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Seconds to let the server settle before reading its RSS.
    #[arg(long, default_value_t = 3.0)]
    pub settle: f64,
    /// Sockets opened (concurrently) and closed before the baseline.
    #[arg(long, default_value_t = 200)]
    pub warmup: usize,
}

/// The idle run, as the results file records it.
#[derive(Debug, Serialize)]
pub struct IdleResult {
    pub kind: &'static str,
    pub target: Target,
    pub sockets: usize,
    pub subscribed: usize,
    pub connect_failed: usize,
    pub connect_error: Option<String>,
    pub open_secs: f64,
    pub rss_before_kib: u64,
    pub rss_after_kib: u64,
    /// (after − before) ÷ subscribed, in bytes.
    pub bytes_per_socket: f64,
    /// Sockets that received the probe write's event.
    pub probe_delivered: u64,
}

/// Runs the idle-socket scenario.
pub async fn run(args: &IdleArgs) -> Result<IdleResult> {
    let endpoint = Endpoint::new(args.target, &args.base)?;
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    warm_up(&endpoint, &token, args).await;
    let rss_before = rss::rss_kib(args.server_pid)?;
    let opts = CrowdOptions {
        sockets: args.sockets,
        concurrency: args.concurrency,
        spread: args.spread,
    };
    let crowd = Crowd::open(&endpoint, &token, opts).await;
    if crowd.len() == 0 {
        bail!(
            "no socket could connect: {}",
            crowd.first_error.unwrap_or_default()
        );
    }
    tokio::time::sleep(Duration::from_secs_f64(args.settle)).await;
    let rss_after = rss::rss_kib(args.server_pid)?;
    let probe = writer::run(&http, &endpoint, &token, 1.0, 1, Stamp::Yes).await?;
    crowd
        .wait_for(probe.ok * crowd.len() as u64, Duration::from_secs(20))
        .await;
    let result = IdleResult {
        kind: "idle",
        target: args.target,
        sockets: args.sockets,
        subscribed: crowd.len(),
        connect_failed: crowd.failed,
        connect_error: crowd.first_error.clone(),
        open_secs: crowd.open_time.as_secs_f64(),
        rss_before_kib: rss_before,
        rss_after_kib: rss_after,
        bytes_per_socket: rss_after.saturating_sub(rss_before) as f64 * 1024.0 / crowd.len() as f64,
        probe_delivered: crowd.delivered(),
    };
    crowd.finish().await;
    Ok(result)
}

async fn warm_up(endpoint: &Endpoint, token: &str, args: &IdleArgs) {
    let opts = CrowdOptions {
        sockets: args.warmup,
        concurrency: args.concurrency,
        spread: args.spread,
    };
    Crowd::open(endpoint, token, opts).await.finish().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
}
