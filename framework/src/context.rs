//! The root context — Herald's `<Refine dataProvider liveProvider options={{liveMode}}
//! onLiveEvent>`: providers, the query cache, the default live mode and the app-wide live
//! callback. `provide_herald` installs it; every hook reads it with `use_herald`.
//!
//! It owns assembly only: which providers win (options, then context, then the build's
//! fallbacks) and wiring the cache to the runtime. Spawning and timers come from
//! [`crate::runtime`]; it must not know how either works, nor cache internals.

use crate::auth::SharedAuthProvider;
use crate::cache::{Pacing, QueryCache};
use crate::data::SharedDataProvider;
use crate::live::SharedLiveProvider;
use crate::live_query::{EventCallback, LiveMode};
use crate::runtime::{self, Sleeper};
use leptos::prelude::*;

/// Re-exported from [`crate::runtime`], where it lives (hooks and apps import it here).
pub use crate::runtime::sendable;

/// What an app configures at its root.
///
/// ```
/// use herald_framework::{context::HeraldOptions, live_query::LiveMode};
/// let options = HeraldOptions { live_mode: LiveMode::Manual, ..Default::default() };
/// assert!(options.data.is_none(), "the build's default provider");
/// ```
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
///
/// ```no_run
/// use herald_framework::context::use_herald;
/// let herald = use_herald();
/// let fetched_so_far = herald.cache.fetch_count();
/// ```
#[derive(Clone)]
pub struct Herald {
    /// The data provider in use.
    pub data: SharedDataProvider,
    /// The auth provider, if any.
    pub auth: Option<SharedAuthProvider>,
    /// The live provider, if any (none during SSR).
    pub live: Option<SharedLiveProvider>,
    /// The query cache every hook shares (paced).
    pub cache: QueryCache,
    /// The default live mode of every hook.
    pub live_mode: LiveMode,
    /// The app-wide live callback.
    pub on_live_event: Option<EventCallback>,
    /// The timer mutations wait with (undo windows).
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
    let live = options.live.or_else(fallback::live);
    let data = options
        .data
        .or_else(use_context::<SharedDataProvider>)
        .unwrap_or_else(|| fallback::data(live.as_ref()));
    let auth = options
        .auth
        .or_else(use_context::<SharedAuthProvider>)
        .or_else(fallback::auth);
    if let Some(auth) = &auth {
        provide_context(auth.clone());
    }
    provide_context(data.clone());
    let herald = Herald {
        cache: QueryCache::new(data.clone(), runtime::spawner())
            .with_pacing(Pacing::new(runtime::sleeper())),
        data,
        auth,
        live,
        live_mode: options.live_mode,
        on_live_event: options.on_live_event,
        sleep: runtime::sleeper(),
    };
    learn_user(&herald);
    provide_context(herald.clone());
    herald
}

/// Tells the live provider who is signed in, so that only events carrying both this
/// client's origin and its user count as its own ([`crate::live::is_own`]). Asked each time
/// the live connection opens — it only opens with a session, so signed-out pages never ask
/// (and never log a 401), and a new sign-in is learnt when the socket reconnects.
fn learn_user(herald: &Herald) {
    let (Some(live), Some(auth)) = (herald.live.clone(), herald.auth.clone()) else {
        return;
    };
    let weak = std::sync::Arc::downgrade(&live);
    live.watch_state(std::sync::Arc::new(move |state| {
        if state != crate::live::ConnectionState::Open {
            return;
        }
        let (identity, weak) = (auth.identity(), weak.clone());
        (runtime::spawner())(Box::pin(async move {
            if let (Ok(me), Some(live)) = (identity.await, weak.upgrade()) {
                live.set_user(me.map(|me| me.id));
            }
        }));
    }));
}

/// The root context.
///
/// ```no_run
/// let cache = herald_framework::context::use_herald().cache;
/// ```
///
/// # Panics
/// Outside a [`provide_herald`] tree.
pub fn use_herald() -> Herald {
    expect_context::<Herald>()
}

/// The auth provider in context.
///
/// ```no_run
/// let auth = herald_framework::context::use_auth();
/// let who = auth.identity();
/// ```
///
/// # Panics
/// Outside a [`provide_herald`] tree, or when no auth provider was configured (the server
/// supplies one for SSR; the browser has the REST default).
pub fn use_auth() -> SharedAuthProvider {
    expect_context::<SharedAuthProvider>()
}

/// The providers a build falls back to when neither the options nor the context give one.
/// In the browser: REST on `/api` (sharing the live client's origin id), REST auth, and
/// the WebSocket on `/api/live`. (Provider choice, not runtime: spawning and timers are in
/// [`crate::runtime`].)
#[cfg(all(feature = "hydrate", target_arch = "wasm32"))]
mod fallback {
    use crate::auth::SharedAuthProvider;
    use crate::data::SharedDataProvider;
    use crate::live::SharedLiveProvider;
    use std::sync::Arc;

    pub fn live() -> Option<SharedLiveProvider> {
        Some(crate::live::websocket::connect(
            crate::live::websocket::default_url(),
        ))
    }

    pub fn data(live: Option<&SharedLiveProvider>) -> SharedDataProvider {
        let rest = crate::rest::RestDataProvider::default();
        Arc::new(match live {
            Some(live) => rest.with_origin(live.origin()),
            None => rest,
        })
    }

    pub fn auth() -> Option<SharedAuthProvider> {
        Some(Arc::new(crate::rest::RestAuthProvider::default()))
    }
}

/// Elsewhere (SSR without a store in context, tests): an empty in-memory data provider, no
/// auth, no live provider.
#[cfg(not(all(feature = "hydrate", target_arch = "wasm32")))]
mod fallback {
    use crate::auth::SharedAuthProvider;
    use crate::data::SharedDataProvider;
    use crate::live::SharedLiveProvider;
    use std::sync::Arc;

    pub fn live() -> Option<SharedLiveProvider> {
        None
    }

    pub fn data(_live: Option<&SharedLiveProvider>) -> SharedDataProvider {
        Arc::new(crate::memory::MemoryDataProvider::default())
    }

    pub fn auth() -> Option<SharedAuthProvider> {
        None
    }
}
