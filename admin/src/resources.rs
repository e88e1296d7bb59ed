//! The admin's resources: posts and their comments (plus the server's read-only `users`).
//! Declarations only — the server's generic REST, store and live channel serve them.

use super::notify::comment_notification;
use herald_protocol::FieldErrors;
use serde_json::{Map, Value};
use server::resource::{one_of, trimmed_text, Field, IdKind, OnDelete, Resource, USERS};

pub const POST_STATUSES: [&str; 3] = ["draft", "published", "rejected"];
/// Longest post title, in characters (after trimming).
pub const TITLE_MAX: usize = 200;
/// Longest post content, in characters.
pub const CONTENT_MAX: usize = 100_000;
/// Longest comment, in characters.
pub const COMMENT_MAX: usize = 10_000;

pub static POSTS: Resource = Resource {
    fields: &[
        Field::id_int(),
        // Trimmed before it is checked and stored: `post_rules` counts the trimmed length,
        // and the table's CHECK (length(title) BETWEEN 1 AND 200) counts what is stored.
        Field::text("title").required().trimmed(),
        Field::text("content").max_chars(CONTENT_MAX),
        Field::text("status"),
        Field::text("category").max_chars(TITLE_MAX),
        Field::author(),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    text_fields: &["title", "content", "category"],
    rules: post_rules,
    ..Resource::new("posts", IdKind::Auto)
};

pub static COMMENTS: Resource = Resource {
    fields: &[
        Field::id_int(),
        Field::int("post_id")
            .required()
            .references("posts", OnDelete::Cascade),
        Field::author(),
        Field::text("body").required().max_chars(COMMENT_MAX),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    text_fields: &["body"],
    rules: comment_rules,
    on_create: Some(comment_notification),
    ..Resource::new("comments", IdKind::Auto)
};

/// Every resource the admin serves.
pub static RESOURCES: [&Resource; 3] = [&POSTS, &COMMENTS, &USERS];

fn post_rules(body: &Map<String, Value>, errors: &mut FieldErrors) {
    trimmed_text(body, "title", TITLE_MAX, errors);
    one_of(body, "status", &POST_STATUSES, errors);
}

fn comment_rules(body: &Map<String, Value>, errors: &mut FieldErrors) {
    trimmed_text(body, "body", COMMENT_MAX, errors);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use server::resource::Action;

    fn check(res: &Resource, body: Value, action: Action) -> Result<usize, FieldErrors> {
        res.writable_values(body.as_object().expect("object"), action)
            .map(|v| v.len())
    }

    #[test]
    fn create_requires_title_and_drops_server_fields() {
        let errors = check(&POSTS, json!({"content": "x"}), Action::Create).unwrap_err();
        assert_eq!(errors["title"], vec!["is required"]);
        let n = check(
            &POSTS,
            json!({"title": "t", "id": 9, "version": 3}),
            Action::Create,
        );
        assert_eq!(n, Ok(1));
    }

    #[test]
    fn titles_are_written_trimmed() {
        let title = format!("  {} \t", "t".repeat(TITLE_MAX));
        let values = POSTS
            .writable_values(
                json!({ "title": title }).as_object().unwrap(),
                Action::Create,
            )
            .unwrap();
        assert_eq!(values[0].1, json!("t".repeat(TITLE_MAX)));
        let long = format!("{} ", "t".repeat(TITLE_MAX + 1));
        assert!(check(&POSTS, json!({ "title": long }), Action::Create).is_err());
    }

    #[test]
    fn rules_and_types() {
        let errors = check(
            &POSTS,
            json!({"title": "", "status": "x", "bogus": 1}),
            Action::Update,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3);
        let long = "é".repeat(201);
        assert!(check(&POSTS, json!({ "title": long }), Action::Update).is_err());
        assert!(check(&POSTS, json!({ "title": "é".repeat(200) }), Action::Update).is_ok());
        let errors = check(
            &COMMENTS,
            json!({"post_id": "abc", "body": "  "}),
            Action::Create,
        )
        .unwrap_err();
        assert_eq!(errors["post_id"], vec!["must be an integer"]);
        assert_eq!(errors["body"], vec!["must not be empty"]);
    }
}
