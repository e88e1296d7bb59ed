//! Login throttling, and the bound on password-checking work.
//!
//! **Attempts.** A login reserves an attempt *before* its password is checked
//! ([`LoginThrottle::reserve`]), so concurrent guesses cannot all slip past a check that
//! only counts finished failures. Attempts are counted twice, within `login_window`:
//!
//! - per (user name, peer address): `login_attempts` (default 10). A stranger guessing
//!   alice's password locks out only their own address, not alice elsewhere.
//! - per user name, from all addresses together: `login_name_attempts` (default 50), higher,
//!   so a guesser spread over many addresses is still stopped (at the price that such a
//!   guesser can lock the name everywhere until the window passes).
//!
//! A wrong password keeps its attempt; a right one gives it back and clears that address's
//! failures for the name; a password never checked (queue full, store error, the client
//! gone before its turn) gives it back. A check that started counts even if nobody is left
//! to hear its answer: disconnecting cannot buy unlimited checks.
//! IPv6 peers count per /64, the block one subscriber usually holds.
//!
//! **Memory.** Each of the two books keeps at most [`MAX_TRACKED`] entries; beyond that the
//! least recently used is forgotten. Only attempts whose password was checked stay
//! recorded, and the verifier bound below limits how many checks a window can hold, so the
//! cap is reached only by a sustained flood of checks.
//!
//! **Work.** Argon2 costs ~19 MiB and tens of milliseconds per check. At most
//! `login_verifiers` checks run at once (on the blocking pool); up to
//! [`QUEUE_PER_VERIFIER`] more per verifier wait for at most [`QUEUE_WAIT`], and the rest
//! are refused at once as [`Unchecked::Busy`] (the API answers 429 with `Retry-After`).

use crate::config::Config;
use std::borrow::Borrow;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Entries each book (per name and peer, per name) keeps at most.
pub const MAX_TRACKED: usize = 16_384;
/// Logins that may wait for a verifier, per verifier, before more are refused outright.
pub const QUEUE_PER_VERIFIER: usize = 32;
/// The longest a login waits for a verifier before it is refused: well within the API's
/// request timeout (30 s by default), so a queued login gets a clear 429, not a timeout.
pub const QUEUE_WAIT: Duration = Duration::from_secs(10);
/// `Retry-After` when the verifiers are busy: the queue drains in about a second.
pub const BUSY_RETRY_SECS: u64 = 1;

/// Attempt bookkeeping and the password-check gate; one per server.
#[derive(Debug)]
pub struct LoginThrottle {
    per_peer: usize,
    per_name: usize,
    window: Duration,
    books: Mutex<Books>,
    verifiers: Verifiers,
}

#[derive(Debug, Default)]
struct Books {
    by_peer: Book<(String, IpAddr)>,
    by_name: Book<String>,
}

impl LoginThrottle {
    /// At most `per_peer` attempts per name and peer and `per_name` per name within
    /// `window`; `verifiers` password checks at once. Zero limits are taken as one.
    pub fn new(per_peer: usize, per_name: usize, window: Duration, verifiers: usize) -> Self {
        Self {
            per_peer: per_peer.max(1),
            per_name: per_name.max(1),
            window,
            books: Mutex::new(Books::default()),
            verifiers: Verifiers::new(verifiers.max(1)),
        }
    }

    /// The throttle `config` describes.
    pub fn from_config(config: &Config) -> Self {
        Self::new(
            config.login_attempts,
            config.login_name_attempts,
            config.login_window,
            config.login_verifiers,
        )
    }

    fn books(&self) -> MutexGuard<'_, Books> {
        // The books are plain counters, consistent after any panic: keep using them.
        self.books.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Reserves one attempt for `name` from `peer`, or `Err(seconds to wait)` when either
    /// count is used up. Settle it with [`Attempt::succeeded`], [`Attempt::failed`] or
    /// [`Attempt::refund`]. One dropped unsettled (its request abandoned) is given back if
    /// its password check had not started, and stays counted if it had.
    pub fn reserve(&self, name: &str, peer: IpAddr) -> Result<Attempt<'_>, u64> {
        let now = Instant::now();
        let peer = bucket(peer);
        let key = (name.to_owned(), peer);
        let mut books = self.books();
        books.by_peer.expire(now, self.window);
        books.by_name.expire(now, self.window);
        let wait = [
            books.by_peer.wait(&key, self.per_peer, now, self.window),
            books.by_name.wait(name, self.per_name, now, self.window),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(wait) = wait {
            return Err(whole_seconds(wait));
        }
        books.by_peer.push(key, now);
        books.by_name.push(name.to_owned(), now);
        Ok(Attempt {
            throttle: self,
            name: name.to_owned(),
            peer,
            at: now,
            checked: false,
            settled: false,
        })
    }

