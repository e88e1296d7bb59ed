//! The fan-out benchmark: N subscribers on `resources/posts`, W stamped writes a second
//! through REST for a fixed time; every (write, subscriber) pair's latency goes into one
//! histogram, next to deliveries per second and the server's memory.

use crate::cpu;
use crate::crowd::{Crowd, CrowdOptions};
use crate::live::histogram;
use crate::rss::{self, PeakSampler};
use crate::stats::Latency;
use crate::target::{http_client, Endpoint, Target};
use crate::writer::{self, Stamp};
use anyhow::{bail, Result};
use clap::Args;
use serde::Serialize;
use std::time::Duration;

/// `bench fanout`.
#[derive(Debug, Clone, Args)]
pub struct FanoutArgs {
    #[arg(long, value_enum)]
    pub target: Target,
    /// The server the subscribers connect to, `http://127.0.0.1:PORT`.
    #[arg(long)]
    pub base: String,
    /// The server that takes the writes, when it is another node of the same cluster
    /// (default: `base`).
    #[arg(long)]
    pub write_base: Option<String>,
    /// The server's process id, for its RSS.
    #[arg(long)]
    pub server_pid: u32,
    #[arg(long, default_value_t = 1000)]
    pub subscribers: usize,
    /// Writes per second.
    #[arg(long, default_value_t = 50.0)]
    pub rate: f64,
    /// Seconds of writing.
    #[arg(long, default_value_t = 10.0)]
    pub duration: f64,
    /// Loopback source addresses to spread the sockets over.
    #[arg(long, default_value_t = 8)]
    pub spread: u8,
    /// Sockets opened at once.
    #[arg(long, default_value_t = 200)]
    pub concurrency: usize,
    /// Seconds to wait after the last write for the deliveries still on their way.
    #[arg(long, default_value_t = 15.0)]
    pub drain: f64,
    /// A name for this scenario in the results.
    #[arg(long, default_value = "")]
    pub label: String,
}

/// One fan-out run, as the results file records it.
#[derive(Debug, Serialize)]
pub struct FanoutResult {
    pub kind: &'static str,
    pub target: Target,
    pub label: String,
    pub subscribers: usize,
    pub subscribed: usize,
    pub connect_failed: usize,
    pub connect_error: Option<String>,
    pub open_secs: f64,
    pub rate: f64,
    pub duration_secs: f64,
    pub writes_ok: u64,
    pub writes_failed: u64,
    pub write_error: Option<String>,
    pub expected: u64,
    pub delivered: u64,
    pub lost: u64,
    /// Sockets the server closed (or that failed) during the run.
    pub sockets_dropped: usize,
    pub drop_error: Option<String>,
    /// Write sent → event received, over every (write, subscriber) pair.
    pub latency: Latency,
    /// REST response time of the writes.
    pub write_response: Latency,
    /// Deliveries ÷ (last delivery − first write).
    pub deliveries_per_sec: f64,
    /// subscribers × rate.
    pub offered_per_sec: f64,
    pub rss_before_kib: u64,
    pub rss_subscribed_kib: u64,
    pub rss_peak_kib: u64,
    /// CPU seconds the server used from the first write to the end of the drain.
    pub server_cpu_secs: f64,
    /// CPU seconds the load generator used in the same window.
    pub bench_cpu_secs: f64,
    /// That window, in seconds.
    pub window_secs: f64,
    /// The machine's 1-minute load average when the writes started.
    pub load_average: f64,
}

/// Runs one fan-out scenario.
pub async fn run(args: &FanoutArgs) -> Result<FanoutResult> {
    let endpoint = Endpoint::new(args.target, &args.base)?;
    let writes_to = match &args.write_base {
        Some(base) => Endpoint::new(args.target, base)?,
        None => endpoint.clone(),
    };
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    let rss_before = rss::rss_kib(args.server_pid)?;
    let opts = CrowdOptions {
        sockets: args.subscribers,
        concurrency: args.concurrency,
        spread: args.spread,
    };
    let crowd = Crowd::open(&endpoint, &token, opts).await;
    if crowd.len() == 0 {
        bail!(
            "no subscriber could connect: {}",
            crowd.first_error.unwrap_or_default()
        );
    }
    // Warm up connections, caches and JITs with one second of unstamped writes.
    writer::run(
        &http,
        &writes_to,
        &token,
        args.rate,
        args.rate.ceil() as u64,
        Stamp::No,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_subscribed = rss::rss_kib(args.server_pid)?;
    let sampler = PeakSampler::start(args.server_pid);
    let load_average = cpu::load_average();
    let started = std::time::Instant::now();
    let (server_cpu0, bench_cpu0) = (cpu::cpu_secs(args.server_pid)?, cpu::own_cpu_secs()?);
    let count = (args.rate * args.duration).round().max(1.0) as u64;
    let writes = writer::run(&http, &writes_to, &token, args.rate, count, Stamp::Yes).await?;
    let expected = writes.ok * crowd.len() as u64;
    crowd
        .wait_for(expected, Duration::from_secs_f64(args.drain))
        .await;
    let rss_peak = sampler.peak_kib();
    let server_cpu_secs = cpu::cpu_secs(args.server_pid)? - server_cpu0;
    let bench_cpu_secs = cpu::own_cpu_secs()? - bench_cpu0;
    let cpu_window = started.elapsed().as_secs_f64();
    let (subscribed, connect_failed, connect_error, open_secs) = (
        crowd.len(),
        crowd.failed,
        crowd.first_error.clone(),
        crowd.open_time.as_secs_f64(),
    );
    let tallies = crowd.finish().await;
    let mut latency = histogram();
    let (mut delivered, mut last_at, mut dropped, mut drop_error) = (0, writes.first_at, 0, None);
    for tally in &tallies {
        for &micros in &tally.latencies {
            latency.saturating_record(u64::from(micros));
        }
        delivered += tally.delivered;
        last_at = last_at.max(tally.last_at);
        if let Some(e) = &tally.error {
            dropped += 1;
            drop_error.get_or_insert_with(|| e.clone());
        }
    }
    let window_secs = (last_at.saturating_sub(writes.first_at)) as f64 / 1e6;
    Ok(FanoutResult {
        kind: "fanout",
        target: args.target,
        label: args.label.clone(),
        subscribers: args.subscribers,
        subscribed,
        connect_failed,
        connect_error,
        open_secs,
        rate: args.rate,
        duration_secs: args.duration,
        writes_ok: writes.ok,
        writes_failed: writes.failed,
        write_error: writes.first_error,
        expected,
        delivered,
        lost: expected.saturating_sub(delivered),
        sockets_dropped: dropped,
        drop_error,
        latency: Latency::of(&latency),
        write_response: writes.response,
        deliveries_per_sec: if window_secs > 0.0 {
            delivered as f64 / window_secs
        } else {
            0.0
        },
        offered_per_sec: args.rate * subscribed as f64,
        rss_before_kib: rss_before,
        rss_subscribed_kib: rss_subscribed,
        rss_peak_kib: rss_peak,
        server_cpu_secs,
        bench_cpu_secs,
        window_secs: cpu_window,
        load_average,
    })
}
