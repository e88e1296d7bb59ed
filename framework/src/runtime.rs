//! The runtime seam: the only two things the framework asks of an executor — run a future
//! in the background ([`Spawner`]) and wait for a while ([`Sleeper`]) — plus [`sendable`],
//! which makes a provider future fit Leptos' `Send` resources. It owns the one place where
//! the browser and native builds differ in how they spawn and sleep; everything else (the
//! cache, mutations, the context) takes these as injected values, so tests can hand in
//! tokio or a manual clock.
//!
//! It must not know queries, providers or Leptos contexts: it is plumbing only.

use crate::data::BoxFuture;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Runs a future to completion in the background (a fetch, a pacing wait).
///
/// ```
/// use herald_framework::runtime::Spawner;
/// use std::sync::Arc;
/// let spawn: Spawner = Arc::new(|f| drop(tokio::spawn(f)));
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// # rt.block_on(async { spawn(Box::pin(async {})); });
/// ```
pub type Spawner = Arc<dyn Fn(BoxFuture<()>) + Send + Sync>;

/// Waits for a duration (a browser timer, tokio, or a test clock).
///
/// ```
/// use herald_framework::runtime::Sleeper;
/// use std::{sync::Arc, time::Duration};
/// let sleep: Sleeper = Arc::new(|d| Box::pin(tokio::time::sleep(d)));
/// # let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
/// rt.block_on(async { sleep(Duration::from_millis(1)).await });
/// ```
pub type Sleeper = Arc<dyn Fn(Duration) -> BoxFuture<()> + Send + Sync>;

/// The default spawner: Leptos' `spawn_local` in the browser, Leptos' `spawn` (the
/// executor the server initialised) elsewhere.
///
/// ```
/// let spawn = herald_framework::runtime::spawner();
/// # let _ = spawn;
/// ```
pub fn spawner() -> Spawner {
    #[cfg(target_arch = "wasm32")]
    let spawn: Spawner = Arc::new(|f| leptos::task::spawn_local(f));
    #[cfg(not(target_arch = "wasm32"))]
    let spawn: Spawner = Arc::new(|f| leptos::task::spawn(f));
    spawn
}

/// The default sleeper: a browser timer (`setTimeout`) in the browser; elsewhere a thread
/// that sleeps, which keeps the framework free of a runtime dependency (mutations and
/// pacing do not run during SSR, so native timers only have to be correct, not precise).
///
/// ```
/// use std::time::Duration;
/// let sleep = herald_framework::runtime::sleeper();
/// # let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(sleep(Duration::from_millis(1))); // no tokio timer needed
/// ```
pub fn sleeper() -> Sleeper {
    Arc::new(|d: Duration| -> BoxFuture<()> {
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        #[cfg(target_arch = "wasm32")]
        leptos::prelude::set_timeout(
            move || {
                let _ = tx.send(());
            },
            d,
        );
        #[cfg(not(target_arch = "wasm32"))]
        std::thread::spawn(move || {
            std::thread::sleep(d);
            let _ = tx.send(());
        });
        Box::pin(async move {
            let _ = rx.await;
        })
    })
}

/// A provider future as `Resource` wants it: `Send`. In the browser the futures hold JS
/// values but there is one thread, so a `SendWrapper` is sound; on the server they are
/// `Send` already and pass through unchanged.
///
/// ```
/// use herald_framework::runtime::sendable;
/// fn needs_send<F: std::future::Future + Send>(_: F) {}
/// needs_send(sendable(async { 1 }));
/// ```
#[cfg(target_arch = "wasm32")]
pub fn sendable<T: 'static>(
    future: impl Future<Output = T> + 'static,
) -> impl Future<Output = T> + Send + 'static {
    send_wrapper::SendWrapper::new(future)
}

/// A provider future as `Resource` wants it: `Send` (on the server it already is).
///
/// ```
/// use herald_framework::runtime::sendable;
/// fn needs_send<F: std::future::Future + Send>(_: F) {}
/// needs_send(sendable(async { 1 }));
/// ```
#[cfg(not(target_arch = "wasm32"))]
pub fn sendable<T: 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> impl Future<Output = T> + Send + 'static {
    future
}