    /// Entries tracked now, in both books together.
    pub fn len(&self) -> usize {
        let books = self.books();
        books.by_peer.len() + books.by_name.len()
    }

    /// Whether nothing is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The most entries [`len`](Self::len) can reach.
    pub fn capacity(&self) -> usize {
        2 * MAX_TRACKED
    }

    /// Runs `check` (the password verification of `attempt`) on the blocking pool once a
    /// verifier is free; see [`Unchecked`] for when it does not run.
    pub async fn check_password<T, F>(
        &self,
        attempt: &mut Attempt<'_>,
        check: F,
    ) -> Result<T, Unchecked>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let permit = self.verifiers.acquire().await?;
        // From here the check runs to its end even if the request is abandoned: it counts.
        attempt.checked = true;
        self.verifiers.run(permit, check).await
    }

    /// Password checks started so far.
    pub fn verifications(&self) -> u64 {
        self.verifiers.counters.total.load(Ordering::Relaxed)
    }

    /// The most password checks that have run at the same time.
    pub fn peak_verifications(&self) -> usize {
        self.verifiers.counters.peak.load(Ordering::Relaxed)
    }
}

/// One reserved login attempt (see [`LoginThrottle::reserve`]).
#[must_use = "an attempt is settled with succeeded(), failed() or refund()"]
#[derive(Debug)]
pub struct Attempt<'a> {
    throttle: &'a LoginThrottle,
    name: String,
    peer: IpAddr,
    at: Instant,
    /// Its password check has started (and will finish, whatever happens to the request).
    checked: bool,
    settled: bool,
}

impl Attempt<'_> {
    /// The password was right: the attempt is given back, and this peer's failures for the
    /// name are forgotten. Failures from other peers stay, so a guesser elsewhere gains
    /// nothing from the owner signing in.
    pub fn succeeded(mut self) {
        self.settled = true;
        let mut books = self.throttle.books();
        books.by_peer.remove(&(self.name.clone(), self.peer));
        books.by_name.remove_one(self.name.as_str(), self.at);
    }

    /// The password was wrong: the attempt stays counted.
    pub fn failed(mut self) {
        self.settled = true;
    }

    /// The password was never checked (the verifiers were busy, the store failed): the
    /// attempt is given back.
    pub fn refund(mut self) {
        self.settled = true;
        self.give_back();
    }

    fn give_back(&self) {
        let mut books = self.throttle.books();
        books
            .by_peer
            .remove_one(&(self.name.clone(), self.peer), self.at);
        books.by_name.remove_one(self.name.as_str(), self.at);
    }
}

impl Drop for Attempt<'_> {
    /// An abandoned request: its attempt is given back unless its check started.
    fn drop(&mut self) {
        if !self.settled && !self.checked {
            self.give_back();
        }
    }
}

/// The throttle key of a peer: IPv4 (or IPv4-mapped IPv6) as is, other IPv6 by its /64.
fn bucket(peer: IpAddr) -> IpAddr {
    match peer.to_canonical() {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
        }
        v4 => v4,
    }
}

/// `d` rounded up to whole seconds, at least one (`Retry-After` of 0 would invite a retry
/// that is refused again).
fn whole_seconds(d: Duration) -> u64 {
    let rounded_up = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    rounded_up.max(1)
}

/// Attempt times per key, least recently used first.
#[derive(Debug)]
struct Book<K> {
    entries: HashMap<K, Entry>,
    /// Entries by the stamp of their last reservation: the first is the least recent.
    order: BTreeMap<u64, K>,
    next_stamp: u64,
}

#[derive(Debug)]
struct Entry {
    /// Attempts still counted, oldest first.
    times: VecDeque<Instant>,
    stamp: u64,
}

impl<K> Default for Book<K> {
    fn default() -> Self {
        Self {
            entries: HashMap::new(),
            order: BTreeMap::new(),
            next_stamp: 0,
        }
    }
}

