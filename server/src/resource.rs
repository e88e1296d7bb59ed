//! Resource declarations: what an app tells the server about each resource it serves — its
//! table and columns, how records are keyed, what clients may write, sort, filter and
//! search, validation rules, references (and cascades), access rules and side effects.
//! The app hands its declarations to the server as a [`Schema`]; REST, the store, the event
//! log and the live channel then work for them without naming any resource.
//!
//! Every SQL identifier the store emits comes from these declarations, never from a request.
//! Declarations are `static` data and plain `fn` pointers, so a schema is free to share.
//!
//! ```
//! use server::resource::{Field, IdKind, Resource, NO_RULES};
//! static TAGS: Resource = Resource {
//!     fields: &[Field::id_text(), Field::text("label").required(), Field::created(),
//!               Field::updated(), Field::version()],
//!     text_fields: &["label"],
//!     ..Resource::new("tags", IdKind::Slug)
//! };
//! assert_eq!(TAGS.column_list(), "id, label, created_at, updated_at, version");
//! ```

use crate::store::{Actor, NewEvent, StoreError};
use herald_protocol::{FieldErrors, Id, Identity};
use serde_json::{Map, Value};
use sqlx::AnyConnection;
use std::future::Future;
use std::pin::Pin;

/// A column's storage type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
}

/// Who sets a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Set by the server (`id`, timestamps, `version`, the author). Ignored in request
    /// bodies so a client may send back a whole record it read.
    Server,
    /// Written by clients; may be omitted on create (the column has a default).
    Optional,
    /// Written by clients; required on create.
    Required,
}

/// What a reference does when the record it points at is deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnDelete {
    /// The database refuses the delete while references exist.
    Restrict,
    /// Referencing records go too (`ON DELETE CASCADE` in the table), and the server logs a
    /// `deleted` event for them on their own resource channel in the same transaction.
    Cascade,
}

/// A column that points at another resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reference {
    pub resource: &'static str,
    pub on_delete: OnDelete,
}

/// One column of a resource.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub access: Access,
    /// Another resource this column points at; writes must name an existing record (422).
    pub references: Option<Reference>,
    /// Longest accepted text, in characters (422 above); counted after trimming when
    /// [`Field::trimmed`].
    pub max_chars: Option<usize>,
    /// Leading and trailing white space is dropped before the value is checked and written.
    pub trimmed: bool,
    /// The server writes the signed-in user's id here on create.
    pub author: bool,
}

impl Field {
    const fn new(name: &'static str, kind: Kind, access: Access) -> Self {
        Field {
            name,
            kind,
            access,
            references: None,
            max_chars: None,
            trimmed: false,
            author: false,
        }
    }

    /// An integer column written by clients (optional unless [`Field::required`]).
    pub const fn int(name: &'static str) -> Self {
        Self::new(name, Kind::Int, Access::Optional)
    }

    /// A text column written by clients (optional unless [`Field::required`]).
    pub const fn text(name: &'static str) -> Self {
        Self::new(name, Kind::Text, Access::Optional)
    }

    /// Required on create.
    pub const fn required(mut self) -> Self {
        self.access = Access::Required;
        self
    }

    /// Set by the server only.
    pub const fn server(mut self) -> Self {
        self.access = Access::Server;
        self
    }

    /// At most `n` characters.
    pub const fn max_chars(mut self, n: usize) -> Self {
        self.max_chars = Some(n);
        self
    }

    /// Text stored without leading and trailing white space: `"  Hello "` is written as
    /// `"Hello"`, and [`Field::max_chars`] counts what is written. Rules still see the body
    /// as sent, so a rule such as [`trimmed_text`] must trim the same way (`str::trim`) —
    /// otherwise a value the rule accepts could still break a database `CHECK` on length.
    ///
    /// ```
    /// use server::resource::{Action, Field, IdKind, Resource};
    /// static NOTES: Resource = Resource {
    ///     fields: &[Field::id_text(), Field::text("title").trimmed().max_chars(3)],
    ///     ..Resource::new("notes", IdKind::Slug)
    /// };
    /// let body = serde_json::json!({"title": "  abc \n"});
    /// let values = NOTES.writable_values(body.as_object().unwrap(), Action::Create).unwrap();
    /// assert_eq!(values[0].1, "abc");
    /// ```
    pub const fn trimmed(mut self) -> Self {
        self.trimmed = true;
        self
    }

