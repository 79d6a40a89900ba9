//! The shared control plane and what tests do with it.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::sync::Mutex;
use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{Api, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::OnceCell;

use crate::Error;

/// The test users: the demo cluster's (testcluster's `demo.yaml`), with fresh tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum User {
    /// In `system:masters`.
    Admin,
    /// In `developers`; no permissions until a test (or the demo's policy) grants some.
    Alice,
    /// In `viewers`.
    Bob,
    /// In `developers`, authenticated by a client certificate.
    Carol,
    /// In `podterm-proxies`; for impersonation tests (podterm's proxy identity).
    Proxy,
}

impl User {
    pub const ALL: [User; 5] = [
        User::Admin,
        User::Alice,
        User::Bob,
        User::Carol,
        User::Proxy,
    ];

    pub fn name(self) -> &'static str {
        match self {
            User::Admin => "admin",
            User::Alice => "alice",
            User::Bob => "bob",
            User::Carol => "carol",
            User::Proxy => "proxy",
        }
    }

    /// The demo's entry for this user.
    pub(crate) fn spec(self) -> testcluster::config::UserSpec {
        testcluster::ClusterSpec::demo()
            .users
            .into_iter()
            .find(|u| u.name == self.name())
            .unwrap_or_else(|| panic!("{} is not a demo user", self.name()))
    }

    pub fn groups(self) -> Vec<String> {
        self.spec().groups
    }

    pub(crate) fn uses_token(self) -> bool {
        self.spec().token.is_some()
    }
}

/// etcd and kube-apiserver on loopback ports, everything in one temporary directory.
pub struct ControlPlane {
    pub(crate) dir: PathBuf,
    pub(crate) bin: PathBuf,
    pub(crate) url: String,
    pub(crate) ca_pem: String,
    pub(crate) tokens: Vec<(User, Option<String>)>,
    pub(crate) startup: Duration,
    /// kube-apiserver's arguments, to start it again the same way.
    pub(crate) apiserver_args: Vec<String>,
    /// The testcluster as the one node (None only while starting).
    pub(crate) kubelet: Option<testcluster::Kubelet>,
    /// Held so they are not reaped early; PR_SET_PDEATHSIG ends them with the process.
    pub(crate) _servers: Mutex<Vec<Child>>,
}

static SHARED: OnceCell<Result<ControlPlane, Error>> = OnceCell::const_new();

