//! In-memory data provider: records in a map, for tests, examples and prototyping. It
//! implements the simple-rest semantics (filters, sorting, paging, versions) closely
//! enough that hooks behave as against the server, and counts its calls.

use super::data::{BoxFuture, DataProvider, DataResult, ListResult, Record};
use super::error::HttpError;
use super::query::{FilterOp, ListParams, Order};
use super::Id;
use serde_json::{json, Value};
use std::cmp::Ordering as CmpOrdering;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

/// Records by resource, in memory.
///
/// ```
/// use herald_framework::memory::MemoryDataProvider;
/// use serde_json::json;
/// let p = MemoryDataProvider::default().with("posts", vec![json!({"id": 1, "title": "a"})]);
/// assert_eq!(p.calls(), 0);
/// ```
#[derive(Default)]
pub struct MemoryDataProvider {
    resources: Mutex<BTreeMap<String, Vec<Record>>>,
    calls: AtomicU64,
    fail_writes: AtomicBool,
}

impl MemoryDataProvider {
    /// Adds records to a resource (each should have an integer `id`).
    pub fn with(self, resource: &str, records: Vec<Record>) -> Self {
        self.resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(resource.to_owned(), records);
        self
    }

    /// Provider calls so far, reads and writes.
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// Makes every write fail with a 500 (to exercise rollbacks).
    pub fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::Relaxed);
    }

    /// The records of a resource as stored now.
    pub fn records(&self, resource: &str) -> Vec<Record> {
        self.resources
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(resource)
            .cloned()
            .unwrap_or_default()
    }

    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Vec<Record>>) -> DataResult<T>,
    ) -> BoxFuture<DataResult<T>> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let result = f(&mut self.resources.lock().unwrap_or_else(|p| p.into_inner()));
        Box::pin(async move { result })
    }

    fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut BTreeMap<String, Vec<Record>>) -> DataResult<T>,
    ) -> BoxFuture<DataResult<T>> {
        if self.fail_writes.load(Ordering::Relaxed) {
            return self.run(|_| Err(HttpError::new(500, "write failed (simulated)")));
        }
        self.run(f)
    }
}

fn id_of(r: &Record) -> Option<Id> {
    Id::of(r)
}

fn not_found(resource: &str, id: &Id) -> HttpError {
    HttpError::new(404, format!("{resource} {id} not found"))
}

fn text(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

fn compare(a: &Value, b: &Value) -> CmpOrdering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(CmpOrdering::Equal),
        _ => text(a).cmp(&text(b)),
    }
}

fn matches(r: &Record, params: &ListParams) -> bool {
    let field = |name: &str| r.get(name).cloned().unwrap_or(Value::Null);
    let eq_groups = |op: FilterOp| {
        let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for f in params.filters.iter().filter(|f| f.op == op) {
            groups.entry(&f.field).or_default().push(&f.value);
        }
        groups
    };
    let any_of = eq_groups(FilterOp::Eq)
        .iter()
        .all(|(f, vs)| vs.contains(&text(&field(f)).as_str()));
    let none_of = eq_groups(FilterOp::Ne)
        .iter()
        .all(|(f, vs)| !vs.contains(&text(&field(f)).as_str()));
    let others = params.filters.iter().all(|f| {
        let v = field(&f.field);
        let target = Value::from(f.value.clone());
        let target = f.value.parse::<f64>().map_or(target, Value::from);
        match f.op {
            FilterOp::Gte => compare(&v, &target) != CmpOrdering::Less,
            FilterOp::Lte => compare(&v, &target) != CmpOrdering::Greater,
            FilterOp::Like => text(&v).to_lowercase().contains(&f.value.to_lowercase()),
            FilterOp::Eq | FilterOp::Ne => true,
        }
    });
    let q = params.q.as_ref().is_none_or(|q| {
        r.as_object().is_some_and(|o| {
            o.values()
                .any(|v| v.is_string() && text(v).to_lowercase().contains(&q.to_lowercase()))
        })
    });
    any_of && none_of && others && q
}

