//! The store: SQLite or PostgreSQL through sqlx. It owns the connection pool, migrations
//! (the server's own, then the app's) and the seed of an empty database ([`open`],
//! [`seed`]), reads ([`read`]), the one commit path for writes ([`commit`]), the durable
//! event log those writes append to ([`log`]) and the stream of committed events in log
//! order — this node's and, on PostgreSQL, every node's ([`follow`]). It serves the
//! resources the app declared ([`crate::resource::Schema`]) and knows nothing of HTTP and
//! nothing of any particular resource.

pub mod commit;
pub mod follow;
pub mod log;
pub mod open;
pub mod read;
pub mod seed;
pub mod sql;

use crate::resource::{Resource, Schema};
use herald_protocol::{FieldErrors, Id};
use sql::Backend;
use std::sync::Arc;
use tokio::sync::{broadcast, Mutex};

pub use commit::{Actor, Change};
pub use log::{LoggedEvent, NewEvent};

/// Everything the store can fail with.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}")]
    BadQuery(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    ReadOnly(String),
    /// The resource's access rule refused the write.
    #[error("{0}")]
    Forbidden(String),
    /// A create named an id that is taken.
    #[error("{0}")]
    Duplicate(String),
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
    /// "note 7 not found": the resource's singular and the id.
    pub fn not_found(resource: &Resource, id: &Id) -> Self {
        StoreError::NotFound(format!("{} {id} not found", resource.singular()))
    }
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
    schema: Schema,
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

    /// The resources the app declared.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// Every event committed from now on, in log order.
    pub fn subscribe_committed(&self) -> broadcast::Receiver<Arc<LoggedEvent>> {
        self.committed.subscribe()
    }
}
