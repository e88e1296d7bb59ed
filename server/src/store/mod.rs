//! The store: SQLite or PostgreSQL through sqlx. It owns the connection pool, migrations
//! and the demo seed ([`open`]), reads ([`read`]), the one commit path for writes
//! ([`commit`]), the durable event log those writes append to ([`log`]) and the stream of
//! committed events in log order — this node's and, on PostgreSQL, every node's
//! ([`follow`]). It knows nothing of HTTP.

pub mod commit;
pub mod follow;
pub mod log;
pub mod open;
pub mod read;
pub mod schema;
pub mod seed;
pub mod sql;

use app::framework::error::FieldErrors;
use schema::Resource;
use sql::Backend;
use std::sync::Arc;
use tokio::sync::{broadcast, Mutex};

pub use commit::{Actor, Change};
pub use log::LoggedEvent;

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    ReadOnly(String),
    #[error("{message}")]
    Conflict {
        message: String,
        current: serde_json::Value,
    },
    #[error("validation failed")]
    Validation(FieldErrors),
    #[error("{0}")]
    Internal(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl StoreError {
    /// "posts 7 not found".
    pub fn not_found(resource: &Resource, id: i64) -> Self {
        StoreError::NotFound(format!("{} {id} not found", singular(resource.name)))
    }
}

fn singular(name: &str) -> &str {
    name.strip_suffix('s').unwrap_or(name)
}

/// How many committed events may wait for a slow in-process listener before it lags
/// (a lagging listener re-reads the log; nothing is lost).
const COMMITTED_BUFFER: usize = 4096;

/// A handle to the database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: sqlx::AnyPool,
    backend: Backend,
    url: Arc<str>,
    /// Serialises commits in this process: SQLite allows one writer anyway, and on
    /// PostgreSQL the log head row serialises appends across nodes regardless.
    write_lock: Arc<Mutex<()>>,
    committed: broadcast::Sender<Arc<LoggedEvent>>,
    /// The last `seq` sent on `committed`; held while sending, so sends are in log order.
    published: Arc<Mutex<i64>>,
    log_id: Arc<str>,
}

impl Store {
    /// The connection pool, for reads.
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    /// Which engine this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The database URL it was opened with (PostgreSQL listeners open their own connection).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// This database's event-log identity (part of every cursor).
    pub fn log_id(&self) -> &str {
        &self.log_id
    }

    /// Every event committed from now on, in log order.
    pub fn subscribe_committed(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.committed.subscribe()
    }
}
