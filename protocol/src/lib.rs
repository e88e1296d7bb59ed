//! Herald's wire protocol: every type that crosses the network between a Herald server and
//! its clients, defined once so the browser and the server cannot drift apart.
//!
//! - [`id`]: record ids, which may be numbers or strings (UUIDs, slugs).
//! - [`record`]: records as JSON objects, and a list page with its total.
//! - [`query`]: list parameters (filters, sorters, paging, full text) and their
//!   simple-rest query-string encoding.
//! - [`error`]: [`HttpError`], the JSON body of every failed REST call (Refine's shape).
//! - [`identity`]: who is signed in.
//! - [`live`]: live events, the client and server frames of the `/api/live` protocol, and the
//!   channel names the server understands.
//!
//! This crate knows no transport and no framework: no Leptos, tokio or axum. The contracts
//! it encodes are written down in `docs/rest.md` and `docs/live-protocol.md`.
//!
//! ```
//! use herald_protocol::{Id, ListParams, Order};
//! let p = ListParams::default().page(1, 10).sort("id", Order::Desc);
//! assert_eq!(p.to_query(), "_start=0&_end=10&_sort=id&_order=desc");
//! assert_eq!(Id::parse("42"), Id::Int(42));
//! assert_eq!(Id::parse("fix-login").to_string(), "fix-login");
//! ```

pub mod error;
pub mod id;
pub mod identity;
pub mod live;
pub mod query;
pub mod record;

pub use error::{FieldErrors, HttpError};
pub use id::Id;
pub use identity::Identity;
pub use live::{ClientFrame, ErrorCode, LiveEvent, ServerFrame};
pub use query::{Filter, FilterOp, ListParams, Order, QueryError, Sorter};
pub use record::{ListResult, Record};
