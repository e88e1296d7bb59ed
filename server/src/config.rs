//! Server configuration: every tunable in one place, read from the environment with
//! documented defaults. Nothing else in the server reads env vars.

use std::net::SocketAddr;
use std::time::Duration;

/// Everything the server can be told. `Config::from_env()` for the binary,
/// `Config::for_database(url)` for tests.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`; default `sqlite://herald.db` next to the binary. Created if missing.
    pub database_url: String,
    /// `HERALD_ADDR`, else `LEPTOS_SITE_ADDR` (set by cargo-leptos); default 127.0.0.1:3000.
    pub addr: SocketAddr,
    /// `HERALD_SEED` (`true`/`false`): run the app's seed on an empty database.
    pub seed: bool,
    /// `HERALD_SESSION_TTL_SECS`: lifetime of a browser session (default 7 days).
    pub session_ttl: Duration,
    /// `HERALD_TOKEN_TTL_SECS`: lifetime of a bearer token (default 30 days).
    pub token_ttl: Duration,
    /// `HERALD_COOKIE_SECURE`: add `Secure` to the session cookie (set it behind HTTPS).
    pub cookie_secure: bool,
    /// `HERALD_BODY_LIMIT`: largest REST request body in bytes (default 1 MiB; larger: 413).
    pub body_limit: usize,
    /// `HERALD_LOGIN_ATTEMPTS` failed logins per user name within `login_window` before 429.
    pub login_attempts: usize,
    /// `HERALD_LOGIN_WINDOW_SECS` (default 300).
    pub login_window: Duration,
    /// `HERALD_ALLOWED_ORIGINS`: comma-separated extra origins for CORS and the live upgrade.
    pub allowed_origins: Vec<String>,
    /// `HERALD_PAGE_MAX`: most rows one list call returns (default 1,000; a wider range, or
    /// an unranged list matching more, is a 400).
    pub page_max: u64,
    /// Limits and timings of the live channel.
    pub live: LiveConfig,
}

/// The live channel's limits (`docs/live-protocol.md`) and the event log's retention.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `HERALD_LIVE_FRAME_LIMIT`: largest client frame in bytes (default 64 KiB; larger: close 1009).
    pub frame_limit: usize,
    /// `HERALD_LIVE_MAX_SUBSCRIPTIONS` per connection (default 100).
    pub max_subscriptions: usize,
    /// `HERALD_LIVE_PUBLISH_RATE`: client publishes per second per connection (default 20).
    pub publish_rate: u32,
    /// `HERALD_LIVE_PUBLISH_BURST`: publishes allowed at once (default 40).
    pub publish_burst: u32,
    /// `HERALD_LIVE_QUEUE`: outbound frames a connection may have waiting before it is cut
    /// off (default 1,024).
    pub queue: usize,
    /// `HERALD_LIVE_QUEUE_BYTES`: outbound frame bytes a connection may have waiting before it
    /// is cut off (default 4 MiB): events carry whole records, so frames alone do not bound
    /// memory.
    pub queue_bytes: usize,
    /// `HERALD_LIVE_HEARTBEAT_SECS`: ping interval; a peer silent for two intervals is closed.
    pub heartbeat: Duration,
    /// `HERALD_LOG_KEEP_EVENTS`: events the log keeps at most (default 100,000).
    pub keep_events: i64,
    /// `HERALD_LOG_KEEP_SECS`: the oldest event the log keeps (default 7 days).
    pub keep_age: Duration,
    /// `HERALD_LOG_TRIM_SECS`: how often retention runs (default 60 s).
    pub trim_interval: Duration,
    /// How nodes sharing a PostgreSQL database find each other's events and presence.
    pub cluster: ClusterConfig,
}

/// Several nodes on one PostgreSQL database (unused on SQLite).
#[derive(Debug, Clone)]
pub struct ClusterConfig {
    /// `HERALD_CLUSTER_POLL_MS`: how often a node reads the log head even without a
    /// notification, bounding delivery delay if notifications silently stop (default 1 s).
    pub poll: Duration,
    /// `HERALD_NODE_HEARTBEAT_MS`: how often a node says it is alive (default 2 s).
    pub heartbeat: Duration,
    /// `HERALD_NODE_TTL_MS`: a node silent this long is dead and its users' presence is
    /// removed everywhere, within `ttl + heartbeat` of its death (default 10 s).
    pub node_ttl: Duration,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            heartbeat: Duration::from_secs(2),
            node_ttl: Duration::from_secs(10),
        }
    }
}

