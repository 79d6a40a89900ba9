//! testcluster: a Kubernetes API server for tests and demos.
//!
//! It serves the part of the API a pod terminal touches (discovery, namespaces, pods with
//! watch, exec over WebSocket, SelfSubjectAccessReview, RBAC and impersonation) over TLS,
//! and runs real shells in per-container namespaces. Start it in-process:
//!
//! ```no_run
//! # async fn demo() -> Result<(), testcluster::Error> {
//! let cluster = testcluster::TestCluster::start(testcluster::Config::demo()).await?;
//! println!("KUBECONFIG={}", cluster.kubeconfig_path().display());
//! # Ok(()) }
//! ```

mod api;
mod cluster;
pub mod config;
mod ephemeral;
mod exec;
pub mod kubeconfig;
pub mod kubelet;
mod logs;
pub mod names;
mod objects;
pub mod pki;
mod rbac;
pub mod runtime;
mod selector;
mod server;
mod status;
mod store;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use config::{
    ClusterSpec, ContainerSpec, ContainerState, DisconnectMode, Phase, PodSpec, PolicyRule,
    RootfsKind,
};
pub use kubeconfig::context_name;
pub use kubelet::{Kubelet, KubeletConfig};
pub use runtime::ProcessInfo;

/// How to start a cluster.
#[derive(Debug, Clone)]
pub struct Config {
    pub spec: ClusterSpec,
    /// Where to listen; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Serve plain HTTP instead of TLS (no client certificates then).
    pub insecure_http: bool,
    /// Overrides the state file's disconnect mode.
    pub disconnect: Option<DisconnectMode>,
    /// The admin endpoint's token; generated when absent.
    pub admin_token: Option<String>,
    /// How often watches that allow bookmarks get one.
    pub bookmark_interval: Duration,
}

impl Config {
    pub fn new(spec: ClusterSpec) -> Self {
        Self {
            spec,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            insecure_http: false,
            disconnect: None,
            admin_token: None,
            bookmark_interval: Duration::from_secs(10),
        }
    }

    /// The shipped demo cluster on a free loopback port, with demo.yaml's tokens (for tests
    /// and benchmarks that use them).
    pub fn demo() -> Self {
        Self::new(ClusterSpec::demo())
    }

    /// The shipped demo cluster with fresh random tokens instead of demo.yaml's
    /// ([`ClusterSpec::with_fresh_tokens`]): for a demo served on a shared machine, where
    /// the cluster's port is open to every local user. Only the kubeconfig holds the tokens
    /// ([`TestCluster::kubeconfig_yaml`], and its owner-only file at `kubeconfig_path`).
    pub fn demo_private() -> Self {
        Self::new(ClusterSpec::demo().with_fresh_tokens())
    }
}

#[derive(Debug)]
pub enum Error {
    Config(String),
    Io(std::io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Config(e) => write!(f, "{e}"),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Io(e)
    }
}

/// A running cluster. Dropping it stops the server and ends every container process.
pub struct TestCluster {
    cluster: Arc<cluster::Cluster>,
    server: server::Server,
    url: String,
    kubeconfig: String,
    kubeconfig_file: tempfile::NamedTempFile,
    ca_pem: Option<String>,
    _dir: tempfile::TempDir,
}