impl<K: Hash + Eq + Clone> Book<K> {
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// How long until `key` may try again, if it has `limit` attempts within `window`.
    fn wait<Q>(&mut self, key: &Q, limit: usize, now: Instant, window: Duration) -> Option<Duration>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let entry = self.entries.get_mut(key)?;
        while entry
            .times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            entry.times.pop_front();
        }
        if entry.times.len() < limit {
            return None;
        }
        let oldest = entry.times.front()?;
        Some(window.saturating_sub(now.duration_since(*oldest)))
    }

    /// Records an attempt at `at` and makes `key` the most recently used; forgets the least
    /// recently used entry beyond [`MAX_TRACKED`].
    fn push(&mut self, key: K, at: Instant) {
        let stamp = self.next_stamp;
        self.next_stamp += 1;
        let entry = self.entries.entry(key.clone()).or_insert_with(|| Entry {
            times: VecDeque::new(),
            stamp,
        });
        self.order.remove(&entry.stamp);
        entry.stamp = stamp;
        entry.times.push_back(at);
        self.order.insert(stamp, key);
        while self.entries.len() > MAX_TRACKED {
            let Some((_, oldest)) = self.order.pop_first() else {
                break;
            };
            self.entries.remove(&oldest);
        }
    }

    /// Forgets the least recently used entries whose attempts have all aged out. Stops at the
    /// first live one: older entries are rarely behind it, and the cap bounds the rest.
    fn expire(&mut self, now: Instant, window: Duration) {
        while let Some((&stamp, key)) = self.order.first_key_value() {
            let live = self.entries.get(key).is_some_and(|e| {
                e.times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < window)
            });
            if live {
                break;
            }
            if let Some(key) = self.order.remove(&stamp) {
                self.entries.remove(&key);
            }
        }
    }

    /// Removes the attempt made at `at` (one of them, if several share the instant).
    fn remove_one<Q>(&mut self, key: &Q, at: Instant)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let Some(entry) = self.entries.get_mut(key) else {
            return;
        };
        if let Some(i) = entry.times.iter().rposition(|t| *t == at) {
            entry.times.remove(i);
        }
        if entry.times.is_empty() {
            self.remove(key);
        }
    }

    /// Forgets `key` altogether.
    fn remove<Q>(&mut self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        if let Some(entry) = self.entries.remove(key) {
            self.order.remove(&entry.stamp);
        }
    }
}

/// Why a password check did not run, or did not finish.
#[derive(Debug)]
pub enum Unchecked {
    /// Every verifier was busy and the queue full, or the wait too long.
    Busy,
    /// The check panicked.
    Failed(tokio::task::JoinError),
}

/// The gate in front of password checks.
#[derive(Debug)]
struct Verifiers {
    permits: Arc<Semaphore>,
    queue_max: usize,
    waiting: AtomicUsize,
    counters: Arc<Counters>,
}

#[derive(Debug, Default)]
struct Counters {
    running: AtomicUsize,
    peak: AtomicUsize,
    total: AtomicU64,
}

/// Counts a running check for as long as it lives (also if the check panics).
struct Running(Arc<Counters>);

impl Running {
    fn start(counters: Arc<Counters>) -> Self {
        counters.total.fetch_add(1, Ordering::Relaxed);
        let now = counters.running.fetch_add(1, Ordering::AcqRel) + 1;
        counters.peak.fetch_max(now, Ordering::AcqRel);
        Running(counters)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Counts a waiting login for as long as it waits.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Verifiers {
    fn new(verifiers: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(verifiers)),
            queue_max: verifiers.saturating_mul(QUEUE_PER_VERIFIER),
            waiting: AtomicUsize::new(0),
            counters: Arc::default(),
        }
    }

    /// Waits for a free verifier, in a bounded queue for a bounded time.
    async fn acquire(&self) -> Result<OwnedSemaphorePermit, Unchecked> {
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        let _waiting = Waiting(&self.waiting);
        if ahead >= self.queue_max {
            return Err(Unchecked::Busy);
        }
        match tokio::time::timeout(QUEUE_WAIT, Arc::clone(&self.permits).acquire_owned()).await {
            Ok(Ok(permit)) => Ok(permit),
            // Timed out; or the semaphore was closed, which this module never does.
            _ => Err(Unchecked::Busy),
        }
    }

