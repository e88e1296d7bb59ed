//! Create, edit and clone forms for posts. Server validation errors appear on their
//! fields. Edit runs in `Manual` live mode: when someone else saves, a banner offers
//! "Load latest" or "Keep my changes"; saving a stale version meets the same choice (409).

use crate::admin::components::{use_online, PresenceAvatars};
use crate::admin::format::id;
use herald_framework::hooks::{use_form, use_route_id, FormAction, UseForm};
use herald_framework::live::LiveEvent;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;

/// `/posts/create`.
#[component]
pub fn PostCreatePage() -> impl IntoView {
    view! { <PostForm action=FormAction::Create/> }
}

/// `/posts/:id/edit`.
#[component]
pub fn PostEditPage() -> impl IntoView {
    let id = use_route_id();
    move || view! { <PostForm action=FormAction::Edit(id.get())/> }
}

/// `/posts/:id/clone`.
#[component]
pub fn PostClonePage() -> impl IntoView {
    let id = use_route_id();
    move || view! { <PostForm action=FormAction::Clone(id.get())/> }
}

#[component]
fn PostForm(action: FormAction) -> impl IntoView {
    let form = use_form("posts", action.clone());
    let online = use_online();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(saved) = form.saved.get() {
            navigate(&format!("/posts/{}", id(&saved)), Default::default());
        }
    });
    let heading = match &action {
        FormAction::Create => "New post".to_owned(),
        FormAction::Edit(id) => format!("Edit post #{id}"),
        FormAction::Clone(id) => format!("Clone of post #{id}"),
    };
    let editing = match &action {
        FormAction::Edit(id) => Some(
            view! { <PresenceAvatars channel=format!("presence/posts/{id}/edit") label="Editing"/> },
        ),
        _ => None,
    };
    view! {
        <Title text=format!("{heading} · Herald")/>
        <section class="form-page">
            <div class="page-head"><h1>{heading}</h1>{editing}</div>
            <ConflictBanner form/>
            <Show when=move || form.ready.get() fallback=|| view! { <p class="loading">"Loading…"</p> }>
                <form class="form" novalidate on:submit=move |ev| { ev.prevent_default(); form.submit(); }>
                    <Field form name="title" label="Title">
                        <input id="title" prop:value=form.text("title") on:input=move |ev| form.set("title", event_target_value(&ev))
                            aria-invalid=move || form.error("title").get().is_some().to_string()/>
                    </Field>
                    <Field form name="content" label="Content">
                        <textarea id="content" rows="8" prop:value=form.text("content")
                            on:input=move |ev| form.set("content", event_target_value(&ev))></textarea>
                    </Field>
                    <Field form name="status" label="Status">
                        <select id="status" prop:value=move || { let s = form.text("status").get(); if s.is_empty() { "draft".to_owned() } else { s } }
                            on:change=move |ev| form.set("status", event_target_value(&ev))>
                            <option value="draft">"Draft"</option>
                            <option value="published">"Published"</option>
                            <option value="rejected">"Rejected"</option>
                        </select>
                    </Field>
                    <Field form name="category" label="Category">
                        <input id="category" prop:value=form.text("category") on:input=move |ev| form.set("category", event_target_value(&ev))/>
                    </Field>
                    {move || form.message.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
                    <div class="actions">
                        <button type="submit" disabled=move || !online.get() || form.submitting.get()>
                            {move || if form.submitting.get() { "Saving…" } else { "Save" }}
                        </button>
                    </div>
                </form>
            </Show>
        </section>
    }
}

/// A labelled field with its server error.
#[component]
fn Field(
    form: UseForm,
    name: &'static str,
    label: &'static str,
    children: Children,
) -> impl IntoView {
    let error = form.error(name);
    view! {
        <div class="field" class:invalid=move || error.get().is_some()>
            <label for=name>{label}</label>
            {children()}
            {move || error.get().map(|e| view! { <p class="field-error" role="alert" data-testid=format!("error-{name}")>{e}</p> })}
        </div>
    }
}

/// "Updated by bob — Load latest / Keep my changes", for a remote save or a 409.
#[component]
fn ConflictBanner(form: UseForm) -> impl IntoView {
    let text = move || {
        if let Some(current) = form.conflict.get() {
            return Some(format!(
                "Someone saved a newer version (v{}) before you.",
                current["version"]
            ));
        }
        form.remote_change
            .get()
            .map(|e: LiveEvent| match e.kind.as_str() {
                "deleted" => format!("Deleted by {}.", e.user_name().unwrap_or("someone")),
                _ => format!("Updated by {}.", e.user_name().unwrap_or("someone")),
            })
    };
    view! {
        {move || text().map(|t| view! {
            <div class="banner warn" role="alert" data-testid="conflict-banner">
                <span>{t}</span>
                " "
                <button type="button" class="link" on:click=move |_| form.load_latest()>"Load latest"</button>
                " / "
                <button type="button" class="link" on:click=move |_| form.keep_mine()>"Keep my changes"</button>
            </div>
        })}
    }
}
