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
    /// State over an opened store.
    pub fn new(config: Config, store: Store, hub: Hub, leptos_options: LeptosOptions) -> Self {
        let throttle = LoginThrottle::new(config.login_attempts, config.login_window);
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
