//! Server configuration: every tunable in one place, read from the environment with
//! documented defaults and accepted ranges. Nothing else in the server reads env vars.
//!
//! Each numeric setting is declared once below as a [`Number`] or a [`Span`] constant — its
//! variable, default and accepted range — and both [`Default`] and [`Config::from_env`] read
//! from that constant. A value outside its range is refused at start with a [`ConfigError`]
//! naming the variable and the range, instead of a panic (`interval(0)`, a channel of 0) or
//! an overflow (a retention of a million years) somewhere later.

use std::fmt::Display;
use std::net::SocketAddr;
use std::str::FromStr;
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
    /// `HERALD_LOGIN_ATTEMPTS` failed logins per user name from one address within
    /// `login_window` before 429 (default 10).
    pub login_attempts: usize,
    /// `HERALD_LOGIN_WINDOW_SECS` (default 300).
    pub login_window: Duration,
    /// `HERALD_LOGIN_NAME_ATTEMPTS` failed logins per user name from all addresses together
    /// within `login_window` before 429 (default 50): stops a guesser with many addresses.
    pub login_name_attempts: usize,
    /// `HERALD_LOGIN_VERIFIERS`: password checks (Argon2, ~19 MiB each) run at once; more
    /// logins wait in a short queue (default: the number of cores).
    pub login_verifiers: usize,
    /// `HERALD_MAX_TOKENS`: live bearer tokens per user; minting one more revokes the
    /// oldest (default 20).
    pub max_tokens: usize,
    /// `HERALD_SESSION_PURGE_SECS`: how often expired sessions are deleted (default 600).
    pub session_purge_interval: Duration,
    /// `HERALD_ALLOWED_ORIGINS`: comma-separated extra origins for CORS and the live upgrade.
    pub allowed_origins: Vec<String>,
    /// `HERALD_PAGE_MAX`: most rows one list call returns (default 1,000; a wider range, or
    /// an unranged list matching more, is a 400).
    pub page_max: u64,
    /// Timeouts and limits of HTTP connections.
    pub http: HttpConfig,
    /// Limits and timings of the live channel.
    pub live: LiveConfig,
}

/// How HTTP connections are served (`server::serve`): what a slow, idle or half-finished
/// client may hold, how many connections there may be, and how long shutdown waits.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// `HERALD_HTTP_HEADER_TIMEOUT_SECS`: a new connection must have sent a request's
    /// complete headers within this, else it is closed (default 10 s): a half-sent request
    /// cannot hold a connection.
    pub header_timeout: Duration,
    /// `HERALD_HTTP_IDLE_TIMEOUT_SECS`: after a response, a kept-alive connection must have
    /// sent its next request's complete headers within this, else it is closed (default 60 s).
    pub idle_timeout: Duration,
    /// `HERALD_HTTP_REQUEST_TIMEOUT_SECS`: longest an `/api` call may take once its headers
    /// are in, body included (default 30 s; then 503). The live upgrade is not timed.
    pub request_timeout: Duration,
    /// `HERALD_MAX_CONNECTIONS`: open connections at most, HTTP and live sockets together
    /// (default 20,000); a connection beyond it is closed at once.
    pub max_connections: usize,
    /// `HERALD_SHUTDOWN_GRACE_SECS`: how long shutdown waits for requests to finish and live
    /// sockets to close before cutting what is left (default 10 s).
    pub shutdown_grace: Duration,
}

/// The live channel's limits (`docs/live-protocol.md`) and the event log's retention.
#[derive(Debug, Clone)]
pub struct LiveConfig {
    /// `HERALD_LIVE_FRAME_LIMIT`: largest client frame in bytes (default 64 KiB; larger: close 1009).
    pub frame_limit: usize,
    /// `HERALD_LIVE_MAX_SUBSCRIPTIONS` per connection (default 100).
    pub max_subscriptions: usize,
    /// `HERALD_LIVE_USER_CONNECTIONS`: live connections one user may hold at once (default
    /// 32; the next upgrade gets 429).
    pub user_connections: usize,
    /// `HERALD_LIVE_PUBLISH_RATE`: publishes, subscribes and unsubscribes per second per user,
    /// across all of that user's connections (default 20).
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
    /// `HERALD_LOG_KEEP_BYTES`: payload and meta bytes the log keeps at most (default 256
    /// MiB): events carry whole records, so a count alone does not bound the disk. The
    /// newest event is always kept.
    pub keep_bytes: i64,
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
    /// removed everywhere, within `ttl + heartbeat` of its death (default 10 s; at least two
    /// heartbeats).
    pub node_ttl: Duration,
}

