//! List parameters — pagination, sorters, filters, full-text — and their simple-rest query
//! string form (`_start=0&_end=10&_sort=id&_order=desc&status=draft&title_like=rust&q=…`).
//!
//! The same type is written by the REST data provider and parsed by the server, so the two
//! can never drift apart. It knows the syntax only; which fields exist is the server's concern.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Most sort keys one request may name. Each key is an `ORDER BY` term: SQLite refuses
/// more than 2,000, and no screen needs more than a handful.
pub const MAX_SORT_KEYS: usize = 8;

/// Most filter terms (`field_op=value` pairs) one request may carry. Each is at least one
/// bound parameter and one node of the WHERE clause: SQLite refuses expression trees deeper
/// than 1,000 and PostgreSQL more than 65,535 parameters, long before a real filter needs 64.
pub const MAX_FILTERS: usize = 64;

/// The parameters that may appear once only; a second value would silently win or lose.
const SINGLE: [&str; 5] = ["_start", "_end", "_sort", "_order", "q"];

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    /// The query-string spelling (`asc`/`desc`).
    ///
    /// ```
    /// # use herald_protocol::query::Order;
    /// assert_eq!(Order::Desc.as_str(), "desc");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

/// One sort key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Sorter {
    pub field: String,
    pub order: Order,
}

/// Filter operators of the simple-rest dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FilterOp {
    /// `field=v`; repeated keys mean "any of".
    Eq,
    /// `field_ne=v`; repeated keys mean "none of".
    Ne,
    /// `field_gte=v`.
    Gte,
    /// `field_lte=v`.
    Lte,
    /// `field_like=v`: case-insensitive literal substring.
    Like,
}

impl FilterOp {
    const SUFFIXED: [(FilterOp, &'static str); 4] = [
        (FilterOp::Ne, "_ne"),
        (FilterOp::Gte, "_gte"),
        (FilterOp::Lte, "_lte"),
        (FilterOp::Like, "_like"),
    ];

    fn suffix(self) -> &'static str {
        Self::SUFFIXED
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, s)| s)
    }
}

/// One filter condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Filter {
    pub field: String,
    pub op: FilterOp,
    pub value: String,
}

impl Filter {
    /// A condition `field op value`.
    ///
    /// ```
    /// # use herald_protocol::query::{Filter, FilterOp};
    /// let f = Filter::new("status", FilterOp::Eq, "draft");
    /// assert_eq!(f.key(), "status");
    /// ```
    pub fn new(field: impl Into<String>, op: FilterOp, value: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            op,
            value: value.into(),
        }
    }

    /// The query-string key: the field plus the operator's suffix.
    ///
    /// ```
    /// # use herald_protocol::query::{Filter, FilterOp};
    /// assert_eq!(Filter::new("title", FilterOp::Like, "x").key(), "title_like");
    /// ```
    pub fn key(&self) -> String {
        format!("{}{}", self.field, self.op.suffix())
    }
}

/// Everything a getList call can ask for.
///
/// ```
/// use herald_protocol::query::{ListParams, Order};
/// let p = ListParams::default().page(2, 10).sort("id", Order::Desc);
/// assert_eq!(p.to_query(), "_start=10&_end=20&_sort=id&_order=desc");
/// assert_eq!(ListParams::parse(&p.to_query()).unwrap(), p);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ListParams {
    /// `(start, end)`: the half-open row range; `None` returns every row.
    pub range: Option<(u64, u64)>,
    pub sorters: Vec<Sorter>,
    pub filters: Vec<Filter>,
    /// Full-text search over the resource's text fields.
    pub q: Option<String>,
}

/// A query string that is not valid simple-rest syntax.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

impl ListParams {
    /// Page `page` (1-based) of `size` rows.
    ///
    /// ```
    /// # use herald_protocol::query::ListParams;
    /// assert_eq!(ListParams::default().page(1, 10).range, Some((0, 10)));
    /// ```
    pub fn page(mut self, page: u64, size: u64) -> Self {
        let start = page.saturating_sub(1) * size;
        self.range = Some((start, start + size));
        self
    }

