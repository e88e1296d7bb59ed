//! Turns the results file (one JSON object per line, written by `fanout`, `idle` and
//! `rest`) into the Markdown report: machine, date, command, a targets table with
//! met/missed, then the detail of every run.

use anyhow::{Context, Result};
use clap::Args;
use serde_json::Value;
use std::fmt::Write as _;
use std::path::PathBuf;

/// `bench report`.
#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    /// The results file (JSON lines).
    #[arg(long)]
    pub results: PathBuf,
    /// Also write the report here.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// When the run happened, as it should be printed.
    #[arg(long, default_value = "")]
    pub date: String,
    /// The command that regenerates the report.
    #[arg(long, default_value = "scripts/bench.sh")]
    pub command: String,
    /// Extra lines for the header (versions of the peer, tools, …).
    #[arg(long)]
    pub note: Vec<String>,
    /// A README whose section between `<!-- bench:begin -->` and `<!-- bench:end -->`
    /// gets the summary (header and targets table).
    #[arg(long)]
    pub readme: Option<PathBuf>,
}

const BEGIN: &str = "<!-- bench:begin -->";
const END: &str = "<!-- bench:end -->";

/// Target values.
const P99_MS: f64 = 5.0;
const PEER_RATIO: f64 = 5.0;
const DELIVERIES: f64 = 100_000.0;
const IDLE_BYTES: f64 = 20_000.0;
const REST_RATIO: f64 = 10.0;
const REFETCHES: f64 = 2.0;
const BUNDLE_BYTES: f64 = 350_000.0;
/// The stalled-readers scenario: the server's RSS grows by less than this, in MB.
const STALLED_MB: f64 = 300.0;
/// The soak scenario: the server's RSS slope over the second half stays under this share
/// of the bytes written per second (a server keeping every write would grow by all of it).
const SOAK_SLOPE_SHARE: f64 = 0.10;
/// The soak scenario: the probes' p99 with the slow readers connected stays within this
/// multiple of their baseline p99.
const SOAK_P99_RATIO: f64 = 2.0;

/// Writes the report to stdout and, if asked, to a file.
pub fn run(args: &ReportArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.results)
        .with_context(|| format!("reading {}", args.results.display()))?;
    let results: Vec<Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()
        .context("a results line is not JSON")?;
    let report = render(&results, args);
    print!("{report}");
    if let Some(out) = &args.out {
        std::fs::write(out, &report).with_context(|| format!("writing {}", out.display()))?;
    }
    if let Some(readme) = &args.readme {
        let text = std::fs::read_to_string(readme)
            .with_context(|| format!("reading {}", readme.display()))?;
        let spliced = splice(&text, &summary(&results, args))
            .with_context(|| format!("{} has no {BEGIN} … {END} section", readme.display()))?;
        std::fs::write(readme, spliced).with_context(|| format!("writing {}", readme.display()))?;
    }
    Ok(())
}

/// The header and the targets table, for the README.
fn summary(results: &[Value], args: &ReportArgs) -> String {
    let mut md = String::new();
    header(&mut md, args);
    targets(&mut md, &Results(results));
    md
}

/// `text` with the part between the markers replaced by `section`.
fn splice(text: &str, section: &str) -> Option<String> {
    let start = text.find(BEGIN)? + BEGIN.len();
    let end = start + text[start..].find(END)?;
    Some(format!("{}\n{section}{}", &text[..start], &text[end..]))
}

fn render(results: &[Value], args: &ReportArgs) -> String {
    let r = Results(results);
    let mut md = String::from("# Herald benchmark results\n\n");
    header(&mut md, args);
    targets(&mut md, &r);
    fanout_detail(&mut md, &r);
    idle_detail(&mut md, &r);
    rest_detail(&mut md, &r);
    md.push_str(MEANING);
    md
}

/// The results, with lookups.
struct Results<'a>(&'a [Value]);

impl<'a> Results<'a> {
    fn of_kind(&self, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.0.iter().filter(move |v| v["kind"] == kind)
    }

