//! The posts list: a live table with pagination, page size, sortable columns, a status
//! filter and title search, all in the URL. In `Auto` rows change as others write; the
//! `Manual` switch shows "N new changes — Refresh / Dismiss" instead. A quick status
//! toggle writes optimistically; delete asks first and can be undone for five seconds.

use crate::admin::components::{use_online, use_toasts};
use crate::admin::format::{field, id, next_status, short_date, status_class};
use herald_framework::data::{ListResult, Record};
use herald_framework::hooks::{
    use_delete, use_table, use_update, QueryOptions, TableOptions, UseTable,
};
use herald_framework::live_query::LiveMode;
use herald_framework::mutation::MutationMode;
use herald_framework::query::{FilterOp, Order};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde_json::json;
use std::time::Duration;

/// How long a delete can be undone.
const UNDO_FOR: Duration = Duration::from_secs(5);
const PAGE_SIZES: [u64; 4] = [5, 10, 20, 50];

/// The list page: the mode switch, and the table in that mode.
#[component]
pub fn PostsPage() -> impl IntoView {
    let manual = RwSignal::new(false);
    view! {
        <Title text="Posts · Herald"/>
        <section class="posts">
            <div class="page-head">
                <h1>"Posts"</h1>
                <label class="switch">
                    <input type="checkbox" prop:checked=move || manual.get()
                        on:change=move |ev| manual.set(event_target_checked(&ev))/>
                    " Manual updates"
                </label>
                <A href="/posts/create" attr:class="button">"New post"</A>
            </div>
            // Re-created on a mode switch: the hook's live mode is fixed at creation.
            {move || {
                let mode = if manual.get() { LiveMode::Manual } else { LiveMode::Auto };
                view! { <PostsTable mode/> }
            }}
        </section>
    }
}

#[component]
fn PostsTable(mode: LiveMode) -> impl IntoView {
    let changes = RwSignal::new(0_usize);
    let mut query = QueryOptions::mode(mode);
    if mode == LiveMode::Manual {
        query = query.on_event(move |e| {
            if matches!(e.kind.as_str(), "created" | "updated" | "deleted") {
                changes.try_update(|c| *c += 1);
            }
        });
    }
    let table = use_table(
        "posts",
        TableOptions {
            query,
            ..TableOptions::default()
        },
    );
    view! {
        <Show when=move || { changes.get() > 0 }>
            <div class="banner info" role="status" data-testid="changes-banner">
                {move || format!("{} new change{}", changes.get(), if changes.get() == 1 { "" } else { "s" })}
                " — "
                <button type="button" class="link" on:click=move |_| { table.query.refetch(); changes.set(0); }>"Refresh"</button>
                " / "
                <button type="button" class="link" on:click=move |_| changes.set(0)>"Dismiss"</button>
            </div>
        </Show>
        <Toolbar table/>
        <Transition fallback=Skeleton>
            {move || table.query.data.get().map(|list| view! { <Rows table list/> })}
            {move || table.query.error.get().map(|e| view! { <p class="error" role="alert">"Could not load the posts: " {e.message}</p> })}
        </Transition>
        <Pager table/>
    }
}

/// Search, status filter and page size.
#[component]
fn Toolbar(table: UseTable) -> impl IntoView {
    let status = move || {
        table
            .filter_value("status", FilterOp::Eq)
            .unwrap_or_default()
    };
    let search = NodeRef::<leptos::html::Input>::new();
    view! {
        <div class="toolbar">
            <form class="search" on:submit=move |ev| {
                ev.prevent_default();
                table.set_search(search.get().map(|input| input.value()));
            }>
                <label for="q" class="sr-only">"Search"</label>
                <input id="q" node_ref=search type="search" placeholder="Search…" prop:value=move || table.search.get().unwrap_or_default()/>
                <button type="submit" class="secondary">"Search"</button>
            </form>
            <label>"Status "
                <select prop:value=status on:change=move |ev| table.set_filter("status", FilterOp::Eq, Some(event_target_value(&ev)))>
                    <option value="">"All"</option>
                    <option value="draft">"Draft"</option>
                    <option value="published">"Published"</option>
                    <option value="rejected">"Rejected"</option>
                </select>
            </label>
            <label>"Per page "
                <select prop:value=move || table.page_size.get().to_string()
                    on:change=move |ev| table.set_page_size(event_target_value(&ev).parse().unwrap_or(10))>
                    {PAGE_SIZES.iter().map(|n| view! { <option value=n.to_string()>{n.to_string()}</option> }).collect_view()}
                </select>
            </label>
        </div>
    }
}

