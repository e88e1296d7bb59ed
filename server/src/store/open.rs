//! Opening the database: SQLite (the file is created if missing, WAL) or PostgreSQL by the
//! URL's scheme; that engine's migrations — the server's own tables (users, sessions, the
//! event log, cluster state), then the app's; the event-log identity; the app's seed on an
//! empty database.

use super::sql::Backend;
use super::{log, seed, Store, StoreError, COMMITTED_BUFFER};
use crate::resource::Schema;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode};
use sqlx::{ConnectOptions, Connection, Executor};
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::{broadcast, Mutex};

/// Readers and the writer share this pool; WAL lets readers run during a write.
const POOL_SIZE: u32 = 8;
/// How long a SQLite connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Opens and migrates the database at `url` (`sqlite://…` is created if missing;
/// `postgres://…` must exist) for the app declared by `schema`; runs the app's seed on an
/// empty database when `seed_demo` is set.
pub async fn open(url: &str, schema: Schema, seed_demo: bool) -> Result<Store, StoreError> {
    schema.check().map_err(StoreError::Internal)?;
    static DRIVERS: Once = Once::new();
    DRIVERS.call_once(sqlx::any::install_default_drivers);
    let backend = Backend::from_url(url).ok_or_else(|| {
        StoreError::Internal(format!(
            "DATABASE_URL must start with sqlite: or postgres://, got '{url}'"
        ))
    })?;
    if backend == Backend::Sqlite {
        prepare_sqlite_file(url).await?;
    }
    let pool = AnyPoolOptions::new()
        .max_connections(POOL_SIZE)
        // A SQLite connection is a file handle in this process: it cannot go stale, so the
        // ping sqlx would send before every checkout is pure cost. PostgreSQL connections
        // can (a restarted server), so they are still checked.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _| {
            Box::pin(async move {
                if backend == Backend::Sqlite {
                    // Per-connection settings; journal_mode=WAL is stored in the file.
                    conn.execute(sqlx::raw_sql(&format!(
                        "PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = {};",
                        BUSY_TIMEOUT.as_millis()
                    )))
                    .await?;
                }
                Ok(())
            })
        })
        .connect_with(AnyConnectOptions::from_str(url)?.disable_statement_logging())
        .await?;
    let (core, app) = match backend {
        Backend::Sqlite => (&SQLITE_MIGRATIONS, schema.sqlite_migrations),
        Backend::Postgres => (&POSTGRES_MIGRATIONS, schema.postgres_migrations),
    };
    migrate(&pool, core).await?;
    migrate(&pool, app).await?;
    let log_id = log_identity(&pool).await?;
    let head = log::head(&pool).await?;
    let (committed, _) = broadcast::channel(COMMITTED_BUFFER);
    let store = Store {
        pool,
        backend,
        url: url.into(),
        write_lock: Arc::new(Mutex::new(())),
        committed,
        published: Arc::new(Mutex::new(head)),
        log_id: log_id.into(),
        schema,
    };
    if let Some(seed) = schema.seed.filter(|_| seed_demo) {
        if seed::seed_if_empty(&store, seed).await? {
            tracing::info!("empty database: seeded the app's demo data");
        }
    }
    Ok(store)
}

/// Runs one set of migrations. The server's and the app's share sqlx's bookkeeping table, so
/// each set ignores the versions the other applied.
async fn migrate(
    pool: &sqlx::AnyPool,
    migrations: &sqlx::migrate::Migrator,
) -> Result<(), StoreError> {
    let mut migrator = sqlx::migrate::Migrator {
        migrations: migrations.migrations.clone(),
        ..sqlx::migrate::Migrator::DEFAULT
    };
    migrator.set_ignore_missing(true);
    migrator
        .run(pool)
        .await
        .map_err(|e| StoreError::Database(e.into()))
}

/// Creates the SQLite file if missing and switches it to WAL (a property of the file, so
/// pooled connections need not repeat it).
async fn prepare_sqlite_file(url: &str) -> Result<(), StoreError> {
    let conn = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(BUSY_TIMEOUT)
        .connect()
        .await?;
    conn.close().await?;
    Ok(())
}

/// The random identity of this database's event log, created on first start.
async fn log_identity(pool: &sqlx::AnyPool) -> Result<String, StoreError> {
    let fresh = hex::encode(rand::random::<[u8; 6]>());
    sqlx::query(
        "INSERT INTO herald_meta (key, value) VALUES ('log_id', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(fresh)
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'log_id'")
            .fetch_one(pool)
            .await?,
    )
}

/// The random key that authenticates this database's cluster notifications (PostgreSQL,
/// `live::cluster`): created by the first node to ask, then read by every node at start.
/// Whoever cannot read `herald_meta` cannot sign a notification.
pub(crate) async fn cluster_key(pool: &sqlx::AnyPool) -> Result<String, StoreError> {
    let fresh = hex::encode(rand::random::<[u8; 32]>());
    sqlx::query(
        "INSERT INTO herald_meta (key, value) VALUES ('cluster_key', $1) ON CONFLICT (key) DO NOTHING",
    )
    .bind(fresh)
    .execute(pool)
    .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'cluster_key'")
            .fetch_one(pool)
            .await?,
    )
}