    fn fanout(&self, target: &str, label: &str) -> Option<&'a Value> {
        self.of_kind("fanout")
            .find(|v| v["target"] == target && v["label"] == label)
    }

    fn idle(&self, target: &str) -> Option<&'a Value> {
        self.of_kind("idle").find(|v| v["target"] == target)
    }

    fn rest(&self, server: &str, op: &str) -> Option<&'a Value> {
        self.of_kind("rest")
            .find(|v| v["server"] == server && v["op"] == op)
    }
}

fn num(v: &Value, path: &str) -> f64 {
    path.split('.')
        .fold(v, |v, key| &v[key])
        .as_f64()
        .unwrap_or(f64::NAN)
}

/// A fan-out run that delivered everything to everyone.
fn complete(v: &Value) -> bool {
    num(v, "lost") == 0.0
        && num(v, "sockets_dropped") == 0.0
        && num(v, "connect_failed") == 0.0
        && num(v, "writes_failed") == 0.0
}

fn verdict(met: Option<bool>) -> &'static str {
    match met {
        Some(true) => "**met**",
        Some(false) => "**missed**",
        None => "not measured",
    }
}

fn ms(x: f64) -> String {
    if x.is_nan() {
        "–".to_owned()
    } else if x < 10.0 {
        format!("{x:.2} ms")
    } else {
        format!("{x:.1} ms")
    }
}

/// 123456.7 → "123,457".
fn thousands(x: f64) -> String {
    if x.is_nan() {
        return "–".to_owned();
    }
    let digits = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if x < 0.0 {
        out.insert(0, '-');
    }
    out
}

fn kib_as_mb(kib: f64) -> String {
    format!("{:.1} MB", kib * 1024.0 / 1e6)
}

fn header(md: &mut String, args: &ReportArgs) {
    let _ = writeln!(md, "| | |\n|---|---|");
    let _ = writeln!(md, "| Machine | {} |", machine());
    let _ = writeln!(
        md,
        "| Date | {} |",
        if args.date.is_empty() {
            "–"
        } else {
            &args.date
        }
    );
    let _ = writeln!(md, "| Command | `{}` |", args.command);
    for note in &args.note {
        if let Some((k, v)) = note.split_once(": ") {
            let _ = writeln!(md, "| {k} | {v} |");
        }
    }
    md.push('\n');
}

/// "2 cores (nproc), AMD EPYC …, 23.5 GiB RAM".
fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .and_then(|r| r.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let kib: f64 = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|r| r.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0);
    format!(
        "{cores} cores (nproc), {model}, {:.1} GiB RAM, Linux",
        kib / 1024.0 / 1024.0
    )
}

fn targets(md: &mut String, r: &Results) {
    md.push_str("## Targets\n\n| Figure | Herald | Peer / reference | Herald vs peer | Target | Result |\n|---|---|---|---|---|---|\n");
    p99_rows(md, r);
    deliveries_row(md, r);
    idle_row(md, r);
    rest_row(md, r);
    cluster_row(md, r);
    coalesce_row(md, r);
    bundle_row(md, r);
    stalled_row(md, r);
    soak_row(md, r);
    md.push('\n');
}

