//! A post: its live detail, its live comments, a comment box with typing indicators, and
//! who else is viewing it.

use crate::admin::components::{
    use_online, use_toasts, use_typing_publisher, PresenceAvatars, TypingIndicator, UserName,
};
use crate::admin::format::{field, id, short_date, status_class};
use herald_framework::auth::Identity;
use herald_framework::hooks::{use_create, use_list, use_route_id, use_show, QueryOptions};
use herald_framework::query::{FilterOp, ListParams, Order};
use herald_framework::Id;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use serde_json::json;

/// `/posts/:id`.
#[component]
pub fn PostShowPage() -> impl IntoView {
    let me = expect_context::<Identity>();
    let post_id = use_route_id();
    let post = use_show("posts", QueryOptions::default());
    let presence = Signal::derive(move || format!("presence/posts/{}", post_id.get()));
    view! {
        <Transition fallback=|| view! { <div class="skeleton"><div class="skeleton-row"></div></div> }>
            {move || post.error.get().map(|e| view! {
                <section class="missing">
                    <h1>{if e.status_code == 404 { "This post does not exist (any more)." } else { "Could not load the post." }}</h1>
                    <p>{e.message}</p>
                    <A href="/posts">"Back to posts"</A>
                </section>
            })}
            {move || post.data.get().map(|p| {
                let pid = id(&p);
                let status = field(&p, "status");
                view! {
                    <Title text=format!("{} · Herald", field(&p, "title"))/>
                    <article class="post">
                        <div class="page-head">
                            <h1 data-testid="post-title">{field(&p, "title")}</h1>
                            <span class=format!("badge badge-{}", status_class(&status))>{status.clone()}</span>
                        </div>
                        <p class="meta">{format!("#{pid} · {} · updated {} · version {}", field(&p, "category"), short_date(&field(&p, "updated_at")), field(&p, "version"))}</p>
                        <div class="content-body">{field(&p, "content")}</div>
                        <div class="actions">
                            <A href=format!("/posts/{pid}/edit") attr:class="button">"Edit"</A>
                            <A href=format!("/posts/{pid}/clone") attr:class="button secondary">"Clone"</A>
                        </div>
                    </article>
                }
            })}
        </Transition>
        <PresenceAvatars channel=presence label="Viewing"/>
        <Comments post_id me/>
    }
}

/// The post's comments (live) and the comment box.
#[component]
fn Comments(post_id: Memo<Id>, me: Identity) -> impl IntoView {
    let params = Signal::derive(move || {
        ListParams::default()
            .filter("post_id", FilterOp::Eq, post_id.get().to_string())
            .sort("id", Order::Asc)
    });
    let comments = use_list("comments", params, QueryOptions::default());
    let typing_channel = Signal::derive(move || format!("typing/posts/{}", post_id.get()));
    view! {
        <section class="comments">
            <h2>"Comments"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading comments…"</p> }>
                {move || comments.data.get().map(|list| {
                    if list.data.is_empty() {
                        return view! { <p class="empty">"No comments yet. Be the first."</p> }.into_any();
                    }
                    view! {
                        <ul class="comment-list" data-testid="comments">
                            <For each=move || list.data.clone() key=|c| (id(c), field(c, "version")) let:c>
                                <li>
                                    <span class="who"><UserName id=field(&c, "author_id")/></span>
                                    <span class="when">{short_date(&field(&c, "created_at"))}</span>
                                    <p>{field(&c, "body")}</p>
                                </li>
                            </For>
                        </ul>
                    }
                    .into_any()
                })}
            </Transition>
            <TypingIndicator channel=typing_channel me/>
            <CommentBox post_id typing_channel/>
        </section>
    }
}

#[component]
fn CommentBox(post_id: Memo<Id>, typing_channel: Signal<String>) -> impl IntoView {
    let online = use_online();
    let toasts = use_toasts();
    let body = RwSignal::new(String::new());
    let create = use_create("comments");
    let (typing, stopped) = use_typing_publisher(typing_channel);
    let send = {
        let stopped = stopped.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let text = body.get_untracked();
            if text.trim().is_empty() {
                return;
            }
            create.create(json!({"post_id": post_id.get_untracked(), "body": text}));
            body.set(String::new());
            stopped();
        }
    };
    Effect::new(move |_| {
        if let Some(e) = create.error.get() {
            toasts.error(format!("Comment not sent: {}", e.message));
        }
    });
    view! {
        <form class="comment-box" on:submit=send>
            <label for="comment">"Add a comment"</label>
            <textarea id="comment" rows="3" prop:value=move || body.get()
                on:input=move |ev| { body.set(event_target_value(&ev)); typing(); }
                on:blur=move |_| stopped()></textarea>
            <button type="submit" disabled=move || !online.get() || create.pending.get()>"Comment"</button>
        </form>
    }
}
