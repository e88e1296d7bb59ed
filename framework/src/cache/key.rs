//! Query identity and the matching rule: [`QueryKey`] names a query (resource, kind,
//! params), and [`Invalidation`] describes a change — an event of some kind about some ids,
//! or "anything about this resource" — with [`Invalidation::touches`] deciding which keys it
//! makes stale (docs/client-behaviour.md, "Precise invalidation").
//!
//! Pure data: it must not know entries, fetch states, timers, providers or the live wire
//! (callers turn a live event or a write into an [`Invalidation`]).

use crate::query::ListParams;
use crate::Id;
use serde::{Deserialize, Serialize};

/// What a query asks for.
///
/// ```
/// use herald_framework::cache::{QueryKey, QueryKind};
/// assert!(matches!(QueryKey::one("posts", 3).kind, QueryKind::One(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QueryKind {
    /// getList with these parameters.
    List(ListParams),
    /// getMany of these ids (sorted, deduplicated).
    Many(Vec<Id>),
    /// getOne of this id.
    One(Id),
}

/// Identifies a query: equal keys share one cache entry, and so one fetch.
///
/// ```
/// use herald_framework::cache::QueryKey;
/// let k = QueryKey::one("posts", 3);
/// assert!(k.affected_by("posts", "updated", &["3".into()]));
/// assert!(!k.affected_by("posts", "updated", &["4".into()]));
/// assert!(!k.affected_by("posts", "created", &["9".into()]));
/// let slug = QueryKey::one("tasks", "fix-login");
/// assert!(slug.affected_by("tasks", "deleted", &["fix-login".into()]));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct QueryKey {
    /// The resource queried (`posts`).
    pub resource: String,
    /// What is asked of it.
    pub kind: QueryKind,
}

impl QueryKey {
    /// A getList query.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryKey, query::ListParams};
    /// assert_eq!(QueryKey::list("posts", ListParams::default()).resource, "posts");
    /// ```
    pub fn list(resource: impl Into<String>, params: ListParams) -> Self {
        Self {
            resource: resource.into(),
            kind: QueryKind::List(params),
        }
    }

    /// A getMany query (ids are sorted so equal sets share an entry).
    ///
    /// ```
    /// # use herald_framework::cache::QueryKey;
    /// assert_eq!(QueryKey::many("posts", vec![2.into(), 1.into()]), QueryKey::many("posts", vec![1.into(), 2.into()]));
    /// ```
    pub fn many(resource: impl Into<String>, mut ids: Vec<Id>) -> Self {
        ids.sort_unstable();
        ids.dedup();
        Self {
            resource: resource.into(),
            kind: QueryKind::Many(ids),
        }
    }

    /// A getOne query.
    ///
    /// ```
    /// # use herald_framework::cache::QueryKey;
    /// assert_eq!(QueryKey::one("posts", 1), QueryKey::one("posts", "1"));
    /// ```
    pub fn one(resource: impl Into<String>, id: impl Into<Id>) -> Self {
        Self {
            resource: resource.into(),
            kind: QueryKind::One(id.into()),
        }
    }

    /// Whether an event of `kind` about `ids` on `resource` makes this query stale:
    /// `created` touches lists; `updated`/`deleted` touch lists, and the details and
    /// many-queries holding one of the ids. Custom event types touch nothing.
    ///
    /// ```
    /// # use herald_framework::{cache::QueryKey, query::ListParams};
    /// let many = QueryKey::many("posts", vec![1.into(), 2.into()]);
    /// assert!(many.affected_by("posts", "deleted", &[2.into()]));
    /// assert!(!many.affected_by("posts", "created", &[2.into()]));
    /// assert!(QueryKey::list("posts", ListParams::default()).affected_by("posts", "created", &[]));
    /// assert!(!QueryKey::list("posts", ListParams::default()).affected_by("posts", "pinned", &[]));
    /// ```
    pub fn affected_by(&self, resource: &str, kind: &str, ids: &[Id]) -> bool {
        if resource != self.resource {
            return false;
        }
        let holds = |id: &Id| ids.contains(id);
        match (kind, &self.kind) {
            ("created", QueryKind::List(_)) => true,
            ("updated" | "deleted", QueryKind::List(_)) => true,
            ("updated" | "deleted", QueryKind::Many(have)) => have.iter().any(holds),
            ("updated" | "deleted", QueryKind::One(id)) => holds(id),
            _ => false,
        }
    }
}

