//! The whole HTTP surface in one router: pages, server functions, static files, login, the
//! exec WebSocket, the live pod feed and the admin API, behind the request checks.

use std::path::PathBuf;

use axum::Router;
use axum::http::HeaderValue;
use axum::middleware;
use axum::routing::{delete, get, post};
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};

use crate::app::{App, shell as page_shell};
use crate::server::AppState;
use crate::server::cluster::{debug, logs, pod_feed};
use crate::server::relay::{exec, prestart};
use crate::server::web::{admin, auth, base_path, headers, login, metrics};

/// The whole HTTP surface: pages, server functions, static files, login, the exec
/// WebSocket, the live pod feed and the admin API, behind authentication.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let assets = StaticFiles(PathBuf::from(&*options.site_root));
    let context_state = state.clone();
    let base_path = state.base_path.clone();
    let policy = headers::PolicySettings {
        // Only `cargo leptos watch` runs the live-reload socket (it sets LEPTOS_WATCH).
        reload_port: std::env::var_os("LEPTOS_WATCH").map(|_| options.reload_port),
        hsts_seconds: state.auth.config.hsts_seconds,
    };
    let app = Router::new()
        .route(
            "/ws/exec/{namespace}/{pod}/{container}",
            get(exec::handler::<false>),
        )
        .route(
            "/ws/attach/{namespace}/{pod}/{container}",
            get(exec::handler::<true>),
        )
        .route("/api/pods/watch", get(pod_feed::handler))
        .route(
            "/api/logs/{namespace}/{pod}/{container}",
            get(logs::handler),
        )
        .route(
            "/api/debug/{namespace}/{pod}/{container}",
            post(debug::handler),
        )
        .merge(crate::server::files::routes())
        .route("/admin/sessions", get(admin::list))
        .route("/admin/sessions/{id}", delete(admin::end))
        .route("/login", get(login::login_page).post(login::login_submit))
        .route("/logout", post(login::logout))
        // Built assets straight from disk: leptos_axum's file handler runs each request in a
        // reactive owner, which under load could reach a concurrent page's response.
        .nest_service(
            &format!("/{}", options.site_pkg_dir),
            assets.join(&options.site_pkg_dir),
        )
        .nest_service("/vendor", assets.join("vendor"))
        .nest_service("/js", assets.join("js"))
        .nest_service("/css", assets.join("css"))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(metrics_page))
        .leptos_routes_with_context(
            &state,
            routes,
            {
                let state = context_state.clone();
                move || render_context(&state)
            },
            move || page_shell(options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(move || render_context(&context_state), page_shell))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::middleware,
        ))
        .layer(middleware::from_fn_with_state(
            policy,
            headers::security_headers,
        ))
        // Pages, server functions and assets (the wasm shrinks to a third); the default
        // predicate leaves the event stream, images and tiny bodies alone.
        // Built files are sent as their gzip copies when the build made them
        // (scripts/pack-site); this compresses pages and anything else.
        .layer(tower_http::compression::CompressionLayer::new())
        .with_state(state);
    // Layers run after routing, so the prefix comes off in an outer router.
    Router::new()
        .fallback_service(app)
        .layer(middleware::from_fn_with_state(
            base_path,
            base_path::middleware,
        ))
}

/// Ready when the current cluster context answers (any answer: a refusal is an answer).
/// Says nothing else: the route is open, so the answer is reused for a moment.
async fn ready(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (http::StatusCode, &'static str) {
    if state.clusters.answers().await {
        (http::StatusCode::OK, "ready")
    } else {
        (http::StatusCode::SERVICE_UNAVAILABLE, "not ready")
    }
}

async fn metrics_page(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> axum::response::Response {
    metrics::handler(axum::extract::State(metrics::Exposition {
        metrics: state.metrics.clone(),
        sessions: state.sessions.clone(),
    }))
    .await
}

/// What every server render sees: the state, and the nonce the response's policy names.
fn render_context(state: &AppState) {
    provide_context(state.clone());
    provide_context(prestart::PrestartSlot::default());
    provide_context(crate::app::BasePath(state.base_path.clone()));
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<headers::PageNonce>().cloned());
    if let Some(headers::PageNonce(nonce)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(nonce));
    }
}

/// A directory of built files under the site root.
struct StaticFiles(PathBuf);

impl StaticFiles {
    fn join(
        &self,
        dir: &str,
    ) -> tower_http::set_header::SetResponseHeader<tower_http::services::ServeDir, HeaderValue>
    {
        use tower::Layer;
        // The files keep their names from one build to the next: browsers ask again (a 304
        // while unchanged) instead of guessing a lifetime and mixing two versions' files.
        tower_http::set_header::SetResponseHeaderLayer::overriding(
            axum::http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache"),
        )
        .layer(tower_http::services::ServeDir::new(self.0.join(dir)).precompressed_gzip())
    }
}
