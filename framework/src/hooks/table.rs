//! `use_table`: a live list whose page, page size, sorters, filters and search live in the
//! URL query (`?page=2&size=20&_sort=title&_order=asc&status=draft&q=rust`), so a reload
//! or a shared link shows the same view, and back/forward walk through views.

use super::query::{use_list, QueryOptions, UseQuery};
use crate::data::ListResult;
use crate::query::{decode_pairs, encode_pairs, Filter, FilterOp, ListParams, Order, Sorter};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
#[cfg(target_arch = "wasm32")]
use leptos_router::{
    hooks::{use_location, use_navigate},
    NavigateOptions,
};
use std::sync::Arc;

/// Defaults of a table view (what an empty URL shows).
#[derive(Clone)]
pub struct TableOptions {
    pub page_size: u64,
    pub sorters: Vec<Sorter>,
    pub query: QueryOptions,
}

impl Default for TableOptions {
    fn default() -> Self {
        Self {
            page_size: 10,
            sorters: vec![Sorter {
                field: "id".into(),
                order: Order::Desc,
            }],
            query: QueryOptions::default(),
        }
    }
}

/// Navigates to the current path with a new query string. Browser only: the server
/// renders once and never navigates, so it has none.
type Navigator = Arc<dyn Fn(&str) + Send + Sync>;

/// URL keys the table owns besides the simple-rest ones.
const PAGE: &str = "page";
const SIZE: &str = "size";

/// A table's view state (from the URL) and its live data.
#[derive(Clone, Copy)]
pub struct UseTable {
    pub page: Memo<u64>,
    pub page_size: Memo<u64>,
    pub sorters: Memo<Vec<Sorter>>,
    pub filters: Memo<Vec<Filter>>,
    pub search: Memo<Option<String>>,
    /// The full getList parameters.
    pub params: Memo<ListParams>,
    pub query: UseQuery<ListResult>,
    /// Number of pages (at least 1).
    pub page_count: Signal<u64>,
    default_size: u64,
    navigate: StoredValue<Option<Navigator>>,
}

/// A live, URL-synced table of `resource`.
///
/// ```no_run
/// use herald_framework::hooks::{use_table, TableOptions};
/// let table = use_table("posts", TableOptions::default());
/// table.toggle_sort("title");
/// table.set_filter("status", herald_framework::query::FilterOp::Eq, Some("draft".into()));
/// ```
pub fn use_table(resource: impl Into<String>, options: TableOptions) -> UseTable {
    let default_size = options.page_size;
    let url = use_query_map();
    let view = Memo::new(move |_| {
        let query = url.read().to_query_string();
        let pairs = decode_pairs(query.trim_start_matches('?'));
        parse_view(pairs, &options.sorters, options.page_size)
    });
    let page = Memo::new(move |_| view.read().0);
    let page_size = Memo::new(move |_| view.read().1);
    let base = Memo::new(move |_| view.read().2.clone());
    let sorters = Memo::new(move |_| base.read().sorters.clone());
    let filters = Memo::new(move |_| base.read().filters.clone());
    let search = Memo::new(move |_| base.read().q.clone());
    let params = Memo::new(move |_| base.get().page(page.get(), page_size.get()));
    let query = use_list(resource, Signal::from(params), options.query);
    let page_count = Signal::derive(move || {
        query
            .data
            .read()
            .as_ref()
            .map_or(1, |l| l.total.div_ceil(page_size.get().max(1)).max(1))
    });
    UseTable {
        page,
        page_size,
        sorters,
        filters,
        search,
        params,
        query,
        page_count,
        default_size,
        navigate: StoredValue::new(navigator()),
    }
}

#[cfg(target_arch = "wasm32")]
fn navigator() -> Option<Navigator> {
    let location = use_location();
    // The router's navigate closure is not `Send`; the browser has one thread.
    let go = send_wrapper::SendWrapper::new(use_navigate());
    Some(Arc::new(move |search: &str| {
        let path = location.pathname.get_untracked();
        let to = if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        };
        (*go)(
            &to,
            NavigateOptions {
                scroll: false,
                ..Default::default()
            },
        );
    }))
}

#[cfg(not(target_arch = "wasm32"))]
fn navigator() -> Option<Navigator> {
    None
}

/// (page, size, params without range) from URL pairs; bad values fall back to defaults.
fn parse_view(
    pairs: Vec<(String, String)>,
    default_sort: &[Sorter],
    default_size: u64,
) -> (u64, u64, ListParams) {
    let number = |key: &str, default: u64| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(default)
    };
    let (page, size) = (number(PAGE, 1), number(SIZE, default_size).min(100));
    let rest: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != PAGE && k != SIZE && k != "_start" && k != "_end")
        .cloned()
        .collect();
    let mut params = ListParams::from_pairs(rest).unwrap_or_default();
    if params.sorters.is_empty() {
        params.sorters = default_sort.to_vec();
    }
    (page, size, params)
}

impl UseTable {
    fn push(&self, page: u64, size: u64, params: ListParams) {
        let mut pairs = params.to_pairs();
        if page > 1 {
            pairs.push((PAGE.into(), page.to_string()));
        }
        if size != self.default_size {
            pairs.push((SIZE.into(), size.to_string()));
        }
        let query = encode_pairs(&pairs);
        if let Some(navigate) = self.navigate.get_value() {
            navigate(&query);
        }
    }

    fn base(&self) -> ListParams {
        ListParams {
            range: None,
            ..self.params.get_untracked()
        }
    }

    /// Goes to page `page` (1-based).
    pub fn set_page(&self, page: u64) {
        self.push(page.max(1), self.page_size.get_untracked(), self.base());
    }

    /// Changes the page size (back to page 1).
    pub fn set_page_size(&self, size: u64) {
        self.push(1, size.clamp(1, 100), self.base());
    }

    /// Sorts by `field`: ascending, then descending on a second click.
    pub fn toggle_sort(&self, field: &str) {
        let mut params = self.base();
        let order = match params.sorters.first() {
            Some(s) if s.field == field && s.order == Order::Asc => Order::Desc,
            _ => Order::Asc,
        };
        params.sorters = vec![Sorter {
            field: field.into(),
            order,
        }];
        self.push(1, self.page_size.get_untracked(), params);
    }

    /// Sets (or with `None` clears) the filter `field op value`; back to page 1.
    pub fn set_filter(&self, field: &str, op: FilterOp, value: Option<String>) {
        let mut params = self.base();
        params.filters.retain(|f| !(f.field == field && f.op == op));
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            params.filters.push(Filter::new(field, op, v));
        }
        self.push(1, self.page_size.get_untracked(), params);
    }

    /// Sets the full-text search; back to page 1.
    pub fn set_search(&self, q: Option<String>) {
        let mut params = self.base();
        params.q = q.filter(|q| !q.trim().is_empty());
        self.push(1, self.page_size.get_untracked(), params);
    }

    /// The value of the filter `field op`, if set.
    pub fn filter_value(&self, field: &str, op: FilterOp) -> Option<String> {
        self.filters
            .read()
            .iter()
            .find(|f| f.field == field && f.op == op)
            .map(|f| f.value.clone())
    }
}
