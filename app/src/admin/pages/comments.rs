//! All comments, newest first, live; filter by post.

use crate::admin::components::UserName;
use crate::admin::format::{field, id, short_date};
use herald_framework::hooks::{use_table, QueryOptions, TableOptions};
use herald_framework::query::FilterOp;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// `/comments`.
#[component]
pub fn CommentsPage() -> impl IntoView {
    let table = use_table(
        "comments",
        TableOptions {
            page_size: 20,
            query: QueryOptions::default(),
            ..TableOptions::default()
        },
    );
    let post = move || {
        table
            .filter_value("post_id", FilterOp::Eq)
            .unwrap_or_default()
    };
    view! {
        <Title text="Comments · Herald"/>
        <section class="comments-page">
            <div class="page-head"><h1>"Comments"</h1></div>
            <div class="toolbar">
                <label>"Post # "
                    <input type="number" min="1" prop:value=post placeholder="any"
                        on:change=move |ev| table.set_filter("post_id", FilterOp::Eq, Some(event_target_value(&ev)))/>
                </label>
            </div>
            <Transition fallback=|| view! { <p class="loading">"Loading comments…"</p> }>
                {move || table.query.data.get().map(|list| {
                    if list.data.is_empty() {
                        return view! { <p class="empty">"No comments."</p> }.into_any();
                    }
                    view! {
                        <table class="table" data-testid="comments-table">
                            <thead><tr><th>"ID"</th><th>"Post"</th><th>"Comment"</th><th>"Author"</th><th>"Created"</th></tr></thead>
                            <tbody>
                                <For each=move || list.data.clone() key=|c| (id(c), field(c, "version")) let:c>
                                    <tr>
                                        <td class="num">{id(&c).to_string()}</td>
                                        <td><A href=format!("/posts/{}", field(&c, "post_id"))>{format!("#{}", field(&c, "post_id"))}</A></td>
                                        <td>{field(&c, "body")}</td>
                                        <td><UserName id=field(&c, "author_id")/></td>
                                        <td class="date">{short_date(&field(&c, "created_at"))}</td>
                                    </tr>
                                </For>
                            </tbody>
                        </table>
                    }
                    .into_any()
                })}
            </Transition>
            <nav class="pager">
                <button type="button" class="secondary" disabled=move || table.page.get() <= 1 on:click=move |_| table.set_page(table.page.get_untracked() - 1)>"← Previous"</button>
                <span class="page-info">{move || format!("Page {} of {}", table.page.get(), table.page_count.get())}</span>
                <button type="button" class="secondary" disabled=move || { table.page.get() >= table.page_count.get() } on:click=move |_| table.set_page(table.page.get_untracked() + 1)>"Next →"</button>
            </nav>
        </section>
    }
}