// ---- Every numeric setting: variable, default, accepted range (inclusive). ----------------

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;
const GIB: usize = 1024 * MIB;
const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;
/// The longest any lifetime or retention may be: beyond it a value is a typo, and
/// timestamps computed from it would overflow.
const TEN_YEARS: u64 = 3650 * DAY;

const SESSION_TTL: Span = Span::secs("HERALD_SESSION_TTL_SECS", 7 * DAY, MINUTE, TEN_YEARS);
const TOKEN_TTL: Span = Span::secs("HERALD_TOKEN_TTL_SECS", 30 * DAY, MINUTE, TEN_YEARS);
const BODY_LIMIT: Number<usize> = Number::bytes("HERALD_BODY_LIMIT", MIB, KIB, GIB);
const LOGIN_ATTEMPTS: Number<usize> = Number::count("HERALD_LOGIN_ATTEMPTS", 10, 1, 10_000);
const LOGIN_WINDOW: Span = Span::secs("HERALD_LOGIN_WINDOW_SECS", 5 * MINUTE, 1, DAY);
const LOGIN_NAME_ATTEMPTS: Number<usize> =
    Number::count("HERALD_LOGIN_NAME_ATTEMPTS", 50, 1, 1_000_000);
// The default is the number of cores (`cores()`), known only at run time; 1 stands in here.
const LOGIN_VERIFIERS: Number<usize> = Number::count("HERALD_LOGIN_VERIFIERS", 1, 1, 1024);
const MAX_TOKENS: Number<usize> = Number::count("HERALD_MAX_TOKENS", 20, 1, 10_000);
const SESSION_PURGE: Span = Span::secs("HERALD_SESSION_PURGE_SECS", 10 * MINUTE, 1, DAY);

/// Cores this process may use: the default number of concurrent password checks.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
const PAGE_MAX: Number<u64> = Number::count("HERALD_PAGE_MAX", 1000, 1, 1_000_000);

const HEADER_TIMEOUT: Span = Span::secs("HERALD_HTTP_HEADER_TIMEOUT_SECS", 10, 1, 5 * MINUTE);
const IDLE_TIMEOUT: Span = Span::secs("HERALD_HTTP_IDLE_TIMEOUT_SECS", MINUTE, 1, HOUR);
const REQUEST_TIMEOUT: Span = Span::secs("HERALD_HTTP_REQUEST_TIMEOUT_SECS", 30, 1, HOUR);
// Above the 10,000 idle live sockets the benchmark holds, plus its probes and writers.
const MAX_CONNECTIONS: Number<usize> =
    Number::count("HERALD_MAX_CONNECTIONS", 20_000, 1, 1_000_000);
const SHUTDOWN_GRACE: Span = Span::secs("HERALD_SHUTDOWN_GRACE_SECS", 10, 1, 5 * MINUTE);

const FRAME_LIMIT: Number<usize> =
    Number::bytes("HERALD_LIVE_FRAME_LIMIT", 64 * KIB, KIB, 16 * MIB);
const MAX_SUBSCRIPTIONS: Number<usize> =
    Number::count("HERALD_LIVE_MAX_SUBSCRIPTIONS", 100, 1, 10_000);
const USER_CONNECTIONS: Number<usize> =
    Number::count("HERALD_LIVE_USER_CONNECTIONS", 32, 1, 100_000);
const PUBLISH_RATE: Number<u32> = Number::count("HERALD_LIVE_PUBLISH_RATE", 20, 1, 10_000);
const PUBLISH_BURST: Number<u32> = Number::count("HERALD_LIVE_PUBLISH_BURST", 40, 1, 100_000);
const QUEUE: Number<usize> = Number::count("HERALD_LIVE_QUEUE", 1024, 8, 1 << 20);
const QUEUE_BYTES: Number<usize> = Number::bytes("HERALD_LIVE_QUEUE_BYTES", 4 * MIB, 64 * KIB, GIB);
const HEARTBEAT: Span = Span::secs("HERALD_LIVE_HEARTBEAT_SECS", 30, 1, HOUR);
const KEEP_EVENTS: Number<i64> = Number::count("HERALD_LOG_KEEP_EVENTS", 100_000, 1, 1_000_000_000);
const KEEP_AGE: Span = Span::secs("HERALD_LOG_KEEP_SECS", 7 * DAY, MINUTE, TEN_YEARS);
const KEEP_BYTES: Number<i64> = Number::bytes(
    "HERALD_LOG_KEEP_BYTES",
    256 * MIB as i64,
    MIB as i64,
    1024 * GIB as i64,
);
const TRIM_INTERVAL: Span = Span::secs("HERALD_LOG_TRIM_SECS", MINUTE, 1, DAY);