/// Loading placeholder rows.
#[component]
fn Skeleton() -> impl IntoView {
    view! {
        <div class="skeleton" aria-busy="true" aria-label="Loading">
            {(0..5).map(|_| view! { <div class="skeleton-row"></div> }).collect_view()}
        </div>
    }
}

/// A sortable column header.
#[component]
fn SortHeader(table: UseTable, field: &'static str, label: &'static str) -> impl IntoView {
    // This column's direction, if the table is sorted by it.
    let order = move || {
        table
            .sorters
            .read()
            .first()
            .filter(|s| s.field == field)
            .map(|s| s.order)
    };
    let arrow = move || match order() {
        Some(Order::Asc) => " ▲",
        Some(Order::Desc) => " ▼",
        None => "",
    };
    let sort = move || match order() {
        Some(Order::Asc) => "ascending",
        Some(Order::Desc) => "descending",
        None => "none",
    };
    view! {
        <th aria-sort=sort>
            <button type="button" class="sort" on:click=move |_| table.toggle_sort(field)>{label}{arrow}</button>
        </th>
    }
}

#[component]
fn Rows(table: UseTable, list: ListResult) -> impl IntoView {
    if list.data.is_empty() {
        return view! { <p class="empty">"No posts match. Try another filter, or create one."</p> }
            .into_any();
    }
    view! {
        <table class="table">
            <thead>
                <tr>
                    <SortHeader table field="id" label="ID"/>
                    <SortHeader table field="title" label="Title"/>
                    <SortHeader table field="status" label="Status"/>
                    <SortHeader table field="category" label="Category"/>
                    <SortHeader table field="updated_at" label="Updated"/>
                    <th><span class="sr-only">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                <For each=move || list.data.clone() key=|p| (id(p), field(p, "version")) let:post>
                    <Row post/>
                </For>
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn Row(post: Record) -> impl IntoView {
    let online = use_online();
    let toasts = use_toasts();
    let update = use_update("posts", MutationMode::Optimistic);
    let delete = use_delete("posts", MutationMode::Undoable(UNDO_FOR));
    let confirming = RwSignal::new(false);
    let post_id = id(&post);
    let status = field(&post, "status");
    let title = field(&post, "title");
    let toggle = {
        let (status, post_id) = (status.clone(), post_id.clone());
        move |_| {
            update.update(post_id.clone(), json!({ "status": next_status(&status) }));
        }
    };
    let remove = {
        let (title, post_id) = (title.clone(), post_id.clone());
        move |_| {
            if !confirming.get_untracked() {
                confirming.set(true);
                set_timeout(
                    move || confirming.try_set(false).map_or((), drop),
                    Duration::from_secs(3),
                );
                return;
            }
            let undo = delete.delete(post_id.clone());
            toasts.with_action(format!("Deleted “{title}”"), "Undo", move || {
                undo.undo();
            });
        }
    };
    Effect::new(move |_| {
        if let Some(e) = update.error.get().or_else(|| delete.error.get()) {
            toasts.error(format!("Could not save: {}", e.message));
        }
    });
    view! {
        <tr data-id=post_id.to_string()>
            <td class="num">{post_id.to_string()}</td>
            <td class="title"><A href=format!("/posts/{post_id}")>{title}</A></td>
            <td>
                <button type="button" class=format!("badge badge-{}", status_class(&status)) title="Change status"
                    disabled=move || !online.get() on:click=toggle>{status.clone()}</button>
            </td>
            <td>{field(&post, "category")}</td>
            <td class="date">{short_date(&field(&post, "updated_at"))}</td>
            <td class="actions">
                <A href=format!("/posts/{post_id}/edit") attr:class="button secondary small">"Edit"</A>
                <button type="button" class="danger small" disabled=move || !online.get() on:click=remove>
                    {move || if confirming.get() { "Confirm delete" } else { "Delete" }}
                </button>
            </td>
        </tr>
    }
}

#[component]
fn Pager(table: UseTable) -> impl IntoView {
    let page = table.page;
    let total = move || table.query.data.read().as_ref().map_or(0, |l| l.total);
    view! {
        <nav class="pager" aria-label="Pages">
            <button type="button" class="secondary" data-rel="prev" disabled=move || page.get() <= 1
                on:click=move |_| table.set_page(page.get_untracked() - 1)>"← Previous"</button>
            <span class="page-info">{move || format!("Page {} of {} · {} posts", page.get(), table.page_count.get(), total())}</span>
            <button type="button" class="secondary" data-rel="next" disabled=move || { page.get() >= table.page_count.get() }
                on:click=move |_| table.set_page(page.get_untracked() + 1)>"Next →"</button>
        </nav>
    }
}
