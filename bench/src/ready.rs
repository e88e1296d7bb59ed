//! Helpers for the bench script: a free loopback port, and waiting for a server to answer.

use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// A TCP port on 127.0.0.1 that is free right now.
pub fn free_port() -> Result<u16> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?.port())
}

/// Polls `url` until it answers with any HTTP status, for at most `timeout`.
pub async fn wait_for(url: &str, timeout: Duration) -> Result<()> {
    crate::rest::check_loopback(url)?;
    let http = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(2))
        .build()?;
    let deadline = Instant::now() + timeout;
    loop {
        match http.get(url).send().await {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => {
                bail!("{url} did not answer within {timeout:?}: {e}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_port() {
        assert!(free_port().unwrap() > 0);
    }

    #[tokio::test]
    async fn gives_up_on_a_closed_port() {
        let port = free_port().unwrap();
        let url = format!("http://127.0.0.1:{port}/");
        assert!(wait_for(&url, Duration::from_millis(300)).await.is_err());
    }
}