const CLUSTER_POLL: Span = Span::millis("HERALD_CLUSTER_POLL_MS", 1000, 10, 60_000);
const NODE_HEARTBEAT: Span = Span::millis("HERALD_NODE_HEARTBEAT_MS", 2000, 100, 60_000);
const NODE_TTL: Span = Span::millis("HERALD_NODE_TTL_MS", 10_000, 1000, 3_600_000);

impl Default for Config {
    fn default() -> Self {
        Self {
            database_url: "sqlite://herald.db".to_owned(),
            addr: SocketAddr::from(([127, 0, 0, 1], 3000)),
            seed: true,
            session_ttl: SESSION_TTL.default(),
            token_ttl: TOKEN_TTL.default(),
            cookie_secure: false,
            body_limit: BODY_LIMIT.default,
            login_attempts: LOGIN_ATTEMPTS.default,
            login_window: LOGIN_WINDOW.default(),
            login_name_attempts: LOGIN_NAME_ATTEMPTS.default,
            login_verifiers: cores(),
            max_tokens: MAX_TOKENS.default,
            session_purge_interval: SESSION_PURGE.default(),
            allowed_origins: Vec::new(),
            page_max: PAGE_MAX.default,
            http: HttpConfig::default(),
            live: LiveConfig::default(),
        }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            header_timeout: HEADER_TIMEOUT.default(),
            idle_timeout: IDLE_TIMEOUT.default(),
            request_timeout: REQUEST_TIMEOUT.default(),
            max_connections: MAX_CONNECTIONS.default,
            shutdown_grace: SHUTDOWN_GRACE.default(),
        }
    }
}

impl Default for LiveConfig {
    fn default() -> Self {
        Self {
            frame_limit: FRAME_LIMIT.default,
            max_subscriptions: MAX_SUBSCRIPTIONS.default,
            user_connections: USER_CONNECTIONS.default,
            publish_rate: PUBLISH_RATE.default,
            publish_burst: PUBLISH_BURST.default,
            queue: QUEUE.default,
            queue_bytes: QUEUE_BYTES.default,
            heartbeat: HEARTBEAT.default(),
            keep_events: KEEP_EVENTS.default,
            keep_age: KEEP_AGE.default(),
            keep_bytes: KEEP_BYTES.default,
            trim_interval: TRIM_INTERVAL.default(),
            cluster: ClusterConfig::default(),
        }
    }
}

impl Default for ClusterConfig {
    fn default() -> Self {
        Self {
            poll: CLUSTER_POLL.default(),
            heartbeat: NODE_HEARTBEAT.default(),
            node_ttl: NODE_TTL.default(),
        }
    }
}

