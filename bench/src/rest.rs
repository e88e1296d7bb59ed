//! REST throughput with a real load tool: `wrk` (Debian's package) drives one call —
//! list, get or write — for a fixed time; this module writes its Lua script (method, body,
//! headers), checks with one request that the call succeeds, runs it and reads its report.

use crate::target::{http_client, Endpoint, Target};
use anyhow::{bail, Context, Result};
use clap::Args;
use serde::Serialize;
use std::process::Command;

/// `bench rest`.
#[derive(Debug, Clone, Args)]
pub struct RestArgs {
    /// Name of the server in the results (herald, peer, json-server).
    #[arg(long)]
    pub server: String,
    /// Name of the call (list, get, write).
    #[arg(long)]
    pub op: String,
    /// The full URL, on a loopback address.
    #[arg(long)]
    pub url: String,
    #[arg(long, default_value = "GET")]
    pub method: String,
    /// A JSON body to send.
    #[arg(long)]
    pub body: Option<String>,
    /// Log in at this server (`http://127.0.0.1:PORT`) and send its bearer token.
    #[arg(long)]
    pub token_from: Option<String>,
    #[arg(long, default_value_t = 5)]
    pub duration: u32,
    #[arg(long, default_value_t = 32)]
    pub connections: u32,
    #[arg(long, default_value_t = 1)]
    pub threads: u32,
    /// wrk runs; the median one (by requests/s) is reported, so one noisy run on a shared
    /// machine does not decide the figure.
    #[arg(long, default_value_t = 3)]
    pub runs: u32,
}

/// One wrk run, as the results file records it.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct RestResult {
    pub kind: &'static str,
    pub server: String,
    pub op: String,
    pub method: String,
    pub url: String,
    pub connections: u32,
    pub duration_secs: u32,
    pub requests: u64,
    pub requests_per_sec: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub non_2xx: u64,
    pub socket_errors: u64,
    /// Requests/s of every run, in the order they ran.
    pub runs_rps: Vec<f64>,
}

/// Runs wrk against one call.
pub async fn run(args: &RestArgs) -> Result<RestResult> {
    check_loopback(&args.url)?;
    let token = match &args.token_from {
        Some(base) => Some(
            Endpoint::new(Target::Herald, base)?
                .token(&http_client()?)
                .await?,
        ),
        None => None,
    };
    probe(args, token.as_deref()).await?;
    let script = std::env::temp_dir().join(format!(
        "herald-bench-{}-{}.lua",
        std::process::id(),
        args.op
    ));
    std::fs::write(
        &script,
        lua_script(&args.method, args.body.as_deref(), token.as_deref()),
    )?;
    let mut runs = Vec::new();
    for _ in 0..args.runs.max(1) {
        runs.push(wrk(args, &script));
    }
    let _ = std::fs::remove_file(&script);
    let mut runs: Vec<RestResult> = runs.into_iter().collect::<Result<_>>()?;
    let runs_rps: Vec<f64> = runs.iter().map(|r| r.requests_per_sec).collect();
    runs.sort_by(|a, b| a.requests_per_sec.total_cmp(&b.requests_per_sec));
    let mut result = runs.swap_remove(runs.len() / 2);
    result.server = args.server.clone();
    result.op = args.op.clone();
    result.method = args.method.clone();
    result.url = args.url.clone();
    result.connections = args.connections;
    result.duration_secs = args.duration;
    result.runs_rps = runs_rps;
    Ok(result)
}

/// One wrk run with `script`.
fn wrk(args: &RestArgs, script: &std::path::Path) -> Result<RestResult> {
    let output = Command::new("wrk")
        .args([
            "-t",
            &args.threads.to_string(),
            "-c",
            &args.connections.to_string(),
        ])
        .args(["-d", &format!("{}s", args.duration), "--latency", "-s"])
        .arg(script)
        .arg(&args.url)
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "wrk failed: {}{}",
            text,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    parse_wrk(&text).with_context(|| format!("unreadable wrk report:\n{text}"))
}

pub(crate) fn check_loopback(url: &str) -> Result<()> {
    let host = url
        .trim_start_matches("http://")
        .split(['/', ':'])
        .next()
        .unwrap_or_default();
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(()),
        _ => bail!("refusing {url}: benchmarks only target loopback IP addresses"),
    }
}

