//! Portable SQL text: the store speaks one dialect to SQLite and PostgreSQL through sqlx's
//! `Any` driver. Placeholders are `$1, $2, …`, which both engines read (sqlx's SQLite
//! driver maps `$N` to the N-th argument); the few spots where the engines differ ask
//! [`Backend`].

use sqlx::any::AnyArguments;
use sqlx::{Any, Arguments, Encode, Type};

/// The engine behind the store, chosen by the `DATABASE_URL` scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://…` / `postgresql://…` or `sqlite:…`; anything else is refused.
    pub fn from_url(url: &str) -> Option<Self> {
        let scheme = url.split(':').next()?;
        match scheme {
            "sqlite" => Some(Backend::Sqlite),
            "postgres" | "postgresql" => Some(Backend::Postgres),
            _ => None,
        }
    }

    /// How a write transaction starts. SQLite must take its write lock up front
    /// (`IMMEDIATE`), or two readers that both upgrade deadlock; PostgreSQL locks rows as
    /// it touches them.
    pub fn begin_write(self) -> &'static str {
        match self {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// A case-insensitive literal substring test of `column` against the next placeholder:
    /// no wildcards, so `%` and `_` match themselves. Both engines lower-case ASCII only
    /// (PostgreSQL columns are `COLLATE "C"`), so results agree.
    pub fn contains(self, column: &str, placeholder: &str) -> String {
        let function = match self {
            Backend::Sqlite => "instr",
            Backend::Postgres => "strpos",
        };
        format!("{function}(lower({column}), lower({placeholder})) > 0")
    }
}

impl Backend {
    /// An expression that renders `columns` of a row as one JSON object (text), keyed by
    /// column name: the database serialises, so a page of rows needs no per-value
    /// conversion on the way out. Integers become numbers and text becomes strings on both
    /// engines.
    pub fn json_object(self, columns: &[&str]) -> String {
        let pairs: Vec<String> = columns.iter().map(|c| format!("'{c}', {c}")).collect();
        match self {
            Backend::Sqlite => format!("json_object({})", pairs.join(", ")),
            Backend::Postgres => format!("json_build_object({})::text", pairs.join(", ")),
        }
    }
}

/// A statement being built: text with numbered placeholders and its arguments.
///
/// ```
/// use server::store::sql::Sql;
/// let mut sql = Sql::new("SELECT id FROM posts WHERE status = ");
/// sql.bind("draft").push(" AND id > ").bind(3_i64);
/// assert_eq!(sql.text(), "SELECT id FROM posts WHERE status = $1 AND id > $2");
/// ```
#[derive(Default)]
pub struct Sql {
    text: String,
    args: AnyArguments<'static>,
    count: usize,
}

impl Sql {
    pub fn new(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    /// Appends trusted text (identifiers from the schema, keywords).
    pub fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// The placeholder the next [`Sql::bind`] will write, for fragments built elsewhere.
    pub fn next_placeholder(&self) -> String {
        format!("${}", self.count + 1)
    }

    /// Appends a placeholder for `value`.
    pub fn bind<T>(&mut self, value: T) -> &mut Self
    where
        T: Encode<'static, Any> + Type<Any> + 'static,
    {
        self.count += 1;
        self.text.push('$');
        self.text.push_str(&self.count.to_string());
        // Encoding into the Any buffer only fails for types Any cannot carry, which the
        // bounds above already exclude.
        let _ = self.args.add(value);
        self
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The statement, ready to run; its arguments move into it.
    pub fn query(&mut self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        let args: AnyArguments<'_> = std::mem::take(&mut self.args);
        sqlx::query_with(&self.text, args)
    }

    /// Like [`Sql::query`], for a single-column result.
    pub fn scalar<O>(&mut self) -> sqlx::query::QueryScalar<'_, Any, O, AnyArguments<'_>>
    where
        (O,): for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let args: AnyArguments<'_> = std::mem::take(&mut self.args);
        sqlx::query_scalar_with(&self.text, args)
    }
}