impl Config {
    /// Reads the environment over the defaults; refuses a value it cannot parse or that is
    /// outside its range.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A value that is not UTF-8 is kept (lossily) so that it is refused by name rather
        // than silently replaced by the default.
        Self::from_lookup(|name| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()))
    }

    /// [`Config::from_env`] over any source of variables (`lookup(name)` is the value of
    /// `name`, if set); for tests and tools.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let env = Env(&lookup);
        let d = Self::default();
        let addr = match env.get("HERALD_ADDR") {
            Some(_) => env.addr("HERALD_ADDR", d.addr)?,
            None => env.addr("LEPTOS_SITE_ADDR", d.addr)?,
        };
        Ok(Self {
            database_url: env.database_url("DATABASE_URL", d.database_url)?,
            addr,
            seed: env.flag("HERALD_SEED", d.seed)?,
            session_ttl: SESSION_TTL.read(&env)?,
            token_ttl: TOKEN_TTL.read(&env)?,
            cookie_secure: env.flag("HERALD_COOKIE_SECURE", d.cookie_secure)?,
            body_limit: BODY_LIMIT.read(&env)?,
            login_attempts: LOGIN_ATTEMPTS.read(&env)?,
            login_window: LOGIN_WINDOW.read(&env)?,
            login_name_attempts: LOGIN_NAME_ATTEMPTS.read(&env)?,
            login_verifiers: match env.get(LOGIN_VERIFIERS.var) {
                Some(_) => LOGIN_VERIFIERS.read(&env)?,
                None => d.login_verifiers,
            },
            max_tokens: MAX_TOKENS.read(&env)?,
            session_purge_interval: SESSION_PURGE.read(&env)?,
            allowed_origins: env.origins("HERALD_ALLOWED_ORIGINS")?,
            page_max: PAGE_MAX.read(&env)?,
            http: HttpConfig::read(&env)?,
            live: LiveConfig::read(&env)?,
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

impl HttpConfig {
    fn read(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            header_timeout: HEADER_TIMEOUT.read(env)?,
            idle_timeout: IDLE_TIMEOUT.read(env)?,
            request_timeout: REQUEST_TIMEOUT.read(env)?,
            max_connections: MAX_CONNECTIONS.read(env)?,
            shutdown_grace: SHUTDOWN_GRACE.read(env)?,
        })
    }
}

impl LiveConfig {
    fn read(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            frame_limit: FRAME_LIMIT.read(env)?,
            max_subscriptions: MAX_SUBSCRIPTIONS.read(env)?,
            user_connections: USER_CONNECTIONS.read(env)?,
            publish_rate: PUBLISH_RATE.read(env)?,
            publish_burst: PUBLISH_BURST.read(env)?,
            queue: QUEUE.read(env)?,
            queue_bytes: QUEUE_BYTES.read(env)?,
            heartbeat: HEARTBEAT.read(env)?,
            keep_events: KEEP_EVENTS.read(env)?,
            keep_age: KEEP_AGE.read(env)?,
            keep_bytes: KEEP_BYTES.read(env)?,
            trim_interval: TRIM_INTERVAL.read(env)?,
            cluster: ClusterConfig::read(env)?,
        })
    }
}

impl ClusterConfig {
    fn read(env: &Env) -> Result<Self, ConfigError> {
        let heartbeat = NODE_HEARTBEAT.read(env)?;
        let node_ttl = NODE_TTL.read(env)?;
        // A TTL of less than two heartbeats declares live nodes dead between two of them.
        if node_ttl < heartbeat * 2 {
            return Err(ConfigError {
                name: NODE_TTL.var,
                value: node_ttl.as_millis().to_string(),
                reason: format!(
                    "must be at least twice {} ({} ms), or live nodes are taken for dead",
                    NODE_HEARTBEAT.var,
                    heartbeat.as_millis()
                ),
            });
        }
        Ok(Self {
            poll: CLUSTER_POLL.read(env)?,
            heartbeat,
            node_ttl,
        })
    }
}

/// A variable that is set but cannot be used: unparsable, or outside its accepted range.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    name: &'static str,
    value: String,
    reason: String,
}

impl ConfigError {
    /// The variable at fault.
    pub fn variable(&self) -> &'static str {
        self.name
    }
}

/// Where variables come from: the process environment, or a map in tests.
struct Env<'a>(&'a dyn Fn(&str) -> Option<String>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }

    fn invalid(name: &'static str, value: &str, reason: impl Into<String>) -> ConfigError {
        ConfigError {
            name,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }

    fn flag(&self, name: &'static str, default: bool) -> Result<bool, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => match raw.trim() {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(Self::invalid(name, &raw, "must be true or false")),
            },
        }
    }

    fn addr(&self, name: &'static str, default: SocketAddr) -> Result<SocketAddr, ConfigError> {
        match self.get(name) {
            None => Ok(default),
            Some(raw) => raw.trim().parse().map_err(|e| {
                Self::invalid(
                    name,
                    &raw,
                    format!("{e}; expected ip:port, e.g. 127.0.0.1:3000"),
                )
            }),
        }
    }

    fn database_url(&self, name: &'static str, default: String) -> Result<String, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(default);
        };
        let url = raw.trim();
        if crate::store::sql::Backend::from_url(url).is_none() {
            return Err(Self::invalid(
                name,
                &raw,
                "must start with sqlite: or postgres:// (or postgresql://)",
            ));
        }
        Ok(url.to_owned())
    }

    /// Comma-separated origins, each exactly as a browser sends `Origin`: a scheme and a
    /// host (and port), nothing after. Anything else would silently never match.
    fn origins(&self, name: &'static str) -> Result<Vec<String>, ConfigError> {
        let Some(raw) = self.get(name) else {
            return Ok(Vec::new());
        };
        let mut origins = Vec::new();
        for origin in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let well_formed = origin.split_once("://").is_some_and(|(scheme, host)| {
                matches!(scheme, "http" | "https")
                    && !host.is_empty()
                    && host.bytes().all(|b| b.is_ascii_graphic() && b != b'/')
            });
            if !well_formed {
                return Err(Self::invalid(
                    name,
                    &raw,
                    format!(
                        "'{origin}' is not an origin; expected scheme://host[:port] with no \
                         path, e.g. https://admin.example.com"
                    ),
                ));
            }
            origins.push(origin.to_owned());
        }
        Ok(origins)
    }
}

