//! Pacing: how long a refetch queued behind a burst of invalidations waits for the burst
//! to end. [`Pacing`] holds the knobs and the sleeper; its wait watches a counter of
//! invalidations and returns once the counter holds still for `quiet` (or `max_wait` has
//! passed, or the wait became moot).
//!
//! It knows time only through [`Sleeper`] (from [`crate::runtime`]) and sees an entry only
//! as that counter: it must not know keys, entries, fetch states or providers.

use crate::runtime::Sleeper;
use std::time::Duration;

/// How a refetch queued behind a burst of invalidations waits for the burst to end.
///
/// ```
/// use herald_framework::cache::Pacing;
/// use std::{sync::Arc, time::Duration};
/// let pacing = Pacing::new(Arc::new(|d| Box::pin(tokio::time::sleep(d))));
/// assert_eq!(pacing.quiet, Duration::from_millis(100));
/// ```
#[derive(Clone)]
pub struct Pacing {
    /// The timer it waits with.
    pub sleep: Sleeper,
    /// The pause in invalidations that ends a burst.
    pub quiet: Duration,
    /// The longest a queued refetch waits, so a never-ending stream still refreshes.
    pub max_wait: Duration,
}

impl Pacing {
    /// 100 ms of quiet ends a burst; a queued refetch waits at most one second.
    ///
    /// ```
    /// # use herald_framework::cache::Pacing;
    /// let pacing = Pacing::new(herald_framework::runtime::sleeper());
    /// assert_eq!(pacing.max_wait, std::time::Duration::from_secs(1));
    /// ```
    pub fn new(sleep: Sleeper) -> Self {
        Self {
            sleep,
            quiet: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
        }
    }

    /// Waits until `count` (invalidations so far) holds still over one `quiet` spell, or
    /// `max_wait` has been spent, or `count` answers `None` (nothing to wait for any more).
    pub(crate) async fn wait_for_pause(&self, mut count: impl FnMut() -> Option<u64>) {
        let mut waited = Duration::ZERO;
        let Some(mut seen) = count() else {
            return;
        };
        loop {
            (self.sleep)(self.quiet).await;
            waited += self.quiet;
            match count() {
                Some(now) if now != seen && waited < self.max_wait => seen = now,
                _ => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};
    use std::sync::Arc;

    /// A sleeper that returns at once and counts the naps it took.
    fn counting_sleeper(naps: Arc<AtomicU64>) -> Sleeper {
        Arc::new(move |_| {
            naps.fetch_add(1, Ordering::Relaxed);
            Box::pin(async {})
        })
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn a_still_counter_ends_the_wait_after_one_quiet_spell() {
        let naps = Arc::new(AtomicU64::new(0));
        let pacing = Pacing::new(counting_sleeper(naps.clone()));
        block_on(pacing.wait_for_pause(|| Some(7)));
        assert_eq!(naps.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_moving_counter_extends_the_wait_up_to_max_wait() {
        let naps = Arc::new(AtomicU64::new(0));
        let pacing = Pacing::new(counting_sleeper(naps.clone()));
        let mut n = 0;
        block_on(pacing.wait_for_pause(|| {
            n += 1;
            Some(n)
        }));
        // 1 s of max_wait in 100 ms spells
        assert_eq!(naps.load(Ordering::Relaxed), 10);
    }

    #[test]
    fn a_moot_wait_ends_at_once_or_at_the_next_look() {
        let naps = Arc::new(AtomicU64::new(0));
        let pacing = Pacing::new(counting_sleeper(naps.clone()));
        block_on(pacing.wait_for_pause(|| None));
        assert_eq!(naps.load(Ordering::Relaxed), 0);
        let mut looks = 0;
        block_on(pacing.wait_for_pause(|| {
            looks += 1;
            (looks < 3).then_some(looks)
        }));
        assert_eq!(naps.load(Ordering::Relaxed), 2);
    }
}
