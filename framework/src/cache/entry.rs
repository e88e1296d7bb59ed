//! One query's entry: its data, whether that data is stale, who waits for it and who
//! watches it, and its fetch lifecycle as an explicit state machine ([`FetchState`]).
//!
//! ```text
//! state            invalidate         load (no fresh data)   fetched, unpaced     fetched, paced   pause over
//! Idle             Fetching + fetch   Fetching + fetch       -                    -                -
//! Fetching         FetchingQueued     joins                  Idle                 Settling         -
//! FetchingQueued   (stays)            joins                  Fetching + fetch     SettlingQueued   -
//! Settling         SettlingQueued     Fetching + fetch       -                    -                Idle
//! SettlingQueued   (stays)            Fetching + fetch       -                    -                Fetching + fetch
//! ```
//!
//! Its guarantees are structural: a fetch is only ever started from a state with none in
//! flight, and "queued" is one state, not a counter — so never more than one fetch in flight
//! and one queued, and every reader of a missing or stale entry joins the fetch in flight.
//! With pacing, a burst of any length shorter than `max_wait` costs two fetches: the first
//! invalidation fetches at once, everything after it folds into the one refetch that waits
//! in `SettlingQueued` for the invalidations to pause.
//!
//! Pure: transitions return a [`Command`] for the registry to carry out after releasing its
//! lock. It must not spawn, sleep, lock, call the provider or know other entries or keys.

use super::QueryData;
use crate::data::DataResult;
use futures_channel::oneshot;
use std::sync::Arc;

/// Told the new result of a watched query.
///
/// ```
/// use herald_framework::cache::Watcher;
/// use std::sync::Arc;
/// let print: Watcher = Arc::new(|r| println!("{}", r.is_ok()));
/// # let _ = print;
/// ```
pub type Watcher = Arc<dyn Fn(&DataResult<QueryData>) + Send + Sync>;

/// A reader waiting for the fetch in flight.
pub(crate) type Waiter = oneshot::Sender<DataResult<QueryData>>;

/// Where an entry's fetching stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum FetchState {
    /// No fetch in flight, none queued.
    #[default]
    Idle,
    /// One fetch in flight.
    Fetching,
    /// One fetch in flight and one refetch queued behind it.
    FetchingQueued,
    /// Paced caches, just after a fetch: invalidations now queue a refetch that waits for
    /// them to pause. `timer` names the pacing wait that ends this state.
    Settling { timer: u64 },
    /// Settling with one refetch queued: it runs when the pacing wait `timer` ends, or at
    /// once if someone starts waiting for the data.
    SettlingQueued { timer: u64 },
}

/// What the registry must do after a transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[must_use]
pub(crate) enum Command {
    /// Nothing.
    Nothing,
    /// Start one fetch (the entry is now `Fetching`).
    Fetch,
    /// Start pacing wait `timer`, then report it with [`Entry::paced`].
    Pace(u64),
}

/// What a finished fetch hands back: who to tell, and what to do next.
pub(crate) struct Fetched {
    pub waiters: Vec<Waiter>,
    pub watchers: Vec<Watcher>,
    pub next: Command,
}

/// One query's entry.
#[derive(Default)]
pub(crate) struct Entry {
    data: Option<DataResult<QueryData>>,
    stale: bool,
    state: FetchState,
    /// Invalidations so far: pacing compares it across a quiet spell.
    invalidations: u64,
    /// The last pacing timer handed out; a wait whose id is not current is moot.
    timers: u64,
    waiters: Vec<Waiter>,
    watchers: Vec<(u64, Watcher)>,
}

impl Entry {
    /// The cached result, fresh or stale.
    pub fn data(&self) -> Option<&DataResult<QueryData>> {
        self.data.as_ref()
    }

    /// Where fetching stands.
    #[cfg(test)]
    pub fn state(&self) -> FetchState {
        self.state
    }

    /// Whether the data is missing a change.
    #[cfg(test)]
    pub fn is_stale(&self) -> bool {
        self.stale
    }

