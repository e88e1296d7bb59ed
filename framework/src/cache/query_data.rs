//! What a query holds ([`QueryData`]: a page, some records, one record) and how an
//! optimistic update edits one record inside it wherever it appears.
//!
//! Pure data: it must not know keys, entries, fetch states or providers.

use crate::data::{ListResult, Record};
use crate::Id;
use serde::{Deserialize, Serialize};

/// A query's data.
///
/// ```
/// use herald_framework::cache::QueryData;
/// let one = QueryData::One(serde_json::json!({"id": 1, "title": "a"}));
/// assert!(matches!(one, QueryData::One(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum QueryData {
    /// getList: a page plus the total.
    List(ListResult),
    /// getMany: the records found.
    Many(Vec<Record>),
    /// getOne: the record.
    One(Record),
}

impl QueryData {
    /// Edits record `id` inside this data; `true` if it was there. `edit` returning
    /// `false` removes the record from a page (lowering its total) or from a many-result; a
    /// single record is kept (its query learns of a deletion from the server).
    ///
    /// ```
    /// use herald_framework::cache::QueryData;
    /// let mut many = QueryData::Many(vec![serde_json::json!({"id": 1}), serde_json::json!({"id": 2})]);
    /// assert!(many.patch(&1.into(), |_| false));
    /// assert_eq!(many, QueryData::Many(vec![serde_json::json!({"id": 2})]));
    /// assert!(!many.patch(&7.into(), |_| true), "not there");
    /// ```
    pub fn patch(&mut self, id: &Id, edit: impl Fn(&mut Record) -> bool) -> bool {
        let is = |r: &Record| Id::of(r).as_ref() == Some(id);
        let patch_vec = |rows: &mut Vec<Record>| -> bool {
            let Some(pos) = rows.iter().position(is) else {
                return false;
            };
            if !edit(&mut rows[pos]) {
                rows.remove(pos);
            }
            true
        };
        match self {
            QueryData::List(list) => {
                let before = list.data.len();
                let hit = patch_vec(&mut list.data);
                list.total = list.total.saturating_sub((before - list.data.len()) as u64);
                hit
            }
            QueryData::Many(rows) => patch_vec(rows),
            QueryData::One(record) if is(record) => {
                edit(record);
                true
            }
            QueryData::One(_) => false,
        }
    }
}