/// A whole-number setting.
struct Number<T: 'static> {
    var: &'static str,
    default: T,
    min: T,
    max: T,
    /// What the number counts, for messages: "" or "bytes".
    unit: &'static str,
}

impl<T> Number<T> {
    const fn count(var: &'static str, default: T, min: T, max: T) -> Self {
        Self {
            var,
            default,
            min,
            max,
            unit: "",
        }
    }

    const fn bytes(var: &'static str, default: T, min: T, max: T) -> Self {
        Self {
            var,
            default,
            min,
            max,
            unit: " bytes",
        }
    }
}

impl<T: FromStr + PartialOrd + Display + Copy> Number<T> {
    fn read(&self, env: &Env) -> Result<T, ConfigError> {
        let Some(raw) = env.get(self.var) else {
            return Ok(self.default);
        };
        let range = format!("must be from {} to {}{}", self.min, self.max, self.unit);
        let text = raw.trim();
        match text.parse::<T>() {
            Ok(value) if value >= self.min && value <= self.max => Ok(value),
            Ok(_) => Err(Env::invalid(self.var, &raw, range)),
            // A number too large (or negative) for the type is out of range, not garbage.
            Err(_) if text.parse::<i128>().is_ok() => Err(Env::invalid(self.var, &raw, range)),
            Err(_) => Err(Env::invalid(
                self.var,
                &raw,
                format!("not a whole number; {range}"),
            )),
        }
    }
}

/// A duration setting, written in whole seconds or milliseconds.
struct Span {
    var: &'static str,
    default: u64,
    min: u64,
    max: u64,
    millis: bool,
}

impl Span {
    const fn secs(var: &'static str, default: u64, min: u64, max: u64) -> Self {
        Self {
            var,
            default,
            min,
            max,
            millis: false,
        }
    }

    const fn millis(var: &'static str, default: u64, min: u64, max: u64) -> Self {
        Self {
            var,
            default,
            min,
            max,
            millis: true,
        }
    }

    const fn duration(&self, n: u64) -> Duration {
        if self.millis {
            Duration::from_millis(n)
        } else {
            Duration::from_secs(n)
        }
    }

    const fn default(&self) -> Duration {
        self.duration(self.default)
    }

