//! The kubelet mode: the testcluster as a node of a real kube-apiserver.
//!
//! It registers a Node (with a lease it renews), watches the pods bound to it, runs their
//! containers with the same runtime as the API server mode, reports their status, finishes
//! their graceful deletion, and serves the kubelet's HTTPS endpoints the API server calls
//! (`/exec` now). The Node declares `ExtendWebSocketsToKubelet`, so the API server proxies
//! exec WebSockets here unchanged instead of translating them to SPDY.

mod node;
mod pods;
mod serve;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::Error;
use crate::cluster::Cluster;
use crate::config::{ClusterSpec, DisconnectMode, ImageSpec};
use crate::pki::PemPair;
use crate::server::Server;

/// How to start a kubelet.
#[derive(Clone)]
pub struct KubeletConfig {
    /// The Node's name; the client must authenticate as `system:node:NAME`.
    pub node_name: String,
    /// A client of the API server as the node.
    pub client: kube::Config,
    /// Where to serve the kubelet's endpoints; port 0 picks a free port.
    pub listen: SocketAddr,
    /// The serving certificate the API server sees.
    pub serving: PemPair,
    /// Only clients with a certificate from this CA are served (the API server's
    /// `--kubelet-client-certificate`).
    pub client_ca_pem: String,
    /// Image references this node can run, and their root filesystems.
    pub images: BTreeMap<String, ImageSpec>,
    /// Reported as `status.nodeInfo.kubeletVersion`.
    pub version: String,
    /// What happens to an exec's processes when its client goes away.
    pub disconnect: DisconnectMode,
    /// How often the node's lease is renewed.
    pub lease_renewal: Duration,
}

impl KubeletConfig {
    /// The demo's images, a renewal every 10 s (a real kubelet's default), processes that
    /// outlive a dropped exec (as real runtimes leave them).
    pub fn new(
        node_name: &str,
        client: kube::Config,
        serving: PemPair,
        client_ca_pem: &str,
    ) -> Self {
        Self {
            node_name: node_name.into(),
            client,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            serving,
            client_ca_pem: client_ca_pem.into(),
            images: ClusterSpec::demo().images,
            version: "v1.37.0".into(),
            disconnect: DisconnectMode::Linger,
            lease_renewal: Duration::from_secs(10),
        }
    }
}

/// A running kubelet. Dropping it stops serving and ends every container process; the
/// Node object stays (as when a real kubelet stops) and turns stale with its lease.
pub struct Kubelet {
    local: Arc<Cluster>,
    server: Server,
    tasks: Vec<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl Kubelet {
    /// Serves the endpoints, registers the Node and starts syncing pods. Returns once the
    /// Node is registered and ready, so pods bound to it can be created at once.
    pub async fn start(config: KubeletConfig) -> Result<Self, Error> {
        let dir = tempfile::Builder::new()
            .prefix("testcluster-kubelet-")
            .tempdir()?;
        let local = local_cluster(&config, dir.path())?;
        let tls = serve::tls(&config).map_err(Error::Config)?;
        let server = Server::start_with(
            serve::router(local.clone()),
            local.clone(),
            config.listen,
            Some(tls),
        )?;
        let client = kube::Client::try_from(config.client.clone())
            .map_err(|e| Error::Config(format!("kubelet's client: {e}")))?;
        let node = node::Node::new(&config, server.addr.port());
        node.register(&client)
            .await
            .map_err(|e| Error::Config(format!("registering node {}: {e}", config.node_name)))?;
        let tasks = vec![
            tokio::spawn(node.clone().heartbeat(client.clone(), config.lease_renewal)),
            tokio::spawn(pods::sync(client, node, local.clone())),
        ];
        tracing::info!(node = %config.node_name, addr = %server.addr, "kubelet serving");
        Ok(Self {
            local,
            server,
            tasks,
            _dir: dir,
        })
    }

    /// Where the kubelet's endpoints are served.
    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// Every live process in a container (its main process has `main: true`).
    pub async fn processes(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
    ) -> Vec<crate::ProcessInfo> {
        self.local.processes(namespace, pod, container).await
    }

    /// Drops every exec connection at once, as a failing node or network would.
    pub fn cut_exec_connections(&self) {
        self.local.cut_exec_connections();
    }

    /// Whether containers run in their own namespaces (root) or on the host.
    pub fn isolated(&self) -> bool {
        self.local.runtime.isolated()
    }

    /// Stops serving and ends every container process.
    pub async fn shutdown(mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.local.cut_exec_connections();
        self.server.shutdown().await;
        self.local.runtime.shutdown();
    }
}

impl Drop for Kubelet {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        self.local.cut_exec_connections();
        self.local.runtime.shutdown();
    }
}

/// The node's own view: the images it runs and the pods bound to it, nothing served as an
/// API (the real API server is the API).
fn local_cluster(config: &KubeletConfig, dir: &std::path::Path) -> Result<Arc<Cluster>, Error> {
    let mut spec = ClusterSpec::from_yaml("{}").map_err(Error::Config)?;
    spec.name = config.node_name.clone();
    spec.images = config.images.clone();
    spec.disconnect = config.disconnect;
    Cluster::new(spec, dir, crate::random_token(), Duration::from_secs(60)).map_err(Error::Config)
}