    /// Adds a sort key after the existing ones.
    ///
    /// ```
    /// # use herald_protocol::query::{ListParams, Order};
    /// assert_eq!(ListParams::default().sort("id", Order::Asc).sorters.len(), 1);
    /// ```
    pub fn sort(mut self, field: impl Into<String>, order: Order) -> Self {
        self.sorters.push(Sorter {
            field: field.into(),
            order,
        });
        self
    }

    /// Adds a filter condition.
    ///
    /// ```
    /// # use herald_protocol::query::{ListParams, FilterOp};
    /// let p = ListParams::default().filter("status", FilterOp::Eq, "draft");
    /// assert_eq!(p.to_query(), "status=draft");
    /// ```
    pub fn filter(
        mut self,
        field: impl Into<String>,
        op: FilterOp,
        value: impl Into<String>,
    ) -> Self {
        self.filters.push(Filter::new(field, op, value));
        self
    }

    /// The simple-rest query string (without `?`), keys and values percent-encoded.
    ///
    /// ```
    /// # use herald_protocol::query::ListParams;
    /// let p = ListParams { q: Some("a b&c".into()), ..Default::default() };
    /// assert_eq!(p.to_query(), "q=a%20b%26c");
    /// ```
    pub fn to_query(&self) -> String {
        encode_pairs(&self.to_pairs())
    }

    /// The query as decoded key/value pairs, in a stable order.
    ///
    /// ```
    /// # use herald_protocol::query::ListParams;
    /// assert!(ListParams::default().to_pairs().is_empty());
    /// ```
    pub fn to_pairs(&self) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        if let Some((start, end)) = self.range {
            pairs.push(("_start".to_owned(), start.to_string()));
            pairs.push(("_end".to_owned(), end.to_string()));
        }
        if !self.sorters.is_empty() {
            let join =
                |f: fn(&Sorter) -> &str| self.sorters.iter().map(f).collect::<Vec<_>>().join(",");
            pairs.push(("_sort".to_owned(), join(|s| &s.field)));
            pairs.push(("_order".to_owned(), join(|s| s.order.as_str())));
        }
        for f in &self.filters {
            pairs.push((f.key(), f.value.clone()));
        }
        if let Some(q) = &self.q {
            pairs.push(("q".to_owned(), q.clone()));
        }
        pairs
    }

    /// Parses a raw (percent-encoded) query string. Unlike [`decode_pairs`] it refuses
    /// malformed escapes and text that is not UTF-8 once decoded, rather than guess.
    ///
    /// ```
    /// # use herald_protocol::query::{ListParams, FilterOp};
    /// let p = ListParams::parse("status=draft&status=published&title_like=x").unwrap();
    /// assert_eq!(p.filters.len(), 3);
    /// assert_eq!(p.filters[2].op, FilterOp::Like);
    /// assert!(ListParams::parse("_start=x").is_err());
    /// assert!(ListParams::parse("q=100%").is_err());
    /// ```
    pub fn parse(query: &str) -> Result<Self, QueryError> {
        Self::from_pairs(try_decode_pairs(query)?)
    }

    /// Builds params from decoded pairs. Keys are classified by syntax alone: `_start`,
    /// `_end`, `_sort`, `_order`, `q`, `field_{ne,gte,lte,like}`, and anything else is an
    /// equality filter on a field of that name (the server rejects unknown fields).
    ///
    /// Refused: a parameter other than a filter given twice, more than [`MAX_FILTERS`]
    /// filters and more than [`MAX_SORT_KEYS`] sort keys.
    ///
    /// ```
    /// # use herald_protocol::query::ListParams;
    /// let p = ListParams::from_pairs(vec![("_sort".into(), "a,b".into()), ("_order".into(), "asc,desc".into())]).unwrap();
    /// assert_eq!(p.sorters.len(), 2);
    /// let twice = vec![("q".into(), "a".into()), ("q".into(), "b".into())];
    /// assert!(ListParams::from_pairs(twice).is_err());
    /// ```
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Result<Self, QueryError> {
        // Counted before anything is built, so a flood of keys costs no more than its count.
        let filters = pairs
            .iter()
            .filter(|(k, _)| !k.starts_with('_') && k != "q")
            .count();
        if filters > MAX_FILTERS {
            return Err(QueryError(format!(
                "at most {MAX_FILTERS} filter terms per request, got {filters}"
            )));
        }
        for name in SINGLE {
            if pairs.iter().filter(|(k, _)| k == name).count() > 1 {
                return Err(QueryError(format!(
                    "'{name}' appears more than once in the query"
                )));
            }
        }
        let mut params = ListParams::default();
        let (mut start, mut end, mut sort, mut order) = (None, None, None, None);
        for (key, value) in pairs {
            match key.as_str() {
                "_start" => start = Some(parse_index(&key, &value)?),
                "_end" => end = Some(parse_index(&key, &value)?),
                "_sort" => sort = Some(value),
                "_order" => order = Some(value),
                "q" => params.q = Some(value),
                _ if key.starts_with('_') => {
                    return Err(QueryError(format!(
                        "unknown query parameter '{}'",
                        excerpt(&key)
                    )))
                }
                _ => params.filters.push(classify(&key, value)),
            }
        }
        params.range = match (start, end) {
            (None, None) => None,
            (Some(s), Some(e)) if e >= s => Some((s, e)),
            (Some(s), Some(e)) => {
                return Err(QueryError(format!("_end ({e}) is before _start ({s})")))
            }
            _ => return Err(QueryError("_start and _end go together".to_owned())),
        };
        params.sorters = parse_sorters(sort.as_deref(), order.as_deref())?;
        Ok(params)
    }
}