    /// Points at `resource`.
    pub const fn references(mut self, resource: &'static str, on_delete: OnDelete) -> Self {
        self.references = Some(Reference {
            resource,
            on_delete,
        });
        self
    }

    /// The integer `id` of a resource keyed by [`IdKind::Auto`].
    pub const fn id_int() -> Self {
        Self::new("id", Kind::Int, Access::Server)
    }

    /// The text `id` of a resource keyed by [`IdKind::Slug`] or [`IdKind::Uuid`].
    pub const fn id_text() -> Self {
        Self::new("id", Kind::Text, Access::Server)
    }

    /// `author_id`: the signed-in user who created the record, set by the server.
    pub const fn author() -> Self {
        let mut f = Self::new("author_id", Kind::Int, Access::Server);
        f.references = Some(Reference {
            resource: "users",
            on_delete: OnDelete::Restrict,
        });
        f.author = true;
        f
    }

    /// `created_at`, set by the server.
    pub const fn created() -> Self {
        Self::new("created_at", Kind::Text, Access::Server)
    }

    /// `updated_at`, set by the server.
    pub const fn updated() -> Self {
        Self::new("updated_at", Kind::Text, Access::Server)
    }

    /// `version`, set by the server (1 on create, +1 on each update).
    pub const fn version() -> Self {
        Self::new("version", Kind::Int, Access::Server)
    }
}

/// How a resource's records are keyed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// Integers assigned by the database (`INTEGER PRIMARY KEY` / identity).
    Auto,
    /// Text chosen by the client on create: 1–64 of `a-z`, `0-9` and `-`, starting with a
    /// letter or digit. A taken slug is a 409.
    Slug,
    /// A UUID: generated by the server when the create carries no `id`, else checked.
    Uuid,
}

/// Longest slug id.
pub const SLUG_MAX: usize = 64;

impl IdKind {
    /// Reads an id from a URL segment or filter value, or says why it cannot be one.
    ///
    /// ```
    /// use server::resource::IdKind;
    /// use herald_protocol::Id;
    /// assert_eq!(IdKind::Auto.parse("7"), Ok(Id::Int(7)));
    /// assert!(IdKind::Auto.parse("seven").is_err());
    /// assert_eq!(IdKind::Slug.parse("42"), Ok(Id::Int(42)), "a numeric slug is the same id");
    /// assert!(IdKind::Slug.parse("a\0b").is_err(), "PostgreSQL text cannot hold NUL");
    /// ```
    pub fn parse(self, raw: &str) -> Result<Id, String> {
        match self {
            IdKind::Auto => raw.parse::<i64>().map(Id::Int).map_err(|_| {
                format!(
                    "id must be an integer between -2^63 and 2^63-1, got '{}'",
                    herald_protocol::query::excerpt(raw)
                )
            }),
            // A NUL would reach the database as text, which PostgreSQL refuses with an error
            // of its own (a 500): no stored id can contain one, so say so here.
            IdKind::Slug | IdKind::Uuid if raw.contains('\0') => {
                Err("id must not contain NUL characters".to_owned())
            }
            IdKind::Slug | IdKind::Uuid => Ok(Id::parse(raw)),
        }
    }

    /// Checks an id a client chose on create.
    ///
    /// ```
    /// use server::resource::IdKind;
    /// assert!(IdKind::Slug.check_new("fix-login-2").is_ok());
    /// assert!(IdKind::Slug.check_new("Fix Login").is_err());
    /// assert!(IdKind::Uuid.check_new("6f1c2a7e-0000-4000-8000-000000000001").is_ok());
    /// assert!(IdKind::Uuid.check_new("nope").is_err());
    /// ```
    pub fn check_new(self, id: &str) -> Result<(), &'static str> {
        match self {
            IdKind::Auto => Err("is set by the server"),
            IdKind::Slug => {
                let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
                let ok = !id.is_empty()
                    && id.len() <= SLUG_MAX
                    && id.chars().all(ok_char)
                    && !id.starts_with('-');
                ok.then_some(())
                    .ok_or("must be 1 to 64 of a-z, 0-9 and '-', not starting with '-'")
            }
            IdKind::Uuid => is_uuid(id)
                .then_some(())
                .ok_or("must be a UUID like 6f1c2a7e-0000-4000-8000-000000000001"),
        }
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    groups.len() == lens.len()
        && groups
            .iter()
            .zip(lens)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A new random (v4) UUID, lower-case.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// What a write is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Create,
    Update,
    Delete,
}

