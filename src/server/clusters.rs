//! The clusters podterm can reach: the kubeconfig's contexts, or the pod's own service account.

use std::collections::HashMap;

use kube::config::{KubeConfigOptions, Kubeconfig};
use tokio::sync::Mutex;

use crate::model::ClusterContext;

/// The in-cluster identity's name, where there is no kubeconfig.
pub const IN_CLUSTER: &str = "in-cluster";

enum Source {
    Kubeconfig(Box<Kubeconfig>),
    InCluster,
}

pub struct Clusters {
    source: Source,
    clients: Mutex<HashMap<String, Cluster>>,
}

/// A connected cluster context.
#[derive(Clone)]
pub struct Cluster {
    pub context: String,
    pub client: kube::Client,
    /// The context's namespace (or the service account's), used when none is chosen.
    pub default_namespace: String,
}

#[derive(Debug)]
pub enum ClusterError {
    UnknownContext(String),
    Config(String),
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::UnknownContext(name) => {
                write!(f, "there is no cluster context named {name:?}")
            }
            ClusterError::Config(e) => write!(f, "{e}"),
        }
    }
}

impl Clusters {
    /// As kube-rs infers it: KUBECONFIG, then ~/.kube/config, then the in-cluster config.
    pub fn from_environment() -> Result<Self, String> {
        match Kubeconfig::read() {
            Ok(config) => Ok(Self::new(Source::Kubeconfig(Box::new(config)))),
            Err(e) if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
                tracing::info!("no kubeconfig ({e}); using the pod's service account");
                Ok(Self::new(Source::InCluster))
            }
            Err(e) => Err(format!(
                "no cluster to serve: no kubeconfig could be read ({e}) and podterm is not running in a pod. \
                 Set KUBECONFIG, or try --demo for a built-in demo cluster"
            )),
        }
    }

    pub fn from_kubeconfig_yaml(yaml: &str) -> Result<Self, String> {
        let config = Kubeconfig::from_yaml(yaml).map_err(|e| format!("invalid kubeconfig: {e}"))?;
        Ok(Self::new(Source::Kubeconfig(Box::new(config))))
    }

    fn new(source: Source) -> Self {
        Self {
            source,
            clients: Mutex::new(HashMap::new()),
        }
    }

    pub fn contexts(&self) -> Vec<ClusterContext> {
        match &self.source {
            Source::InCluster => vec![ClusterContext {
                name: IN_CLUSTER.into(),
                current: true,
                namespace: None,
            }],
            Source::Kubeconfig(config) => {
                let current = config.current_context.clone().unwrap_or_default();
                config
                    .contexts
                    .iter()
                    .map(|c| ClusterContext {
                        name: c.name.clone(),
                        current: c.name == current,
                        namespace: c.context.as_ref().and_then(|ctx| ctx.namespace.clone()),
                    })
                    .collect()
            }
        }
    }

    /// The context used when none is named.
    pub fn current(&self) -> Option<String> {
        let contexts = self.contexts();
        contexts
            .iter()
            .find(|c| c.current)
            .or(contexts.first())
            .map(|c| c.name.clone())
    }

    /// A client for a context (the current one when `None`), created once and reused.
    pub async fn get(&self, context: Option<&str>) -> Result<Cluster, ClusterError> {
        let name = match context.filter(|c| !c.is_empty()) {
            Some(name) => name.to_string(),
            None => self
                .current()
                .ok_or_else(|| ClusterError::Config("the kubeconfig has no contexts".into()))?,
        };
        let mut clients = self.clients.lock().await;
        if let Some(cluster) = clients.get(&name) {
            return Ok(cluster.clone());
        }
        let config = match &self.source {
            Source::InCluster if name == IN_CLUSTER => kube::Config::incluster()
                .map_err(|e| ClusterError::Config(format!("in-cluster config: {e}")))?,
            Source::InCluster => return Err(ClusterError::UnknownContext(name)),
            Source::Kubeconfig(kubeconfig) => {
                if !kubeconfig.contexts.iter().any(|c| c.name == name) {
                    return Err(ClusterError::UnknownContext(name));
                }
                let options = KubeConfigOptions {
                    context: Some(name.clone()),
                    ..Default::default()
                };
                kube::Config::from_custom_kubeconfig((**kubeconfig).clone(), &options)
                    .await
                    .map_err(|e| ClusterError::Config(format!("context {name:?}: {e}")))?
            }
        };
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config)
            .map_err(|e| ClusterError::Config(format!("context {name:?}: {e}")))?;
        let cluster = Cluster {
            context: name.clone(),
            client,
            default_namespace,
        };
        clients.insert(name, cluster.clone());
        Ok(cluster)
    }
}
