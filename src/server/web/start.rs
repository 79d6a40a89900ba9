//! Start-up: the state every handler sees, made from the settings; the listeners; the
//! banner; and shutdown on SIGTERM or Ctrl-C.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;

use crate::server::cluster::clusters::Clusters;
use crate::server::cluster::debug::DebugImages;
use crate::server::relay::registry::{Sessions, Settings};
use crate::server::trail::admission::{Admissions, Limits};
use crate::server::trail::audit::Audit;
use crate::server::web::auth::{Auth, AuthConfig, Mode};
use crate::server::web::cli::{Args, auth_config, leptos_options, listener_settings};
use crate::server::web::connections::{self, Connections};
use crate::server::web::demo::Demo;
use crate::server::web::listener;
use crate::server::web::metrics::{Exposition, Metrics};
use crate::server::{AppState, Recordings};

/// How long shutdown waits for sessions to end and clean up.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(15);

/// Starts podterm and serves until SIGTERM or Ctrl-C.
pub async fn run(args: Args) -> Result<(), String> {
    let connection_settings = listener_settings(&args, connections::raise_open_file_limit());
    let options = leptos_options(&args)?;
    let (auth, generated_token) = auth_config(&args, options.site_addr)?;
    let demo_cluster = if args.demo {
        Some(Demo::start().await?)
    } else {
        None
    };
    let clusters = match &demo_cluster {
        Some(cluster) => Clusters::from_kubeconfig_yaml(cluster.kubeconfig_yaml())?,
        None => Clusters::from_environment()?,
    };
    let contexts: Vec<String> = clusters.contexts().into_iter().map(|c| c.name).collect();
    let login_link = generated_token
        .then(|| auth.token.as_ref().map(|t| t.expose_secret().to_string()))
        .flatten();
    let mode = auth.mode;
    let addr = options.site_addr;
    let state = app_state(&args, options, auth, clusters)?;
    let sessions = state.sessions.clone();
    // One count for every listener: they share the process's files.
    let connections = Connections::new(
        connection_settings,
        state.auth.config.trusted_proxies.clone(),
        state.metrics.clone(),
    );
    if let Some(metrics_addr) = args.metrics_listen {
        serve_metrics(metrics_addr, &state, connections.clone()).await?;
    }
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let signalled = shutdown_signals()?;
    banner(&Banner {
        addr,
        mode,
        login_link,
        demo: demo_cluster.as_ref().map(|c| c.url()),
        base_path: &state.base_path,
        contexts: &contexts,
    });
    let ending = sessions.clone();
    let shutdown = async move {
        signalled.await;
        // Sessions end first (their pages are told, their processes ended), then the
        // listener; upgraded connections do not hold up the listener.
        ending.shutdown(SHUTDOWN_DEADLINE).await;
    };
    let settings = connections.settings();
    tracing::info!(
        "serving at most {} connections, {} per client address; request headers within {} s",
        settings.max_connections,
        settings.per_address(),
        settings.header_read_timeout.as_secs()
    );
    crate::server::serve_with(listener, state, connections, shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))?;
    sessions.shutdown(SHUTDOWN_DEADLINE).await;
    if let Some(cluster) = demo_cluster {
        cluster.shutdown().await;
    }
    Ok(())
}

/// What every handler sees, from the settings.
fn app_state(
    args: &Args,
    leptos_options: leptos::prelude::LeptosOptions,
    auth: AuthConfig,
    clusters: Clusters,
) -> Result<AppState, String> {
    let base_path = crate::server::web::base_path::normalize(&args.base_path)?;
    let metrics = Arc::new(Metrics::new());
    if let Some(dir) = &args.record_dir {
        crate::server::trail::recording::prepare_dir(dir)?;
    }
    Ok(AppState {
        leptos_options,
        clusters: Arc::new(clusters),
        demo: args.demo,
        auth: Arc::new(Auth::new(auth)),
        audit: Arc::new(
            Audit::from_path(args.audit_log.as_deref())
                .map_err(|e| format!("cannot open the audit log: {e}"))?,
        ),
        admissions: Arc::new(Admissions::new(Limits {
            sessions_per_user: args.max_sessions_per_user.max(1),
            starts_per_minute: args.max_starts_per_minute.max(1),
            max_duration: (args.max_session_minutes > 0)
                .then(|| Duration::from_secs(args.max_session_minutes * 60)),
        })),
        sessions: Arc::new(Sessions::new(
            Settings {
                grace: Duration::from_secs(args.resume_grace_seconds),
                idle: (args.idle_timeout_minutes > 0)
                    .then(|| Duration::from_secs(args.idle_timeout_minutes * 60)),
                cleanup: !args.keep_processes,
            },
            metrics.clone(),
        )),
        metrics,
        base_path,
        recordings: args.record_dir.clone().map(|dir| Recordings {
            dir,
            with_input: args.record_input,
        }),
        debug: Arc::new(DebugImages::new(
            args.debug_image.clone(),
            args.debug_images.clone(),
        )),
        files: Arc::new(crate::server::files::Transfers::new(
            args.max_transfer_bytes,
            args.max_transfers_per_user,
            args.hash_uploads_up_to,
        )),
    })
}

/// The metrics on their own address, without a login.
async fn serve_metrics(
    addr: SocketAddr,
    state: &AppState,
    connections: Arc<Connections>,
) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen for metrics on {addr}: {e}"))?;
    let router = crate::server::web::metrics::router(Exposition {
        metrics: state.metrics.clone(),
        sessions: state.sessions.clone(),
    });
    println!("metrics on http://{addr}/metrics (no login)");
    tokio::spawn(async move {
        let serving = listener::serve(listener, router, connections, std::future::pending());
        if let Err(e) = serving.await {
            tracing::error!("the metrics listener stopped: {e}");
        }
    });
    Ok(())
}

/// What the start-up lines say.
struct Banner<'a> {
    addr: SocketAddr,
    mode: Mode,
    /// The generated access token, for a link that logs in.
    login_link: Option<String>,
    /// The demo cluster's address.
    demo: Option<&'a str>,
    base_path: &'a str,
    contexts: &'a [String],
}

fn banner(banner: &Banner<'_>) {
    let addr = banner.addr;
    println!(
        "podterm {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    match (banner.mode, &banner.login_link) {
        (Mode::Token, Some(token)) => {
            println!(
                "log in at http://{addr}{}/login?token={token}",
                banner.base_path
            )
        }
        (Mode::Token, None) => println!("auth: access token (as configured)"),
        (Mode::Proxy, _) => {
            println!("auth: users named by trusted proxies, impersonated on every cluster call")
        }
        (Mode::UserToken, _) => {
            println!("auth: each person logs in with their own Kubernetes token")
        }
    }
    if let Some(url) = banner.demo {
        println!("demo mode: serving a built-in test cluster at {url} (not a real cluster)");
    }
    if !banner.base_path.is_empty() {
        println!(
            "serving under {}/ (behind a proxy: see the README's nginx section)",
            banner.base_path
        );
    }
    println!(
        "clusters: {}",
        if banner.contexts.is_empty() {
            "none".to_string()
        } else {
            banner.contexts.join(", ")
        }
    );
}

/// SIGTERM and SIGINT, caught from the moment this is made: made before the banner says
/// podterm is listening, so a signal sent right after it is never the default (death).
fn shutdown_signals() -> Result<impl std::future::Future<Output = ()>, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let catch = |kind| signal(kind).map_err(|e| format!("cannot catch signals: {e}"));
    let mut term = catch(SignalKind::terminate())?;
    let mut interrupt = catch(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
        tracing::info!("shutting down");
    })
}
