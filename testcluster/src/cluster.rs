//! The cluster's shared state: objects, runtime, identities, policy and test controls.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard, Weak};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::{ClusterSpec, ContainerState, PodSpec, PolicyRule, validate_policy};
use crate::rbac::{Identity, Policy};
use crate::runtime::{ContainerKey, ContainerTarget, Live, ProcessInfo, Report, Runtime};
use crate::store::{EventType, Store, StoreError};

pub struct Cluster {
    /// Itself, for the reports of the containers it starts.
    me: Weak<Cluster>,
    pub spec: ClusterSpec,
    pub store: Store,
    pub runtime: Runtime,
    /// Replaced as a whole by `set_policy`, as RoleBindings change on a real cluster.
    policy: RwLock<Policy>,
    tokens: HashMap<String, Identity>,
    pub admin_token: String,
    latency_ms: AtomicU64,
    exec_cut: Mutex<CancellationToken>,
    restart: Mutex<Option<tokio::sync::mpsc::UnboundedSender<Duration>>>,
    pub bookmark_interval: Duration,
}

impl Cluster {
    /// The cluster, its pods' main processes started (needs a tokio runtime).
    pub fn new(
        spec: ClusterSpec,
        dir: &Path,
        admin_token: String,
        bookmark_interval: Duration,
    ) -> Result<Arc<Self>, String> {
        spec.validate()?;
        let store = Store::new();
        for ns in &spec.namespaces {
            store
                .add_namespace(ns)
                .map_err(|e| format!("namespace {}: {e:?}", ns.name))?;
        }
        for pod in &spec.pods {
            store
                .put_pod(pod.clone())
                .map_err(|e| format!("pod {}: {e:?}", pod.name))?;
        }
        let tokens = spec
            .users
            .iter()
            .filter_map(|u| Some((u.token.clone()?, Identity::new(&u.name, u.groups.clone()))))
            .collect();
        let pods = spec.pods.clone();
        let cluster = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            policy: RwLock::new(Policy::new(spec.policy.clone())),
            runtime: Runtime::new(dir),
            spec,
            store,
            tokens,
            admin_token,
            latency_ms: AtomicU64::new(0),
            exec_cut: Mutex::new(CancellationToken::new()),
            restart: Mutex::new(None),
            bookmark_interval,
        });
        for pod in &pods {
            cluster.start_mains(pod);
        }
        Ok(cluster)
    }

    /// Where a container runs, as the runtime needs it.
    pub fn target(
        &self,
        pod: &PodSpec,
        container: &crate::config::ContainerSpec,
    ) -> ContainerTarget {
        let uid = self
            .store
            .get(crate::store::Kind::Pod, &pod.namespace, &pod.name)
            .and_then(|p| p["metadata"]["uid"].as_str().map(str::to_string))
            .unwrap_or_default();
        let key = |name: &str| ContainerKey {
            namespace: pod.namespace.clone(),
            pod: pod.name.clone(),
            container: name.to_string(),
        };
        let ephemeral = pod
            .ephemeral_containers
            .iter()
            .any(|c| c.name == container.name);
        // An ephemeral container without a command runs its image's, as `kubectl debug`
        // expects; the others idle until an exec (see `ContainerSpec::command`).
        let main = if ephemeral && container.command.is_empty() {
            self.spec.default_command_of(&container.image)
        } else {
            container.command.clone()
        };
        ContainerTarget {
            key: key(&container.name),
            pod_uid: uid,
            rootfs: self.spec.rootfs_of(&container.image),
            without: self.spec.without_of(&container.image),
            env: container
                .env
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            main,
            stdin: container.stdin,
            tty: container.tty,
            credentials: pod.credentials(container),
            shares_processes_with: container.target_container_name.as_deref().map(key),
        }
    }

    /// Starts the main processes of a running, scheduled pod's containers that have one,
    /// and of its ephemeral containers (once: they are never restarted).
    fn start_mains(&self, pod: &PodSpec) {
        if pod.phase != crate::config::Phase::Running || pod.node.is_none() {
            return;
        }
        let report = || -> Report {
            let me = self.me.clone();
            Arc::new(move |key, uid, live| {
                if let Some(cluster) = me.upgrade() {
                    cluster.report(key, uid, live);
                }
            })
        };
        for container in pod.containers.iter().filter(|c| c.supervised()) {
            self.runtime.start_main(
                &self.target(pod, container),
                pod.restart_policy,
                None,
                report(),
            );
        }
        for container in &pod.ephemeral_containers {
            if !self.spec.images.contains_key(&container.image) {
                let known: Vec<&str> = self.spec.images.keys().map(String::as_str).collect();
                let waiting = Live::waiting(
                    "ErrImagePull",
                    format!(
                        "image {:?} is not on this node; it runs {}",
                        container.image,
                        known.join(", ")
                    ),
                );
                if container.live.as_ref() != Some(&waiting) {
                    let target = self.target(pod, container);
                    self.report(&target.key, &target.pod_uid, waiting);
                }
                continue;
            }
            let target = container
                .target_container_name
                .as_deref()
                .and_then(|name| pod.containers.iter().find(|c| c.name == name))
                .map(|c| self.target(pod, c));
            self.runtime.start_main(
                &self.target(pod, container),
                crate::config::RestartPolicy::Never,
                target.as_ref(),
                report(),
            );
        }
    }

    /// A container's new state, from its node's runtime, for the pod with this uid.
    fn report(&self, key: &ContainerKey, uid: &str, live: Live) {
        let changed = self
            .store
            .modify_pod(&key.namespace, &key.pod, uid, |spec| {
                if let Some(c) = spec.all_containers_mut().find(|c| c.name == key.container) {
                    c.live = Some(live);
                }
            });
        if !changed {
            tracing::debug!(container = ?key, "a report for a pod that is gone");
        }
    }

    pub fn identity_for_token(&self, token: &str) -> Option<Identity> {
        self.tokens.get(token).cloned()
    }

    pub fn latency(&self) -> Duration {
        Duration::from_millis(self.latency_ms.load(Ordering::Relaxed))
    }

    /// The policy requests are checked against now.
    pub fn policy(&self) -> RwLockReadGuard<'_, Policy> {
        self.policy.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Replaces the policy. Requests from now on are checked against it; watches and execs
    /// already running go on, as on a real cluster, where RBAC is checked when they start.
    pub fn set_policy(&self, rules: Vec<PolicyRule>) -> Result<(), String> {
        validate_policy(&rules)?;
        *self.policy.write().unwrap_or_else(|e| e.into_inner()) = Policy::new(rules);
        Ok(())
    }

    /// Delays every API request (and exec setup) by this much.
    pub fn set_latency(&self, latency: Duration) {
        self.latency_ms
            .store(latency.as_millis() as u64, Ordering::Relaxed);
    }

    /// A token that is cancelled when exec connections are cut.
    pub fn exec_cut_token(&self) -> CancellationToken {
        self.exec_cut
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Drops every exec connection at once, as a failing API server or network would.
    pub fn cut_exec_connections(&self) {
        let mut token = self.exec_cut.lock().unwrap_or_else(|e| e.into_inner());
        token.cancel();
        *token = CancellationToken::new();
    }

    /// Where restart requests go (the server's listener loop).
    pub fn set_restart_channel(&self, tx: tokio::sync::mpsc::UnboundedSender<Duration>) {
        *self.restart.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
    }

    /// Asks the server to stop listening and listen again on the same port after `down`.
    pub fn request_restart(&self, down: Duration) -> Result<(), String> {
        let restart = self.restart.lock().unwrap_or_else(|e| e.into_inner());
        restart
            .as_ref()
            .ok_or("no listener to restart")?
            .send(down)
            .map_err(|_| "the listener is shut down".to_string())
    }

    /// Creates or replaces a pod; containers that stop running lose their processes, the
    /// others keep them (and their state), and new ones with a main process start it.
    pub fn put_pod(&self, mut pod: PodSpec) -> Result<EventType, String> {
        self.spec.validate_pod(&pod)?;
        let previous = self.store.pod_spec(&pod.namespace, &pod.name);
        let mut stopped = Vec::new();
        let running = pod.phase == crate::config::Phase::Running;
        if let Some(previous) = &previous {
            for old in previous.all_containers() {
                let kept = pod.all_containers_mut().find(|c| {
                    c.name == old.name
                        && c.image == old.image
                        && c.command == old.command
                        && c.state == ContainerState::Running
                        && old.state == ContainerState::Running
                });
                match kept {
                    Some(kept) if running => {
                        kept.live = old.live.clone();
                    }
                    _ => stopped.push(old.name.clone()),
                }
            }
        }
        let event = self.store.put_pod(pod.clone()).map_err(store_error)?;
        for name in stopped {
            self.runtime.stop(&ContainerKey {
                namespace: pod.namespace.clone(),
                pod: pod.name.clone(),
                container: name,
            });
        }
        self.start_mains(&pod);
        Ok(event)
    }

    pub fn update_pod(
        &self,
        namespace: &str,
        name: &str,
        change: impl FnOnce(&mut PodSpec),
    ) -> Result<(), String> {
        let mut spec = self
            .store
            .pod_spec(namespace, name)
            .ok_or_else(|| format!("pod {namespace}/{name} not found"))?;
        change(&mut spec);
        spec.namespace = namespace.to_string();
        spec.name = name.to_string();
        self.put_pod(spec).map(|_| ())
    }

    /// Deletes a pod and ends all its processes, as the kubelet would.
    pub fn delete_pod(&self, namespace: &str, name: &str) -> Result<(), String> {
        self.store
            .delete_pod(namespace, name)
            .map_err(store_error)?;
        self.runtime.stop_pod(namespace, name);
        Ok(())
    }

    pub async fn processes(&self, namespace: &str, pod: &str, container: &str) -> Vec<ProcessInfo> {
        self.runtime
            .processes(&ContainerKey {
                namespace: namespace.to_string(),
                pod: pod.to_string(),
                container: container.to_string(),
            })
            .await
    }
}

fn store_error(e: StoreError) -> String {
    match e {
        StoreError::NotFound => "not found".into(),
        StoreError::AlreadyExists => "already exists".into(),
        StoreError::NoNamespace(ns) => format!("namespace {ns:?} does not exist"),
    }
}
