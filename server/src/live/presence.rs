//! Presence bookkeeping: who is on which presence channel, on this node and — as the cluster
//! last read them — on other nodes. It counts users, not sockets (a user with two tabs on a
//! channel is there once), and every change returns a decision: must the cluster be told
//! (this node's presence of the user changed) and must subscribers hear `join`/`leave` (the
//! user appeared, or disappeared, everywhere)? The hub carries the decisions out.
//!
//! A leaf: no I/O, no locks of its own (it lives in the hub's state, under the hub's lock),
//! and nothing of connections, frames, queues or how the cluster talks.

use super::cluster_link::Members;
use herald_protocol::Identity;
use std::collections::{BTreeMap, HashMap};

/// `join` or `leave`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Join,
    Leave,
}

impl Kind {
    /// The event type subscribers see.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Join => "join",
            Kind::Leave => "leave",
        }
    }
}

/// A `join` or `leave` to announce on a channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    pub kind: Kind,
    pub user: Identity,
}

/// What a presence subscription opening on this node means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Joined {
    /// The user's first presence subscription on the channel on this node: tell the cluster.
    pub first_here: bool,
    /// The user was on the channel nowhere before: announce `join`.
    pub announce: bool,
    /// Everyone on the channel now, this node's users and other nodes', by id (the `sync`).
    pub members: Vec<Identity>,
}

/// What a presence subscription closing on this node means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Left {
    /// It was the user's last one on the channel on this node: tell the cluster.
    pub last_here: bool,
    /// The user is on the channel nowhere any more: announce `leave`.
    pub announce: bool,
}

/// Who is present where.
#[derive(Debug, Default)]
pub struct Presence {
    /// channel → user id → (user, presence subscriptions of that user on the channel here).
    local: HashMap<String, BTreeMap<i64, (Identity, usize)>>,
    /// Users present on other nodes (PostgreSQL clusters only).
    remote: Members,
}

impl Presence {
    /// A presence subscription of `user` on `channel` opened on this node.
    pub fn join(&mut self, channel: &str, user: &Identity) -> Joined {
        let members = self.local.entry(channel.to_owned()).or_default();
        let entry = members.entry(user.id).or_insert_with(|| (user.clone(), 0));
        entry.1 += 1;
        let first_here = entry.1 == 1;
        let elsewhere = self.remote.get(channel);
        let mut everyone: BTreeMap<i64, &Identity> =
            members.iter().map(|(id, (u, _))| (*id, u)).collect();
        everyone.extend(elsewhere.into_iter().flatten().map(|(id, u)| (*id, u)));
        Joined {
            first_here,
            announce: first_here && !elsewhere.is_some_and(|m| m.contains_key(&user.id)),
            members: everyone.into_values().cloned().collect(),
        }
    }

    /// A presence subscription of user `user` on `channel` closed on this node.
    pub fn leave(&mut self, channel: &str, user: i64) -> Left {
        let Some(members) = self.local.get_mut(channel) else {
            return Left::default();
        };
        let Some(entry) = members.get_mut(&user) else {
            return Left::default();
        };
        entry.1 -= 1;
        if entry.1 > 0 {
            return Left::default();
        }
        members.remove(&user);
        if members.is_empty() {
            self.local.remove(channel);
        }
        Left {
            last_here: true,
            announce: !self.is_elsewhere(channel, user),
        }
    }

    /// Other nodes' users on `channel` are now `now`: who joined and who left (joins first,
    /// each by id), leaving out users also here, who were announced already and stay.
    pub fn set_remote(&mut self, channel: &str, now: BTreeMap<i64, Identity>) -> Vec<Announcement> {
        let before = match now.is_empty() {
            true => self.remote.remove(channel),
            false => self.remote.insert(channel.to_owned(), now.clone()),
        }
        .unwrap_or_default();
        let joined = now
            .iter()
            .filter(|(id, _)| !before.contains_key(id))
            .map(|(_, user)| (Kind::Join, user));
        let left = before
            .iter()
            .filter(|(id, _)| !now.contains_key(id))
            .map(|(_, user)| (Kind::Leave, user));
        joined
            .chain(left)
            .filter(|(_, user)| !self.is_here(channel, user.id))
            .map(|(kind, user)| Announcement {
                kind,
                user: user.clone(),
            })
            .collect()
    }

