//! Names for user ids: one list of users per page (users are few and read-only), shared
//! through context, so comment rows show "bob" rather than an id.

use crate::admin::format::field;
use herald_framework::data::ListResult;
use herald_framework::hooks::{use_list, QueryOptions, UseQuery};
use herald_framework::live_query::LiveMode;
use herald_framework::query::ListParams;
use leptos::prelude::*;

#[derive(Clone, Copy)]
struct Users(UseQuery<ListResult>);

/// Loads the users once for the signed-in pages.
pub fn provide_users() {
    let users = use_list(
        "users",
        ListParams::default(),
        QueryOptions::mode(LiveMode::Off),
    );
    provide_context(Users(users));
}

/// The name of user `id` (its id until the users are loaded).
#[component]
pub fn UserName(#[prop(into)] id: String) -> impl IntoView {
    let users = expect_context::<Users>().0;
    let fallback = format!("user #{id}");
    move || {
        users
            .data
            .read()
            .as_ref()
            .and_then(|l| {
                l.data
                    .iter()
                    .find(|u| field(u, "id") == id)
                    .map(|u| field(u, "name"))
            })
            .unwrap_or_else(|| fallback.clone())
    }
}
