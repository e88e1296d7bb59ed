//! The root context — Herald's `<Refine dataProvider liveProvider options={{liveMode}}
//! onLiveEvent>`: providers, the query cache, the default live mode and the app-wide live
//! callback. `provide_herald` installs it; every hook reads it with `use_herald`.

use super::auth::SharedAuthProvider;
use super::cache::{Pacing, QueryCache, Spawner};
use super::data::{BoxFuture, SharedDataProvider};
use super::live::SharedLiveProvider;
use super::live_query::{EventCallback, LiveMode};
use super::mutation::Sleeper;
use leptos::prelude::*;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// What an app configures at its root.
#[derive(Clone, Default)]
pub struct HeraldOptions {
    /// Data provider; default: REST on `/api` in the browser, the server's store during SSR.
    pub data: Option<SharedDataProvider>,
    /// Auth provider; default: REST on `/api/auth` in the browser.
    pub auth: Option<SharedAuthProvider>,
    /// Live provider; default: the WebSocket on `/api/live` in the browser, none in SSR.
    pub live: Option<SharedLiveProvider>,
    /// The default live mode of every hook.
    pub live_mode: LiveMode,
    /// Called with every live event any hook hears (all modes but `Off`).
    pub on_live_event: Option<EventCallback>,
}

/// The root context every hook reads.
#[derive(Clone)]
pub struct Herald {
    pub data: SharedDataProvider,
    pub auth: Option<SharedAuthProvider>,
    pub live: Option<SharedLiveProvider>,
    pub cache: QueryCache,
    pub live_mode: LiveMode,
    pub on_live_event: Option<EventCallback>,
    pub sleep: Sleeper,
}

/// Installs Herald under the current owner. Providers already in context (the server puts
/// its store-backed ones there for SSR) win over the browser defaults.
///
/// ```no_run
/// use herald_framework::context::{provide_herald, HeraldOptions};
/// use herald_framework::live_query::LiveMode;
/// provide_herald(HeraldOptions { live_mode: LiveMode::Auto, ..Default::default() });
/// ```
pub fn provide_herald(options: HeraldOptions) -> Herald {
    let live = options.live.or_else(default_live);
    let data = options
        .data
        .or_else(use_context::<SharedDataProvider>)
        .unwrap_or_else(|| default_data(live.as_ref()));
    let auth = options
        .auth
        .or_else(use_context::<SharedAuthProvider>)
        .or_else(default_auth);
    if let Some(auth) = &auth {
        provide_context(auth.clone());
    }
    provide_context(data.clone());
    let herald = Herald {
        cache: QueryCache::new(data.clone(), spawner()).with_pacing(Pacing::new(sleeper())),
        data,
        auth,
        live,
        live_mode: options.live_mode,
        on_live_event: options.on_live_event,
        sleep: sleeper(),
    };
    provide_context(herald.clone());
    herald
}

/// The root context.
///
/// # Panics
/// Outside a [`provide_herald`] tree.
pub fn use_herald() -> Herald {
    expect_context::<Herald>()
}

/// The auth provider in context.
///
/// # Panics
/// Outside a [`provide_herald`] tree, or when no auth provider was configured (the server
/// supplies one for SSR; the browser has the REST default).
pub fn use_auth() -> SharedAuthProvider {
    expect_context::<SharedAuthProvider>()
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
fn default_live() -> Option<SharedLiveProvider> {
    Some(super::live::websocket::connect(
        super::live::websocket::default_url(),
    ))
}

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
fn default_live() -> Option<SharedLiveProvider> {
    None
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
fn default_data(live: Option<&SharedLiveProvider>) -> SharedDataProvider {
    let rest = super::rest::RestDataProvider::default();
    Arc::new(match live {
        Some(live) => rest.with_origin(live.origin()),
        None => rest,
    })
}

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
fn default_data(_live: Option<&SharedLiveProvider>) -> SharedDataProvider {
    Arc::new(super::memory::MemoryDataProvider::default())
}

#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
fn default_auth() -> Option<SharedAuthProvider> {
    Some(Arc::new(super::rest::RestAuthProvider::default()))
}

#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
fn default_auth() -> Option<SharedAuthProvider> {
    None
}

#[cfg(target_arch = "wasm32")]
fn spawner() -> Spawner {
    Arc::new(|f| leptos::task::spawn_local(f))
}

#[cfg(not(target_arch = "wasm32"))]
fn spawner() -> Spawner {
    Arc::new(|f| leptos::task::spawn(f))
}

#[cfg(target_arch = "wasm32")]
fn sleeper() -> Sleeper {
    Arc::new(|d: Duration| -> BoxFuture<()> {
        let (tx, rx) = futures_channel::oneshot::channel::<()>();
        leptos::prelude::set_timeout(
            move || {
                let _ = tx.send(());
            },
            d,
        );
        Box::pin(async move {
            let _ = rx.await;
        })
    })
}

#[cfg(not(target_arch = "wasm32"))]
fn sleeper() -> Sleeper {
    Arc::new(|d: Duration| -> BoxFuture<()> { Box::pin(tokio_sleep(d)) })
}

/// Server-side timers: mutations do not run during SSR, so this only has to be correct,
/// not precise; a thread keeps the framework free of a runtime dependency.
#[cfg(not(target_arch = "wasm32"))]
async fn tokio_sleep(d: Duration) {
    let (tx, rx) = futures_channel::oneshot::channel::<()>();
    std::thread::spawn(move || {
        std::thread::sleep(d);
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// A provider future as `Resource` wants it: `Send`. In the browser the futures hold JS
/// values but there is one thread, so a `SendWrapper` is sound; on the server they are
/// `Send` already.
#[cfg(target_arch = "wasm32")]
pub fn sendable<T: 'static>(
    future: impl Future<Output = T> + 'static,
) -> impl Future<Output = T> + Send + 'static {
    send_wrapper::SendWrapper::new(future)
}

/// A provider future as `Resource` wants it: `Send` (on the server it already is).
#[cfg(not(target_arch = "wasm32"))]
pub fn sendable<T: 'static>(
    future: impl Future<Output = T> + Send + 'static,
) -> impl Future<Output = T> + Send + 'static {
    future
}
