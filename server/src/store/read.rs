//! Reading records: getList (with the simple-rest filters, sorters and paging), getMany,
//! getOne, and turning rows into JSON objects. Identifiers come from the schema; every value
//! from a request is a bound parameter, checked first for what the database would refuse
//! with an error of its own (a NUL in text): such input is the client's mistake, a 400.

use super::sql::{Backend, Sql};
use super::{Store, StoreError};
use crate::resource::{Field, IdKind, Kind, Resource};
use herald_protocol::query::{excerpt, Filter, FilterOp, ListParams, Order};
use herald_protocol::{Id, ListResult};
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

/// Converts one row (selected with [`Resource::column_list`]) to a JSON object.
pub fn row_to_json(resource: &Resource, row: &AnyRow) -> Result<Value, StoreError> {
    let mut obj = Map::with_capacity(resource.fields.len());
    for f in resource.fields {
        let v = match f.kind {
            Kind::Int => Value::from(row.try_get::<i64, _>(f.name)?),
            Kind::Text => Value::from(row.try_get::<String, _>(f.name)?),
        };
        obj.insert(f.name.to_owned(), v);
    }
    Ok(Value::Object(obj))
}

/// Binds `id` as the resource stores its keys: an integer, or text (a numeric slug is
/// stored as its text). A text id can never name an integer-keyed record; it is bound as
/// an impossible key so the lookup simply finds nothing.
pub fn bind_id(qb: &mut Sql, resource: &Resource, id: &Id) {
    match (resource.id, id) {
        (IdKind::Auto, Id::Int(n)) => qb.bind(*n),
        (IdKind::Auto, Id::Text(_)) => qb.bind(None::<i64>),
        (IdKind::Slug | IdKind::Uuid, id) => qb.bind(id.to_string()),
    };
}

/// The `id` column of a row of `resource`.
pub fn id_column(resource: &Resource, row: &AnyRow) -> Result<Id, StoreError> {
    Ok(match resource.id {
        IdKind::Auto => Id::Int(row.try_get::<i64, _>("id")?),
        IdKind::Slug | IdKind::Uuid => Id::parse(&row.try_get::<String, _>("id")?),
    })
}

/// One record by id, or `NotFound`.
pub async fn get_one<'e>(
    db: impl Executor<'e, Database = Any>,
    resource: &Resource,
    id: &Id,
) -> Result<Value, StoreError> {
    let mut qb = Sql::new(format!(
        "SELECT {} FROM {} WHERE id = ",
        resource.column_list(),
        resource.table
    ));
    bind_id(&mut qb, resource, id);
    let row = qb.query().fetch_optional(db).await?;
    match row {
        Some(row) => row_to_json(resource, &row),
        None => Err(StoreError::not_found(resource, id)),
    }
}

/// A page of records matching `params`, and how many match in all. For in-process callers
/// (server-side rendering), which choose their own ranges: no page cap.
pub async fn list(
    store: &Store,
    resource: &Resource,
    params: &ListParams,
) -> Result<ListResult, StoreError> {
    let (json, total) = list_json(store, resource, params, None).await?;
    let data = serde_json::from_str(&json)
        .map_err(|e| StoreError::Internal(format!("the database sent invalid JSON: {e}")))?;
    Ok(ListResult { data, total })
}