    fn read(&self, env: &Env) -> Result<Duration, ConfigError> {
        let number = Number {
            var: self.var,
            default: self.default,
            min: self.min,
            max: self.max,
            unit: if self.millis {
                " milliseconds"
            } else {
                " seconds"
            },
        };
        number.read(env).map(|n| self.duration(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn read(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    /// Every variable `from_lookup` reads, for the README check below.
    const VARIABLES: &[&str] = &[
        "DATABASE_URL",
        "HERALD_ADDR",
        "HERALD_SEED",
        SESSION_TTL.var,
        TOKEN_TTL.var,
        "HERALD_COOKIE_SECURE",
        BODY_LIMIT.var,
        LOGIN_ATTEMPTS.var,
        LOGIN_WINDOW.var,
        LOGIN_NAME_ATTEMPTS.var,
        LOGIN_VERIFIERS.var,
        MAX_TOKENS.var,
        SESSION_PURGE.var,
        "HERALD_ALLOWED_ORIGINS",
        PAGE_MAX.var,
        HEADER_TIMEOUT.var,
        IDLE_TIMEOUT.var,
        REQUEST_TIMEOUT.var,
        MAX_CONNECTIONS.var,
        SHUTDOWN_GRACE.var,
        FRAME_LIMIT.var,
        MAX_SUBSCRIPTIONS.var,
        USER_CONNECTIONS.var,
        PUBLISH_RATE.var,
        PUBLISH_BURST.var,
        QUEUE.var,
        QUEUE_BYTES.var,
        HEARTBEAT.var,
        KEEP_EVENTS.var,
        KEEP_AGE.var,
        KEEP_BYTES.var,
        TRIM_INTERVAL.var,
        CLUSTER_POLL.var,
        NODE_HEARTBEAT.var,
        NODE_TTL.var,
    ];

    #[test]
    fn no_variables_means_the_defaults() {
        let config = read(&[]).expect("defaults are valid");
        let d = Config::default();
        assert_eq!(config.database_url, d.database_url);
        assert_eq!(config.live.heartbeat, Duration::from_secs(30));
        assert_eq!(config.http.header_timeout, Duration::from_secs(10));
        assert_eq!(config.http.max_connections, 20_000);
        assert_eq!(config.live.cluster.node_ttl, Duration::from_secs(10));
        assert_eq!(config.live.keep_bytes, 256 * 1024 * 1024);
    }

    #[test]
    fn values_in_range_are_read() {
        let config = read(&[
            ("HERALD_LIVE_HEARTBEAT_SECS", " 5 "),
            ("HERALD_NODE_HEARTBEAT_MS", "250"),
            ("HERALD_NODE_TTL_MS", "1000"),
            ("HERALD_HTTP_HEADER_TIMEOUT_SECS", "1"),
            ("HERALD_MAX_CONNECTIONS", "1000000"),
            ("HERALD_LOG_KEEP_SECS", &TEN_YEARS.to_string()),
            ("HERALD_LOG_KEEP_BYTES", "1048576"),
            (
                "HERALD_ALLOWED_ORIGINS",
                "https://a.example, http://b.example:8080,",
            ),
            ("HERALD_ADDR", "0.0.0.0:8080"),
            ("DATABASE_URL", "postgres://u@h/db"),
            ("HERALD_SEED", "false"),
        ])
        .expect("valid");
        assert_eq!(config.live.heartbeat, Duration::from_secs(5));
        assert_eq!(config.live.cluster.heartbeat, Duration::from_millis(250));
        assert_eq!(config.http.header_timeout, Duration::from_secs(1));
        assert_eq!(config.http.max_connections, 1_000_000);
        assert_eq!(config.live.keep_age, Duration::from_secs(TEN_YEARS));
        assert_eq!(config.live.keep_bytes, 1024 * 1024);
        assert_eq!(
            config.allowed_origins,
            ["https://a.example", "http://b.example:8080"]
        );
        assert_eq!(config.addr.port(), 8080);
        assert!(!config.seed);
    }

    #[test]
    fn nonsense_is_refused_by_name_with_the_accepted_range() {
        // (variable, value, what the message must say)
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("HERALD_LIVE_HEARTBEAT_SECS", "0", "must be from 1 to 3600 seconds"),
            ("HERALD_LIVE_HEARTBEAT_SECS", "-1", "must be from 1 to 3600 seconds"),
            ("HERALD_LIVE_HEARTBEAT_SECS", "1.5", "not a whole number; must be from 1 to 3600 seconds"),
            ("HERALD_LIVE_HEARTBEAT_SECS", "soon", "not a whole number"),
            ("HERALD_LIVE_QUEUE", "0", "must be from 8 to 1048576"),
            ("HERALD_LIVE_QUEUE_BYTES", "0", "must be from 65536 to 1073741824 bytes"),
            ("HERALD_LIVE_FRAME_LIMIT", "0", "must be from 1024 to 16777216 bytes"),
            ("HERALD_LIVE_MAX_SUBSCRIPTIONS", "0", "must be from 1 to 10000"),
            ("HERALD_LIVE_PUBLISH_RATE", "0", "must be from 1 to 10000"),
            ("HERALD_LIVE_PUBLISH_BURST", "0", "must be from 1 to 100000"),
            ("HERALD_LIVE_PUBLISH_RATE", "99999999999", "must be from 1 to 10000"),
            ("HERALD_LOG_KEEP_EVENTS", "0", "must be from 1 to 1000000000"),
            ("HERALD_LOG_KEEP_SECS", "315360001", "must be from 60 to 315360000 seconds"),
            ("HERALD_LOG_KEEP_SECS", "18446744073709551615", "must be from 60 to 315360000 seconds"),
            ("HERALD_LOG_KEEP_BYTES", "65536", "must be from 1048576 to 1099511627776 bytes"),
            ("HERALD_LOG_KEEP_BYTES", "1TB", "not a whole number"),
            ("HERALD_LOG_TRIM_SECS", "0", "must be from 1 to 86400 seconds"),
            ("HERALD_SESSION_TTL_SECS", "0", "must be from 60 to 315360000 seconds"),
            ("HERALD_TOKEN_TTL_SECS", "99999999999", "must be from 60 to 315360000 seconds"),
            ("HERALD_BODY_LIMIT", "0", "must be from 1024 to 1073741824 bytes"),
            ("HERALD_BODY_LIMIT", "1MB", "not a whole number"),
            ("HERALD_LOGIN_ATTEMPTS", "0", "must be from 1 to 10000"),
            ("HERALD_LOGIN_WINDOW_SECS", "0", "must be from 1 to 86400 seconds"),
            ("HERALD_PAGE_MAX", "0", "must be from 1 to 1000000"),
            ("HERALD_HTTP_HEADER_TIMEOUT_SECS", "0", "must be from 1 to 300 seconds"),
            ("HERALD_HTTP_IDLE_TIMEOUT_SECS", "0", "must be from 1 to 3600 seconds"),
            ("HERALD_HTTP_REQUEST_TIMEOUT_SECS", "0", "must be from 1 to 3600 seconds"),
            ("HERALD_MAX_CONNECTIONS", "0", "must be from 1 to 1000000"),
            ("HERALD_SHUTDOWN_GRACE_SECS", "0", "must be from 1 to 300 seconds"),
            ("HERALD_CLUSTER_POLL_MS", "0", "must be from 10 to 60000 milliseconds"),
            ("HERALD_NODE_HEARTBEAT_MS", "0", "must be from 100 to 60000 milliseconds"),
            ("HERALD_NODE_TTL_MS", "0", "must be from 1000 to 3600000 milliseconds"),
            ("HERALD_NODE_TTL_MS", "3000", "must be at least twice HERALD_NODE_HEARTBEAT_MS (2000 ms)"),
            ("HERALD_SEED", "yes", "must be true or false"),
            ("HERALD_COOKIE_SECURE", "1", "must be true or false"),
            ("HERALD_ADDR", "localhost", "expected ip:port"),
            ("LEPTOS_SITE_ADDR", "3000", "expected ip:port"),
            ("DATABASE_URL", "", "must start with sqlite: or postgres://"),
            ("DATABASE_URL", "mysql://db", "must start with sqlite: or postgres://"),
            ("HERALD_ALLOWED_ORIGINS", "https://a.example/", "'https://a.example/' is not an origin"),
            ("HERALD_ALLOWED_ORIGINS", "a.example", "'a.example' is not an origin"),
            ("HERALD_ALLOWED_ORIGINS", "ftp://a.example", "'ftp://a.example' is not an origin"),
        ];
        for (var, value, expected) in cases {
            let error = match read(&[(var, value)]) {
                Ok(_) => panic!("{var}={value:?} was accepted"),
                Err(e) => e,
            };
            assert_eq!(error.variable(), *var, "{var}={value:?}: {error}");
            let message = error.to_string();
            assert!(
                message.starts_with(&format!("environment variable {var}=")),
                "{var}={value:?}: {message}"
            );
            assert!(
                message.contains(expected),
                "{var}={value:?}: expected {expected:?} in: {message}"
            );
        }
    }

    #[test]
    fn every_variable_is_in_the_readme_configuration_table() {
        let readme = include_str!("../../README.md");
        let table = readme
            .split("## Configuration")
            .nth(1)
            .and_then(|rest| rest.split("\n## ").next())
            .expect("README has a Configuration section");
        for var in VARIABLES {
            // Rows may abbreviate a pair as `HERALD_X_RATE` / `_BURST`.
            let short = var.rsplit_once('_').map(|(_, tail)| format!("`_{tail}`"));
            assert!(
                table.contains(&format!("`{var}`")) || short.is_some_and(|s| table.contains(&s)),
                "{var} has no row in the README's configuration table"
            );
        }
    }
}
