//! The server, grouped along the data path: the web layer that receives a request and
//! knows who sent it (`web`), the relay between a browser's terminal and a pod's exec
//! (`relay`), cluster access as that person (`cluster`), and the trail of what was done
//! (`trail`). The state every handler sees is here, the router in `web::router`; `tally`
//! counts places for the caps of both the listener and the watches.

pub mod cluster;
pub mod files;
pub mod relay;
pub mod tally;
pub mod trail;
pub mod web;

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::FromRef;
use leptos::prelude::*;

use cluster::clusters::Clusters;
use relay::registry;
use trail::{admission, audit};
use web::auth::Auth;
use web::identity::Caller;
use web::{connections, listener, metrics, router};

/// Where session recordings go, when they are on.
#[derive(Clone, Debug)]
pub struct Recordings {
    pub dir: PathBuf,
    pub with_input: bool,
}

/// What every handler and server function can reach.
#[derive(Clone)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub clusters: Arc<Clusters>,
    /// Set when serving the built-in demo cluster; the page says so.
    pub demo: bool,
    pub auth: Arc<Auth>,
    pub audit: Arc<audit::Audit>,
    pub admissions: Arc<admission::Admissions>,
    pub sessions: Arc<registry::Sessions>,
    pub metrics: Arc<metrics::Metrics>,
    /// The path prefix podterm is served under (`""` at the root).
    pub base_path: String,
    pub recordings: Option<Recordings>,
    /// The images debug containers may use.
    pub debug: Arc<cluster::debug::DebugImages>,
    /// Files in and out of containers: limits, and what each container was found to have.
    pub files: Arc<files::Transfers>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

/// Serves the router on a listener, with peer addresses (for trusted proxies and audit) and
/// the default connection limits for this process's open-file limit.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let connections = connections::Connections::new(
        connections::Settings::from_open_file_limit(),
        state.auth.config.trusted_proxies.clone(),
        state.metrics.clone(),
    );
    serve_with(listener, state, connections, shutdown).await
}

/// Serves the router on a listener, counting its connections in `connections`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: AppState,
    connections: Arc<connections::Connections>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener::serve(listener, router::router(state), connections, shutdown).await
}

/// The server state, inside a server function.
pub fn state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("podterm's server state is missing"))
}

/// Who is calling, inside a server function or a server render.
pub fn caller() -> Result<Caller, ServerFnError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<Caller>().cloned())
        .ok_or_else(|| ServerFnError::new("not logged in"))
}
