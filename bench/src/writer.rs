//! The write side of a fan-out run: `rate` PATCHes a second through REST for a fixed
//! number of writes, open loop (each write is sent on schedule whether or not earlier
//! ones have been answered), each stamping the post's `content` with its send time.

use crate::clock;
use crate::live::histogram;
use crate::stats::Latency;
use crate::target::Endpoint;
use anyhow::Result;
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::MissedTickBehavior;

/// How many seeded posts the writes cycle over (both servers have ids 1..=20).
const POSTS: u64 = 20;
/// A write not answered within this is counted as failed.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// What the writer did.
pub struct Writes {
    pub ok: u64,
    pub failed: u64,
    /// When the first write was sent ([`clock::now_micros`]).
    pub first_at: u64,
    /// REST response time of the successful writes.
    pub response: Latency,
    /// The first failure, for the report.
    pub first_error: Option<String>,
}

/// Whether writes carry the send-time stamp subscribers measure (warm-up writes do not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    Yes,
    No,
}

/// Sends `count` writes at `rate` per second and waits for all answers.
pub async fn run(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    rate: f64,
    count: u64,
    stamp: Stamp,
) -> Result<Writes> {
    run_padded(http, endpoint, token, rate, count, stamp, 0).await
}

/// [`run`], with `pad` filler characters after the stamp in every write's `content`.
pub async fn run_padded(
    http: &reqwest::Client,
    endpoint: &Endpoint,
    token: &str,
    rate: f64,
    count: u64,
    stamp: Stamp,
    pad: usize,
) -> Result<Writes> {
    let filler: Arc<str> = "x".repeat(pad).into();
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate.max(0.001)));
    tick.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut inflight = JoinSet::new();
    let first_at = clock::now_micros();
    for i in 0..count {
        tick.tick().await;
        let url = endpoint.api(&format!("/posts/{}", i % POSTS + 1));
        inflight.spawn(write_once(
            http.clone(),
            url,
            token.to_owned(),
            stamp,
            filler.clone(),
        ));
    }
    let mut response = histogram();
    let (mut ok, mut failed, mut first_error) = (0, 0, None);
    while let Some(done) = inflight.join_next().await {
        match done.map_err(anyhow::Error::from).and_then(|r| r) {
            Ok(micros) => {
                ok += 1;
                response.saturating_record(micros.max(1));
            }
            Err(e) => {
                failed += 1;
                first_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    Ok(Writes {
        ok,
        failed,
        first_at,
        response: Latency::of(&response),
        first_error,
    })
}

/// One stamped PATCH (`filler` after the stamp, if any); returns its response time in
/// microseconds.
async fn write_once(
    http: reqwest::Client,
    url: String,
    token: String,
    stamp: Stamp,
    filler: Arc<str>,
) -> Result<u64> {
    let sent = clock::now_micros();
    let mut content = match stamp {
        Stamp::Yes => clock::stamp(sent),
        Stamp::No => "warm-up".to_owned(),
    };
    if !filler.is_empty() {
        content.push(' ');
        content.push_str(&filler);
    }
    let res = http
        .patch(&url)
        .bearer_auth(token)
        .json(&json!({ "content": content }))
        .timeout(WRITE_TIMEOUT)
        .send()
        .await?;
    let status = res.status();
    if !status.is_success() {
        anyhow::bail!(
            "PATCH {url}: {status} {}",
            res.text().await.unwrap_or_default()
        );
    }
    Ok(clock::now_micros().saturating_sub(sent))
}