    /// Runs `check` on the blocking pool, holding `permit` until it is done.
    async fn run<T, F>(&self, permit: OwnedSemaphorePermit, check: F) -> Result<T, Unchecked>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let counters = Arc::clone(&self.counters);
        tokio::task::spawn_blocking(move || {
            // The permit moves into the check: if the request is abandoned meanwhile, the
            // slot stays taken until the hash is actually done, so the bound holds.
            let _permit = permit;
            let _running = Running::start(counters);
            check()
        })
        .await
        .map_err(Unchecked::Failed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const A: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
    const B: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2));

    fn throttle(per_peer: usize, per_name: usize) -> LoginThrottle {
        LoginThrottle::new(per_peer, per_name, Duration::from_secs(60), 1)
    }

    #[test]
    fn blocks_after_limit_and_clears_on_success() {
        let t = throttle(2, 10);
        t.reserve("a", A).map(Attempt::failed).unwrap();
        t.reserve("a", A).map(Attempt::failed).unwrap();
        let wait = t.reserve("a", A).map(Attempt::failed).unwrap_err();
        assert!((59..=60).contains(&wait), "{wait}");
        assert!(t.reserve("b", A).is_ok());
        // From another peer the name is still open, and a success there clears nothing here.
        t.reserve("a", B).map(Attempt::succeeded).unwrap();
        assert!(t.reserve("a", A).is_err());
    }

    #[test]
    fn a_success_clears_its_peer() {
        let t = throttle(2, 10);
        t.reserve("a", A).map(Attempt::failed).unwrap();
        t.reserve("a", A).map(Attempt::succeeded).unwrap();
        t.reserve("a", A).map(Attempt::failed).unwrap();
        t.reserve("a", A).map(Attempt::failed).unwrap();
        assert!(t.reserve("a", A).is_err());
    }

    #[test]
    fn reservations_count_until_settled_and_refunds_give_them_back() {
        let t = throttle(2, 10);
        let first = t.reserve("a", A).unwrap();
        let second = t.reserve("a", A).unwrap();
        assert!(t.reserve("a", A).is_err(), "two in flight use up the limit");
        second.refund();
        first.refund();
        assert!(t.is_empty(), "refunded attempts leave nothing behind");
        assert!(t.reserve("a", A).is_ok());
    }

    #[tokio::test]
    async fn an_abandoned_attempt_counts_only_if_its_check_started() {
        let t = throttle(1, 10);
        drop(t.reserve("a", A).unwrap());
        assert!(t.is_empty(), "abandoned before its check: given back");
        let mut attempt = t.reserve("a", A).unwrap();
        t.check_password(&mut attempt, || ()).await.unwrap();
        drop(attempt);
        assert!(
            t.reserve("a", A).is_err(),
            "abandoned after its check: counted"
        );
    }

    #[test]
    fn the_name_ceiling_spans_peers() {
        let t = throttle(2, 3);
        for last in 1..=3 {
            let peer = IpAddr::V4(Ipv4Addr::new(10, 0, 1, last));
            t.reserve("a", peer).map(Attempt::failed).unwrap();
        }
        assert!(t
            .reserve("a", IpAddr::V4(Ipv4Addr::new(10, 0, 1, 9)))
            .is_err());
        assert!(t.reserve("b", A).is_ok());
    }

    #[test]
    fn ipv6_peers_count_per_64() {
        let t = throttle(1, 10);
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        t.reserve("a", one).map(Attempt::failed).unwrap();
        assert!(t.reserve("a", same_64).is_err());
        assert!(t.reserve("a", other_64).is_ok());
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        t.reserve("b", A).map(Attempt::failed).unwrap();
        assert!(t.reserve("b", mapped).is_err(), "IPv4-mapped is IPv4");
    }

    #[test]
    fn the_books_are_bounded_and_forget_the_least_recent() {
        let t = throttle(1, 10);
        t.reserve("first", A).map(Attempt::failed).unwrap();
        for i in 0..MAX_TRACKED {
            t.reserve(&format!("n{i}"), A).map(Attempt::failed).unwrap();
        }
        assert_eq!(t.len(), t.capacity());
        assert!(t.reserve("first", A).is_ok(), "the oldest was forgotten");
        assert!(t.reserve(&format!("n{}", MAX_TRACKED - 1), A).is_err());
    }

    #[test]
    fn aged_out_entries_are_dropped() {
        let t = LoginThrottle::new(1, 10, Duration::from_millis(20), 1);
        t.reserve("a", A).map(Attempt::failed).unwrap();
        assert!(t.reserve("a", A).is_err());
        std::thread::sleep(Duration::from_millis(30));
        t.reserve("b", A).map(Attempt::failed).unwrap();
        assert_eq!(t.len(), 2, "only b is left, in both books");
        assert!(t.reserve("a", A).is_ok());
    }

    #[test]
    fn retry_after_is_whole_seconds_at_least_one() {
        assert_eq!(whole_seconds(Duration::ZERO), 1);
        assert_eq!(whole_seconds(Duration::from_millis(1)), 1);
        assert_eq!(whole_seconds(Duration::from_secs(2)), 2);
        assert_eq!(whole_seconds(Duration::from_millis(2001)), 3);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn checks_run_within_the_bound_and_a_full_queue_is_busy() {
        let t = Arc::new(LoginThrottle::new(1, 1, Duration::from_secs(60), 2));
        let mut set = tokio::task::JoinSet::new();
        for i in 0..(2 + 2 * QUEUE_PER_VERIFIER + 20) {
            let t = Arc::clone(&t);
            set.spawn(async move {
                let mut attempt = t.reserve(&format!("n{i}"), A).expect("a fresh name");
                let checked = t
                    .check_password(&mut attempt, || {
                        std::thread::sleep(Duration::from_millis(20))
                    })
                    .await;
                attempt.failed();
                checked
            });
        }
        let results = set.join_all().await;
        let busy = results
            .iter()
            .filter(|r| matches!(r, Err(Unchecked::Busy)))
            .count();
        assert!(busy >= 1, "beyond the queue, logins are refused");
        assert!(results.iter().any(Result::is_ok));
        assert!(t.peak_verifications() <= 2, "{}", t.peak_verifications());
        assert_eq!(t.verifications() as usize, results.len() - busy);
    }
}
