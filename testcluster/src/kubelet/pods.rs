//! The pods bound to this node: run them, report their status, finish their deletion.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use super::node::Node;
use crate::cluster::Cluster;
use crate::config::{ContainerSpec, ContainerState, NamespaceSpec, Phase, PodSpec};

/// Watches the pods with `spec.nodeName` = this node (the only ones the Node authorizer
/// lets it see) until aborted.
pub async fn sync(client: kube::Client, node: Node, local: Arc<Cluster>) {
    let pods: Api<Pod> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("spec.nodeName={}", node.name));
    let mut known: HashMap<(String, String), String> = HashMap::new();
    let mut events = std::pin::pin!(watcher::watcher(pods.clone(), config));
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(pod) | Event::InitApply(pod)) => {
                apply(&pods, &node, &local, &mut known, pod).await;
            }
            Ok(Event::Delete(pod)) => {
                if let Some(key) = key_of(&pod) {
                    known.remove(&key);
                    forget(&local, &key);
                }
            }
            Ok(Event::Init | Event::InitDone) => {}
            Err(e) => {
                tracing::warn!(node = %node.name, "watching this node's pods: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

fn key_of(pod: &Pod) -> Option<(String, String)> {
    Some((pod.metadata.namespace.clone()?, pod.metadata.name.clone()?))
}

async fn apply(
    pods: &Api<Pod>,
    node: &Node,
    local: &Cluster,
    known: &mut HashMap<(String, String), String>,
    pod: Pod,
) {
    let (Some(key), Some(uid)) = (key_of(&pod), pod.metadata.uid.clone()) else {
        return;
    };
    if pod.metadata.deletion_timestamp.is_some() {
        // The containers stop first; then the object goes, as a kubelet finishes a
        // graceful deletion (the API server waits for it once the pod is on a node).
        forget(local, &key);
        known.remove(&key);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid),
                resource_version: None,
            }),
            ..Default::default()
        };
        let pods: Api<Pod> = Api::namespaced(pods.clone().into_client(), &key.0);
        if let Err(e) = pods.delete(&key.1, &params).await {
            tracing::debug!(pod = ?key, "finishing deletion: {e}");
        }
        return;
    }
    if known.get(&key).is_some_and(|old| old != &uid) {
        // Deleted and created again under the same name while the watch was away.
        forget(local, &key);
    }
    known.insert(key.clone(), uid);
    let spec = match local_spec(&pod, local) {
        Ok(spec) => spec,
        Err(why) => {
            tracing::info!(pod = ?key, "cannot run: {why}");
            return report(pods, node, &key, &waiting_status(&pod, &why)).await;
        }
    };
    let fresh = local.store.pod_spec(&key.0, &key.1).is_none();
    if local.store.add_namespace(&namespace(&key.0)).is_ok() {
        tracing::debug!(namespace = %key.0, "first pod in namespace");
    }
    if let Err(e) = local.put_pod(spec.clone()) {
        tracing::warn!(pod = ?key, "cannot run: {e}");
        return;
    }
    let reported = pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running");
    if fresh || !reported {
        report(pods, node, &key, &running_status(&spec, node)).await;
    }
}

fn forget(local: &Cluster, key: &(String, String)) {
    let _ = local.delete_pod(&key.0, &key.1);
}

fn namespace(name: &str) -> NamespaceSpec {
    NamespaceSpec {
        name: name.into(),
        labels: Default::default(),
        age: Duration::ZERO,
    }
}

/// The pod as the runtime runs it, or why this node cannot.
fn local_spec(pod: &Pod, local: &Cluster) -> Result<PodSpec, String> {
    let spec = pod.spec.as_ref().ok_or("the pod has no spec")?;
    let containers = spec
        .containers
        .iter()
        .map(|c| {
            let image = c.image.clone().unwrap_or_default();
            if !local.spec.images.contains_key(&image) {
                let known: Vec<&str> = local.spec.images.keys().map(String::as_str).collect();
                return Err(format!(
                    "image {image:?} is not on this node; it runs {}",
                    known.join(", ")
                ));
            }
            let mut command = c.command.clone().unwrap_or_default();
            command.extend(c.args.clone().unwrap_or_default());
            let env = c
                .env
                .iter()
                .flatten()
                .filter_map(|e| Some((e.name.clone(), e.value.clone()?)))
                .collect();
            Ok(ContainerSpec {
                name: c.name.clone(),
                image,
                command,
                env,
                state: ContainerState::Running,
                reason: None,
                exit_code: None,
                ready: true,
                restarts: 0,
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    Ok(PodSpec {
        name: pod.metadata.name.clone().unwrap_or_default(),
        namespace: pod.metadata.namespace.clone().unwrap_or_default(),
        labels: pod.metadata.labels.clone().unwrap_or_default(),
        annotations: pod.metadata.annotations.clone().unwrap_or_default(),
        node: spec.node_name.clone(),
        phase: Phase::Running,
        // Started now: the status's times come out as the moment the containers started.
        age: Duration::from_secs(2),
        containers,
    })
}

/// The status of running containers, as the API server mode shows them, on this node.
fn running_status(spec: &PodSpec, node: &Node) -> serde_json::Value {
    let object = crate::objects::pod(spec, jiff::Timestamp::now());
    let mut status = serde_json::to_value(object.status).expect("serializable");
    status["hostIP"] = json!(node.address);
    status["hostIPs"] = json!([{"ip": node.address}]);
    if let Some(status) = status.as_object_mut() {
        // Set by the API server at creation; the kubelet leaves it alone.
        status.remove("qosClass");
    }
    json!({"status": status})
}

/// Containers that cannot start because their image is not on this node.
fn waiting_status(pod: &Pod, why: &str) -> serde_json::Value {
    let statuses: Vec<_> = pod
        .spec
        .iter()
        .flat_map(|s| &s.containers)
        .map(|c| {
            json!({
                "name": c.name,
                "image": c.image,
                "imageID": "",
                "ready": false,
                "started": false,
                "restartCount": 0,
                "state": {"waiting": {"reason": "ErrImagePull", "message": why}},
            })
        })
        .collect();
    json!({"status": {"phase": "Pending", "containerStatuses": statuses}})
}

async fn report(pods: &Api<Pod>, node: &Node, key: &(String, String), status: &serde_json::Value) {
    let pods: Api<Pod> = Api::namespaced(pods.clone().into_client(), &key.0);
    if let Err(e) = pods
        .patch_status(&key.1, &PatchParams::default(), &Patch::Merge(status))
        .await
    {
        tracing::warn!(node = %node.name, pod = ?key, "reporting the pod's status: {e}");
    }
}
