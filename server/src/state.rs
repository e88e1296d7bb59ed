//! `AppState`: what every handler shares — config, store, login throttle, Leptos options —
//! and the providers handed to the Leptos app while it renders on the server.

use crate::auth::{credentials, throttle::LoginThrottle};
use crate::config::Config;
use crate::live::hub::Hub;
use crate::ssr::{StoreAuthProvider, StoreDataProvider};
use crate::store::Store;
use axum::extract::FromRef;
use axum::http::request::Parts;
use herald_framework::auth::SharedAuthProvider;
use herald_framework::data::SharedDataProvider;
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

    /// The data provider for one server render: reads the store directly, as the user
    /// whose session the request carries.
    pub fn ssr_data_provider(&self, parts: &Parts) -> SharedDataProvider {
        Arc::new(StoreDataProvider::new(
            self.store.clone(),
            credentials(&parts.headers),
        ))
    }

    /// The auth provider for one server render.
    pub fn ssr_auth_provider(&self, parts: &Parts) -> SharedAuthProvider {
        Arc::new(StoreAuthProvider::new(
            self.store.clone(),
            credentials(&parts.headers),
        ))
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
