//! The stalled-readers scenario (hardening): sockets that subscribe and never read, while
//! the largest events the limits allow are written, and one reader on the side. The server's
//! memory must stay bounded (each connection's outbound queue is bounded in bytes; a
//! connection that cannot keep up is cut off with 1013) and the reader must get every event.
//! Reports the server's RSS before, at its peak and after, and how the stalled sockets ended.

use crate::live;
use crate::rss;
use crate::target::{http_client, Endpoint, Target};
use anyhow::{bail, Result};
use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;
use serde_json::json;
use std::time::{Duration, Instant};

/// `bench stalled`.
#[derive(Debug, Clone, Args)]
pub struct StalledArgs {
    #[arg(long)]
    pub base: String,
    #[arg(long)]
    pub server_pid: u32,
    /// Sockets that subscribe and never read.
    #[arg(long, default_value_t = 20)]
    pub stalled: usize,
    /// Writes, each carrying a post's largest content.
    #[arg(long, default_value_t = 1000)]
    pub writes: u64,
    /// Characters of content per write (the admin's cap is 100,000).
    #[arg(long, default_value_t = 100_000)]
    pub content_chars: usize,
    /// The character repeated: the default takes 4 bytes in UTF-8, the most a character
    /// can, so events are as large as the limits allow (about 400 KB).
    #[arg(long, default_value_t = '😀')]
    pub content_char: char,
    /// Writes in flight at once.
    #[arg(long, default_value_t = 4)]
    pub concurrency: usize,
}

/// The stalled run, as the results file records it.
#[derive(Debug, Serialize)]
pub struct StalledResult {
    pub kind: &'static str,
    pub stalled: usize,
    pub writes: u64,
    pub writes_ok: u64,
    pub event_bytes: usize,
    pub reader_received: u64,
    pub rss_before_kib: u64,
    pub rss_peak_kib: u64,
    pub rss_after_kib: u64,
    /// Peak minus before, in MB.
    pub growth_mb: f64,
    /// Stalled sockets the server had closed by the end.
    pub stalled_closed: usize,
    pub secs: f64,
}

/// How long the reader may take to catch up after the last write.
const CATCH_UP: Duration = Duration::from_secs(60);

/// Runs the scenario.
pub async fn run(args: &StalledArgs) -> Result<StalledResult> {
    let endpoint = Endpoint::new(Target::Herald, &args.base)?;
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    let mut stalled = Vec::with_capacity(args.stalled);
    for i in 0..args.stalled {
        stalled.push(live::open(&endpoint, &token, i, 1).await?);
    }
    let mut reader = live::open(&endpoint, &token, args.stalled, 1).await?;
    let expected = args.writes;
    let reading = tokio::spawn(async move {
        let mut received = 0u64;
        while received < expected {
            match tokio::time::timeout(CATCH_UP, reader.next_text()).await {
                Ok(Some(Ok(text))) if text.as_str().contains(r#""op":"event""#) => received += 1,
                Ok(Some(Ok(_))) => {}
                _ => break,
            }
        }
        received
    });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = rss::rss_kib(args.server_pid)?;
    let peak = rss::PeakSampler::start(args.server_pid);
    let started = Instant::now();
    let content = args.content_char.to_string().repeat(args.content_chars);
    let writes_ok = write_all(&http, &endpoint, &token, &content, args).await;
    let reader_received = reading.await.unwrap_or(0);
    let secs = started.elapsed().as_secs_f64();
    let rss_peak = peak.peak_kib();
    drop(peak);
    let rss_after = rss::rss_kib(args.server_pid)?;
    let stalled_closed = count_closed(stalled).await;
    if writes_ok == 0 {
        bail!("no write succeeded");
    }
    Ok(StalledResult {
        kind: "stalled",
        stalled: args.stalled,
        writes: args.writes,
        writes_ok,
        event_bytes: content.len(),
        reader_received,
        rss_before_kib: rss_before,
        rss_peak_kib: rss_peak.max(rss_after),
        rss_after_kib: rss_after,
        growth_mb: rss_peak.max(rss_after).saturating_sub(rss_before) as f64 / 1024.0,
        stalled_closed,
        secs,
    })
}

async fn write_all(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    content: &str,
    args: &StalledArgs,
) -> u64 {
    let writes = futures_util::stream::iter(0..args.writes)
        .map(|i| {
            let url = endpoint.api(&format!("/posts/{}", i % 20 + 1));
            let body = json!({ "title": format!("large write {i}"), "content": content });
            let request = http.patch(url).bearer_auth(token).json(&body).send();
            async move { request.await.is_ok_and(|r| r.status().is_success()) }
        })
        .buffer_unordered(args.concurrency.max(1));
    writes.filter(|ok| std::future::ready(*ok)).count().await as u64
}

/// Drains each stalled socket to its end (briefly): a socket the server cut off ends.
async fn count_closed(sockets: Vec<live::LiveSocket>) -> usize {
    let drains = sockets.into_iter().map(|mut socket| async move {
        let drained = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = socket.next_text().await {}
        })
        .await;
        drained.is_ok()
    });
    futures_util::future::join_all(drains)
        .await
        .into_iter()
        .filter(|closed| *closed)
        .count()
}