fn parse_index(key: &str, value: &str) -> Result<u64, QueryError> {
    value.parse().map_err(|_| {
        QueryError(format!(
            "{key} must be a non-negative integer below 2^64, got '{}'",
            excerpt(value)
        ))
    })
}

/// At most 64 characters of `s`, for echoing client input in a message: enough to
/// recognise it, without sending a 60 KB parameter back.
///
/// ```
/// # use herald_protocol::query::excerpt;
/// assert_eq!(excerpt("short"), "short");
/// assert_eq!(excerpt(&"x".repeat(100)).chars().count(), 65);
/// ```
pub fn excerpt(s: &str) -> String {
    const SHOWN: usize = 64;
    match s.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

fn classify(key: &str, value: String) -> Filter {
    for (op, suffix) in FilterOp::SUFFIXED {
        if let Some(field) = key.strip_suffix(suffix) {
            if !field.is_empty() {
                return Filter::new(field, op, value);
            }
        }
    }
    Filter::new(key, FilterOp::Eq, value)
}

fn parse_sorters(sort: Option<&str>, order: Option<&str>) -> Result<Vec<Sorter>, QueryError> {
    let Some(sort) = sort else {
        return match order {
            Some(_) => Err(QueryError("_order without _sort".to_owned())),
            None => Ok(Vec::new()),
        };
    };
    let fields: Vec<&str> = sort.split(',').collect();
    if fields.len() > MAX_SORT_KEYS {
        return Err(QueryError(format!(
            "at most {MAX_SORT_KEYS} sort keys per request, _sort names {}",
            fields.len()
        )));
    }
    let orders: Vec<&str> = order.map_or_else(Vec::new, |o| o.split(',').collect());
    if !orders.is_empty() && orders.len() != fields.len() {
        return Err(QueryError(format!(
            "_sort names {} fields but _order has {} directions",
            fields.len(),
            orders.len()
        )));
    }
    fields
        .iter()
        .enumerate()
        .map(|(i, field)| {
            if field.is_empty() {
                return Err(QueryError("_sort has an empty field name".to_owned()));
            }
            let order = match orders.get(i).copied().unwrap_or("asc") {
                "asc" | "ASC" => Order::Asc,
                "desc" | "DESC" => Order::Desc,
                other => {
                    return Err(QueryError(format!(
                        "_order must be asc or desc, got '{}'",
                        excerpt(other)
                    )))
                }
            };
            Ok(Sorter {
                field: (*field).to_owned(),
                order,
            })
        })
        .collect()
}

/// Percent-encodes a query component or path segment (RFC 3986 unreserved characters stay
/// as they are).
///
/// ```
/// # use herald_protocol::query::encode;
/// assert_eq!(encode("a b/c"), "a%20b%2Fc");
/// ```
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Joins decoded pairs into a percent-encoded query string (without `?`).
///
/// ```
/// # use herald_protocol::query::encode_pairs;
/// assert_eq!(encode_pairs(&[("q".into(), "a b".into()), ("page".into(), "2".into())]), "q=a%20b&page=2");
/// ```
pub fn encode_pairs(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Splits and percent-decodes `a=1&b=2` (`+` is a space, as browsers send forms),
/// leniently: a `%` that starts no escape stays as it is and bytes that are not UTF-8
/// become U+FFFD, as browsers treat their own address bar. Servers use
/// [`try_decode_pairs`].
pub fn decode_pairs(query: &str) -> Vec<(String, String)> {
    split_pairs(query)
        .map(|(k, v)| (decode_lossy(k), decode_lossy(v)))
        .collect()
}

/// Like [`decode_pairs`], but a `%` not followed by two hex digits, or text that is not
/// UTF-8 once decoded, is an error: a server must not guess what a client meant.
///
/// ```
/// # use herald_protocol::query::try_decode_pairs;
/// assert_eq!(try_decode_pairs("q=a+b%2B").unwrap(), vec![("q".into(), "a b+".into())]);
/// assert!(try_decode_pairs("q=%zz").is_err());
/// assert!(try_decode_pairs("q=%ff").is_err());
/// ```
pub fn try_decode_pairs(query: &str) -> Result<Vec<(String, String)>, QueryError> {
    split_pairs(query)
        .map(|(k, v)| Ok((decode_strict(k)?, decode_strict(v)?)))
        .collect()
}

fn split_pairs(query: &str) -> impl Iterator<Item = (&str, &str)> {
    query
        .split('&')
        .filter(|part| !part.is_empty())
        .map(|part| part.split_once('=').unwrap_or((part, "")))
}

/// Percent-decodes `s` to bytes; `Err(i)` names the first `%` at `i` that starts no escape.
fn decode_bytes(s: &str) -> Result<Vec<u8>, (usize, Vec<u8>)> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut bad = None;
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some((hex_digit(*bytes.get(i + 1)?)? << 4) | hex_digit(*bytes.get(i + 2)?)?))
            .flatten();
        match (bytes[i], escaped) {
            (_, Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', None) => {
                out.push(b' ');
                i += 1;
            }
            (b, None) => {
                if b == b'%' && bad.is_none() {
                    bad = Some(i);
                }
                out.push(b);
                i += 1;
            }
        }
    }
    match bad {
        None => Ok(out),
        Some(i) => Err((i, out)),
    }
}

