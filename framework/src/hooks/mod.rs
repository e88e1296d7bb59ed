//! The hooks a Leptos app writes against: queries (`use_list`, `use_one`, `use_many`,
//! `use_show`, `use_table`), forms (`use_form`), mutations (`use_create`, `use_update`,
//! `use_delete`), and live (`use_subscription`, `use_publish`, `use_presence`,
//! `use_connection_state`). Each reads the root context (`provide_herald`).

mod form;
mod live;
mod mutation;
mod query;
mod table;

pub use form::{use_form, FormAction, UseForm};
pub use live::{use_connection_state, use_presence, use_publish, use_subscription};
pub use mutation::{use_create, use_delete, use_mutation, use_update, UseMutation};
pub use query::{use_list, use_many, use_one, use_route_id, use_show, QueryOptions, UseQuery};
pub use table::{use_table, TableOptions, UseTable};