/// One request first: a load test of 401s or 404s would measure nothing.
async fn probe(args: &RestArgs, token: Option<&str>) -> Result<()> {
    let method: reqwest::Method = args.method.parse()?;
    let mut req = http_client()?.request(method, &args.url);
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    if let Some(body) = &args.body {
        req = req
            .header("content-type", "application/json")
            .body(body.clone());
    }
    let res = req
        .send()
        .await
        .with_context(|| format!("probing {}", args.url))?;
    if !res.status().is_success() {
        bail!(
            "{} {} answers {}: {}",
            args.method,
            args.url,
            res.status(),
            res.text().await.unwrap_or_default()
        );
    }
    Ok(())
}

/// The wrk script that sets the request.
fn lua_script(method: &str, body: Option<&str>, token: Option<&str>) -> String {
    let mut lua = format!("wrk.method = \"{method}\"\n");
    if let Some(body) = body {
        lua.push_str(&format!(
            "wrk.body = [==[{body}]==]\nwrk.headers[\"Content-Type\"] = \"application/json\"\n"
        ));
    }
    if let Some(token) = token {
        lua.push_str(&format!(
            "wrk.headers[\"Authorization\"] = \"Bearer {token}\"\n"
        ));
    }
    lua
}

/// Reads wrk's `--latency` report.
fn parse_wrk(text: &str) -> Option<RestResult> {
    let mut r = RestResult {
        kind: "rest",
        ..RestResult::default()
    };
    let mut rps = None;
    for line in text.lines().map(str::trim) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.as_slice() {
            ["Requests/sec:", v] => rps = v.parse().ok(),
            ["50%", v] => r.p50_ms = duration_ms(v)?,
            ["99%", v] => r.p99_ms = duration_ms(v)?,
            [n, "requests", "in", ..] => r.requests = n.parse().ok()?,
            ["Non-2xx", "or", "3xx", "responses:", n] => r.non_2xx = n.parse().ok()?,
            ["Socket", "errors:", rest @ ..] => {
                r.socket_errors = rest
                    .iter()
                    .filter_map(|w| w.trim_end_matches(',').parse::<u64>().ok())
                    .sum();
            }
            _ => {}
        }
    }
    r.requests_per_sec = rps?;
    Some(r)
}

/// `1.23ms`, `456.00us`, `1.02s` → milliseconds.
fn duration_ms(v: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = v.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = v.strip_suffix("ms") {
        (n, 1.0)
    } else if let Some(n) = v.strip_suffix('s') {
        (n, 1000.0)
    } else {
        (v, 1.0)
    };
    number.parse::<f64>().ok().map(|n| n * scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REPORT: &str = "Running 5s test @ http://127.0.0.1:3000/api/posts
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms  300.00us   9.00ms   90.00%
    Req/Sec    29.00k     1.00k   31.00k    80.00%
  Latency Distribution
     50%    1.05ms
     75%    1.20ms
     90%    1.40ms
     99%  850.00us
  145000 requests in 5.00s, 100.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  29000.50
Transfer/sec:     20.00MB
";

    #[test]
    fn reads_a_wrk_report() {
        let r = parse_wrk(REPORT).unwrap();
        assert_eq!(r.requests, 145_000);
        assert!((r.requests_per_sec - 29000.5).abs() < 1e-6);
        assert!((r.p50_ms - 1.05).abs() < 1e-9);
        assert!((r.p99_ms - 0.85).abs() < 1e-9);
        assert_eq!((r.non_2xx, r.socket_errors), (7, 3));
        assert!(parse_wrk("garbage").is_none());
    }

    #[test]
    fn durations() {
        assert_eq!(duration_ms("2.00s"), Some(2000.0));
        assert_eq!(duration_ms("500.00us"), Some(0.5));
    }

    #[test]
    fn script_and_loopback() {
        let lua = lua_script("PATCH", Some(r#"{"a":1}"#), Some("tok"));
        assert!(
            lua.contains("wrk.method = \"PATCH\"")
                && lua.contains("Bearer tok")
                && lua.contains(r#"[==[{"a":1}]==]"#)
        );
        assert!(check_loopback("http://127.0.0.1:80/x").is_ok());
        assert!(check_loopback("http://192.168.1.1:80/x").is_err());
        assert!(check_loopback("http://example.com/").is_err());
    }
}
