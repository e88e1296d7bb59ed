//! Toasts: short messages at the corner of the screen — errors, and undo offers for
//! undoable deletes. They dismiss themselves after a while.

use leptos::prelude::*;
use std::sync::Arc;
use std::time::Duration;

/// How long a toast stays.
const TOAST_LIFE: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct Toast {
    id: u64,
    text: String,
    error: bool,
    action: Option<(String, Arc<dyn Fn() + Send + Sync>)>,
}

/// The toast queue, in context.
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<Vec<Toast>>,
    next: StoredValue<u64>,
}

impl Toasts {
    fn push(
        &self,
        text: String,
        error: bool,
        action: Option<(String, Arc<dyn Fn() + Send + Sync>)>,
    ) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.list.update(|l| {
            l.push(Toast {
                id,
                text,
                error,
                action,
            })
        });
        let list = self.list;
        set_timeout(
            move || list.try_update(|l| l.retain(|t| t.id != id)).unwrap_or(()),
            TOAST_LIFE,
        );
    }

    /// An error toast.
    pub fn error(&self, text: impl Into<String>) {
        self.push(text.into(), true, None);
    }

    /// A toast with an action button (e.g. "Undo").
    pub fn with_action(
        &self,
        text: impl Into<String>,
        label: impl Into<String>,
        action: impl Fn() + Send + Sync + 'static,
    ) {
        self.push(text.into(), false, Some((label.into(), Arc::new(action))));
    }

    fn dismiss(&self, id: u64) {
        self.list.update(|l| l.retain(|t| t.id != id));
    }
}

/// Puts a toast queue in context.
pub fn provide_toasts() -> Toasts {
    let toasts = Toasts {
        list: RwSignal::new(Vec::new()),
        next: StoredValue::new(1),
    };
    provide_context(toasts);
    toasts
}

/// The toast queue.
pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}

/// Renders the toasts.
#[component]
pub fn ToastHost() -> impl IntoView {
    let toasts = use_toasts();
    view! {
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.list.get() key=|t| t.id let:toast>
                {
                    let id = toast.id;
                    let action = toast.action.clone().map(|(label, run)| {
                        view! {
                            <button type="button" class="link" on:click=move |_| {
                                run();
                                toasts.dismiss(id);
                            }>{label}</button>
                        }
                    });
                    view! {
                        <div class="toast" class:error=toast.error>
                            <span>{toast.text.clone()}</span>
                            {action}
                            <button type="button" class="close" aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)>"×"</button>
                        </div>
                    }
                }
            </For>
        </div>
    }
}