/// Field rules beyond types, presence and length (enums, trimming, cross-field rules). They
/// run on the fields present in the body.
pub type Rules = fn(&Map<String, Value>, &mut FieldErrors);

/// Rules that accept everything.
pub const NO_RULES: Rules = |_, _| {};

/// May `user` do `action`? For updates and deletes `record` is the record as stored now;
/// for creates it is the request body. `Err` carries the 403's message.
pub type Authorize = fn(user: &Identity, action: Action, record: &Value) -> Result<(), String>;

/// The future of a side effect.
pub type EffectFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<NewEvent>, StoreError>> + Send + 'a>>;

/// A side effect of creating a record, run inside the write's transaction after the insert:
/// it may read and write the database and returns extra events to log with the write (a
/// notification, say). If it fails, the whole write rolls back.
pub type OnCreate =
    for<'a> fn(tx: &'a mut AnyConnection, actor: &'a Actor, record: &'a Value) -> EffectFuture<'a>;

/// A resource served under `/api/{name}` and `resources/{name}`.
#[derive(Debug)]
pub struct Resource {
    pub name: &'static str,
    pub table: &'static str,
    pub id: IdKind,
    pub fields: &'static [Field],
    /// Columns `q` searches.
    pub text_fields: &'static [&'static str],
    /// Clients may create, update and delete (a read-only resource answers 405).
    pub writable: bool,
    pub rules: Rules,
    /// Checked before every write; `None` lets every signed-in user write.
    pub authorize: Option<Authorize>,
    pub on_create: Option<OnCreate>,
}

impl Resource {
    /// A writable resource stored in a table of the same name, with no fields, rules or
    /// effects yet: the base of a declaration (`..Resource::new(..)`).
    pub const fn new(name: &'static str, id: IdKind) -> Self {
        Resource {
            name,
            table: name,
            id,
            fields: &[],
            text_fields: &[],
            writable: true,
            rules: NO_RULES,
            authorize: None,
            on_create: None,
        }
    }