/// What changed, as the cache's one invalidation entry point
/// ([`QueryCache::invalidate`](super::QueryCache::invalidate)) takes it — from a live event,
/// from a write this client made, or from a `reset`.
///
/// ```
/// use herald_framework::cache::{Invalidation, QueryKey};
/// let updated = Invalidation::event("posts", "updated", vec![3.into()]);
/// assert!(updated.touches(&QueryKey::one("posts", 3)));
/// assert!(!updated.touches(&QueryKey::one("posts", 4)));
/// let reset = Invalidation::resource("posts");
/// assert!(reset.touches(&QueryKey::one("posts", 4)));
/// assert!(!reset.touches(&QueryKey::one("comments", 4)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalidation {
    resource: String,
    change: Change,
    only: Option<QueryKey>,
}

/// What an [`Invalidation`] says changed in its resource.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Change {
    /// An event of `kind` about `ids`: touches what [`QueryKey::affected_by`] says.
    Event { kind: String, ids: Vec<Id> },
    /// Anything may have changed (a `reset`, a fresh subscription): every query.
    Anything,
}

impl Invalidation {
    /// An event of `kind` (`created`, `updated`, `deleted`, or a custom type, which touches
    /// nothing) about `ids` on `resource`.
    ///
    /// ```
    /// # use herald_framework::{cache::{Invalidation, QueryKey}, query::ListParams};
    /// let created = Invalidation::event("posts", "created", vec![]);
    /// assert!(created.touches(&QueryKey::list("posts", ListParams::default())));
    /// assert!(!created.touches(&QueryKey::one("posts", 1)));
    /// ```
    pub fn event(resource: impl Into<String>, kind: impl Into<String>, ids: Vec<Id>) -> Self {
        Self {
            resource: resource.into(),
            change: Change::Event {
                kind: kind.into(),
                ids,
            },
            only: None,
        }
    }

    /// Anything about `resource` may have changed: every query of it is touched.
    ///
    /// ```
    /// # use herald_framework::cache::{Invalidation, QueryKey};
    /// assert!(Invalidation::resource("posts").touches(&QueryKey::many("posts", vec![])));
    /// ```
    pub fn resource(resource: impl Into<String>) -> Self {
        Self {
            resource: resource.into(),
            change: Change::Anything,
            only: None,
        }
    }

    /// The same change, narrowed to one query: what a live query hears on its own
    /// subscription is evidence about its own key only (other live queries hear the event
    /// on theirs), so it never refetches its neighbours twice.
    ///
    /// ```
    /// # use herald_framework::cache::{Invalidation, QueryKey};
    /// let mine = QueryKey::one("posts", 3);
    /// let narrowed = Invalidation::resource("posts").only(&mine);
    /// assert!(narrowed.touches(&mine));
    /// assert!(!narrowed.touches(&QueryKey::one("posts", 4)));
    /// ```
    pub fn only(mut self, key: &QueryKey) -> Self {
        self.only = Some(key.clone());
        self
    }

    /// The resource this is about.
    ///
    /// ```
    /// # use herald_framework::cache::Invalidation;
    /// assert_eq!(Invalidation::resource("posts").resource_name(), "posts");
    /// ```
    pub fn resource_name(&self) -> &str {
        &self.resource
    }

    /// Whether this makes `key` stale: same resource, inside the [`Self::only`] narrowing if
    /// any, and for an event, as [`QueryKey::affected_by`] rules.
    ///
    /// ```
    /// # use herald_framework::cache::{Invalidation, QueryKey};
    /// let deleted = Invalidation::event("tasks", "deleted", vec!["fix-login".into()]);
    /// assert!(deleted.touches(&QueryKey::one("tasks", "fix-login")));
    /// ```
    pub fn touches(&self, key: &QueryKey) -> bool {
        if self.only.as_ref().is_some_and(|only| only != key) {
            return false;
        }
        match &self.change {
            Change::Event { kind, ids } => key.affected_by(&self.resource, kind, ids),
            Change::Anything => key.resource == self.resource,
        }
    }
}
