//! The `testcluster` command: a Kubernetes API server for tests, demos and development.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use testcluster::{ClusterSpec, Config, DisconnectMode, TestCluster};

/// A Kubernetes API server with real shells, for podterm's tests, demos and dev loop.
///
/// It serves discovery, namespaces, pods (list, get, watch), exec over WebSocket,
/// SelfSubjectAccessReview, RBAC and impersonation, well enough for kubectl and kube-rs.
/// Run as root, each container gets its own PID, mount and UTS namespaces.
#[derive(Parser, Debug)]
#[command(version, about, long_about)]
struct Args {
    /// State file (YAML) with users, policy, images, namespaces and pods. Default: the demo.
    #[arg(long, env = "TESTCLUSTER_STATE")]
    state: Option<PathBuf>,

    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TESTCLUSTER_LISTEN", default_value = "127.0.0.1:6443")]
    listen: SocketAddr,

    /// Write a kubeconfig here (one context per user in the state file).
    #[arg(long, env = "TESTCLUSTER_KUBECONFIG_OUT")]
    kubeconfig_out: Option<PathBuf>,

    /// Serve plain HTTP instead of HTTPS. Only for debugging; client certificates then fail.
    #[arg(long)]
    insecure_http: bool,

    /// What happens to an exec's processes when its client disconnects: linger (as real
    /// runtimes do) or hangup (SIGHUP, then SIGKILL). Overrides the state file.
    #[arg(long, value_enum, env = "TESTCLUSTER_DISCONNECT")]
    disconnect: Option<DisconnectMode>,

    /// Token for the admin endpoint (/testcluster/admin/...). Generated when not given.
    #[arg(long, env = "TESTCLUSTER_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,

    /// Write the admin token to this file (mode 0600) instead of printing it.
    #[arg(long)]
    admin_token_out: Option<PathBuf>,

    /// Seconds between watch bookmarks.
    #[arg(long, default_value_t = 10)]
    bookmark_seconds: u64,

    /// Log format.
    #[arg(
        long,
        value_enum,
        default_value = "text",
        env = "TESTCLUSTER_LOG_FORMAT"
    )]
    log_format: LogFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("testcluster: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let spec = match &args.state {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| {
                format!(
                    "cannot read {}: {e}",
                    testcluster::describe_path(path).display()
                )
            })?;
            ClusterSpec::from_yaml(&text)?
        }
        None => ClusterSpec::demo(),
    };
    let config = Config {
        listen: args.listen,
        insecure_http: args.insecure_http,
        disconnect: args.disconnect,
        admin_token: args.admin_token,
        bookmark_interval: Duration::from_secs(args.bookmark_seconds.max(1)),
        ..Config::new(spec)
    };
    let cluster = TestCluster::start(config)
        .await
        .map_err(|e| e.to_string())?;
    if let Some(path) = &args.kubeconfig_out {
        cluster
            .write_kubeconfig(path)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    println!("testcluster serving {}", cluster.url());
    match &args.kubeconfig_out {
        Some(path) => println!(
            "kubeconfig: {}  (try: kubectl --kubeconfig {} get pods -A)",
            path.display(),
            path.display()
        ),
        None => println!("no --kubeconfig-out given; pass one to use kubectl"),
    }
    match &args.admin_token_out {
        Some(path) => {
            write_private(path, cluster.admin_token())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            println!("admin token written to {}", path.display());
        }
        None => println!("admin token: {}", cluster.admin_token()),
    }
    wait_for_signal().await;
    eprintln!("testcluster: shutting down");
    cluster.shutdown().await;
    Ok(())
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}
