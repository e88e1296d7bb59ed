//! Limits per user, across all of that user's live connections: how many connections they
//! may hold, and one token bucket shared by their publishes, subscribes and unsubscribes.
//! Per-connection limits alone let one user multiply them by opening more sockets, and
//! subscribe/unsubscribe churn on a presence channel fans join/leave out to every viewer.
//!
//! A user's entry outlives their last connection until their bucket has refilled, so
//! reconnecting does not buy a fresh burst; entries are then forgotten, so memory is bounded
//! by the users recently connected. It knows nothing of sockets or of the hub.

use super::rate::TokenBucket;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

struct User {
    connections: usize,
    bucket: TokenBucket,
}

/// The per-user limits of one node. Cheap to share.
pub struct UserLimits {
    users: Mutex<HashMap<i64, User>>,
    rate: u32,
    burst: u32,
    max_connections: usize,
}

/// A user's place among their connections; dropping it gives the place back.
pub struct Admission {
    limits: Arc<UserLimits>,
    user: i64,
}

impl UserLimits {
    /// Limits of `max_connections` per user and `rate` operations a second (bursts of
    /// `burst`) shared by their connections.
    ///
    /// ```
    /// use server::live::limits::UserLimits;
    /// let limits = UserLimits::new(20, 2, 1);
    /// let first = limits.admit(7).expect("room for one");
    /// assert!(limits.admit(7).is_none(), "one connection per user");
    /// assert!(limits.admit(8).is_some(), "another user has their own");
    /// assert!(limits.try_take(7) && limits.try_take(7) && !limits.try_take(7));
    /// drop(first);
    /// assert!(limits.admit(7).is_some());
    /// ```
    pub fn new(rate: u32, burst: u32, max_connections: usize) -> Arc<Self> {
        Arc::new(Self {
            users: Mutex::new(HashMap::new()),
            rate,
            burst,
            max_connections,
        })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<i64, User>> {
        self.users.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for one more connection of `user`, or `None` at the limit.
    pub fn admit(self: &Arc<Self>, user: i64) -> Option<Admission> {
        let mut users = self.lock();
        users.retain(|id, u| *id == user || u.connections > 0 || !u.bucket.is_full());
        let entry = users.entry(user).or_insert_with(|| User {
            connections: 0,
            bucket: TokenBucket::new(self.rate, self.burst),
        });
        if entry.connections >= self.max_connections {
            return None;
        }
        entry.connections += 1;
        Some(Admission {
            limits: self.clone(),
            user,
        })
    }

    /// Takes one of `user`'s tokens (a publish, subscribe or unsubscribe) if there is one.
    /// A user with no admitted connection has no tokens.
    pub fn try_take(&self, user: i64) -> bool {
        self.lock()
            .get_mut(&user)
            .is_some_and(|u| u.bucket.try_take())
    }

    /// Users remembered: connected, or disconnected with tokens still to refill.
    pub fn users(&self) -> usize {
        self.lock().len()
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(u) = self.limits.lock().get_mut(&self.user) {
            u.connections = u.connections.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucket_is_shared_by_a_users_connections_and_survives_a_reconnect() {
        let limits = UserLimits::new(1, 3, 32);
        let (a, b) = (limits.admit(1).unwrap(), limits.admit(1).unwrap());
        let taken = (0..10).filter(|_| limits.try_take(1)).count();
        assert_eq!(taken, 3, "one burst for both connections");
        assert!(
            !limits.try_take(2),
            "a user with no connection has no tokens"
        );
        drop((a, b));
        let _again = limits.admit(1).unwrap();
        assert!(
            !limits.try_take(1),
            "reconnecting does not refill the bucket"
        );
    }

    #[test]
    fn users_whose_bucket_refilled_are_forgotten() {
        let limits = UserLimits::new(1_000_000, 1, 32);
        for user in 0..1000 {
            drop(limits.admit(user).unwrap());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
        let _one = limits.admit(5000).unwrap();
        assert_eq!(limits.users(), 1, "only the connected user is remembered");
    }
}
