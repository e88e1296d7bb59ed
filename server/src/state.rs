//! `AppState`: what every handler shares — config, store, login throttle, live hub, Leptos
//! options. Plain data: behaviour lives with the modules that own each part.

use crate::auth::throttle::LoginThrottle;
use crate::config::Config;
use crate::live::hub::Hub;
use crate::store::Store;
use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use std::sync::Arc;

/// Shared server state. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Store,
    pub throttle: Arc<LoginThrottle>,
    pub hub: Hub,
    pub leptos_options: LeptosOptions,
}

impl AppState {
    /// State over an opened store; starts the purge of expired sessions, which runs until
    /// the hub shuts down.
    pub fn new(config: Config, store: Store, hub: Hub, leptos_options: LeptosOptions) -> Self {
        let throttle = LoginThrottle::from_config(&config);
        crate::auth::session::spawn_purge(
            store.clone(),
            config.session_purge_interval,
            hub.shutdown_token(),
        );
        Self {
            config: Arc::new(config),
            store,
            throttle: Arc::new(throttle),
            hub,
            leptos_options,
        }
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