/// A page of records matching `params` as one JSON array (text, ready to send), and how
/// many match in all.
///
/// With `page_max`, no call returns more rows than that: a wider `range` is refused before
/// the database is asked, and a list without a range is refused when more rows match (the
/// page is fetched with `LIMIT page_max`, and the total, counted over every match, says
/// whether that cut anything off).
pub async fn list_json(
    store: &Store,
    resource: &Resource,
    params: &ListParams,
    page_max: Option<u64>,
) -> Result<(String, u64), StoreError> {
    let db = store.pool();
    if let (Some(max), Some((start, end))) = (page_max, params.range) {
        let asked = end.saturating_sub(start);
        if asked > max {
            return Err(StoreError::BadQuery(format!(
                "a page holds at most {max} rows; _start={start}&_end={end} asks for {asked}"
            )));
        }
    }
    let conditions = Conditions::build(resource, params, store.backend())?;
    let order = order_by(resource, params)?;

    // The page and the total in one statement (one round trip, one snapshot): the window
    // count is taken over every matching row, before LIMIT. Each row comes out as JSON.
    let columns: Vec<&str> = resource.fields.iter().map(|f| f.name).collect();
    let mut select = Sql::new(format!(
        "SELECT {} AS {ROW}, COUNT(*) OVER () AS {TOTAL} FROM {}",
        store.backend().json_object(&columns),
        resource.table
    ));
    conditions.push_where(&mut select);
    select.push(&order);
    if let Some((start, end)) = params.range {
        select
            .push(" LIMIT ")
            .bind(to_i64(end.saturating_sub(start)))
            .push(" OFFSET ")
            .bind(to_i64(start));
    } else if let Some(max) = page_max {
        select.push(" LIMIT ").bind(to_i64(max));
    }
    let rows = select.query().fetch_all(db).await?;
    let total: i64 = match rows.first() {
        Some(row) => row.try_get(TOTAL)?,
        // No row carries the count: a page past the end (or an empty one, or a cap of
        // zero rows) must ask.
        None if params.range.is_some() || page_max == Some(0) => {
            let mut count = Sql::new(format!("SELECT COUNT(*) FROM {}", resource.table));
            conditions.push_where(&mut count);
            count.scalar().fetch_one(db).await?
        }
        None => 0,
    };
    let total = u64::try_from(total).unwrap_or(0);
    if let (Some(max), None) = (page_max, params.range) {
        if total > max {
            return Err(StoreError::BadQuery(format!(
                "{total} {} match, and a list returns at most {max} rows: \
                 ask for pages with _start and _end, or filter",
                resource.name
            )));
        }
    }
    let mut json = String::from("[");
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            json.push(',');
        }
        json.push_str(row.try_get::<&str, _>(ROW)?);
    }
    json.push(']');
    Ok((json, total))
}

/// The column carrying each row as JSON.
const ROW: &str = "herald_row";
/// The column carrying the list's total; no resource field may be called this.
const TOTAL: &str = "herald_total";

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A bound SQL value.
#[derive(Debug, Clone)]
enum Bound {
    Int(i64),
    Text(String),
}

/// One SQL condition: a fragment with `?` marking where its values go, and the values.
#[derive(Debug)]
struct Condition {
    sql: String,
    values: Vec<Bound>,
}

/// The WHERE clause of a list query, validated against the schema.
#[derive(Debug, Default)]
struct Conditions(Vec<Condition>);

