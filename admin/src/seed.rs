//! The admin's demo data for an empty database: users alice and bob (password `demo`),
//! twenty posts across statuses and categories, and a comment on every fourth. Each post is
//! [`demo_post`]`(i)`, so tests count what the seed holds from the same definition.

use server::store::log::now;
use server::store::seed::create_users;
use server::store::StoreError;
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;

/// The demo users' password, printed in the log when seeding.
pub const DEMO_PASSWORD: &str = "demo";
/// The demo users, in id order (alice is 1).
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
/// How many posts the seed writes (ids 1 to `POSTS`).
pub const POSTS: usize = 20;
/// Every `COMMENT_EVERY`-th post (the first included) gets one comment by the other user.
pub const COMMENT_EVERY: usize = 4;

/// The `i`-th seeded post (0-based; its id is `i + 1`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoPost {
    pub title: String,
    pub content: String,
    pub status: &'static str,
    pub category: &'static str,
    /// Index into [`DEMO_USERS`].
    pub author: usize,
}

/// The `i`-th seeded post.
pub fn demo_post(i: usize) -> DemoPost {
    let title = format!("{} #{}", TOPICS[i % TOPICS.len()], i + 1);
    let content = format!(
        "{title}: notes from the Herald team, part {}.",
        i / TOPICS.len() + 1
    );
    DemoPost {
        title,
        content,
        status: STATUSES[i % STATUSES.len()],
        category: CATEGORIES[i % CATEGORIES.len()],
        author: i % DEMO_USERS.len(),
    }
}

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
        let post = demo_post(i);
        let (author, other) = (users[post.author], users[(post.author + 1) % users.len()]);
        let post_id: i64 = sqlx::query_scalar(
            "INSERT INTO posts (title, content, status, category, author_id, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(&post.title)
        .bind(&post.content)
        .bind(post.status)
        .bind(post.category)
        .bind(author)
        .bind(&now)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?;
        if i % COMMENT_EVERY == 0 {
            sqlx::query("INSERT INTO comments (post_id, author_id, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
                .bind(post_id)
                .bind(other)
                .bind(format!("Great read on \"{}\".", post.title))
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
