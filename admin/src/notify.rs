//! The admin's notifications: when someone comments on a post, its author hears of it on
//! `notifications/user/{author}`, logged in the same transaction as the comment.

use herald_protocol::live::channel;
use serde_json::{json, Value};
use server::resource::EffectFuture;
use server::store::{Actor, NewEvent, StoreError};
use sqlx::AnyConnection;

/// Longest comment excerpt carried in a notification, in characters.
const EXCERPT_CHARS: usize = 120;

/// The comments resource's `on_create` effect.
pub fn comment_notification<'a>(
    tx: &'a mut AnyConnection,
    actor: &'a Actor,
    comment: &'a Value,
) -> EffectFuture<'a> {
    Box::pin(async move { notify_post_author(tx, actor, comment).await })
}

async fn notify_post_author(
    tx: &mut AnyConnection,
    actor: &Actor,
    comment: &Value,
) -> Result<Vec<NewEvent>, StoreError> {
    let post_id = comment["post_id"].as_i64().unwrap_or_default();
    let post: Option<(i64, String)> =
        sqlx::query_as("SELECT author_id, title FROM posts WHERE id = $1")
            .bind(post_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((author, title)) = post.filter(|(author, _)| *author != actor.user.id) else {
        return Ok(Vec::new());
    };
    let excerpt: String = comment["body"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(EXCERPT_CHARS)
        .collect();
    let comment_id = comment["id"].to_string();
    Ok(vec![NewEvent {
        channel: channel::notifications(author),
        kind: "comment".to_owned(),
        payload: json!({
            "ids": [comment_id],
            "data": {
                "post_id": post_id.to_string(),
                "post_title": title,
                "comment_id": comment_id,
                "excerpt": excerpt,
                "by": { "id": actor.user.id.to_string(), "name": actor.user.name },
            }
        }),
    }])
}