    /// The channels other nodes have users on.
    pub fn remote_channels(&self) -> impl Iterator<Item = &String> {
        self.remote.keys()
    }

    /// Every (channel, user) present on this node.
    pub fn local_members(&self) -> Vec<(String, Identity)> {
        self.local
            .iter()
            .flat_map(|(channel, members)| {
                members
                    .values()
                    .map(move |(user, _)| (channel.clone(), user.clone()))
            })
            .collect()
    }

    fn is_here(&self, channel: &str, user: i64) -> bool {
        self.local
            .get(channel)
            .is_some_and(|members| members.contains_key(&user))
    }

    fn is_elsewhere(&self, channel: &str, user: i64) -> bool {
        self.remote
            .get(channel)
            .is_some_and(|members| members.contains_key(&user))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOM: &str = "presence/posts/1";

    fn user(id: i64, name: &str) -> Identity {
        Identity {
            id,
            name: name.into(),
        }
    }

    fn remote(users: &[&Identity]) -> BTreeMap<i64, Identity> {
        users.iter().map(|u| (u.id, (*u).clone())).collect()
    }

    fn announced(kind: Kind, user: &Identity) -> Announcement {
        Announcement {
            kind,
            user: user.clone(),
        }
    }

    #[test]
    fn counts_users_not_sockets() {
        let (alice, bob) = (user(1, "alice"), user(2, "bob"));
        let mut p = Presence::default();
        let first = p.join(ROOM, &alice);
        assert_eq!((first.first_here, first.announce), (true, true));
        assert_eq!(first.members, vec![alice.clone()]);
        let second_tab = p.join(ROOM, &alice);
        assert_eq!((second_tab.first_here, second_tab.announce), (false, false));
        let joined = p.join(ROOM, &bob);
        assert_eq!(joined.members, vec![alice.clone(), bob.clone()]);
        assert_eq!(p.leave(ROOM, alice.id), Left::default(), "one tab is left");
        let gone = Left {
            last_here: true,
            announce: true,
        };
        assert_eq!(p.leave(ROOM, alice.id), gone);
        assert_eq!(p.leave(ROOM, alice.id), Left::default(), "no ghosts");
        assert_eq!(p.local_members(), vec![(ROOM.to_owned(), bob.clone())]);
        assert_eq!(p.leave(ROOM, bob.id), gone);
        assert!(p.local_members().is_empty());
    }

    #[test]
    fn remote_members_merge_with_local_ones() {
        let (alice, bob, carol) = (user(1, "alice"), user(2, "bob"), user(3, "carol"));
        let mut p = Presence::default();
        assert_eq!(
            p.set_remote(ROOM, remote(&[&bob])),
            vec![announced(Kind::Join, &bob)]
        );
        let joined = p.join(ROOM, &alice);
        assert_eq!((joined.first_here, joined.announce), (true, true));
        assert_eq!(joined.members, vec![alice.clone(), bob.clone()]);
        // Carol on another node too: only she is new; alice was announced already.
        assert_eq!(
            p.set_remote(ROOM, remote(&[&alice, &bob, &carol])),
            vec![announced(Kind::Join, &carol)]
        );
        // Bob here as well as elsewhere: this node tells the cluster, nobody hears a join.
        let bob_here = p.join(ROOM, &bob);
        assert_eq!((bob_here.first_here, bob_here.announce), (true, false));
        let still_elsewhere = Left {
            last_here: true,
            announce: false,
        };
        assert_eq!(p.leave(ROOM, bob.id), still_elsewhere);
        // Everyone leaves the other node: alice stays (here), bob and carol are gone.
        assert_eq!(
            p.set_remote(ROOM, BTreeMap::new()),
            vec![announced(Kind::Leave, &bob), announced(Kind::Leave, &carol)]
        );
        assert_eq!(p.remote_channels().count(), 0);
        assert_eq!(
            p.leave(ROOM, alice.id),
            Left {
                last_here: true,
                announce: true
            }
        );
    }

    #[test]
    fn channels_are_separate() {
        let alice = user(1, "alice");
        let mut p = Presence::default();
        p.join(ROOM, &alice);
        let other = p.join("presence/posts/2", &alice);
        assert_eq!((other.first_here, other.announce), (true, true));
        assert_eq!(p.leave("presence/posts/3", alice.id), Left::default());
        assert_eq!(p.local_members().len(), 2);
    }
}
