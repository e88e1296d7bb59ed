//! Opening the database: create the file if missing, WAL, foreign keys, migrations, the
//! event-log identity, and the demo seed on an empty database.

use super::{seed, Store, StoreError, COMMITTED_BUFFER};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, Mutex};

/// Readers and the writer share this pool; WAL lets readers run during a write.
const POOL_SIZE: u32 = 8;
/// How long a connection waits for a lock held by another process before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

/// Opens (creating if needed) and migrates the database at `url`; seeds demo data into an
/// empty one when `seed` is set.
pub async fn open(url: &str, seed_demo: bool) -> Result<Store, StoreError> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT);
    let pool = SqlitePoolOptions::new()
        .max_connections(POOL_SIZE)
        .connect_with(options)
        .await?;
    MIGRATOR
        .run(&pool)
        .await
        .map_err(|e| StoreError::Database(e.into()))?;
    let log_id = log_identity(&pool).await?;
    let (committed, _) = broadcast::channel(COMMITTED_BUFFER);
    let store = Store {
        pool,
        write_lock: Arc::new(Mutex::new(())),
        committed,
        log_id: log_id.into(),
    };
    if seed_demo {
        seed::seed_if_empty(&store).await?;
    }
    Ok(store)
}

/// The random identity of this database's event log, created on first start.
async fn log_identity(pool: &sqlx::SqlitePool) -> Result<String, StoreError> {
    let fresh = hex::encode(rand::random::<[u8; 6]>());
    sqlx::query("INSERT OR IGNORE INTO herald_meta (key, value) VALUES ('log_id', ?)")
        .bind(&fresh)
        .execute(pool)
        .await?;
    Ok(
        sqlx::query_scalar("SELECT value FROM herald_meta WHERE key = 'log_id'")
            .fetch_one(pool)
            .await?,
    )
}
