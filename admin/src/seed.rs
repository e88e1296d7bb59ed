//! The admin's demo data for an empty database: users alice and bob (password `demo`),
//! twenty posts across statuses and categories, and a few comments.

use server::store::log::now;
use server::store::seed::create_users;
use server::store::StoreError;
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;

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

/// The admin's [`server::resource::Seed`].
pub fn seed(
    tx: &mut AnyConnection,
) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + '_>> {
    Box::pin(async move { seed_demo(tx).await })
}

async fn seed_demo(tx: &mut AnyConnection) -> Result<(), StoreError> {
    let users = create_users(tx, &DEMO_USERS, DEMO_PASSWORD).await?;
    let now = now();
    for i in 0..POSTS {
        let title = format!("{} #{}", TOPICS[i % TOPICS.len()], i + 1);
        let content = format!(
            "{title}: notes from the Herald team, part {}.",
            i / TOPICS.len() + 1
        );
        let (author, other) = (users[i % 2], users[(i + 1) % 2]);
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
                .bind(other)
                .bind(format!("Great read on \"{title}\"."))
                .bind(&now)
                .bind(&now)
                .execute(&mut *tx)
                .await?;
        }
    }
    tracing::info!(
        users = ?DEMO_USERS,
        posts = POSTS,
        "empty database: seeded demo data; sign in as alice or bob with password '{DEMO_PASSWORD}'"
    );
    Ok(())
}
