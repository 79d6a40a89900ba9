//! The pod data behind the dashboard: namespaces, pod summaries, and whether a container
//! can be exec'd (decided by the container's state, not the pod's phase). The pod lists
//! themselves are kept by watches (`watch`).

use std::sync::Arc;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{ContainerStatus, Namespace, Pod};
use kube::api::{Api, ListParams};

use crate::model::{ContainerSummary, Namespaces, PodSummary, short_age};
use crate::protocol::ErrorReason;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::{Failure, classify};
use crate::server::cluster::recent::Recent;

pub const DEFAULT_CONTAINER_ANNOTATION: &str = "kubectl.kubernetes.io/default-container";

/// The namespaces to offer; when listing is forbidden, the context's own namespace.
pub async fn namespaces(cluster: &Cluster) -> Result<Namespaces, Failure> {
    let api: Api<Namespace> = Api::all(cluster.client.clone());
    match api.list(&ListParams::default()).await {
        Ok(list) => {
            let mut names: Vec<String> = list
                .items
                .into_iter()
                .filter_map(|n| n.metadata.name)
                .collect();
            names.sort();
            Ok(Namespaces {
                names,
                listable: true,
                note: None,
            })
        }
        Err(e) => {
            let failure = classify(&e);
            if failure.reason != ErrorReason::Forbidden {
                return Err(failure);
            }
            Ok(Namespaces {
                names: vec![cluster.default_namespace.clone()],
                listable: false,
                note: Some(format!(
                    "You may not list namespaces here ({}); type the one you want.",
                    failure.message
                )),
            })
        }
    }
}

/// When the pod was created.
pub fn created(pod: &Pod) -> Option<Timestamp> {
    pod.metadata.creation_timestamp.as_ref().map(|t| t.0)
}

/// How long a pod fetched to open a terminal is used again for the same person: a burst
/// of terminals into one pod fetches it once. Its containers' states may be that old; an
/// exec into one that stopped meanwhile is refused by the cluster itself.
const POD_KEPT: std::time::Duration = std::time::Duration::from_secs(2);

/// One identity's pods fetched moments ago, by namespace and name.
pub struct RecentPods(Recent<(String, String), Arc<Pod>>);

impl Default for RecentPods {
    fn default() -> Self {
        Self(Recent::new(POD_KEPT))
    }
}

/// The pod, as the caller may see it: fetched, or as fetched within `POD_KEPT`.
pub async fn recent_pod(
    cluster: &Cluster,
    namespace: &str,
    name: &str,
) -> Result<Arc<Pod>, Failure> {
    let key = (namespace.to_string(), name.to_string());
    if let Some(pod) = cluster.pods.0.get(&key) {
        return Ok(pod);
    }
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let pod = Arc::new(pods.get(name).await.map_err(|e| classify(&e))?);
    cluster.pods.0.keep(key, Arc::clone(&pod));
    Ok(pod)
}

/// A pod as the list shows it: kubectl's STATUS, READY and RESTARTS, and per container
/// whether a shell can be opened and, if not, why.
pub fn summarize(pod: &Pod) -> PodSummary {
    let spec = pod.spec.as_ref();
    let status = pod.status.as_ref();
    let statuses: Vec<&ContainerStatus> = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    let phase = status
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    let terminating = pod.metadata.deletion_timestamp.is_some();
    let scheduled = spec.and_then(|s| s.node_name.as_ref()).is_some();
    let summary = |name: &str,
                   image: Option<&String>,
                   st: Option<&&ContainerStatus>,
                   stdin: (Option<bool>, Option<bool>)| ContainerSummary {
        name: name.to_string(),
        image: image.cloned().unwrap_or_default(),
        ready: st.is_some_and(|s| s.ready),
        restarts: st.map_or(0, |s| s.restart_count),
        not_connectable: why_not_connectable(st.copied(), scheduled, terminating),
        debug_of: None,
        interactive: stdin.0.unwrap_or(false) || stdin.1.unwrap_or(false),
    };
    let mut containers: Vec<ContainerSummary> = spec
        .map(|s| s.containers.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| {
            summary(
                &c.name,
                c.image.as_ref(),
                statuses.iter().find(|s| s.name == c.name),
                (c.stdin, c.tty),
            )
        })
        .collect();
    let total = containers.len() as u32;
    let debug_statuses: Vec<&ContainerStatus> = status
        .and_then(|s| s.ephemeral_container_statuses.as_ref())
        .map(|v| v.iter().collect())
        .unwrap_or_default();
    for c in spec
        .and_then(|s| s.ephemeral_containers.as_ref())
        .into_iter()
        .flatten()
    {
        let st = debug_statuses.iter().find(|s| s.name == c.name);
        containers.push(ContainerSummary {
            debug_of: c.target_container_name.clone(),
            ..summary(&c.name, c.image.as_ref(), st, (c.stdin, c.tty))
        });
    }
    let mut reason = status
        .and_then(|s| s.reason.clone())
        .unwrap_or_else(|| phase.clone());
    for st in statuses.iter().rev() {
        let state = st.state.as_ref();
        if let Some(r) = state
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.clone())
        {
            reason = r;
        } else if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
            reason = t
                .reason
                .clone()
                .unwrap_or_else(|| format!("ExitCode:{}", t.exit_code));
        }
    }
    let ready = statuses
        .iter()
        .filter(|s| s.ready && s.state.as_ref().is_some_and(|st| st.running.is_some()))
        .count() as u32;
    if reason == "Completed" && ready > 0 {
        reason = "Running".into();
    }
    if terminating && !matches!(phase.as_str(), "Succeeded" | "Failed") {
        reason = "Terminating".into();
    }
    let annotated = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(DEFAULT_CONTAINER_ANNOTATION))
        .filter(|name| containers.iter().any(|c| &&c.name == name))
        .cloned();
    PodSummary {
        name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        phase,
        status: reason,
        ready,
        total,
        restarts: statuses.iter().map(|s| s.restart_count).sum(),
        age: created(pod)
            .map(|t| short_age(Timestamp::now().duration_since(t).as_secs()))
            .unwrap_or_default(),
        default_container: annotated.or_else(|| containers.first().map(|c| c.name.clone())),
        containers,
        terminating,
        windows: spec
            .and_then(|s| s.os.as_ref())
            .is_some_and(|os| os.name.eq_ignore_ascii_case("windows")),
    }
}

fn why_not_connectable(
    status: Option<&ContainerStatus>,
    scheduled: bool,
    terminating: bool,
) -> Option<String> {
    if terminating {
        return Some("the pod is being deleted".into());
    }
    if !scheduled {
        return Some("the pod is not scheduled on a node yet".into());
    }
    let Some(status) = status else {
        return Some("the container has not started yet".into());
    };
    let state = status.state.as_ref();
    if state.is_some_and(|s| s.running.is_some()) {
        return None;
    }
    if let Some(waiting) = state.and_then(|s| s.waiting.as_ref()) {
        let reason = waiting.reason.as_deref().unwrap_or("waiting");
        return Some(format!("the container is not running ({reason})"));
    }
    if let Some(done) = state.and_then(|s| s.terminated.as_ref()) {
        let reason = done.reason.as_deref().unwrap_or("terminated");
        return Some(format!(
            "the container has exited ({reason}, exit code {})",
            done.exit_code
        ));
    }
    Some("the container is not running".into())
}
