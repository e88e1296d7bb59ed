//! Server-side sessions in the database. The client holds a random secret (cookie or bearer
//! token); the table holds its SHA-256, the user and an expiry.
//!
//! The table stays bounded: expired rows are deleted every `session_purge_interval`
//! ([`run_purge`]), and a user keeps at most `max_tokens` bearer tokens
//! ([`keep_newest`], called after each mint).

use crate::store::{Store, StoreError};
use chrono::{SecondsFormat, Utc};
use herald_protocol::Identity;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How a session was created, and so how it is presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Browser login: an HttpOnly cookie.
    Cookie,
    /// `POST /api/auth/token`: `Authorization: Bearer …`.
    Token,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Cookie => "cookie",
            Kind::Token => "token",
        }
    }
}

/// What the sessions table stores of a secret (its SHA-256, hex): also how the live hub
/// remembers which session a connection belongs to, without keeping the secret.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Sessions (by [`digest`]) checked per query when asking which are still live.
const ALIVE_CHUNK: usize = 500;

/// Which of these sessions (by [`digest`]) still exist and have not expired.
pub async fn alive(
    store: &Store,
    digests: &[String],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let now = timestamp(Utc::now());
    let mut alive = std::collections::HashSet::new();
    for chunk in digests.chunks(ALIVE_CHUNK) {
        let placeholders: Vec<String> = (2..chunk.len() + 2).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT token_hash FROM sessions WHERE expires_at > $1 AND token_hash IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_scalar::<_, String>(&sql).bind(now.clone());
        for d in chunk {
            query = query.bind(d.clone());
        }
        alive.extend(query.fetch_all(store.pool()).await?);
    }
    Ok(alive)
}

fn timestamp(at: chrono::DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Creates a session for `user_id` and returns its secret (256 random bits, hex).
pub async fn create(
    store: &Store,
    user_id: i64,
    kind: Kind,
    ttl: Duration,
) -> Result<String, StoreError> {
    let secret = hex::encode(rand::random::<[u8; 32]>());
    let now = Utc::now();
    let expires = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::days(1));
    sqlx::query("INSERT INTO sessions (token_hash, user_id, kind, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(digest(&secret))
        .bind(user_id)
        .bind(kind.as_str())
        .bind(timestamp(now))
        .bind(timestamp(expires))
        .execute(store.pool())
        .await?;
    Ok(secret)
}

/// The user of a live session, or `None` for an unknown or expired secret.
pub async fn lookup(store: &Store, secret: &str) -> Result<Option<Identity>, StoreError> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT u.id, u.name FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.token_hash = $1 AND s.expires_at > $2",
    )
    .bind(digest(secret))
    .bind(timestamp(Utc::now()))
    .fetch_optional(store.pool())
    .await?;
    Ok(row.map(|(id, name)| Identity { id, name }))
}

/// Ends a session (and sweeps expired ones while at it).
pub async fn delete(store: &Store, secret: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1 OR expires_at <= $2")
        .bind(digest(secret))
        .bind(timestamp(Utc::now()))
        .execute(store.pool())
        .await?;
    Ok(())
}

/// Deletes every expired session; returns how many.
pub async fn purge_expired(store: &Store) -> Result<u64, StoreError> {
    let done = sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(timestamp(Utc::now()))
        .execute(store.pool())
        .await?;
    Ok(done.rows_affected())
}

/// Purges expired sessions every `every` (at least 100 ms apart) until `shutdown`.
pub async fn run_purge(store: Store, every: Duration, shutdown: CancellationToken) {
    // `interval` refuses a zero period, and purging more often buys nothing.
    let mut tick = tokio::time::interval(every.max(Duration::from_millis(100)));
    // After a stall (a suspended process), one purge catches up: no burst of them.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            _ = tick.tick() => match purge_expired(&store).await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(deleted = n, "expired sessions purged"),
                Err(e) => tracing::warn!(error = %e, "session purge failed"),
            },
        }
    }
}

/// Starts [`run_purge`] on the current Tokio runtime (none: nothing to run it on, and
/// expired sessions are still refused by [`lookup`]; they only take room).
pub fn spawn_purge(store: Store, every: Duration, shutdown: CancellationToken) {
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(run_purge(store, every, shutdown));
        }
        Err(_) => tracing::warn!("no Tokio runtime: expired sessions are not purged"),
    }
}

/// Revokes all but the `keep` newest live sessions of `kind` for `user_id` (and any expired
/// ones); returns how many were deleted. Concurrent calls converge on the same newest set.
pub async fn keep_newest(
    store: &Store,
    user_id: i64,
    kind: Kind,
    keep: usize,
) -> Result<u64, StoreError> {
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    let done = sqlx::query(
        "DELETE FROM sessions WHERE user_id = $1 AND kind = $2 AND token_hash NOT IN \
         (SELECT token_hash FROM sessions WHERE user_id = $3 AND kind = $4 AND expires_at > $5 \
          ORDER BY created_at DESC, token_hash DESC LIMIT $6)",
    )
    .bind(user_id)
    .bind(kind.as_str())
    .bind(user_id)
    .bind(kind.as_str())
    .bind(timestamp(Utc::now()))
    .bind(keep)
    .execute(store.pool())
    .await?;
    Ok(done.rows_affected())
}

/// The user called `name` and their password hash.
pub async fn find_user(
    store: &Store,
    name: &str,
) -> Result<Option<(Identity, String)>, StoreError> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(store.pool())
            .await?;
    Ok(row.map(|(id, name, hash)| (Identity { id, name }, hash)))
}
