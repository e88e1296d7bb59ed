//! The admin's contract suites, in one test binary: the admin app (`admin::build`) started by
//! `server::testkit` on an ephemeral port over a throwaway database (SQLite, or PostgreSQL
//! with `HERALD_TEST_DATABASE=postgres`), and talked to over HTTP and WebSocket like any
//! client would.
//!
//! - [`rest`]: every row of the REST contract and every error code.
//! - [`auth`]: sessions, bearer tokens, throttling.
//! - [`live`]: the live channel: channels and rules, filtering, replay and resume, limits.
//! - [`cluster`]: several nodes on one PostgreSQL database (always PostgreSQL).

mod auth;
mod cluster;
mod live;
mod rest;
