//! The soak scenario (hardening): a bounded run of the live channel with a crowd of
//! subscribed sockets, a tenth of which are slow readers (each reads one frame, then sleeps),
//! plus a few probes that read normally, while ~10 KB writes arrive at a steady rate. The
//! slow readers fall behind until their queue is full and the server cuts them off (1013);
//! the server's memory must stay flat and the others must neither lose an event nor see
//! their latency move. The probes' write→delivery latency is split in two phases: a
//! baseline before the slow readers connect (the first third of the run) and the rest, once
//! they are all connected.

use crate::clock;
use crate::crowd::{Crowd, CrowdOptions};
use crate::live::{self, histogram, LiveSocket};
use crate::rss;
use crate::stats::Latency;
use crate::target::{http_client, Endpoint, Target};
use crate::writer::{self, Stamp, Writes};
use anyhow::{bail, Result};
use clap::Args;
use futures_util::StreamExt;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// `bench soak`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    #[arg(long)]
    pub base: String,
    /// The server's process id, for its RSS.
    #[arg(long)]
    pub server_pid: u32,
    /// Subscribed sockets, slow readers included (the probes come on top).
    #[arg(long, default_value_t = 2000)]
    pub sockets: usize,
    /// Percentage of `sockets` that are slow readers.
    #[arg(long, default_value_t = 10)]
    pub slow_percent: u8,
    /// How long a slow reader sleeps after each frame it reads, in ms. At the default 20
    /// writes/s it reads 2 frames/s and falls ~18 frames (~180 KB) behind every second.
    #[arg(long, default_value_t = 500)]
    pub slow_sleep_ms: u64,
    /// Normal readers whose latency and completeness are reported in both phases.
    #[arg(long, default_value_t = 20)]
    pub probes: usize,
    /// Writes per second.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// Seconds of writing; the slow readers connect after the first third.
    #[arg(long, default_value_t = 60.0)]
    pub duration: f64,
    /// Characters of filler in every write's content (after its stamp).
    #[arg(long, default_value_t = 10_000)]
    pub content_chars: usize,
    /// Loopback source addresses to spread the sockets over.
    #[arg(long, default_value_t = 8)]
    pub spread: u8,
    /// Sockets opened at once.
    #[arg(long, default_value_t = 100)]
    pub concurrency: usize,
    /// Seconds to wait after the last write for the deliveries still on their way.
    #[arg(long, default_value_t = 15.0)]
    pub drain: f64,
}

/// The probes' latency over one phase.
#[derive(Debug, Serialize)]
pub struct Phase {
    /// Writes sent from … to …, seconds after the first write.
    pub from_secs: f64,
    pub to_secs: f64,
    pub latency: Latency,
}

/// The soak run, as the results file records it.
#[derive(Debug, Serialize)]
pub struct SoakResult {
    pub kind: &'static str,
    pub sockets: usize,
    pub slow: usize,
    pub slow_sleep_ms: u64,
    pub probes: usize,
    pub connect_failed: usize,
    pub connect_error: Option<String>,
    pub rate: f64,
    pub duration_secs: f64,
    pub content_chars: usize,
    pub writes_ok: u64,
    pub writes_failed: u64,
    pub write_error: Option<String>,
    /// Probes: write → delivery, before the slow readers connect.
    pub baseline: Phase,
    /// Probes: write → delivery, once every slow reader is connected.
    pub with_slow: Phase,
    pub probe_expected: u64,
    pub probe_delivered: u64,
    pub probe_lost: u64,
    pub probes_dropped: usize,
    /// The normal (non-probe, non-slow) sockets, over the whole run.
    pub crowd: usize,
    pub crowd_expected: u64,
    pub crowd_delivered: u64,
    pub crowd_lost: u64,
    pub crowd_dropped: usize,
    pub crowd_drop_error: Option<String>,
    pub crowd_latency: Latency,
    /// Slow sockets the server ended (cut off), and of those how many with a 1013 close
    /// frame read (the others ended without one: reset, or closed under a full socket).
    pub slow_cut_off: usize,
    pub slow_cut_off_1013: usize,
    pub slow_still_open: usize,
    /// Seconds from the slow readers' connection to the first and last cut-off seen while
    /// writing (cut-offs only found in the final drain are not timed).
    pub first_cut_off_secs: Option<f64>,
    pub last_cut_off_secs: Option<f64>,
    /// Server RSS: fresh, at the first write, highest, at the last write.
    pub rss_before_kib: u64,
    pub rss_start_kib: u64,
    pub rss_max_kib: u64,
    pub rss_end_kib: u64,
    /// Least-squares slope of the per-second RSS samples over the second half of the
    /// writing, KiB/s.
    pub rss_slope_kib_per_sec: f64,
    /// One RSS sample per second from the first write to the last, KiB.
    pub rss_samples_kib: Vec<u64>,
    pub secs: f64,
}

