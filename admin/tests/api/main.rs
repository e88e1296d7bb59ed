//! The admin's contract suites, in one test binary: the admin app (`admin::build`) started by
//! `server::testkit` on an ephemeral port over a throwaway database (SQLite, or PostgreSQL
//! with `HERALD_TEST_DATABASE=postgres`), and talked to over HTTP and WebSocket like any
//! client would.
//!
//! - [`rest`]: every row of the REST contract and every error code.
//! - [`auth`]: sessions, bearer tokens, throttling.
//! - [`live`]: the live channel: channels and rules, filtering, replay and resume, limits.
//! - [`cluster`]: several nodes on one PostgreSQL database (always PostgreSQL).
//! - [`hostile_rest`], [`hostile_auth`], [`hostile_http`]: what a hostile client sends —
//!   huge, many, slow, malformed, concurrent — and the clear error it gets, with nothing
//!   lost or leaked.
//! - [`crash`]: the real binary killed (SIGKILL) mid-stream and restarted: no acknowledged write lost, no gap on resume.
//! - [`fuzz`]: random, malformed, hostile live frames on several sockets (seeded; `HERALD_FUZZ_FRAMES`).

mod auth;
mod cluster;
mod crash;
mod fuzz;
mod hostile_auth;
mod hostile_http;
mod hostile_rest;
mod live;
mod rest;

/// What the admin's demo seed holds, counted from its own definition
/// (`admin::seed::demo_post`), so tests name what they count instead of repeating numbers.
mod seeded {
    use admin::seed::{demo_post, DemoPost, DEMO_USERS, POSTS};

    /// Posts in the seed.
    pub const POSTS_SEEDED: u64 = POSTS as u64;
    /// Users in the seed.
    pub const USERS_SEEDED: u64 = DEMO_USERS.len() as u64;

    /// Seeded posts for which `keep` holds.
    pub fn posts_where(keep: impl Fn(&DemoPost) -> bool) -> u64 {
        (0..POSTS).map(demo_post).filter(|p| keep(p)).count() as u64
    }

    /// Seeded posts whose text fields (what `q` searches) contain `needle`, ignoring case.
    pub fn posts_mentioning(needle: &str) -> u64 {
        let needle = needle.to_lowercase();
        posts_where(|p| {
            [&p.title, &p.content, p.category]
                .iter()
                .any(|t| t.to_lowercase().contains(&needle))
        })
    }
}