    /// Someone wants the data: `waiter` gets it now if fresh, else from the fetch in flight
    /// (joined) or a new one. A queued, paced refetch goes at once: the reader must not
    /// wait out the burst.
    pub fn load(&mut self, waiter: Waiter) -> Command {
        if let (Some(data), false) = (&self.data, self.stale) {
            let _ = waiter.send(data.clone());
            return Command::Nothing;
        }
        self.waiters.push(waiter);
        match self.state {
            FetchState::Idle | FetchState::Settling { .. } | FetchState::SettlingQueued { .. } => {
                self.state = FetchState::Fetching;
                Command::Fetch
            }
            FetchState::Fetching | FetchState::FetchingQueued => Command::Nothing,
        }
    }

    /// The data is out of date and should be refetched: at once when nothing is in flight,
    /// else folded into the one queued refetch.
    pub fn invalidate(&mut self) -> Command {
        self.stale = true;
        self.invalidations += 1;
        match self.state {
            FetchState::Idle => {
                self.state = FetchState::Fetching;
                Command::Fetch
            }
            FetchState::Fetching => {
                self.state = FetchState::FetchingQueued;
                Command::Nothing
            }
            FetchState::Settling { timer } => {
                self.state = FetchState::SettlingQueued { timer };
                Command::Nothing
            }
            FetchState::FetchingQueued | FetchState::SettlingQueued { .. } => Command::Nothing,
        }
    }

    /// The data is out of date, but nobody watches: the next [`Self::load`] refetches.
    pub fn mark_stale(&mut self) {
        self.stale = true;
    }

    /// Data obtained elsewhere (SSR, hydration, an optimistic edit, a rollback) is now the
    /// fresh data. Fetching is unaffected. Returns the watchers to tell.
    pub fn set(&mut self, data: DataResult<QueryData>) -> Vec<Watcher> {
        self.data = Some(data);
        self.stale = false;
        self.watchers()
    }

    /// Edits the cached data in place (see [`QueryData::patch`]); the edited data if the
    /// entry held a successful result that contained the record.
    pub fn data_mut(&mut self) -> Option<&mut QueryData> {
        match &mut self.data {
            Some(Ok(data)) => Some(data),
            _ => None,
        }
    }

    /// The fetch in flight finished with `result`. Unpaced, a queued refetch starts at
    /// once; paced, the entry settles until invalidations pause (queued or not).
    pub fn fetched(&mut self, result: DataResult<QueryData>, paced: bool) -> Fetched {
        debug_assert!(
            matches!(
                self.state,
                FetchState::Fetching | FetchState::FetchingQueued
            ),
            "a fetch finished in {:?}",
            self.state
        );
        let queued = self.state == FetchState::FetchingQueued;
        self.data = Some(result);
        self.stale = queued;
        let next = if paced {
            self.timers += 1;
            let timer = self.timers;
            self.state = if queued {
                FetchState::SettlingQueued { timer }
            } else {
                FetchState::Settling { timer }
            };
            Command::Pace(timer)
        } else if queued {
            self.state = FetchState::Fetching;
            Command::Fetch
        } else {
            self.state = FetchState::Idle;
            Command::Nothing
        };
        Fetched {
            waiters: std::mem::take(&mut self.waiters),
            watchers: self.watchers(),
            next,
        }
    }

    /// What pacing wait `timer` watches: the invalidations so far while the entry still
    /// settles on that timer, `None` once the wait is moot (a reader started the refetch,
    /// or a later fetch started a later wait).
    pub fn pacing(&self, timer: u64) -> Option<u64> {
        match self.state {
            FetchState::Settling { timer: t } | FetchState::SettlingQueued { timer: t }
                if t == timer =>
            {
                Some(self.invalidations)
            }
            _ => None,
        }
    }

