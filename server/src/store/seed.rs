//! Demo data for an empty database: users alice and bob (password `demo`), twenty posts
//! across statuses and categories, and a few comments. Written directly, not through the
//! commit path: it is the log's starting state, not a change to announce.

use super::log::now;
use super::sql::Backend;
use super::{Store, StoreError};
use crate::auth::password;

/// The demo users' password, printed in the log when seeding.
pub const DEMO_PASSWORD: &str = "demo";
pub const DEMO_USERS: [&str; 2] = ["alice", "bob"];

const TOPICS: [&str; 10] = [
    "Live queries without polling",
    "Resumable event streams",
    "Presence that has no ghosts",
    "Optimistic updates done right",
    "SQLite in WAL mode",
    "Coalescing refetch bursts",
    "Leptos hydration explained",
    "Designing a REST dialect",
    "Version conflicts and ETags",
    "Backoff with jitter",
];
const CATEGORIES: [&str; 4] = ["engineering", "product", "design", "ops"];
const STATUSES: [&str; 3] = ["published", "draft", "rejected"];
const POSTS: usize = 20;

/// Any fixed key: the advisory lock that makes nodes starting together seed once.
const SEED_LOCK: i64 = 0x4845_5241_4c44;

/// Seeds when there are no users; returns whether it did. Several nodes may start at once
/// on one empty database: the check and the inserts run under one write lock.
pub async fn seed_if_empty(store: &Store) -> Result<bool, StoreError> {
    let hash = password::hash(DEMO_PASSWORD).map_err(|e| StoreError::Internal(e.to_string()))?;
    let now = now();
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
    for name in DEMO_USERS {
        sqlx::query(
            "INSERT INTO users (name, password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(name)
        .bind(&hash)
        .bind(&now)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
    }
    for i in 0..POSTS {
        let title = format!("{} #{}", TOPICS[i % TOPICS.len()], i + 1);
        let content = format!(
            "{title}: notes from the Herald team, part {}.",
            i / TOPICS.len() + 1
        );
        let author = (i % 2) as i64 + 1;
        let post_id: i64 = sqlx::query_scalar(
            "INSERT INTO posts (title, content, status, category, author_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&title)
        .bind(&content)
        .bind(STATUSES[i % STATUSES.len()])
        .bind(CATEGORIES[i % CATEGORIES.len()])
        .bind(author)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        if i % 4 == 0 {
            sqlx::query("INSERT INTO comments (post_id, author_id, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(post_id)
                .bind(3 - author)
                .bind(format!("Great read on \"{title}\"."))
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    tracing::info!(
        users = ?DEMO_USERS,
        posts = POSTS,
        "empty database: seeded demo data; sign in as alice or bob with password '{DEMO_PASSWORD}'"
    );
    Ok(true)
}
