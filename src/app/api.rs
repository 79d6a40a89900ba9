//! Server functions: what the dashboard needs from the cluster, one call per page state.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::model::{ClusterContext, Namespaces, PodSummary};

/// Everything the dashboard shows for one context and namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    pub version: String,
    /// Serving the built-in demo cluster.
    pub demo: bool,
    pub contexts: Vec<ClusterContext>,
    /// The context shown (the current one when none was asked for).
    pub context: String,
    pub namespaces: Result<Namespaces, String>,
    pub namespace: String,
    pub pods: Result<Vec<PodSummary>, String>,
    /// Why the person may not open shells in this namespace, if they may not.
    pub exec_denied: Option<String>,
    /// Who is logged in, as podterm knows them.
    pub user: String,
}

#[server(endpoint = "dashboard")]
pub async fn load_dashboard(
    context: Option<String>,
    namespace: Option<String>,
) -> Result<Dashboard, ServerFnError> {
    use crate::server::{access, caller, pods, state};
    let state = state()?;
    let caller = caller()?;
    let contexts = state.clusters.contexts();
    let context = context
        .filter(|c| !c.is_empty())
        .or_else(|| state.clusters.current())
        .ok_or_else(|| ServerFnError::new("no cluster contexts are configured"))?;
    let mut view = Dashboard {
        version: env!("CARGO_PKG_VERSION").into(),
        demo: state.demo,
        contexts,
        context: context.clone(),
        namespaces: Err(String::new()),
        namespace: namespace.clone().unwrap_or_default(),
        pods: Err(String::new()),
        exec_denied: None,
        user: caller.identity.name().to_string(),
    };
    let cluster = match state.clusters.get(Some(&context), &caller.identity).await {
        Ok(cluster) => cluster,
        Err(e) => {
            view.namespaces = Err(e.to_string());
            view.pods = Err(e.to_string());
            return Ok(view);
        }
    };
    let namespace = namespace
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| cluster.default_namespace.clone());
    view.namespace = namespace.clone();
    view.namespaces = pods::namespaces(&cluster).await.map_err(|f| f.message);
    view.pods = match testcluster::names::validate_label(&namespace) {
        Err(e) => Err(format!("{namespace:?} is not a valid namespace name: {e}")),
        Ok(()) => pods::pods(&cluster, &namespace)
            .await
            .map_err(|f| f.message),
    };
    if view.pods.is_ok() {
        view.exec_denied = access::may_exec(&cluster, &namespace, None)
            .await
            .err()
            .map(|failure| failure.message);
    }
    Ok(view)
}

/// One pod, for a deep link that names no container.
#[server(endpoint = "pod")]
pub async fn find_pod(
    context: Option<String>,
    namespace: String,
    pod: String,
) -> Result<PodSummary, ServerFnError> {
    use crate::server::{caller, kube_errors::classify, pods::summarize, state};
    use k8s_openapi::api::core::v1::Pod;
    testcluster::names::validate_label(&namespace)
        .map_err(|e| ServerFnError::new(format!("namespace {namespace:?}: {e}")))?;
    testcluster::names::validate_subdomain(&pod)
        .map_err(|e| ServerFnError::new(format!("pod {pod:?}: {e}")))?;
    let state = state()?;
    let caller = caller()?;
    let cluster = state
        .clusters
        .get(context.as_deref(), &caller.identity)
        .await
        .map_err(|e| ServerFnError::new(e.to_string()))?;
    let api: kube::Api<Pod> = kube::Api::namespaced(cluster.client.clone(), &namespace);
    let found = api
        .get(&pod)
        .await
        .map_err(|e| ServerFnError::new(classify(&e).message))?;
    Ok(summarize(&found))
}