    /// The column called `name`, if there is one.
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The column the server fills with the author, if any.
    pub fn author_field(&self) -> Option<&'static Field> {
        self.fields.iter().find(|f| f.author)
    }

    /// `id, title, …` in declaration order.
    pub fn column_list(&self) -> String {
        self.fields
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// "post", for messages.
    pub fn singular(&self) -> &str {
        self.name.strip_suffix('s').unwrap_or(self.name)
    }

    /// Checks a request body and returns the columns to write, in declaration order.
    /// Server-set columns are dropped; unknown fields, wrong types, missing required fields,
    /// over-long text and rule violations become field errors.
    pub fn writable_values(
        &self,
        body: &Map<String, Value>,
        action: Action,
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
                    if action == Action::Create && f.access == Access::Required =>
                {
                    push(&mut errors, f.name, "is required")
                }
                None => {}
                Some(v) => match coerce(f, v) {
                    Ok(v) => values.push((f, v)),
                    Err(message) => push(&mut errors, f.name, &message),
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
///
/// ```
/// let mut e = herald_protocol::FieldErrors::new();
/// server::resource::push(&mut e, "title", "must not be empty");
/// assert_eq!(e["title"], vec!["must not be empty"]);
/// ```
pub fn push(errors: &mut FieldErrors, field: &str, message: &str) {
    errors
        .entry(field.to_owned())
        .or_default()
        .push(message.to_owned());
}

/// Rule helper: when `body` carries text `field`, it must hold 1 to `max` characters once
/// trimmed (a title of spaces is empty; trailing spaces do not count against the limit).
///
/// ```
/// use server::resource::trimmed_text;
/// let mut e = herald_protocol::FieldErrors::new();
/// trimmed_text(serde_json::json!({"title": "  "}).as_object().unwrap(), "title", 200, &mut e);
/// assert_eq!(e["title"], vec!["must not be empty"]);
/// ```
pub fn trimmed_text(body: &Map<String, Value>, field: &str, max: usize, errors: &mut FieldErrors) {
    if let Some(Value::String(text)) = body.get(field) {
        match text.trim().chars().count() {
            0 => push(errors, field, "must not be empty"),
            n if n > max => push(errors, field, &format!("must be at most {max} characters")),
            _ => {}
        }
    }
}

/// Rule helper: when `body` carries text `field`, it must be one of `allowed`.
///
/// ```
/// use server::resource::one_of;
/// let mut e = herald_protocol::FieldErrors::new();
/// one_of(serde_json::json!({"status": "x"}).as_object().unwrap(), "status", &["a", "b"], &mut e);
/// assert_eq!(e["status"], vec!["must be one of a, b"]);
/// ```
pub fn one_of(body: &Map<String, Value>, field: &str, allowed: &[&str], errors: &mut FieldErrors) {
    if let Some(Value::String(value)) = body.get(field) {
        if !allowed.contains(&value.as_str()) {
            push(
                errors,
                field,
                &format!("must be one of {}", allowed.join(", ")),
            );
        }
    }
}

/// Accepts a JSON value for column `f` and returns what to write. Integers may arrive as
/// numeric strings, as HTML forms send them; trimmed text is checked and written trimmed.
fn coerce(f: &Field, v: &Value) -> Result<Value, String> {
    match (f.kind, v) {
        (Kind::Int, Value::Number(n)) => n.as_i64().map(Value::from),
        (Kind::Int, Value::String(s)) => s.trim().parse::<i64>().ok().map(Value::from),
        (Kind::Text, Value::String(s)) => {
            let s = if f.trimmed { s.trim() } else { s.as_str() };
            if s.contains('\0') {
                return Err("must not contain NUL characters".to_owned());
            }
            match f.max_chars {
                Some(max) if s.chars().count() > max => {
                    return Err(format!("must be at most {max} characters"))
                }
                _ => Some(Value::from(s)),
            }
        }
        _ => None,
    }
    .ok_or_else(|| {
        match f.kind {
            Kind::Int => "must be an integer",
            Kind::Text => "must be a string",
        }
        .to_owned()
    })
}

/// `users`: the server's own accounts as a read-only resource (`id`, `name`), for apps that
/// show who wrote what.
pub static USERS: Resource = Resource {
    fields: &[
        Field::id_int(),
        Field::text("name").server(),
        Field::created(),
        Field::updated(),
        Field::version(),
    ],
    text_fields: &["name"],
    writable: false,
    ..Resource::new("users", IdKind::Auto)
};

/// A set of SQL migrations for one database engine (`sqlx::migrate!("…")`).
pub type Migrations = &'static sqlx::migrate::Migrator;

/// The hook that fills an empty database with an app's demo data. It runs once, in one
/// transaction, when the database has no users; it creates the users it needs with
/// [`crate::store::seed::create_user`].
pub type Seed = for<'a> fn(
    tx: &'a mut AnyConnection,
) -> Pin<Box<dyn Future<Output = Result<(), StoreError>> + Send + 'a>>;

/// Everything an app declares to the server.
#[derive(Clone, Copy)]
pub struct Schema {
    pub resources: &'static [&'static Resource],
    /// The app's own tables, after the server's (users, sessions, the event log).
    pub sqlite_migrations: Migrations,
    pub postgres_migrations: Migrations,
    /// Demo data for an empty database (when `HERALD_SEED` is on).
    pub seed: Option<Seed>,
}

impl Schema {
    /// The resource called `name`, if the app declares one.
    pub fn resource(&self, name: &str) -> Option<&'static Resource> {
        self.resources.iter().copied().find(|r| r.name == name)
    }

    /// Checks the declarations hang together: unique names, an `id` column of the right
    /// kind, text search over text columns, references to declared resources. The server
    /// refuses to start otherwise.
    pub fn check(&self) -> Result<(), String> {
        for (i, r) in self.resources.iter().enumerate() {
            if self.resources[..i].iter().any(|o| o.name == r.name) {
                return Err(format!("resource '{}' is declared twice", r.name));
            }
            let id_kind = match r.id {
                IdKind::Auto => Kind::Int,
                IdKind::Slug | IdKind::Uuid => Kind::Text,
            };
            if r.field("id").map(|f| f.kind) != Some(id_kind) {
                return Err(format!(
                    "resource '{}' needs an id column of {id_kind:?}",
                    r.name
                ));
            }
            for t in r.text_fields {
                if r.field(t).map(|f| f.kind) != Some(Kind::Text) {
                    return Err(format!(
                        "'{}.{t}' is searched but is not a text column",
                        r.name
                    ));
                }
            }
            for f in r.fields {
                if let Some(target) = f.references {
                    if self.resource(target.resource).is_none() {
                        return Err(format!(
                            "'{}.{}' references undeclared resource '{}'",
                            r.name, f.name, target.resource
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    /// Resources whose records point at `target` with [`OnDelete::Cascade`], and the column.
    pub fn cascades_to(&self, target: &str) -> Vec<(&'static Resource, &'static Field)> {
        self.resources
            .iter()
            .flat_map(|r| r.fields.iter().map(move |f| (*r, f)))
            .filter(|(_, f)| {
                f.references
                    .is_some_and(|x| x.resource == target && x.on_delete == OnDelete::Cascade)
            })
            .collect()
    }
}

impl std::fmt::Debug for Schema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.resources.iter().map(|r| r.name).collect();
        f.debug_struct("Schema").field("resources", &names).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    static NOTES: Resource = Resource {
        fields: &[
            Field::id_text(),
            Field::text("title").required().max_chars(5),
            Field::text("label").trimmed().max_chars(3),
            Field::int("rank"),
            Field::version(),
        ],
        ..Resource::new("notes", IdKind::Slug)
    };

    fn check(body: Value, action: Action) -> Result<Vec<(&'static Field, Value)>, FieldErrors> {
        NOTES.writable_values(body.as_object().expect("object"), action)
    }

    #[test]
    fn required_types_lengths_and_server_fields() {
        assert_eq!(
            check(json!({}), Action::Create).unwrap_err()["title"],
            vec!["is required"]
        );
        let values = check(json!({"title": "ok", "version": 3}), Action::Create).unwrap();
        assert_eq!(values.len(), 1, "version is the server's");
        let e = check(
            json!({"title": "toolong", "rank": "x", "bogus": 1}),
            Action::Update,
        )
        .unwrap_err();
        assert_eq!(e["title"], vec!["must be at most 5 characters"]);
        assert_eq!(e["rank"], vec!["must be an integer"]);
        assert_eq!(e["bogus"], vec!["unknown field"]);
        let e = check(json!({"title": "a\0b"}), Action::Update).unwrap_err();
        assert_eq!(e["title"], vec!["must not contain NUL characters"]);
        assert_eq!(
            check(json!({"rank": " 7 "}), Action::Update).unwrap()[0].1,
            json!(7)
        );
    }

    #[test]
    fn trimmed_text_is_checked_and_written_trimmed() {
        let values = check(json!({"label": " \t abc\u{3000}\n"}), Action::Update).unwrap();
        assert_eq!(values[0].1, json!("abc"), "Unicode white space goes too");
        let e = check(json!({"label": " abcd "}), Action::Update).unwrap_err();
        assert_eq!(e["label"], vec!["must be at most 3 characters"]);
        let e = check(json!({"label": " a\0 "}), Action::Update).unwrap_err();
        assert_eq!(e["label"], vec!["must not contain NUL characters"]);
        // Untrimmed fields are written as sent.
        let values = check(json!({"title": " ab "}), Action::Update).unwrap();
        assert_eq!(values[0].1, json!(" ab "));
    }

    #[test]
    fn ids_that_cannot_exist_are_refused() {
        assert!(IdKind::Auto.parse("9223372036854775808").is_err());
        assert_eq!(
            IdKind::Auto.parse("-9223372036854775808"),
            Ok(Id::Int(i64::MIN))
        );
        assert!(IdKind::Uuid.parse("\0").is_err());
        assert!(IdKind::Slug.parse("fix\0login").is_err());
    }

    #[test]
    fn uuids_are_v4() {
        let u = new_uuid();
        assert!(is_uuid(&u), "{u}");
        assert_eq!(&u[14..15], "4");
        assert_ne!(u, new_uuid());
    }
}
