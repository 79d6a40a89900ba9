//! Command line and environment settings, and start-up.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use clap::Parser;
use leptos::prelude::get_configuration;

use super::clusters::Clusters;
use super::{AppState, router};

/// A web terminal for Kubernetes pods.
///
/// Clusters come from the kubeconfig (KUBECONFIG or ~/.kube/config), or from the pod's
/// service account when running in a cluster. With --demo, podterm starts its own test
/// cluster with demo pods instead, and says so on every page.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
pub struct Args {
    /// Address to listen on (default: the site address in Leptos.toml, 127.0.0.1:3000).
    #[arg(long, env = "PODTERM_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Serve a built-in demo cluster (an in-process testcluster with demo pods) instead of
    /// the kubeconfig's clusters.
    #[arg(long, env = "PODTERM_DEMO")]
    pub demo: bool,

    /// Site settings for running without cargo-leptos (the release binary in an image).
    #[arg(long, env = "PODTERM_LEPTOS_TOML", default_value = "Leptos.toml")]
    pub leptos_toml: PathBuf,

    /// Where the built site (pkg/, vendor/) is; overrides the settings file.
    #[arg(long, env = "PODTERM_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// Log format.
    #[arg(long, value_enum, default_value = "text", env = "PODTERM_LOG_FORMAT")]
    pub log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

pub fn init_logs(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,tungstenite=warn,kube=warn,hyper=warn")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Loads the Leptos site settings: from cargo-leptos's environment when it runs us,
/// otherwise from the settings file.
fn leptos_options(args: &Args) -> Result<leptos::prelude::LeptosOptions, String> {
    let under_cargo_leptos = std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let path = args.leptos_toml.to_string_lossy().into_owned();
    let conf = if under_cargo_leptos {
        get_configuration(None)
    } else {
        get_configuration(Some(&path))
    }
    .map_err(|e| format!("cannot read the site settings ({path}): {e}"))?;
    let mut options = conf.leptos_options;
    if let Some(addr) = args.listen {
        options.site_addr = addr;
    }
    if let Some(root) = &args.site_root {
        options.site_root = root.to_string_lossy().into_owned().into();
    }
    Ok(options)
}

/// Starts podterm and serves until SIGTERM or Ctrl-C.
pub async fn run(args: Args) -> Result<(), String> {
    let options = leptos_options(&args)?;
    let mut demo_cluster = None;
    let clusters = if args.demo {
        let cluster = testcluster::TestCluster::start(testcluster::Config::demo())
            .await
            .map_err(|e| format!("cannot start the demo cluster: {e}"))?;
        let clusters = Clusters::from_kubeconfig_yaml(cluster.kubeconfig_yaml())?;
        demo_cluster = Some(cluster);
        clusters
    } else {
        Clusters::from_environment()?
    };
    let addr = options.site_addr;
    let contexts: Vec<String> = clusters.contexts().into_iter().map(|c| c.name).collect();
    let state = AppState {
        leptos_options: options,
        clusters: Arc::new(clusters),
        demo: args.demo,
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    println!(
        "podterm {} listening on http://{addr}",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(cluster) = &demo_cluster {
        println!(
            "demo mode: serving a built-in test cluster at {} (not a real cluster)",
            cluster.url()
        );
    }
    println!(
        "clusters: {}",
        if contexts.is_empty() {
            "none".to_string()
        } else {
            contexts.join(", ")
        }
    );
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|e| format!("server error: {e}"))?;
    if let Some(cluster) = demo_cluster {
        cluster.shutdown().await;
    }
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    tracing::info!("shutting down");
}