/// What happened to one slow reader while the writes ran.
enum SlowEnd {
    /// Still open when told to stop.
    Open(Box<LiveSocket>),
    /// Ended by the server: when ([`clock::now_micros`]) and its close code, if read.
    Ended { at: u64, code: Option<u16> },
}

/// A probe's stamped deliveries: (sent, received), [`clock::now_micros`].
struct ProbeLog {
    deliveries: Vec<(u64, u64)>,
    dropped: bool,
}

/// Runs the scenario.
pub async fn run(args: &SoakArgs) -> Result<SoakResult> {
    let endpoint = Endpoint::new(Target::Herald, &args.base)?;
    let http = http_client()?;
    let token = endpoint.token(&http).await?;
    let rss_before = rss::rss_kib(args.server_pid)?;
    let slow_count = args.sockets * usize::from(args.slow_percent.min(100)) / 100;
    let crowd_count = args.sockets - slow_count;
    let crowd = Crowd::open(
        &endpoint,
        &token,
        CrowdOptions {
            sockets: crowd_count,
            concurrency: args.concurrency,
            spread: args.spread,
        },
    )
    .await;
    let (stop, stop_rx) = watch::channel(false);
    let mut connect_failed = crowd.failed;
    let mut connect_error = crowd.first_error.clone();
    let mut probes = Vec::with_capacity(args.probes);
    let probe_count = Arc::new(AtomicU64::new(0));
    for i in 0..args.probes {
        match live::open(&endpoint, &token, crowd_count + i, args.spread).await {
            Ok(socket) => probes.push(tokio::spawn(probe(
                socket,
                probe_count.clone(),
                stop_rx.clone(),
            ))),
            Err(e) => {
                connect_failed += 1;
                connect_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    if probes.is_empty() {
        bail!(
            "no probe could connect: {}",
            connect_error.unwrap_or_default()
        );
    }
    // Warm up (one second of small unstamped writes), then settle.
    writer::run(
        &http,
        &endpoint,
        &token,
        args.rate,
        args.rate.ceil() as u64,
        Stamp::No,
    )
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let count = (args.rate * args.duration).round().max(1.0) as u64;
    let started = Instant::now();
    let origin = clock::now_micros();
    let rss_start = rss::rss_kib(args.server_pid)?;
    let sampler = tokio::spawn(sample_rss(args.server_pid, args.duration));
    let writing = {
        let (http, endpoint, token) = (http.clone(), endpoint.clone(), token.clone());
        let (rate, pad) = (args.rate, args.content_chars);
        tokio::spawn(async move {
            writer::run_padded(&http, &endpoint, &token, rate, count, Stamp::Yes, pad).await
        })
    };

    // The first third: probes and crowd only. Then the slow readers.
    tokio::time::sleep(Duration::from_secs_f64(args.duration / 3.0)).await;
    let slow_from = clock::now_micros();
    let mut opening = futures_util::stream::iter(0..slow_count)
        .map(|i| {
            live::open(
                &endpoint,
                &token,
                crowd_count + args.probes + i,
                args.spread,
            )
        })
        .buffer_unordered(args.concurrency.max(1));
    let mut slow = Vec::with_capacity(slow_count);
    let pause = Duration::from_millis(args.slow_sleep_ms);
    let max_reads = count + 1000;
    while let Some(opened) = opening.next().await {
        match opened {
            Ok(socket) => slow.push(tokio::spawn(slow_reader(
                socket,
                pause,
                max_reads,
                stop_rx.clone(),
            ))),
            Err(e) => {
                connect_failed += 1;
                connect_error.get_or_insert_with(|| format!("{e:#}"));
            }
        }
    }
    drop(opening);
    let slow_open = clock::now_micros();

    let writes: Writes = writing.await??;
    let rss_samples = sampler.await.unwrap_or_default();
    let rss_end = rss::rss_kib(args.server_pid)?;
    let probes_open = probes.len() as u64;
    let probe_expected = writes.ok * probes_open;
    let crowd_expected = writes.ok * crowd.len() as u64;
    let deadline = Instant::now() + Duration::from_secs_f64(args.drain);
    while Instant::now() < deadline
        && (crowd.delivered() < crowd_expected
            || probe_count.load(Ordering::Relaxed) < probe_expected)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);

    let mut probe_hist = [histogram(), histogram()];
    let (mut probe_delivered, mut probes_dropped) = (0u64, 0usize);
    for handle in probes {
        let Ok(log) = handle.await else {
            probes_dropped += 1;
            continue;
        };
        probes_dropped += usize::from(log.dropped);
        probe_delivered += log.deliveries.len() as u64;
        for (sent, got) in log.deliveries {
            let micros = got.saturating_sub(sent).max(1);
            if sent < slow_from {
                probe_hist[0].saturating_record(micros);
            } else if sent >= slow_open {
                probe_hist[1].saturating_record(micros);
            }
        }
    }

    let (crowd_len, tallies) = (crowd.len(), crowd.finish().await);
    let mut crowd_hist = histogram();
    let (mut crowd_delivered, mut crowd_dropped, mut crowd_drop_error) = (0u64, 0usize, None);
    for tally in &tallies {
        for &micros in &tally.latencies {
            crowd_hist.saturating_record(u64::from(micros));
        }
        crowd_delivered += tally.delivered;
        if let Some(e) = &tally.error {
            crowd_dropped += 1;
            crowd_drop_error.get_or_insert_with(|| e.clone());
        }
    }

    let slow_len = slow.len();
    let (mut cut, mut cut_1013, mut first_cut, mut last_cut) = (0, 0, None, None);
    let mut still_open = Vec::new();
    for handle in slow {
        match handle.await {
            Ok(SlowEnd::Open(socket)) => still_open.push(*socket),
            Ok(SlowEnd::Ended { at, code }) => {
                cut += 1;
                cut_1013 += usize::from(code == Some(1013));
                let secs = at.saturating_sub(slow_open) as f64 / 1e6;
                first_cut = Some(first_cut.map_or(secs, |f: f64| f.min(secs)));
                last_cut = Some(last_cut.map_or(secs, |l: f64| l.max(secs)));
            }
            Err(_) => cut += 1,
        }
    }
    // A socket cut off late may still have its backlog to read before its end shows.
    let (late_cut, late_1013) = drain_to_end(still_open).await;
    cut += late_cut;
    cut_1013 += late_1013;

    if writes.ok == 0 {
        bail!(
            "no write succeeded: {}",
            writes.first_error.unwrap_or_default()
        );
    }
    let secs_of = |micros: u64| micros.saturating_sub(origin) as f64 / 1e6;
    let second_half: Vec<u64> = rss_samples
        .iter()
        .copied()
        .skip(rss_samples.len() / 2)
        .collect();
    Ok(SoakResult {
        kind: "soak",
        sockets: args.sockets,
        slow: slow_len,
        slow_sleep_ms: args.slow_sleep_ms,
        probes: probes_open as usize,
        connect_failed,
        connect_error,
        rate: args.rate,
        duration_secs: args.duration,
        content_chars: args.content_chars,
        writes_ok: writes.ok,
        writes_failed: writes.failed,
        write_error: writes.first_error,
        baseline: Phase {
            from_secs: 0.0,
            to_secs: secs_of(slow_from),
            latency: Latency::of(&probe_hist[0]),
        },
        with_slow: Phase {
            from_secs: secs_of(slow_open),
            to_secs: args.duration,
            latency: Latency::of(&probe_hist[1]),
        },
        probe_expected,
        probe_delivered,
        probe_lost: probe_expected.saturating_sub(probe_delivered),
        probes_dropped,
        crowd: crowd_len,
        crowd_expected,
        crowd_delivered,
        crowd_lost: crowd_expected.saturating_sub(crowd_delivered),
        crowd_dropped,
        crowd_drop_error,
        crowd_latency: Latency::of(&crowd_hist),
        slow_cut_off: cut,
        slow_cut_off_1013: cut_1013,
        slow_still_open: slow_len - cut.min(slow_len),
        first_cut_off_secs: first_cut,
        last_cut_off_secs: last_cut,
        rss_before_kib: rss_before,
        rss_start_kib: rss_start,
        rss_max_kib: rss_samples
            .iter()
            .copied()
            .chain([rss_start, rss_end])
            .max()
            .unwrap_or(rss_end),
        rss_end_kib: rss_end,
        rss_slope_kib_per_sec: slope(&second_half),
        rss_samples_kib: rss_samples,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// The server's RSS once a second for `duration` seconds (a sample that cannot be read is
/// left out).
async fn sample_rss(pid: u32, duration: f64) -> Vec<u64> {
    let samples = duration.ceil().max(1.0) as usize;
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut out = Vec::with_capacity(samples);
    for _ in 0..samples {
        tick.tick().await;
        if let Ok(kib) = rss::rss_kib(pid) {
            out.push(kib);
        }
    }
    out
}

/// Least-squares slope of samples taken one second apart, per second.
fn slope(samples: &[u64]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = (n - 1.0) / 2.0;
    let mean_y = samples.iter().map(|&y| y as f64).sum::<f64>() / n;
    let (mut num, mut den) = (0.0, 0.0);
    for (i, &y) in samples.iter().enumerate() {
        let dx = i as f64 - mean_x;
        num += dx * (y as f64 - mean_y);
        den += dx * dx;
    }
    num / den
}

/// A normal reader that logs when each stamped frame was sent and received.
async fn probe(
    mut socket: LiveSocket,
    shared: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) -> ProbeLog {
    let mut log = ProbeLog {
        deliveries: Vec::new(),
        dropped: false,
    };
    let stopped = stop.changed();
    tokio::pin!(stopped);
    loop {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            next = socket.next_text() => match next {
                Some(Ok(text)) => {
                    if let Some(sent) = clock::find_stamp(text.as_str()) {
                        log.deliveries.push((sent, clock::now_micros()));
                        shared.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Some(Err(_)) | None => {
                    log.dropped = true;
                    break;
                }
            },
        }
    }
    log
}

/// Reads one frame, sleeps `pause`, and again, until the server ends the socket, `stop`
/// turns true or `max_reads` frames have been read.
async fn slow_reader(
    mut socket: LiveSocket,
    pause: Duration,
    max_reads: u64,
    mut stop: watch::Receiver<bool>,
) -> SlowEnd {
    let stopped = stop.changed();
    tokio::pin!(stopped);
    for _ in 0..max_reads {
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            next = socket.next_text() => match next {
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    return SlowEnd::Ended { at: clock::now_micros(), code: socket.close_code() };
                }
            },
        }
        tokio::select! {
            biased;
            _ = &mut stopped => break,
            () = tokio::time::sleep(pause) => {}
        }
    }
    SlowEnd::Open(Box::new(socket))
}

/// Reads each socket as fast as it can, for at most 10 s: a socket the server has cut off
/// reaches its end. Returns how many ended, and how many of those with a 1013 close frame.
async fn drain_to_end(sockets: Vec<LiveSocket>) -> (usize, usize) {
    let drains = sockets.into_iter().map(|mut socket| async move {
        let ended = tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(Ok(_)) = socket.next_text().await {}
        })
        .await
        .is_ok();
        (ended, ended && socket.close_code() == Some(1013))
    });
    futures_util::future::join_all(drains)
        .await
        .into_iter()
        .fold((0, 0), |(ended, with_code), (e, c)| {
            (ended + usize::from(e), with_code + usize::from(c))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slope_of_samples() {
        assert_eq!(slope(&[]), 0.0);
        assert_eq!(slope(&[5]), 0.0);
        assert!((slope(&[10, 12, 14, 16]) - 2.0).abs() < 1e-9);
        assert!(slope(&[100, 100, 100]).abs() < 1e-9);
        assert!((slope(&[10, 8, 6]) + 2.0).abs() < 1e-9);
    }
}