impl ControlPlane {
    /// The process's control plane, started on first use. A failed start is not retried:
    /// every caller gets its error.
    pub async fn shared() -> Result<&'static ControlPlane, Error> {
        SHARED
            .get_or_init(crate::start::start)
            .await
            .as_ref()
            .map_err(Clone::clone)
    }

    /// `https://127.0.0.1:PORT`
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// How long etcd and kube-apiserver took to become ready.
    pub fn startup_time(&self) -> Duration {
        self.startup
    }

    /// The Node the testcluster kubelet registered; test pods set `spec.nodeName` to it.
    pub fn node_name(&self) -> &'static str {
        crate::files::NODE
    }

    /// Kills kube-apiserver and starts it again on the same port after `down`, as a
    /// cluster whose API server goes away for a moment. Returns once it is stopped; it
    /// takes a few seconds to answer again after it starts.
    pub fn restart_apiserver(&'static self, down: Duration) -> Result<(), Error> {
        let mut servers = self._servers.lock().unwrap_or_else(|e| e.into_inner());
        let apiserver = servers
            .last_mut()
            .ok_or_else(|| Error::new("kube-apiserver is not running"))?;
        // Killed, as a crashed server or a cut network: a graceful stop waits up to a
        // minute for open watches, and the testcluster's listener drops them too.
        apiserver
            .kill()
            .map_err(|e| Error::new(format!("stopping kube-apiserver: {e}")))?;
        let _ = apiserver.wait();
        drop(servers);
        std::thread::spawn(move || {
            std::thread::sleep(down);
            match crate::start::launch("kube-apiserver", &self.bin, &self.apiserver_args, &self.dir)
            {
                Ok(child) => {
                    let mut servers = self._servers.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(last) = servers.last_mut() {
                        *last = child;
                    }
                }
                Err(e) => eprintln!("kube-apiserver did not start again: {e}"),
            }
        });
        Ok(())
    }

    /// kube-apiserver's process id (to read its CPU time and memory).
    pub fn apiserver_pid(&self) -> u32 {
        let servers = self._servers.lock().unwrap_or_else(|e| e.into_inner());
        servers.last().map(|apiserver| apiserver.id()).unwrap_or(0)
    }

    /// The kubelet serving this control plane's node.
    pub fn kubelet(&self) -> &testcluster::Kubelet {
        self.kubelet
            .as_ref()
            .expect("started with the control plane")
    }

    /// Every user's context in one kubeconfig, shaped as the testcluster's demo one
    /// (contexts `USER@demo`, admin's current).
    pub fn demo_kubeconfig_yaml(&self) -> Result<String, Error> {
        let path = self.dir.join("kubeconfig-demo.yaml");
        std::fs::read_to_string(&path)
            .map_err(|e| Error::new(format!("reading {}: {e}", path.display())))
    }

    /// The user's bearer token (None for Bob, who has a client certificate).
    pub fn token(&self, user: User) -> Option<&str> {
        let (_, token) = self.tokens.iter().find(|(u, _)| *u == user)?;
        token.as_deref()
    }

    /// A kubeconfig with one context, the user's.
    pub fn kubeconfig_path(&self, user: User) -> PathBuf {
        self.dir.join(format!("kubeconfig-{}.yaml", user.name()))
    }

    /// The directory of the built kube-apiserver, etcd and kubectl.
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The built kubectl, as `user`.
    pub fn kubectl(&self, user: User) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(self.bin.join("kubectl"));
        command
            .arg("--kubeconfig")
            .arg(self.kubeconfig_path(user))
            .kill_on_drop(true);
        command
    }

    /// kube-rs settings for `user`; change them (impersonation, timeouts) before connecting.
    pub async fn config(&self, user: User) -> Result<kube::Config, Error> {
        let path = self.kubeconfig_path(user);
        let kubeconfig = Kubeconfig::read_from(&path)
            .map_err(|e| Error::new(format!("reading {}: {e}", path.display())))?;
        kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
            .await
            .map_err(|e| Error::new(format!("kubeconfig of {}: {e}", user.name())))
    }

    /// A client as `user`. Make one per test: a kube-rs client belongs to the tokio
    /// runtime it was made in, and each test has its own.
    pub async fn client(&self, user: User) -> Result<kube::Client, Error> {
        let config = self.config(user).await?;
        kube::Client::try_from(config).map_err(|e| Error::new(format!("client: {e}")))
    }

    /// Creates `name` (if missing) with its `default` ServiceAccount, which the
    /// ServiceAccount admission plugin needs for pods and no controller-manager makes here.
    pub async fn namespace(&self, name: &str) -> Result<(), Error> {
        let admin = self.client(User::Admin).await?;
        let create = async {
            let namespace: Namespace = serde_json::from_value(serde_json::json!({
                "metadata": {"name": name}
            }))
            .expect("literal namespace");
            ignore_exists(Api::all(admin.clone()).create(&PostParams::default(), &namespace))
                .await?;
            let account: ServiceAccount = serde_json::from_value(serde_json::json!({
                "metadata": {"name": "default", "namespace": name}
            }))
            .expect("literal service account");
            ignore_exists(Api::namespaced(admin, name).create(&PostParams::default(), &account))
                .await
        };
        tokio::time::timeout(Duration::from_secs(30), create)
            .await
            .map_err(|_| Error::new(format!("creating namespace {name}: no answer in 30 s")))?
            .map_err(|e| Error::new(format!("creating namespace {name}: {e}")))
    }
}

async fn ignore_exists<T>(
    created: impl Future<Output = Result<T, kube::Error>>,
) -> Result<(), kube::Error> {
    match created.await {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 409 => Ok(()),
        Err(e) => Err(e),
    }
}
