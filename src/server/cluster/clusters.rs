//! The clusters podterm can reach: the kubeconfig's contexts, or the pod's own service
//! account; and clients for them that act as the person calling.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use kube::config::{AuthInfo, KubeConfigOptions, Kubeconfig};
use secrecy::SecretString;
use tokio::sync::Mutex;

use crate::model::ClusterContext;
use crate::server::cluster::watch::PodWatches;
use crate::server::web::identity::Identity;

/// The in-cluster identity's name, where there is no kubeconfig.
pub const IN_CLUSTER: &str = "in-cluster";
/// How long a readiness answer is reused.
const READINESS_KEPT: Duration = Duration::from_secs(1);
/// How long the API server has to answer a readiness check.
const READINESS_WAIT: Duration = Duration::from_secs(3);
/// Clients kept at most; past that the cache starts over.
const MAX_CLIENTS: usize = 1024;

enum Source {
    Kubeconfig(Box<Kubeconfig>),
    InCluster,
}

pub struct Clusters {
    source: Source,
    clients: Mutex<HashMap<String, Cluster>>,
    /// The last readiness answer and when it was had (`/readyz` is open to anyone).
    readiness: std::sync::Mutex<Option<(Instant, bool)>>,
    /// Pod lists kept by watches, per context, identity and namespace.
    pub watches: PodWatches,
}

/// A connected cluster context, acting as one identity.
#[derive(Clone)]
pub struct Cluster {
    pub context: String,
    /// Whom the client acts for (`Identity::cache_key`): caches of what it fetched are
    /// keyed by it.
    pub identity: String,
    pub client: kube::Client,
    /// The context's namespace (or the service account's), used when none is chosen.
    pub default_namespace: String,
    /// This identity's recent "allowed" answers (`access`).
    pub reviews: Arc<crate::server::cluster::access::Reviews>,
    /// This identity's pods fetched to open terminals (`pods`).
    pub pods: Arc<crate::server::cluster::pods::RecentPods>,
}

#[derive(Debug)]
pub enum ClusterError {
    UnknownContext(String),
    Config(String),
    /// A user-token login is for one context; `wanted` needs a login of its own.
    OtherLogin {
        wanted: String,
        bound: String,
    },
}

impl std::fmt::Display for ClusterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClusterError::UnknownContext(name) => {
                write!(f, "there is no cluster context named {name:?}")
            }
            ClusterError::Config(e) => write!(f, "{e}"),
            ClusterError::OtherLogin { wanted, bound } => write!(
                f,
                "you logged in for the cluster {bound:?}; to use {wanted:?}, log in for it with your token there"
            ),
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
            readiness: std::sync::Mutex::new(None),
            watches: PodWatches::default(),
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

    /// A client for a context (the current one when `None`) acting as `identity`: with
    /// podterm's credentials, impersonating a proxied person, or with their own token.
    /// Created once per context and identity, and reused.
    pub async fn get(
        &self,
        context: Option<&str>,
        identity: &Identity,
    ) -> Result<Cluster, ClusterError> {
        let name = match context.filter(|c| !c.is_empty()) {
            Some(name) => name.to_string(),
            None => self
                .current()
                .ok_or_else(|| ClusterError::Config("the kubeconfig has no contexts".into()))?,
        };
        if let Identity::OwnToken { context: bound, .. } = identity
            && **bound != *name
        {
            // Never send a person's token to a cluster it was not checked against.
            return Err(ClusterError::OtherLogin {
                wanted: name,
                bound: bound.to_string(),
            });
        }
        let identity_key = identity.cache_key();
        let key = format!("{name}\n{identity_key}");
        let mut clients = self.clients.lock().await;
        if let Some(cluster) = clients.get(&key) {
            return Ok(cluster.clone());
        }
        let mut config = self.config(&name).await?;
        match identity {
            Identity::TokenHolder => {}
            Identity::Proxied { user, groups } => {
                config.auth_info.impersonate = Some(user.clone());
                config.auth_info.impersonate_groups = Some(groups.clone());
            }
            Identity::OwnToken { token, .. } => {
                config.auth_info = AuthInfo {
                    token: Some((**token).clone()),
                    ..Default::default()
                };
            }
        }
        let default_namespace = config.default_namespace.clone();
        let client = kube::Client::try_from(config)
            .map_err(|e| ClusterError::Config(format!("context {name:?}: {e}")))?;
        let cluster = Cluster {
            context: name,
            identity: identity_key,
            client,
            default_namespace,
            reviews: Default::default(),
            pods: Default::default(),
        };
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, cluster.clone());
        Ok(cluster)
    }

    /// Whether the current context's API server answers (any answer: a refusal is an
    /// answer), asked at most once every [`READINESS_KEPT`] however often this is called.
    pub async fn answers(&self) -> bool {
        let kept = *self.readiness.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((at, answer)) = kept
            && at.elapsed() < READINESS_KEPT
        {
            return answer;
        }
        let asked = async {
            let cluster = self.get(None, &Identity::TokenHolder).await.ok()?;
            match cluster.client.apiserver_version().await {
                Ok(_) | Err(kube::Error::Api(_)) => Some(()),
                Err(_) => None,
            }
        };
        let answer = matches!(
            tokio::time::timeout(READINESS_WAIT, asked).await,
            Ok(Some(()))
        );
        *self.readiness.lock().unwrap_or_else(|e| e.into_inner()) = Some((Instant::now(), answer));
        answer
    }

    /// Who a Kubernetes token belongs to (a SelfSubjectReview with it, on the context's
    /// cluster). The error reads well on a login page.
    pub async fn who_am_i(
        &self,
        context: &str,
        token: &str,
    ) -> Result<(String, Vec<String>), String> {
        let mut config = self.config(context).await.map_err(|e| e.to_string())?;
        config.auth_info = AuthInfo {
            token: Some(SecretString::from(token.to_string())),
            ..Default::default()
        };
        let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
        let review = serde_json::json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"});
        let request = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
            .header("content-type", "application/json")
            .body(review.to_string().into_bytes())
            .map_err(|e| e.to_string())?;
        let answer: serde_json::Value = client.request(request).await.map_err(|e| match e {
            kube::Error::Api(status) if status.code == 401 => {
                "The cluster did not accept that token.".to_string()
            }
            other => format!(
                "Could not check that token with the cluster: {}",
                crate::server::cluster::kube_errors::classify(&other)
            ),
        })?;
        let info = &answer["status"]["userInfo"];
        let user = info["username"].as_str().unwrap_or("unknown").to_string();
        let groups = info["groups"]
            .as_array()
            .map(|g| {
                g.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Ok((user, groups))
    }

    async fn config(&self, name: &str) -> Result<kube::Config, ClusterError> {
        match &self.source {
            Source::InCluster if name == IN_CLUSTER => kube::Config::incluster()
                .map_err(|e| ClusterError::Config(format!("in-cluster config: {e}"))),
            Source::InCluster => Err(ClusterError::UnknownContext(name.to_string())),
            Source::Kubeconfig(kubeconfig) => {
                if !kubeconfig.contexts.iter().any(|c| c.name == name) {
                    return Err(ClusterError::UnknownContext(name.to_string()));
                }
                let options = KubeConfigOptions {
                    context: Some(name.to_string()),
                    ..Default::default()
                };
                kube::Config::from_custom_kubeconfig((**kubeconfig).clone(), &options)
                    .await
                    .map_err(|e| ClusterError::Config(format!("context {name:?}: {e}")))
            }
        }
    }
}