fn decode_lossy(s: &str) -> String {
    let bytes = decode_bytes(s).unwrap_or_else(|(_, kept)| kept);
    String::from_utf8_lossy(&bytes).into_owned()
}

fn decode_strict(s: &str) -> Result<String, QueryError> {
    let bytes = decode_bytes(s).map_err(|(i, _)| {
        QueryError(format!(
            "malformed percent-encoding in the query: '{}' is not % and two hex digits",
            s[i..].chars().take(3).collect::<String>()
        ))
    })?;
    String::from_utf8(bytes).map_err(|_| {
        QueryError(format!(
            "the query is not UTF-8 once percent-decoded: '{}'",
            excerpt(s)
        ))
    })
}

fn hex_digit(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

impl fmt::Display for ListParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_query())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_part() {
        let p = ListParams::default()
            .page(3, 5)
            .sort("status", Order::Asc)
            .sort("id", Order::Desc)
            .filter("post_id", FilterOp::Eq, "1")
            .filter("post_id", FilterOp::Eq, "2")
            .filter("created_at", FilterOp::Gte, "2026-01-01")
            .filter("title", FilterOp::Like, "100% _sure_");
        let p = ListParams {
            q: Some("ünï code".into()),
            ..p
        };
        assert_eq!(ListParams::parse(&p.to_query()).unwrap(), p);
    }

    #[test]
    fn underscored_fields_keep_their_name() {
        let p = ListParams::parse("post_id=3&author_id_ne=2").unwrap();
        assert_eq!(p.filters[0], Filter::new("post_id", FilterOp::Eq, "3"));
        assert_eq!(p.filters[1], Filter::new("author_id", FilterOp::Ne, "2"));
    }

    #[test]
    fn rejects_bad_syntax() {
        for bad in [
            "_start=1",
            "_start=5&_end=2",
            "_order=asc",
            "_sort=a&_order=up",
            "_sort=a,b&_order=asc",
            "_page=1",
            "_start=-1&_end=3",
        ] {
            assert!(ListParams::parse(bad).is_err(), "{bad} should fail");
        }
    }

    #[test]
    fn decodes_percent_and_plus() {
        assert_eq!(
            decode_pairs("q=a+b%2Bc%"),
            vec![("q".into(), "a b+c%".into())]
        );
        assert_eq!(decode_pairs("q=%ff"), vec![("q".into(), "\u{fffd}".into())]);
    }

    #[test]
    fn servers_refuse_what_they_would_have_to_guess() {
        for bad in [
            "q=a+b%2Bc%",
            "q=%zz",
            "q=%4",
            "ti%G1tle=x",
            "q=%ff%fe",
            "title=%C3",
        ] {
            let e = ListParams::parse(bad).expect_err(bad);
            assert!(
                e.0.contains("percent") || e.0.contains("UTF-8"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            ListParams::parse("q=%C3%A9t%C3%A9").unwrap().q.as_deref(),
            Some("été")
        );
        for twice in [
            "_start=0&_start=1&_end=2",
            "_sort=id&_sort=id",
            "q=a&q=b",
            "_order=asc&_order=asc&_sort=id",
        ] {
            let e = ListParams::parse(twice).expect_err(twice);
            assert!(e.0.contains("more than once"), "{twice}: {e}");
        }
    }

    #[test]
    fn limits_sort_keys_and_filters() {
        let keys = |n: usize| format!("_sort={}", vec!["id"; n].join(","));
        assert_eq!(
            ListParams::parse(&keys(MAX_SORT_KEYS))
                .unwrap()
                .sorters
                .len(),
            MAX_SORT_KEYS
        );
        let e = ListParams::parse(&keys(MAX_SORT_KEYS + 1)).unwrap_err();
        assert!(e.0.contains("at most 8 sort keys"), "{e}");
        let filters = |n: usize| vec!["status=draft"; n].join("&");
        assert_eq!(
            ListParams::parse(&filters(MAX_FILTERS))
                .unwrap()
                .filters
                .len(),
            MAX_FILTERS
        );
        let e = ListParams::parse(&filters(MAX_FILTERS + 1)).unwrap_err();
        assert!(e.0.contains("at most 64 filter terms"), "{e}");
        // `q` and the paging keys are not filter terms.
        let mut query = filters(MAX_FILTERS);
        query.push_str("&q=x&_start=0&_end=5&_sort=id&_order=asc");
        assert!(ListParams::parse(&query).is_ok());
    }
}