impl TestCluster {
    pub async fn start(config: Config) -> Result<Self, Error> {
        let mut spec = config.spec;
        if let Some(mode) = config.disconnect {
            spec.disconnect = mode;
        }
        let dir = tempfile::Builder::new().prefix("testcluster-").tempdir()?;
        let admin_token = config.admin_token.unwrap_or_else(random_token);
        let pki = if config.insecure_http {
            None
        } else {
            Some(pki::Pki::generate(&[]).map_err(|e| Error::Config(format!("certificates: {e}")))?)
        };
        let tls = pki
            .as_ref()
            .map(|p| p.server_config())
            .transpose()
            .map_err(Error::Config)?;
        let cluster_name = spec.name.clone();
        let users = spec.users.clone();
        let cluster =
            cluster::Cluster::new(spec, dir.path(), admin_token, config.bookmark_interval)
                .map_err(Error::Config)?;
        let server = server::Server::start(cluster.clone(), config.listen, tls)?;
        let scheme = if pki.is_some() { "https" } else { "http" };
        let url = format!("{scheme}://{}", server.addr);
        let kubeconfig =
            kubeconfig::render(&cluster_name, &url, pki.as_ref(), &users).map_err(Error::Config)?;
        let mut kubeconfig_file = tempfile::Builder::new()
            .prefix("kubeconfig-")
            .suffix(".yaml")
            .tempfile()?;
        kubeconfig_file.write_all(kubeconfig.as_bytes())?;
        tracing::info!(%url, isolated = cluster.runtime.isolated(), "testcluster serving");
        Ok(Self {
            ca_pem: pki.map(|p| p.ca_pem()),
            cluster,
            server,
            url,
            kubeconfig,
            kubeconfig_file,
            _dir: dir,
        })
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// The kubeconfig text: one context per user, the first user's current.
    pub fn kubeconfig_yaml(&self) -> &str {
        &self.kubeconfig
    }

    /// The kubeconfig as a file that lives as long as the cluster.
    pub fn kubeconfig_path(&self) -> &Path {
        self.kubeconfig_file.path()
    }

    /// Writes the kubeconfig to `path` too.
    pub fn write_kubeconfig(&self, path: &Path) -> std::io::Result<()> {
        std::fs::write(path, &self.kubeconfig)
    }

    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    pub fn admin_token(&self) -> &str {
        &self.cluster.admin_token
    }

    pub fn spec(&self) -> &ClusterSpec {
        &self.cluster.spec
    }

    /// Whether containers run in their own namespaces (root) or on the host.
    pub fn isolated(&self) -> bool {
        self.cluster.runtime.isolated()
    }

    /// Creates or replaces a pod (the watch sees ADDED or MODIFIED).
    pub fn put_pod(&self, pod: PodSpec) -> Result<(), String> {
        self.cluster.put_pod(pod).map(|_| ())
    }

    /// Changes a pod in place: phase, containers, annotations...
    pub fn update_pod(
        &self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut PodSpec),
    ) -> Result<(), String> {
        self.cluster.update_pod(namespace, name, change)
    }

    /// Deletes a pod and ends its processes.
    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<(), String> {
        self.cluster.delete_pod(namespace, name)
    }

    /// Every live process in a container (its main process has `main: true`).
    pub async fn processes(&self, namespace: &str, pod: &str, container: &str) -> Vec<ProcessInfo> {
        self.cluster.processes(namespace, pod, container).await
    }

    /// Replaces the RBAC policy: requests from now on are checked against `rules` (watches
    /// and execs already running go on, as on a real cluster). `spec()` keeps the first one.
    pub fn set_policy(&self, rules: Vec<PolicyRule>) -> Result<(), String> {
        self.cluster.set_policy(rules)
    }

    /// Delays every API request by `latency`.
    pub fn set_latency(&self, latency: Duration) {
        self.cluster.set_latency(latency);
    }

    /// Drops every exec connection at once.
    pub fn cut_exec_connections(&self) {
        self.cluster.cut_exec_connections();
    }

    /// Forgets the watch history: watches from older versions get 410 Gone.
    pub fn compact(&self) {
        self.cluster.store.compact();
    }

    /// Stops the API listener (dropping every connection) and listens again on the same
    /// port after `down`. Returns once the restart has been requested.
    pub fn restart_listener(&self, down: Duration) -> Result<(), String> {
        self.cluster.request_restart(down)
    }

    /// Stops serving and ends every container process.
    pub async fn shutdown(mut self) {
        self.cluster.cut_exec_connections();
        self.server.shutdown().await;
        self.cluster.runtime.shutdown();
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        self.cluster.cut_exec_connections();
        self.cluster.runtime.shutdown();
    }
}

pub(crate) fn random_token() -> String {
    random_hex(24)
}

/// `bytes` random bytes, as hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    (0..bytes)
        .map(|_| format!("{:02x}", rng.random::<u8>()))
        .collect()
}

/// Where a state file path points, for error messages.
pub fn describe_path(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}
