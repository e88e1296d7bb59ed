//! Records as the REST dialect sends them, and one page of a list.
//!
//! A record is a JSON object with at least `id`, `created_at`, `updated_at` and an integer
//! `version`; its other fields belong to the resource. Keeping records as JSON lets one
//! provider, one cache and one event path serve every resource an app declares.

use serde::{Deserialize, Serialize};

/// A record: a JSON object.
pub type Record = serde_json::Value;

/// One page of a list and the total number of matching rows (`x-total-count`).
///
/// ```
/// use herald_protocol::ListResult;
/// let r = ListResult { data: vec![serde_json::json!({"id": 1})], total: 7 };
/// assert_eq!(r.data.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListResult {
    pub data: Vec<Record>,
    pub total: u64,
}

/// A record's `version`, if it carries one.
///
/// ```
/// assert_eq!(herald_protocol::record::version(&serde_json::json!({"version": 3})), Some(3));
/// ```
pub fn version(record: &Record) -> Option<i64> {
    record.get("version").and_then(serde_json::Value::as_i64)
}
