//! Seeding an empty database: when it has no users yet, the app's [`Seed`] hook writes its
//! demo data in one transaction. Written directly, not through the commit path: it is the
//! log's starting state, not a change to announce. Several nodes may start at once on one
//! empty database; the emptiness check and the inserts run under one write lock (plus an
//! advisory lock on PostgreSQL), so exactly one of them seeds.

use super::log::now;
use super::sql::Backend;
use super::{Store, StoreError};
use crate::auth::password;
use crate::resource::Seed;
use sqlx::AnyConnection;

/// Any fixed key: the advisory lock that makes nodes starting together seed once.
const SEED_LOCK: i64 = 0x4845_5241_4c44;

/// Runs `seed` when there are no users; returns whether it did.
pub async fn seed_if_empty(store: &Store, seed: Seed) -> Result<bool, StoreError> {
    let mut tx = store
        .pool()
        .begin_with(store.backend().begin_write())
        .await?;
    if store.backend() == Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(SEED_LOCK)
            .execute(&mut *tx)
            .await?;
    }
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&mut *tx)
        .await?;
    if users > 0 {
        return Ok(false);
    }
    seed(&mut tx).await?;
    tx.commit().await?;
    Ok(true)
}

/// Creates a user with `password` (for seeds and tools); returns its id.
///
/// The password is hashed with Argon2id, as logins check it.
pub async fn create_user(
    tx: &mut AnyConnection,
    name: &str,
    password: &str,
) -> Result<i64, StoreError> {
    let hash = password::hash(password).map_err(|e| StoreError::Internal(e.to_string()))?;
    let now = now();
    Ok(sqlx::query_scalar(
        "INSERT INTO users (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(name)
    .bind(hash)
    .bind(&now)
    .bind(&now)
    .fetch_one(&mut *tx)
    .await?)
}

/// Creates `names` with `password`, in order; returns their ids.
pub async fn create_users(
    tx: &mut AnyConnection,
    names: &[&str],
    password: &str,
) -> Result<Vec<i64>, StoreError> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        ids.push(create_user(tx, name, password).await?);
    }
    Ok(ids)
}
