//! The server: cluster clients, the pod data behind the dashboard, the exec relay, and the
//! HTTP router that serves them with the Leptos app.

pub mod cli;
pub mod clusters;
pub mod exec;
pub mod kube_errors;
pub mod pods;
pub mod shell;
pub mod watch;

use std::sync::Arc;

use axum::Router;
use axum::extract::FromRef;
use axum::routing::get;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell as page_shell};
use clusters::Clusters;

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub clusters: Arc<Clusters>,
    /// Set when serving the built-in demo cluster; the page says so.
    pub demo: bool,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// The whole HTTP surface: pages, server functions, static files, the exec WebSocket and
/// the live pod feed.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let context_state = state.clone();
    Router::new()
        .route("/ws/exec/{namespace}/{pod}/{container}", get(exec::handler))
        .route("/api/pods/watch", get(watch::handler))
        .route("/healthz", get(|| async { "ok" }))
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || page_shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(
            page_shell,
        ))
        .with_state(state)
}

/// The server state, inside a server function.
pub fn state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("podterm's server state is missing"))
}
