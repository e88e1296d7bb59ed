//! Native (non-browser) providers, for tests, tools and desktop apps: [`rest::HttpClient`]
//! speaks the REST dialect with `reqwest` and a bearer token, and [`live::connect`] runs the
//! [`crate::live::LiveClient`] over a `tokio-tungstenite` WebSocket that reconnects and
//! resumes. Feature `native`; they need a tokio runtime.

pub mod live;
pub mod rest;