impl Conditions {
    fn build(
        resource: &Resource,
        params: &ListParams,
        backend: Backend,
    ) -> Result<Self, StoreError> {
        // Case-insensitive literal substring: no wildcards, so `%` and `_` match themselves.
        let contains = |column: &str| backend.contains(column, "?");
        let mut conditions = Vec::new();
        // Repeated eq / ne keys on one field combine into IN / NOT IN.
        let mut grouped: Vec<(&'static Field, FilterOp, Vec<Bound>)> = Vec::new();
        for filter in &params.filters {
            let field = filter_field(resource, filter)?;
            let value = bind_value(field, filter)?;
            match filter.op {
                FilterOp::Eq | FilterOp::Ne => match grouped
                    .iter_mut()
                    .find(|(f, op, _)| f.name == field.name && *op == filter.op)
                {
                    Some((_, _, values)) => values.push(value),
                    None => grouped.push((field, filter.op, vec![value])),
                },
                FilterOp::Gte => {
                    conditions.push(Condition::single(format!("{} >= ?", field.name), value))
                }
                FilterOp::Lte => {
                    conditions.push(Condition::single(format!("{} <= ?", field.name), value))
                }
                FilterOp::Like => conditions.push(Condition::single(contains(field.name), value)),
            }
        }
        for (field, op, values) in grouped {
            let placeholders = vec!["?"; values.len()].join(", ");
            let not = if op == FilterOp::Ne { "NOT " } else { "" };
            conditions.push(Condition {
                sql: format!("{} {not}IN ({placeholders})", field.name),
                values,
            });
        }
        if params.q.as_deref().is_some_and(|q| q.contains('\0')) {
            return Err(no_nul("q"));
        }
        if let Some(q) = params.q.as_deref().filter(|q| !q.trim().is_empty()) {
            let parts: Vec<String> = resource.text_fields.iter().map(|f| contains(f)).collect();
            conditions.push(Condition {
                sql: format!("({})", parts.join(" OR ")),
                values: vec![Bound::Text(q.trim().to_owned()); parts.len()],
            });
        }
        Ok(Self(conditions))
    }

    fn push_where(&self, qb: &mut Sql) {
        for (i, c) in self.0.iter().enumerate() {
            qb.push(if i == 0 { " WHERE " } else { " AND " });
            let mut pieces = c.sql.split('?');
            if let Some(first) = pieces.next() {
                qb.push(first);
            }
            for (piece, value) in pieces.zip(c.values.iter()) {
                match value {
                    Bound::Int(n) => qb.bind(*n),
                    Bound::Text(s) => qb.bind(s.clone()),
                };
                qb.push(piece);
            }
        }
    }
}

impl Condition {
    fn single(sql: String, value: Bound) -> Self {
        Self {
            sql,
            values: vec![value],
        }
    }
}

fn filter_field(resource: &Resource, filter: &Filter) -> Result<&'static Field, StoreError> {
    if let Some(field) = resource.field(&filter.field) {
        return Ok(field);
    }
    // `title_between` parses as an eq filter on a field `title_between`: say what is wrong.
    let known_prefix = resource.fields.iter().find(|f| {
        filter
            .field
            .strip_prefix(f.name)
            .is_some_and(|rest| rest.starts_with('_'))
    });
    Err(StoreError::BadQuery(match known_prefix {
        Some(f) => format!(
            "unknown filter operator '{}' on field '{}' (use eq, _ne, _gte, _lte or _like)",
            excerpt(&filter.field[f.name.len() + 1..]),
            f.name
        ),
        None => format!(
            "unknown field '{}' in filter '{}' on {}",
            excerpt(&filter.field),
            excerpt(&filter.key()),
            resource.name
        ),
    }))
}

/// The 400 for a NUL in a text value: SQLite would quietly compare it, but PostgreSQL text
/// cannot hold one and fails the whole statement, so no stored value can match it anyway.
fn no_nul(what: &str) -> StoreError {
    StoreError::BadQuery(format!("{what} must not contain NUL characters"))
}

fn bind_value(field: &Field, filter: &Filter) -> Result<Bound, StoreError> {
    match (field.kind, filter.op) {
        (Kind::Text, _) if filter.value.contains('\0') => {
            Err(no_nul(&format!("filter '{}'", filter.key())))
        }
        (Kind::Text, _) => Ok(Bound::Text(filter.value.clone())),
        (Kind::Int, FilterOp::Like) => Err(StoreError::BadQuery(format!(
            "'{}' is a number: _like works on text fields only",
            field.name
        ))),
        (Kind::Int, _) => filter.value.trim().parse().map(Bound::Int).map_err(|_| {
            StoreError::BadQuery(format!(
                "filter '{}' needs an integer between -2^63 and 2^63-1, got '{}'",
                filter.key(),
                excerpt(&filter.value)
            ))
        }),
    }
}

/// ` ORDER BY …`, always ending in `id` so pages are stable between requests.
fn order_by(resource: &Resource, params: &ListParams) -> Result<String, StoreError> {
    let mut keys = Vec::new();
    for s in &params.sorters {
        let field = resource.field(&s.field).ok_or_else(|| {
            StoreError::BadQuery(format!(
                "cannot sort {} by unknown field '{}'",
                resource.name,
                excerpt(&s.field)
            ))
        })?;
        let dir = match s.order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        keys.push(format!("{} {dir}", field.name));
    }
    if !params.sorters.iter().any(|s| s.field == "id") {
        keys.push("id ASC".to_owned());
    }
    Ok(format!(" ORDER BY {}", keys.join(", ")))
}
