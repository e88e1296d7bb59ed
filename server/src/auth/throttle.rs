//! Login throttling: after `limit` failed attempts for one user name within `window`,
//! further attempts get 429 until the oldest failure ages out. Guards against password
//! guessing without locking anyone out for long.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failed-login bookkeeping, per user name.
#[derive(Debug)]
pub struct LoginThrottle {
    limit: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginThrottle {
    /// At most `limit` failures per name within `window`.
    pub fn new(limit: usize, window: Duration) -> Self {
        Self {
            limit,
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    /// `Err(seconds to wait)` when `name` has used up its attempts.
    pub fn check(&self, name: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let Some(times) = map.get_mut(name) else {
            return Ok(());
        };
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        match times.front() {
            Some(oldest) if times.len() >= self.limit => {
                Err((self.window.saturating_sub(now.duration_since(*oldest)))
                    .as_secs()
                    .max(1))
            }
            _ => Ok(()),
        }
    }

    /// Records a failed attempt.
    pub fn failed(&self, name: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        // Bound memory under a flood of random names: forget names with no recent failure.
        if map.len() > 10_000 {
            let window = self.window;
            map.retain(|_, t| t.back().is_some_and(|t| t.elapsed() < window));
        }
        map.entry(name.to_owned())
            .or_default()
            .push_back(Instant::now());
    }

    /// A successful login clears the name's failures.
    pub fn succeeded(&self, name: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_and_clears_on_success() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.failed("a");
        assert!(t.check("a").is_ok());
        t.failed("a");
        assert!(t.check("a").is_err());
        assert!(t.check("b").is_ok());
        t.succeeded("a");
        assert!(t.check("a").is_ok());
    }
}