impl ClusterConfig {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            poll: millis("HERALD_CLUSTER_POLL_MS", d.poll)?,
            heartbeat: millis("HERALD_NODE_HEARTBEAT_MS", d.heartbeat)?,
            node_ttl: millis("HERALD_NODE_TTL_MS", d.node_ttl)?,
        })
    }
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            frame_limit: 64 * 1024,
            max_subscriptions: 100,
            publish_rate: 20,
            publish_burst: 40,
            queue: 1024,
            queue_bytes: 4 * 1024 * 1024,
            heartbeat: Duration::from_secs(30),
            keep_events: 100_000,
            keep_age: Duration::from_secs(7 * 24 * 3600),
            trim_interval: Duration::from_secs(60),
            cluster: ClusterConfig::default(),
        }
    }
}

impl LiveConfig {
    fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            frame_limit: parse("HERALD_LIVE_FRAME_LIMIT", d.frame_limit)?,
            max_subscriptions: parse("HERALD_LIVE_MAX_SUBSCRIPTIONS", d.max_subscriptions)?,
            publish_rate: parse("HERALD_LIVE_PUBLISH_RATE", d.publish_rate)?,
            publish_burst: parse("HERALD_LIVE_PUBLISH_BURST", d.publish_burst)?,
            queue: parse("HERALD_LIVE_QUEUE", d.queue)?,
            queue_bytes: parse("HERALD_LIVE_QUEUE_BYTES", d.queue_bytes)?,
            heartbeat: secs("HERALD_LIVE_HEARTBEAT_SECS", d.heartbeat)?,
            keep_events: parse("HERALD_LOG_KEEP_EVENTS", d.keep_events)?,
            keep_age: secs("HERALD_LOG_KEEP_SECS", d.keep_age)?,
            trim_interval: secs("HERALD_LOG_TRIM_SECS", d.trim_interval)?,
            cluster: ClusterConfig::from_env()?,
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://herald.db".to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            seed: true,
            session_ttl: Duration::from_secs(7 * 24 * 3600),
            token_ttl: Duration::from_secs(30 * 24 * 3600),
            cookie_secure: false,
            body_limit: 1024 * 1024,
            login_attempts: 10,
            login_window: Duration::from_secs(300),
            allowed_origins: Vec::new(),
            page_max: 1000,
            live: LiveConfig::default(),
        }
    }
}

/// A variable that is set but cannot be parsed.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

impl Config {
    /// Reads the environment over the defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        let d = Self::default();
        let addr = match std::env::var("HERALD_ADDR") {
            Ok(_) => parse("HERALD_ADDR", d.addr)?,
            Err(_) => parse("LEPTOS_SITE_ADDR", d.addr)?,
        };
        Ok(Self {
            database_url: std::env::var("DATABASE_URL").unwrap_or(d.database_url),
            addr,
            seed: parse("HERALD_SEED", d.seed)?,
            session_ttl: secs("HERALD_SESSION_TTL_SECS", d.session_ttl)?,
            token_ttl: secs("HERALD_TOKEN_TTL_SECS", d.token_ttl)?,
            cookie_secure: parse("HERALD_COOKIE_SECURE", d.cookie_secure)?,
            body_limit: parse("HERALD_BODY_LIMIT", d.body_limit)?,
            login_attempts: parse("HERALD_LOGIN_ATTEMPTS", d.login_attempts)?,
            login_window: secs("HERALD_LOGIN_WINDOW_SECS", d.login_window)?,
            allowed_origins: std::env::var("HERALD_ALLOWED_ORIGINS")
                .map(|v| {
                    v.split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            page_max: parse("HERALD_PAGE_MAX", d.page_max)?,
            live: LiveConfig::from_env()?,
        })
    }

    /// Defaults with another database, for tests and tools.
    pub fn for_database(database_url: impl Into<String>) -> Self {
        Self {
            database_url: database_url.into(),
            ..Self::default()
        }
    }
}

fn parse<T: std::str::FromStr>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T::Err: std::fmt::Display,
{
    match std::env::var(name) {
        Ok(value) => value.trim().parse().map_err(|e: T::Err| ConfigError {
            name,
            reason: e.to_string(),
            value,
        }),
        Err(_) => Ok(default),
    }
}

fn secs(name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    parse(name, default.as_secs()).map(Duration::from_secs)
}

fn millis(name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    let ms = u64::try_from(default.as_millis()).unwrap_or(u64::MAX);
    parse(name, ms).map(Duration::from_millis)
}