impl DataProvider for MemoryDataProvider {
    fn get_list(&self, resource: &str, params: ListParams) -> BoxFuture<DataResult<ListResult>> {
        let resource = resource.to_owned();
        self.run(move |db| {
            let mut rows: Vec<Record> = db
                .get(&resource)
                .into_iter()
                .flatten()
                .filter(|r| matches(r, &params))
                .cloned()
                .collect();
            rows.sort_by(|a, b| {
                params
                    .sorters
                    .iter()
                    .map(|s| {
                        let o = compare(&a[&s.field], &b[&s.field]);
                        if s.order == Order::Desc {
                            o.reverse()
                        } else {
                            o
                        }
                    })
                    .find(|o| *o != CmpOrdering::Equal)
                    .unwrap_or_else(|| id_of(a).cmp(&id_of(b)))
            });
            let total = rows.len() as u64;
            let data = match params.range {
                Some((start, end)) => rows
                    .into_iter()
                    .skip(start as usize)
                    .take((end - start) as usize)
                    .collect(),
                None => rows,
            };
            Ok(ListResult { data, total })
        })
    }

    fn get_many(&self, resource: &str, ids: Vec<Id>) -> BoxFuture<DataResult<Vec<Record>>> {
        let resource = resource.to_owned();
        self.run(move |db| {
            Ok(db
                .get(&resource)
                .into_iter()
                .flatten()
                .filter(|r| id_of(r).is_some_and(|id| ids.contains(&id)))
                .cloned()
                .collect())
        })
    }

    fn get_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        let resource = resource.to_owned();
        self.run(move |db| {
            db.get(&resource)
                .into_iter()
                .flatten()
                .find(|r| id_of(r).as_ref() == Some(&id))
                .cloned()
                .ok_or_else(|| not_found(&resource, &id))
        })
    }

    fn create(&self, resource: &str, data: Record) -> BoxFuture<DataResult<Record>> {
        let resource = resource.to_owned();
        self.write(move |db| {
            let rows = db.entry(resource.clone()).or_default();
            let mut record = data;
            // String-keyed resources bring their own id; integer ones get the next number.
            if id_of(&record).is_none() {
                let next = rows
                    .iter()
                    .filter_map(|r| id_of(r)?.as_int())
                    .max()
                    .unwrap_or(0)
                    + 1;
                record["id"] = json!(next);
            } else if rows.iter().any(|r| id_of(r) == id_of(&record)) {
                return Err(HttpError::new(
                    409,
                    format!("{resource} {} already exists", record["id"]),
                ));
            }
            record["version"] = json!(1);
            rows.push(record.clone());
            Ok(record)
        })
    }

    fn update(&self, resource: &str, id: Id, data: Record) -> BoxFuture<DataResult<Record>> {
        let resource = resource.to_owned();
        self.write(move |db| {
            let record = db
                .get_mut(&resource)
                .and_then(|rows| rows.iter_mut().find(|r| id_of(r).as_ref() == Some(&id)))
                .ok_or_else(|| not_found(&resource, &id))?;
            let current = record["version"].as_i64().unwrap_or(1);
            if let Some(expected) = data.get("version").and_then(Value::as_i64) {
                if expected != current {
                    let mut e = HttpError::new(409, "version conflict");
                    e.current = Some(record.clone());
                    return Err(e);
                }
            }
            if let Some(fields) = data.as_object() {
                for (k, v) in fields.iter().filter(|(k, _)| *k != "id" && *k != "version") {
                    record[k] = v.clone();
                }
            }
            record["version"] = json!(current + 1);
            Ok(record.clone())
        })
    }

    fn delete_one(&self, resource: &str, id: Id) -> BoxFuture<DataResult<Record>> {
        let resource = resource.to_owned();
        self.write(move |db| {
            let rows = db
                .get_mut(&resource)
                .ok_or_else(|| not_found(&resource, &id))?;
            let pos = rows
                .iter()
                .position(|r| id_of(r).as_ref() == Some(&id))
                .ok_or_else(|| not_found(&resource, &id))?;
            Ok(rows.remove(pos))
        })
    }
}