/// The worst burst, paced as the app runs, against Refine's one refetch per event.
fn coalesce_row(md: &mut String, r: &Results) {
    let Some(v) = r.of_kind("coalesce").next() else {
        md.push_str("| Coalescing: refetches of one live list per 1,000-event burst | – | | | ≤ 2 | not measured |\n");
        return;
    };
    let bursts = v["bursts"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    let worst = bursts
        .iter()
        .map(|b| num(b, "refetches_paced"))
        .fold(f64::NAN, f64::max);
    let detail: Vec<String> = bursts
        .iter()
        .map(|b| {
            format!(
                "{}: {} (unpaced {})",
                b["name"].as_str().unwrap_or(""),
                num(b, "refetches_paced"),
                num(b, "refetches_unpaced")
            )
        })
        .collect();
    let refine = num(v, "events");
    let _ = writeln!(
        md,
        "| Coalescing: refetches of one live list per {}-event burst ({} ms fetches) | {} worst; {} | {} (Refine: one per event) | {} | ≤ {REFETCHES} | {} |",
        thousands(refine),
        num(v, "fetch_ms"),
        worst,
        detail.join("; "),
        thousands(refine),
        ratio_text(refine / worst, "fewer"),
        verdict((!worst.is_nan()).then_some(worst <= REFETCHES))
    );
}

fn bundle_row(md: &mut String, r: &Results) {
    let Some(v) = r.of_kind("bundle").next() else {
        md.push_str("| Hydrate bundle, wasm + JS, gzip | – | | | ≤ 350 KB | not measured |\n");
        return;
    };
    let gzip = num(v, "gzip_bytes");
    let _ = writeln!(
        md,
        "| Hydrate bundle, release wasm + JS, gzip (raw) | {} ({}) | | | ≤ 350 KB | {} |",
        kb(gzip),
        kb(num(v, "raw_bytes")),
        verdict((!gzip.is_nan()).then_some(gzip <= BUNDLE_BYTES))
    );
}

/// Non-reading sockets while the largest events are written: the server's memory stays
/// bounded and the reader on the side misses nothing.
fn stalled_row(md: &mut String, r: &Results) {
    let Some(v) = r.of_kind("stalled").next() else {
        md.push_str("| Stalled readers: server RSS growth | – | | | < 300 MB | not measured |\n");
        return;
    };
    let growth = num(v, "growth_mb");
    let (writes, got) = (num(v, "writes_ok"), num(v, "reader_received"));
    let complete = got == writes && writes == num(v, "writes");
    let _ = writeln!(
        md,
        "| Stalled readers: {} non-reading sockets, {} writes of {}-byte posts; server RSS growth | {:.0} MB (reader got {}/{}; {} stalled sockets cut off) | | | < {STALLED_MB:.0} MB, reader gets all | {} |",
        num(v, "stalled"),
        thousands(num(v, "writes")),
        thousands(num(v, "event_bytes")),
        growth,
        thousands(got),
        thousands(writes),
        num(v, "stalled_closed"),
        verdict((!growth.is_nan()).then_some(growth < STALLED_MB && complete))
    );
}

/// Slow readers among a crowd under steady writes: the server's memory stays flat, the slow
/// readers are cut off, and the probes lose nothing and keep their latency.
fn soak_row(md: &mut String, r: &Results) {
    let Some(v) = r.of_kind("soak").next() else {
        md.push_str("| Soak with slow readers: server RSS slope | – | | | flat, probes lose nothing | not measured |\n");
        return;
    };
    let slope = num(v, "rss_slope_kib_per_sec");
    let written_kib = num(v, "rate") * num(v, "content_chars") / 1024.0;
    let limit = written_kib * SOAK_SLOPE_SHARE;
    let (base, with) = (
        num(v, "baseline.latency.p99_ms"),
        num(v, "with_slow.latency.p99_ms"),
    );
    let lossless = num(v, "probe_lost") == 0.0 && num(v, "probes_dropped") == 0.0;
    let met = (!slope.is_nan() && !base.is_nan() && !with.is_nan())
        .then(|| slope.abs() < limit && lossless && with <= base * SOAK_P99_RATIO);
    let mb = |key: &str| num(v, key) / 1024.0;
    let _ = writeln!(
        md,
        "| Soak: {} sockets ({} slow readers) + {} probes, {} writes/s of {} chars for {} s; server RSS slope over the second half | {:.1} KiB/s (RSS {:.1} → max {:.1} → end {:.1} MiB; {} slow readers cut off; probe p99 {} → {} with slow readers; probes lost {}) | | | < {:.0} KiB/s (10 % of the written bytes/s), probes lose nothing, p99 ≤ {SOAK_P99_RATIO}× baseline | {} |",
        thousands(num(v, "sockets")),
        num(v, "slow"),
        num(v, "probes"),
        num(v, "rate"),
        thousands(num(v, "content_chars")),
        num(v, "duration_secs"),
        slope,
        mb("rss_start_kib"),
        mb("rss_max_kib"),
        mb("rss_end_kib"),
        num(v, "slow_cut_off"),
        ms(base),
        ms(with),
        thousands(num(v, "probe_lost")),
        limit,
        verdict(met)
    );
}

fn p99_rows(md: &mut String, r: &Results) {
    let herald = r.fanout("herald", "fanout-1000");
    let peer = r.fanout("peer", "fanout-1000");
    let h = herald.map_or(f64::NAN, |v| num(v, "latency.p99_ms"));
    let p = peer.map_or(f64::NAN, |v| num(v, "latency.p99_ms"));
    let met = herald.map(|v| complete(v) && h <= P99_MS);
    let ratio = p / h;
    let _ = writeln!(
        md,
        "| Write→subscriber p99, 1,000 subscribers, 50 writes/s | {} | {} | {} | ≤ {P99_MS} ms | {} |",
        ms(h),
        ms(p),
        ratio_text(ratio, "lower"),
        verdict(met)
    );
    let met = herald
        .zip(peer)
        .map(|(v, _)| complete(v) && ratio >= PEER_RATIO);
    let _ = writeln!(
        md,
        "| Herald p99 vs peer p99 (same bench, same load) | {} | {} | {} | ≥ {PEER_RATIO}× lower | {} |",
        ms(h),
        ms(p),
        ratio_text(ratio, "lower"),
        verdict(met)
    );
}

/// Issue 7's figure: the same load with the writer on one node and the subscribers on
/// another, next to one node on the same PostgreSQL database. Reported, no target.
fn cluster_row(md: &mut String, r: &Results) {
    let p99 = |label: &str| {
        r.fanout("herald", label)
            .map_or(f64::NAN, |v| num(v, "latency.p99_ms"))
    };
    let (single, cross) = (p99("pg-single-100"), p99("pg-cross-100"));
    if single.is_nan() && cross.is_nan() {
        return;
    }
    let _ = writeln!(
        md,
        "| PostgreSQL, 100 subscribers × 50 writes/s: p99 with writer and subscribers on different nodes | {} | {} on one node | {} | reported | – |",
        ms(cross),
        ms(single),
        ratio_text(cross / single, "one node's p99")
    );
}

fn ratio_text(ratio: f64, word: &str) -> String {
    if ratio.is_finite() {
        format!("{ratio:.1}× {word}")
    } else {
        "–".to_owned()
    }
}

/// The best deliveries/s among complete runs (nothing lost, nobody cut off).
fn best_deliveries<'a>(r: &Results<'a>, target: &str) -> Option<&'a Value> {
    r.of_kind("fanout")
        .filter(|v| v["target"] == target && complete(v))
        .max_by(|a, b| num(a, "deliveries_per_sec").total_cmp(&num(b, "deliveries_per_sec")))
}

