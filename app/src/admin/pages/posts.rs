//! The posts list: a table of posts (newest first), ten a page, with prev/next links that
//! keep the page in the URL (`/posts?page=2`).

use crate::admin::context::{sendable, use_data_provider};
use crate::framework::data::{ListResult, Record};
use crate::framework::query::{ListParams, Order};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

/// Rows per page.
const PAGE_SIZE: u64 = 10;

/// The list of posts.
#[component]
pub fn PostsPage() -> impl IntoView {
    let data = use_data_provider();
    let query = use_query_map();
    let page = Memo::new(move |_| page_number(query.read().get("page").as_deref()));
    let posts = Resource::new(
        move || page.get(),
        move |page| {
            let params = ListParams::default()
                .page(page, PAGE_SIZE)
                .sort("id", Order::Desc);
            sendable(data.get_list("posts", params))
        },
    );

    view! {
        <Title text="Posts · Herald"/>
        <section class="posts">
            <h1>"Posts"</h1>
            <Transition fallback=|| view! { <p class="loading">"Loading posts…"</p> }>
                {move || Suspend::new(async move {
                    match posts.await {
                        Ok(list) => view! { <PostsTable list page=page.get_untracked()/> }.into_any(),
                        Err(e) => view! {
                            <p class="error" role="alert">"Could not load the posts: " {e.message}</p>
                        }
                        .into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// One page of posts and the pager under it.
#[component]
fn PostsTable(list: ListResult, page: u64) -> impl IntoView {
    let pages = list.total.div_ceil(PAGE_SIZE).max(1);
    let rows = list
        .data
        .iter()
        .map(|post| {
            let status = field(post, "status");
            let badge = format!("badge badge-{}", status_class(&status));
            view! {
                <tr>
                    <td class="num">{field(post, "id")}</td>
                    <td class="title">{field(post, "title")}</td>
                    <td><span class=badge>{status}</span></td>
                    <td>{field(post, "category")}</td>
                    <td class="date">{short_date(&field(post, "updated_at"))}</td>
                </tr>
            }
        })
        .collect_view();

    view! {
        <table class="table">
            <thead>
                <tr>
                    <th class="num">"ID"</th>
                    <th>"Title"</th>
                    <th>"Status"</th>
                    <th>"Category"</th>
                    <th>"Updated"</th>
                </tr>
            </thead>
            <tbody>
                {rows}
            </tbody>
        </table>
        {list.data.is_empty().then(|| view! { <p class="empty">"No posts on this page."</p> })}
        <nav class="pager" aria-label="Pages">
            <PageLink page=page.saturating_sub(1) enabled={page > 1} rel="prev" label="← Previous"/>
            <span class="page-info">
                {format!("Page {page} of {pages} · {} posts", list.total)}
            </span>
            <PageLink page=page + 1 enabled={page < pages} rel="next" label="Next →"/>
        </nav>
    }
}

/// A pager link, or a dimmed label where there is no such page.
#[component]
fn PageLink(page: u64, enabled: bool, rel: &'static str, label: &'static str) -> impl IntoView {
    if enabled {
        let href = format!("/posts?page={page}");
        view! { <A href=href attr:class="button secondary" attr:rel=rel>{label}</A> }.into_any()
    } else {
        view! { <span class="button secondary disabled" aria-disabled="true">{label}</span> }
            .into_any()
    }
}

/// The 1-based page from `?page=`, 1 when absent or not a positive number.
fn page_number(raw: Option<&str>) -> u64 {
    raw.and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p >= 1)
        .unwrap_or(1)
}

/// A field as display text: strings as they are, other JSON as JSON, nothing for null.
fn field(record: &Record, name: &str) -> String {
    match record.get(name) {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The CSS modifier for a status; unknown values get a neutral one.
fn status_class(status: &str) -> &'static str {
    match status {
        "draft" => "draft",
        "published" => "published",
        "rejected" => "rejected",
        _ => "other",
    }
}

/// `2026-11-30T12:00:00.123Z` → `2026-11-30 12:00`; anything else unchanged.
fn short_date(iso: &str) -> String {
    match (iso.get(..10), iso.get(11..16)) {
        (Some(date), Some(time)) if iso.as_bytes().get(10) == Some(&b'T') => {
            format!("{date} {time}")
        }
        _ => iso.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_numbers_default_to_one() {
        assert_eq!(page_number(None), 1);
        assert_eq!(page_number(Some("0")), 1);
        assert_eq!(page_number(Some("-3")), 1);
        assert_eq!(page_number(Some("abc")), 1);
        assert_eq!(page_number(Some("3")), 3);
    }

    #[test]
    fn fields_render_as_text() {
        let r = serde_json::json!({"id": 7, "title": "Hi", "category": null});
        assert_eq!(field(&r, "id"), "7");
        assert_eq!(field(&r, "title"), "Hi");
        assert_eq!(field(&r, "category"), "");
        assert_eq!(field(&r, "missing"), "");
    }

    #[test]
    fn dates_are_shortened_safely() {
        assert_eq!(short_date("2026-11-30T12:00:00.123Z"), "2026-11-30 12:00");
        assert_eq!(short_date("yesterday"), "yesterday");
        assert_eq!(short_date("2026-11-30Tü"), "2026-11-30Tü");
    }
}
