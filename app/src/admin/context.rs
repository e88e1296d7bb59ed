//! Where the admin gets its providers: from context, with the browser's REST defaults when
//! the host supplied none (during SSR the server provides store-backed ones), and how their
//! futures are made fit for `Resource`.

use crate::framework::auth::SharedAuthProvider;
use crate::framework::data::{BoxFuture, SharedDataProvider};
use leptos::prelude::*;
use std::future::Future;

/// Provides the REST providers unless the host already provided its own.
pub fn provide_default_providers() {
    #[cfg(feature = "hydrate")]
    {
        use crate::framework::rest::{RestAuthProvider, RestDataProvider};
        use std::sync::Arc;

        if use_context::<SharedDataProvider>().is_none() {
            provide_context::<SharedDataProvider>(Arc::new(RestDataProvider::default()));
        }
        if use_context::<SharedAuthProvider>().is_none() {
            provide_context::<SharedAuthProvider>(Arc::new(RestAuthProvider::default()));
        }
    }
}

/// The data provider in context.
///
/// # Panics
/// When there is none: the server must provide one for SSR (the browser gets the default).
pub fn use_data_provider() -> SharedDataProvider {
    expect_context::<SharedDataProvider>()
}

/// The auth provider in context.
///
/// # Panics
/// When there is none: the server must provide one for SSR (the browser gets the default).
pub fn use_auth_provider() -> SharedAuthProvider {
    expect_context::<SharedAuthProvider>()
}

/// A provider future as `Resource` wants it: `Send`.
///
/// In the browser the futures are not `Send` (they hold JS values) but there is only one
/// thread, so a `SendWrapper` is sound; on the server they already are.
#[cfg(target_arch = "wasm32")]
pub fn sendable<T: 'static>(future: BoxFuture<T>) -> impl Future<Output = T> + Send + 'static {
    send_wrapper::SendWrapper::new(future)
}

/// A provider future as `Resource` wants it: `Send` (on the server it already is).
#[cfg(not(target_arch = "wasm32"))]
pub fn sendable<T: 'static>(future: BoxFuture<T>) -> impl Future<Output = T> + Send + 'static {
    future
}