fn deliveries_row(md: &mut String, r: &Results) {
    let herald = best_deliveries(r, "herald");
    let peer = best_deliveries(r, "peer");
    let describe = |v: Option<&Value>| {
        v.map_or("–".to_owned(), |v| {
            format!(
                "{}/s ({} subs × {} w/s, p99 {})",
                thousands(num(v, "deliveries_per_sec")),
                thousands(num(v, "subscribed")),
                num(v, "rate"),
                ms(num(v, "latency.p99_ms"))
            )
        })
    };
    let h = herald.map_or(f64::NAN, |v| num(v, "deliveries_per_sec"));
    let p = peer.map_or(f64::NAN, |v| num(v, "deliveries_per_sec"));
    let _ = writeln!(
        md,
        "| Deliveries/s sustained, nothing lost | {} | {} | {} | ≥ 100,000/s | {} |",
        describe(herald),
        describe(peer),
        ratio_text(h / p, "more"),
        verdict(herald.map(|_| h >= DELIVERIES))
    );
}

fn idle_row(md: &mut String, r: &Results) {
    let per = |t: &str| r.idle(t).map_or(f64::NAN, |v| num(v, "bytes_per_socket"));
    let (h, p) = (per("herald"), per("peer"));
    let complete = r.idle("herald").map(|v| {
        num(v, "probe_delivered") == num(v, "subscribed") && num(v, "connect_failed") == 0.0
    });
    let count = r.idle("herald").map_or(f64::NAN, |v| num(v, "subscribed"));
    let _ = writeln!(
        md,
        "| Idle subscribed sockets ({}): server RSS per socket | {} | {} | {} | ≤ 20 KB | {} |",
        thousands(count),
        kb(h),
        kb(p),
        ratio_text(p / h, "less"),
        verdict(complete.map(|c| c && h <= IDLE_BYTES))
    );
}

