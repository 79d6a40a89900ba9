//! The pods bound to this node: run them, report their status, finish their deletion.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams, Preconditions};
use kube::runtime::watcher::{self, Event};
use serde_json::json;

use super::node::Node;
use crate::cluster::Cluster;
use crate::config::{ContainerSpec, ContainerState, NamespaceSpec, Phase, PodSpec, RestartPolicy};

/// The pods this node runs, by namespace and name, with their API object's uid.
type Known = Arc<Mutex<HashMap<(String, String), String>>>;

/// Watches the pods with `spec.nodeName` = this node (the only ones the Node authorizer
/// lets it see) until aborted, and reports their status as it changes.
pub async fn sync(client: kube::Client, node: Node, local: Arc<Cluster>) {
    let pods: Api<Pod> = Api::all(client);
    let known: Known = Default::default();
    // Subscribed before the first pod is run, so no change goes unreported.
    let Ok(changes) = local.store.watch(crate::store::Kind::Pod, None, None) else {
        return;
    };
    let reporter = tokio::spawn(report_changes(
        changes.live,
        pods.clone(),
        node.clone(),
        known.clone(),
    ));
    let _reporter = AbortOnDrop(reporter);
    let config = watcher::Config::default().fields(&format!("spec.nodeName={}", node.name));
    let mut events = std::pin::pin!(watcher::watcher(pods.clone(), config));
    while let Some(event) = events.next().await {
        match event {
            Ok(Event::Apply(pod) | Event::InitApply(pod)) => {
                apply(&pods, &node, &local, &known, pod).await;
            }
            Ok(Event::Delete(pod)) => {
                if let Some(key) = key_of(&pod) {
                    lock(&known).remove(&key);
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

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

fn lock(known: &Known) -> std::sync::MutexGuard<'_, HashMap<(String, String), String>> {
    known.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reports every change of a local pod's status (containers started, exited, restarted)
/// to the API server, for the pod object it runs (the uid is the patch's precondition).
async fn report_changes(
    mut live: tokio::sync::broadcast::Receiver<Arc<crate::store::Event>>,
    pods: Api<Pod>,
    node: Node,
    known: Known,
) {
    let mut reported: HashMap<(String, String), (String, serde_json::Value)> = HashMap::new();
    loop {
        let event = match live.recv().await {
            Ok(event) => event,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(_) => return,
        };
        let object = &event.object;
        let key = (
            object["metadata"]["namespace"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            object["metadata"]["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        if event.event == crate::store::EventType::Deleted {
            reported.remove(&key);
            continue;
        }
        let Some(uid) = lock(&known).get(&key).cloned() else {
            continue;
        };
        // What was last reported for this very pod (one made again under the same name
        // within the same second would have the same status).
        let status = (uid, node_status(object, &node));
        if reported.get(&key) == Some(&status) {
            continue;
        }
        let patch = json!({"metadata": {"uid": status.0}, "status": status.1});
        report(&pods, &node, &key, &patch).await;
        reported.insert(key, status);
    }
}

fn key_of(pod: &Pod) -> Option<(String, String)> {
    Some((pod.metadata.namespace.clone()?, pod.metadata.name.clone()?))
}

async fn apply(pods: &Api<Pod>, node: &Node, local: &Cluster, known: &Known, pod: Pod) {
    let (Some(key), Some(uid)) = (key_of(&pod), pod.metadata.uid.clone()) else {
        return;
    };
    if pod.metadata.deletion_timestamp.is_some() {
        // The containers stop first; then the object goes, as a kubelet finishes a
        // graceful deletion (the API server waits for it once the pod is on a node).
        forget(local, &key);
        lock(known).remove(&key);
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
    let replaced = lock(known).insert(key.clone(), uid.clone());
    if replaced.is_some_and(|old| old != uid) {
        // Deleted and created again under the same name while the watch was away.
        forget(local, &key);
    }
    let spec = match local_spec(&pod, local) {
        Ok(spec) => spec,
        Err(why) => {
            tracing::info!(pod = ?key, "cannot run: {why}");
            let patch = waiting_status(&pod, &why);
            return report(pods, node, &key, &patch).await;
        }
    };
    let same =
        |running: &PodSpec| serde_json::to_value(running).ok() == serde_json::to_value(&spec).ok();
    if local
        .store
        .pod_spec(&key.0, &key.1)
        .is_some_and(|p| same(&p))
    {
        return;
    }
    if local.store.add_namespace(&namespace(&key.0)).is_ok() {
        tracing::debug!(namespace = %key.0, "first pod in namespace");
    }
    // The local store's events report it.
    if let Err(e) = local.put_pod(spec) {
        tracing::warn!(pod = ?key, "cannot run: {e}");
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
        .map(|c| local_container(c, local, true))
        .collect::<Result<Vec<_>, String>>()?;
    let ephemeral_containers = spec
        .ephemeral_containers
        .iter()
        .flatten()
        .map(|e| {
            let as_container = Container {
                name: e.name.clone(),
                image: e.image.clone(),
                command: e.command.clone(),
                args: e.args.clone(),
                env: e.env.clone(),
                stdin: e.stdin,
                tty: e.tty,
                security_context: e.security_context.clone(),
                ..Default::default()
            };
            let mut local = local_container(&as_container, local, false)?;
            local.target_container_name = e.target_container_name.clone();
            Ok(local)
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
        restart_policy: match spec.restart_policy.as_deref() {
            Some("Never") => RestartPolicy::Never,
            Some("OnFailure") => RestartPolicy::OnFailure,
            _ => RestartPolicy::Always,
        },
        security_context: spec.security_context.clone(),
        containers,
        ephemeral_containers,
    })
}

/// A container as the runtime runs it; an unknown image is an error for the pod unless
/// `known_image` is false (an ephemeral container's status says it instead).
fn local_container(
    c: &Container,
    local: &Cluster,
    known_image: bool,
) -> Result<ContainerSpec, String> {
    let image = c.image.clone().unwrap_or_default();
    if known_image && !local.spec.images.contains_key(&image) {
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
        stdin: c.stdin.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
        security_context: c.security_context.clone(),
        target_container_name: None,
        state: ContainerState::Running,
        reason: None,
        exit_code: None,
        ready: true,
        restarts: 0,
        live: None,
    })
}

/// A local pod's status, as the API server mode shows it, on this node.
fn node_status(object: &serde_json::Value, node: &Node) -> serde_json::Value {
    let mut status = object["status"].clone();
    status["hostIP"] = json!(node.address);
    status["hostIPs"] = json!([{"ip": node.address}]);
    if let Some(status) = status.as_object_mut() {
        // Set by the API server at creation; the kubelet leaves it alone.
        status.remove("qosClass");
    }
    status
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
