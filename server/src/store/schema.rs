//! The resources the API serves: their tables, columns, what clients may write, sort,
//! filter and search, and their validation rules. Every SQL identifier the store ever
//! emits comes from these static tables, never from a request.

use app::framework::error::FieldErrors;
use serde_json::{Map, Value};

/// A column's storage type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
}

/// Who sets a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Set by the server (`id`, `author_id`, timestamps, `version`). Ignored in request
    /// bodies so a client may send back a whole record it read.
    Server,
    /// Written by clients; may be omitted on create (the column has a default).
    Optional,
    /// Written by clients; required on create.
    Required,
}

/// One column of a resource.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// Another resource this column points at (`comments.post_id` → `posts`).
    pub references: Option<&'static str>,
}

const fn field(name: &'static str, kind: Kind, access: Access) -> Field {
    Field {
        name,
        kind,
        access,
        references: None,
    }
}

const ID: Field = field("id", Kind::Int, Access::Server);
const AUTHOR: Field = Field {
    references: Some("users"),
    ..field("author_id", Kind::Int, Access::Server)
};
const CREATED: Field = field("created_at", Kind::Text, Access::Server);
const UPDATED: Field = field("updated_at", Kind::Text, Access::Server);
const VERSION: Field = field("version", Kind::Int, Access::Server);

/// What a write is doing, for validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// A resource served under `/api/{name}`.
#[derive(Debug)]
pub struct Resource {
    pub name: &'static str,
    pub table: &'static str,
    pub fields: &'static [Field],
    /// Columns `q` searches.
    pub text_fields: &'static [&'static str],
    /// Clients may create, update and delete (users are read-only: 405).
    pub writable: bool,
    /// Field rules beyond types and presence (lengths, enums). Runs on the fields present.
    pub rules: fn(&Map<String, Value>, &mut FieldErrors),
}

pub const POST_STATUSES: [&str; 3] = ["draft", "published", "rejected"];
/// Longest post title, in characters.
pub const TITLE_MAX: usize = 200;

static POSTS: Resource = Resource {
    name: "posts",
    table: "posts",
    fields: &[
        ID,
        field("title", Kind::Text, Access::Required),
        field("content", Kind::Text, Access::Optional),
        field("status", Kind::Text, Access::Optional),
        field("category", Kind::Text, Access::Optional),
        AUTHOR,
        CREATED,
        UPDATED,
        VERSION,
    ],
    text_fields: &["title", "content", "category"],
    writable: true,
    rules: post_rules,
};

static COMMENTS: Resource = Resource {
    name: "comments",
    table: "comments",
    fields: &[
        ID,
        Field {
            references: Some("posts"),
            ..field("post_id", Kind::Int, Access::Required)
        },
        AUTHOR,
        field("body", Kind::Text, Access::Required),
        CREATED,
        UPDATED,
        VERSION,
    ],
    text_fields: &["body"],
    writable: true,
    rules: comment_rules,
};

static USERS: Resource = Resource {
    name: "users",
    table: "users",
    fields: &[
        ID,
        field("name", Kind::Text, Access::Server),
        CREATED,
        UPDATED,
        VERSION,
    ],
    text_fields: &["name"],
    writable: false,
    rules: |_, _| {},
};

/// Every resource, for lookups by name.
pub static RESOURCES: [&Resource; 3] = [&POSTS, &COMMENTS, &USERS];

/// The resource called `name`, if there is one.
pub fn resource(name: &str) -> Option<&'static Resource> {
    RESOURCES.iter().copied().find(|r| r.name == name)
}

impl Resource {
    /// The column called `name`, if there is one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// `id, title, …` in declaration order.
    pub fn column_list(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks a request body and returns the columns to write, in schema order.
    /// Server-set columns are dropped; unknown fields, wrong types, missing required
    /// fields and rule violations become field errors.
    pub fn writable_values(
        &self,
        body: &Map<String, Value>,
        mode: Mode,
    ) -> Result<Vec<(&'static Field, Value)>, FieldErrors> {
        let mut errors = FieldErrors::new();
        for key in body.keys() {
            if self.field(key).is_none() {
                push(&mut errors, key, "unknown field");
            }
        }
        let mut values = Vec::new();
        for f in self.fields.iter().filter(|f| f.access != Access::Server) {
            match body.get(f.name) {
                None | Some(Value::Null)
                    if mode == Mode::Create && f.access == Access::Required =>
                {
                    push(&mut errors, f.name, "is required")
                }
                None => {}
                Some(v) => match coerce(f.kind, v) {
                    Some(v) => values.push((f, v)),
                    None => push(&mut errors, f.name, kind_message(f.kind)),
                },
            }
        }
        (self.rules)(body, &mut errors);
        if errors.is_empty() {
            Ok(values)
        } else {
            Err(errors)
        }
    }
}

/// Adds one message to a field.
pub fn push(errors: &mut FieldErrors, field: &str, message: &str) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.to_owned());
}

fn kind_message(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "must be an integer",
        Kind::Text => "must be a string",
    }
}

/// Accepts a JSON value as a column of `kind`. Integers may arrive as numeric strings,
/// as HTML forms send them.
fn coerce(kind: Kind, v: &Value) -> Option<Value> {
    match (kind, v) {
        (Kind::Int, Value::Number(n)) => n.as_i64().map(Value::from),
        (Kind::Int, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (Kind::Text, Value::String(_)) => Some(v.clone()),
        _ => None,
    }
}

fn post_rules(body: &Map<String, Value>, errors: &mut FieldErrors) {
    if let Some(Value::String(title)) = body.get("title") {
        match title.trim().chars().count() {
            0 => push(errors, "title", "must not be empty"),
            n if n > TITLE_MAX => push(errors, "title", "must be at most 200 characters"),
            _ => {}
        }
    }
    if let Some(Value::String(status)) = body.get("status") {
        if !POST_STATUSES.contains(&status.as_str()) {
            push(
                errors,
                "status",
                "must be one of draft, published, rejected",
            );
        }
    }
}

fn comment_rules(body: &Map<String, Value>, errors: &mut FieldErrors) {
    if let Some(Value::String(text)) = body.get("body") {
        if text.trim().is_empty() {
            push(errors, "body", "must not be empty");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn check(
        res: &Resource,
        body: Value,
        mode: Mode,
    ) -> Result<Vec<(&'static Field, Value)>, FieldErrors> {
        res.writable_values(body.as_object().expect("object"), mode)
    }

    #[test]
    fn create_requires_title_and_drops_server_fields() {
        let errors = check(&POSTS, json!({"content": "x"}), Mode::Create).unwrap_err();
        assert_eq!(errors["title"], vec!["is required"]);
        let values = check(
            &POSTS,
            json!({"title": "t", "id": 9, "version": 3}),
            Mode::Create,
        )
        .unwrap();
        assert_eq!(values.len(), 1);
    }

    #[test]
    fn rules_and_types() {
        let errors = check(
            &POSTS,
            json!({"title": "", "status": "x", "bogus": 1}),
            Mode::Update,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3);
        let long = "é".repeat(201);
        assert!(check(&POSTS, json!({ "title": long }), Mode::Update).is_err());
        assert!(check(&POSTS, json!({ "title": "é".repeat(200) }), Mode::Update).is_ok());
        let errors = check(
            &COMMENTS,
            json!({"post_id": "abc", "body": "  "}),
            Mode::Create,
        )
        .unwrap_err();
        assert_eq!(errors["post_id"], vec!["must be an integer"]);
        assert_eq!(errors["body"], vec!["must not be empty"]);
    }
}