fn kb(bytes: f64) -> String {
    if bytes.is_nan() {
        "–".to_owned()
    } else {
        format!("{:.1} KB", bytes / 1000.0)
    }
}

fn rest_row(md: &mut String, r: &Results) {
    let rps = |s: &str| {
        r.rest(s, "list")
            .map_or(f64::NAN, |v| num(v, "requests_per_sec"))
    };
    let (h, j) = (rps("herald"), rps("json-server"));
    let clean = r
        .rest("herald", "list")
        .is_some_and(|v| num(v, "non_2xx") == 0.0);
    let _ = writeln!(
        md,
        "| REST list (10 posts, sorted), requests/s | {} | {} (json-server) | {} | ≥ {REST_RATIO}× json-server | {} |",
        thousands(h),
        thousands(j),
        ratio_text(h / j, "more"),
        verdict((!h.is_nan() && !j.is_nan()).then_some(clean && h / j >= REST_RATIO))
    );
}

fn fanout_detail(md: &mut String, r: &Results) {
    md.push_str("## Live fan-out\n\nEvery write is a REST PATCH; latency is from sending the PATCH to the event frame read by a subscriber, over every (write, subscriber) pair.\n\n");
    md.push_str("| Server | Scenario | Subscribers | Writes/s × s | Writes ok | Delivered / expected | p50 | p99 | p99.9 | max | Deliveries/s | PATCH p99 | Server CPU | Server CPU per delivery | Load avg | Server RSS: before → subscribed → peak |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for v in r.of_kind("fanout") {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} × {} | {} | {} / {}{} | {} | {} | {} | {} | {} | {} | {:.0} % | {:.1} µs | {:.1} | {} → {} → {} |",
            v["target"].as_str().unwrap_or("?"),
            v["label"].as_str().unwrap_or(""),
            thousands(num(v, "subscribed")),
            num(v, "rate"),
            num(v, "duration_secs"),
            thousands(num(v, "writes_ok")),
            thousands(num(v, "delivered")),
            thousands(num(v, "expected")),
            problems(v),
            ms(num(v, "latency.p50_ms")),
            ms(num(v, "latency.p99_ms")),
            ms(num(v, "latency.p999_ms")),
            ms(num(v, "latency.max_ms")),
            thousands(num(v, "deliveries_per_sec")),
            ms(num(v, "write_response.p99_ms")),
            100.0 * num(v, "server_cpu_secs") / num(v, "window_secs"),
            1e6 * num(v, "server_cpu_secs") / num(v, "delivered"),
            num(v, "load_average"),
            kib_as_mb(num(v, "rss_before_kib")),
            kib_as_mb(num(v, "rss_subscribed_kib")),
            kib_as_mb(num(v, "rss_peak_kib")),
        );
    }
    md.push('\n');
}

/// Connection failures, cut-offs and failed writes of a fan-out run, for its row.
fn problems(v: &Value) -> String {
    let mut out = String::new();
    for (key, what) in [
        ("connect_failed", "could not connect"),
        ("sockets_dropped", "dropped"),
        ("writes_failed", "writes failed"),
    ] {
        let n = num(v, key);
        if n > 0.0 {
            let _ = write!(out, "; {} {what}", thousands(n));
        }
    }
    for key in ["connect_error", "drop_error", "write_error"] {
        if let Some(e) = v[key].as_str() {
            let _ = write!(
                out,
                " ({})",
                e.replace('|', "/").chars().take(120).collect::<String>()
            );
        }
    }
    out
}