    /// Pacing wait `timer` is over: the queued refetch (if any) starts.
    pub fn paced(&mut self, timer: u64) -> Command {
        match self.state {
            FetchState::SettlingQueued { timer: t } if t == timer => {
                self.state = FetchState::Fetching;
                Command::Fetch
            }
            FetchState::Settling { timer: t } if t == timer => {
                self.state = FetchState::Idle;
                Command::Nothing
            }
            _ => Command::Nothing,
        }
    }

    /// Adds watcher `id`.
    pub fn watch(&mut self, id: u64, watcher: Watcher) {
        self.watchers.push((id, watcher));
    }

    /// Removes watcher `id`.
    pub fn unwatch(&mut self, id: u64) {
        self.watchers.retain(|(w, _)| *w != id);
    }

    /// Whether anyone watches (watched entries refetch on invalidation; others only go
    /// stale).
    pub fn is_watched(&self) -> bool {
        !self.watchers.is_empty()
    }

    fn watchers(&self) -> Vec<Watcher> {
        self.watchers.iter().map(|(_, w)| w.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::HttpError;
    use FetchState::*;

    fn page(n: u64) -> DataResult<QueryData> {
        Ok(QueryData::List(crate::data::ListResult {
            data: Vec::new(),
            total: n,
        }))
    }

    fn waiter() -> (Waiter, oneshot::Receiver<DataResult<QueryData>>) {
        oneshot::channel()
    }

    /// An entry that has fetched once (fresh data, `Idle`).
    fn loaded() -> Entry {
        let mut e = Entry::default();
        let (tx, _rx) = waiter();
        assert_eq!(e.load(tx), Command::Fetch);
        let _ = e.fetched(page(1), false);
        e
    }

    #[test]
    fn a_first_load_fetches_and_later_readers_join_it() {
        let mut e = Entry::default();
        let (a, mut ra) = waiter();
        let (b, mut rb) = waiter();
        assert_eq!(e.load(a), Command::Fetch);
        assert_eq!(e.state(), Fetching);
        assert_eq!(e.load(b), Command::Nothing, "joins the fetch in flight");
        let done = e.fetched(page(3), false);
        assert_eq!((done.next, e.state()), (Command::Nothing, Idle));
        assert_eq!(done.waiters.len(), 2);
        for w in done.waiters {
            w.send(page(3)).unwrap();
        }
        assert_eq!(ra.try_recv().unwrap(), Some(page(3)));
        assert_eq!(rb.try_recv().unwrap(), Some(page(3)));
    }

    #[test]
    fn fresh_data_is_served_without_a_fetch() {
        let mut e = loaded();
        let (tx, mut rx) = waiter();
        assert_eq!(e.load(tx), Command::Nothing);
        assert_eq!(rx.try_recv().unwrap(), Some(page(1)));
        assert_eq!(e.state(), Idle);
    }

    #[test]
    fn invalidations_while_fetching_fold_into_one_queued_refetch() {
        let mut e = loaded();
        assert_eq!(e.invalidate(), Command::Fetch, "idle: at once");
        assert_eq!(e.state(), Fetching);
        for _ in 0..1000 {
            assert_eq!(e.invalidate(), Command::Nothing);
            assert_eq!(e.state(), FetchingQueued);
        }
        let done = e.fetched(page(2), false);
        assert_eq!(
            done.next,
            Command::Fetch,
            "unpaced: the queued refetch at once"
        );
        assert_eq!(e.state(), Fetching);
        assert!(e.is_stale(), "the data it got is already behind");
        let done = e.fetched(page(3), false);
        assert_eq!((done.next, e.state()), (Command::Nothing, Idle));
        assert!(!e.is_stale());
    }

    #[test]
    fn paced_a_burst_costs_two_fetches() {
        let mut e = loaded();
        let mut fetches = 0;
        assert_eq!(e.invalidate(), Command::Fetch);
        fetches += 1;
        for _ in 0..500 {
            assert_eq!(e.invalidate(), Command::Nothing);
        }
        let Command::Pace(timer) = e.fetched(page(2), true).next else {
            panic!("a paced fetch settles");
        };
        assert_eq!(e.state(), SettlingQueued { timer });
        // the burst goes on while settling: still one queued refetch
        let before = e.pacing(timer).unwrap();
        for _ in 0..500 {
            assert_eq!(e.invalidate(), Command::Nothing);
        }
        assert_eq!(e.pacing(timer), Some(before + 500), "pacing sees it move");
        assert_eq!(e.paced(timer), Command::Fetch, "the pause came");
        fetches += 1;
        assert_eq!(e.state(), Fetching);
        let Command::Pace(next) = e.fetched(page(3), true).next else {
            panic!("settles again");
        };
        assert_eq!(e.state(), Settling { timer: next });
        assert_eq!(e.paced(next), Command::Nothing);
        assert_eq!(e.state(), Idle);
        assert_eq!(fetches, 2);
    }

    #[test]
    fn paced_an_invalidation_after_a_quiet_fetch_waits_for_the_pause() {
        let mut e = loaded();
        assert_eq!(e.invalidate(), Command::Fetch);
        let Command::Pace(timer) = e.fetched(page(2), true).next else {
            panic!();
        };
        assert_eq!(e.state(), Settling { timer });
        assert!(!e.is_stale());
        assert_eq!(e.invalidate(), Command::Nothing);
        assert_eq!(e.state(), SettlingQueued { timer });
        assert_eq!(e.paced(timer), Command::Fetch);
    }

    #[test]
    fn a_reader_cuts_the_pacing_short_and_the_old_timer_is_moot() {
        let mut e = loaded();
        assert_eq!(e.invalidate(), Command::Fetch);
        assert_eq!(e.invalidate(), Command::Nothing);
        let Command::Pace(old) = e.fetched(page(2), true).next else {
            panic!();
        };
        let (tx, _rx) = waiter();
        assert_eq!(e.load(tx), Command::Fetch, "someone waits: no pacing");
        assert_eq!(e.state(), Fetching);
        assert_eq!(e.pacing(old), None, "the wait is moot");
        let Command::Pace(new) = e.fetched(page(3), true).next else {
            panic!();
        };
        assert_ne!(old, new);
        assert_eq!(e.invalidate(), Command::Nothing);
        assert_eq!(
            e.paced(old),
            Command::Nothing,
            "a stale timer changes nothing"
        );
        assert_eq!(e.state(), SettlingQueued { timer: new });
        assert_eq!(e.paced(new), Command::Fetch);
    }

    #[test]
    fn a_reader_of_fresh_settling_data_does_not_fetch() {
        let mut e = loaded();
        assert_eq!(e.invalidate(), Command::Fetch);
        let Command::Pace(timer) = e.fetched(page(2), true).next else {
            panic!();
        };
        let (tx, mut rx) = waiter();
        assert_eq!(e.load(tx), Command::Nothing);
        assert_eq!(rx.try_recv().unwrap(), Some(page(2)));
        assert_eq!(e.state(), Settling { timer });
    }

    #[test]
    fn set_refreshes_data_without_touching_fetching() {
        let mut e = loaded();
        assert_eq!(e.invalidate(), Command::Fetch);
        e.watch(1, Arc::new(|_| {}));
        let told = e.set(Err(HttpError::new(404, "deleted by bob")));
        assert_eq!(told.len(), 1);
        assert_eq!(e.state(), Fetching);
        assert!(!e.is_stale());
        assert!(e.data_mut().is_none(), "an error holds no records");
    }

    #[test]
    fn unwatched_entries_only_go_stale() {
        let mut e = loaded();
        e.mark_stale();
        assert_eq!(e.state(), Idle);
        assert!(e.is_stale());
        let (tx, _rx) = waiter();
        assert_eq!(e.load(tx), Command::Fetch, "the next read refetches");
    }

    #[test]
    fn watchers_come_and_go() {
        let mut e = Entry::default();
        assert!(!e.is_watched());
        e.watch(1, Arc::new(|_| {}));
        e.watch(2, Arc::new(|_| {}));
        e.unwatch(1);
        assert!(e.is_watched());
        e.unwatch(2);
        assert!(!e.is_watched());
    }
}
