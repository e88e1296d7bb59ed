//! Server-side sessions in SQLite. The client holds a random secret (cookie or bearer
//! token); the table holds its SHA-256, the user and an expiry.

use crate::store::{Store, StoreError};
use chrono::{SecondsFormat, Utc};
use herald_protocol::Identity;
use sha2::{Digest, Sha256};
use std::time::Duration;

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

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
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