fn idle_detail(md: &mut String, r: &Results) {
    md.push_str("## Idle sockets\n\n| Server | Sockets subscribed | Server RSS before → after | Per socket | Probe write delivered to | Open time |\n|---|---|---|---|---|---|\n");
    for v in r.of_kind("idle") {
        let _ = writeln!(
            md,
            "| {} | {} | {} → {} | {} | {} | {:.1} s |",
            v["target"].as_str().unwrap_or("?"),
            thousands(num(v, "subscribed")),
            kib_as_mb(num(v, "rss_before_kib")),
            kib_as_mb(num(v, "rss_after_kib")),
            kb(num(v, "bytes_per_socket")),
            thousands(num(v, "probe_delivered")),
            num(v, "open_secs"),
        );
    }
    md.push('\n');
}

fn rest_detail(md: &mut String, r: &Results) {
    md.push_str("## REST (wrk)\n\nThe median of the runs by requests/s; every run's figure in the last column.\n\n| Server | Call | Requests/s | p50 | p99 | Non-2xx | Socket errors | Runs (requests/s) |\n|---|---|---|---|---|---|---|---|\n");
    for v in r.of_kind("rest") {
        let runs: Vec<String> = v["runs_rps"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .map(|x| thousands(x.as_f64().unwrap_or(f64::NAN)))
            .collect();
        let _ = writeln!(
            md,
            "| {} | {} `{} {}` | {} | {} | {} | {} | {} | {} |",
            v["server"].as_str().unwrap_or("?"),
            v["op"].as_str().unwrap_or("?"),
            v["method"].as_str().unwrap_or("?"),
            path_of(v["url"].as_str().unwrap_or("")),
            thousands(num(v, "requests_per_sec")),
            ms(num(v, "p50_ms")),
            ms(num(v, "p99_ms")),
            thousands(num(v, "non_2xx")),
            thousands(num(v, "socket_errors")),
            runs.join(" / "),
        );
    }
    md.push('\n');
}

fn path_of(url: &str) -> &str {
    url.trim_start_matches("http://")
        .find('/')
        .map_or(url, |i| &url.trim_start_matches("http://")[i..])
}

const MEANING: &str = "## What the figures mean

- **Write→subscriber latency**: from the moment the load generator sends a REST PATCH (its send time is stamped into the post's `content`) to the moment one subscriber's socket hands it the event frame carrying that stamp; one sample per (write, subscriber) pair, in an HDR histogram. It includes the HTTP request, authentication, the database commit (and for Herald the event-log append), the fan-out and the delivery.
- **Deliveries/s**: event frames received by all subscribers together, divided by the time from the first write to the last delivery. *Sustained* is the best run in which nothing was lost and no socket was cut off.
- **Server CPU**: CPU time the server process used (user + system, `/proc/<pid>/stat`) from the first measured write until the last delivery, as a share of one core (200 % = both cores); per delivery, that CPU time divided by the frames delivered — the figure least disturbed by other load on the machine. **Load avg**: the machine's 1-minute load average as the writes began (other work on the machine shows here).
- **Server RSS**: `VmRSS` of the server process from `/proc/<pid>/status`. Per idle socket: (RSS with N subscribed sockets − RSS of the warmed-up server) ÷ N, in KB of 1,000 bytes.
- **REST**: `wrk` with 1 thread and 32 connections for 5 s per run, three runs per call against one server, the median reported; Herald and the peer with a bearer token, json-server without authentication (it has none).
- **Peer**: the seed's reference architecture (Node.js + express + socket.io + better-sqlite3) in `bench/peer/`, measured by the same Rust load generator speaking socket.io's Engine.IO v4 wire format.
- Load generator, servers and wrk share this machine's cores: every figure includes the cost of the client.
";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn splice_replaces_only_the_marked_section() {
        let text = format!("intro\n{BEGIN}\nold\n{END}\noutro\n");
        let out = splice(&text, "new\n").unwrap();
        assert_eq!(out, format!("intro\n{BEGIN}\nnew\n{END}\noutro\n"));
        assert!(splice("no markers", "x").is_none());
    }

    fn fanout(target: &str, label: &str, p99: f64, dps: f64) -> Value {
        json!({"kind": "fanout", "target": target, "label": label, "subscribed": 1000, "rate": 50.0,
               "duration_secs": 10.0, "lost": 0, "sockets_dropped": 0, "connect_failed": 0, "writes_failed": 0,
               "latency": {"p99_ms": p99}, "deliveries_per_sec": dps})
    }

    #[test]
    fn renders_targets_with_verdicts() {
        let results = vec![
            fanout("herald", "fanout-1000", 2.0, 50_000.0),
            fanout("peer", "fanout-1000", 20.0, 40_000.0),
            fanout("herald", "throughput", 9.0, 120_000.0),
            json!({"kind": "idle", "target": "herald", "subscribed": 10000, "probe_delivered": 10000, "connect_failed": 0, "bytes_per_socket": 12_000.0}),
            json!({"kind": "rest", "server": "herald", "op": "list", "requests_per_sec": 30_000.0, "non_2xx": 0, "url": "http://127.0.0.1:1/api/posts"}),
            json!({"kind": "rest", "server": "json-server", "op": "list", "requests_per_sec": 2_000.0, "non_2xx": 0, "url": "http://127.0.0.1:2/posts"}),
            json!({"kind": "stalled", "stalled": 20, "writes": 1000, "writes_ok": 1000, "event_bytes": 100000, "reader_received": 1000, "growth_mb": 120.0, "stalled_closed": 20}),
            json!({"kind": "soak", "sockets": 2000, "slow": 200, "probes": 20, "rate": 20.0, "content_chars": 10000, "duration_secs": 60.0,
                   "rss_slope_kib_per_sec": 3.5, "rss_start_kib": 102400, "rss_max_kib": 153600, "rss_end_kib": 143360,
                   "slow_cut_off": 200, "baseline": {"latency": {"p99_ms": 20.0}}, "with_slow": {"latency": {"p99_ms": 25.0}},
                   "probe_lost": 0, "probes_dropped": 0}),
        ];
        let args = ReportArgs {
            results: PathBuf::new(),
            out: None,
            date: "today".into(),
            command: "scripts/bench.sh".into(),
            note: vec!["Peer: node".into()],
            readme: None,
        };
        let md = render(&results, &args);
        assert!(md.contains("| Write→subscriber p99, 1,000 subscribers, 50 writes/s | 2.00 ms | 20.0 ms | 10.0× lower | ≤ 5 ms | **met** |"), "{md}");
        assert!(md.contains("120,000/s"), "{md}");
        assert!(md.contains("12.0 KB"), "{md}");
        assert!(md.contains("15.0× more"), "{md}");
        assert!(md.contains("| Peer | node |"), "{md}");
        assert!(
            md.contains("120 MB (reader got 1,000/1,000; 20 stalled sockets cut off)"),
            "{md}"
        );
        assert!(
            md.contains("| 3.5 KiB/s (RSS 100.0 → max 150.0 → end 140.0 MiB; 200 slow readers cut off; probe p99 20.0 ms → 25.0 ms with slow readers; probes lost 0) | | | < 20 KiB/s (10 % of the written bytes/s), probes lose nothing, p99 ≤ 2× baseline | **met** |"),
            "{md}"
        );
        assert!(!md.contains("**missed**"), "{md}");
    }

    #[test]
    fn formats() {
        assert_eq!(thousands(1234567.4), "1,234,567");
        assert_eq!(thousands(999.0), "999");
        assert_eq!(
            path_of("http://127.0.0.1:3/api/posts?x=1"),
            "/api/posts?x=1"
        );
        assert_eq!(verdict(None), "not measured");
    }
}
