//! Turns state-file specs into the Kubernetes objects the API serves.

use std::hash::{DefaultHasher, Hash, Hasher};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Container, ContainerState as K8sContainerState, ContainerStateRunning,
    ContainerStateTerminated, ContainerStateWaiting, ContainerStatus, EnvVar, EphemeralContainer,
    Namespace, NamespaceStatus, Pod, PodCondition, PodIP, PodSpec as K8sPodSpec, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

use crate::config::{ContainerSpec, ContainerState, NamespaceSpec, Phase, PodSpec};
use crate::runtime::{Ended, Live, LiveState};

/// A namespace as the API would show it, created `spec.age` before `now`.
pub fn namespace(spec: &NamespaceSpec, now: Timestamp) -> Namespace {
    let created = now - jiff::SignedDuration::try_from(spec.age).unwrap_or_default();
    let mut labels = spec.labels.clone();
    labels.insert("kubernetes.io/metadata.name".into(), spec.name.clone());
    Namespace {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            uid: Some(uid()),
            creation_timestamp: Some(Time(created)),
            labels: Some(labels),
            ..Default::default()
        },
        spec: Some(Default::default()),
        status: Some(NamespaceStatus {
            phase: Some("Active".into()),
            ..Default::default()
        }),
    }
}

/// A pod as the API would show it, created `spec.age` before `now`.
pub fn pod(spec: &PodSpec, now: Timestamp) -> Pod {
    let created = now - jiff::SignedDuration::try_from(spec.age).unwrap_or_default();
    let started = created + jiff::SignedDuration::from_secs(2);
    let scheduled = spec.node.is_some();
    let ip = pod_ip(&spec.namespace, &spec.name);
    let containers: Vec<Container> = spec.containers.iter().map(container).collect();
    let statuses: Vec<ContainerStatus> = spec
        .containers
        .iter()
        .map(|c| container_status(spec, c, started))
        .collect();
    let ephemeral: Vec<EphemeralContainer> =
        spec.ephemeral_containers.iter().map(ephemeral).collect();
    let ephemeral_statuses: Vec<ContainerStatus> = spec
        .ephemeral_containers
        .iter()
        .map(ephemeral_status)
        .collect();
    let all_ready = spec.containers.iter().all(|c| c.ready && c.running());
    let phase = phase(spec);
    let condition = |kind: &str, ok: bool| PodCondition {
        type_: kind.into(),
        status: if ok { "True" } else { "False" }.into(),
        last_transition_time: Some(Time(started)),
        reason: (!ok && kind != "PodScheduled").then(|| "ContainersNotReady".into()),
        ..Default::default()
    };
    let conditions = if scheduled {
        vec![
            condition("PodReadyToStartContainers", phase != Phase::Pending),
            condition("Initialized", true),
            condition("Ready", all_ready),
            condition("ContainersReady", all_ready),
            condition("PodScheduled", true),
        ]
    } else {
        vec![PodCondition {
            type_: "PodScheduled".into(),
            status: "False".into(),
            reason: Some("Unschedulable".into()),
            message: Some("0/1 nodes are available: 1 Insufficient cpu.".into()),
            last_transition_time: Some(Time(created)),
            ..Default::default()
        }]
    };
    let mut annotations = spec.annotations.clone();
    annotations.retain(|_, v| !v.is_empty());
    Pod {
        metadata: ObjectMeta {
            name: Some(spec.name.clone()),
            namespace: Some(spec.namespace.clone()),
            uid: Some(uid()),
            creation_timestamp: Some(Time(created)),
            labels: (!spec.labels.is_empty()).then(|| spec.labels.clone()),
            annotations: (!annotations.is_empty()).then_some(annotations),
            ..Default::default()
        },
        spec: Some(K8sPodSpec {
            containers,
            ephemeral_containers: (!ephemeral.is_empty()).then_some(ephemeral),
            security_context: Some(spec.security_context.clone().unwrap_or_default()),
            node_name: spec.node.clone(),
            restart_policy: Some(spec.restart_policy.as_str().into()),
            dns_policy: Some("ClusterFirst".into()),
            scheduler_name: Some("default-scheduler".into()),
            service_account_name: Some("default".into()),
            termination_grace_period_seconds: Some(30),
            enable_service_links: Some(true),
            priority: Some(0),
            ..Default::default()
        }),
        status: Some(PodStatus {
            phase: Some(phase.as_str().into()),
            conditions: Some(conditions),
            host_ip: scheduled.then(|| "192.0.2.10".into()),
            pod_ip: scheduled.then(|| ip.clone()),
            pod_ips: scheduled.then(|| vec![PodIP { ip: ip.clone() }]),
            start_time: scheduled.then_some(Time(started)),
            container_statuses: scheduled.then_some(statuses),
            ephemeral_container_statuses: (scheduled && !ephemeral_statuses.is_empty())
                .then_some(ephemeral_statuses),
            qos_class: Some("BestEffort".into()),
            ..Default::default()
        }),
    }
}

pub fn ephemeral(spec: &ContainerSpec) -> EphemeralContainer {
    let c = container(spec);
    EphemeralContainer {
        name: c.name,
        image: c.image,
        image_pull_policy: c.image_pull_policy,
        command: c.command,
        stdin: c.stdin,
        tty: c.tty,
        env: c.env,
        security_context: c.security_context,
        termination_message_path: c.termination_message_path,
        termination_message_policy: c.termination_message_policy,
        target_container_name: spec.target_container_name.clone(),
        ..Default::default()
    }
}

/// An ephemeral container's status: never ready, never restarted.
fn ephemeral_status(c: &ContainerSpec) -> ContainerStatus {
    let image_id = format!(
        "{}@sha256:{}",
        image_repo(&c.image),
        hex_digest(&[&c.image], 64)
    );
    let live = c.live.clone().unwrap_or_else(Live::creating);
    let mut status = live_status(c, &live, image_id);
    status.ready = false;
    status.last_state = Some(Default::default());
    status
}

fn container(spec: &ContainerSpec) -> Container {
    let env: Vec<EnvVar> = spec
        .env
        .iter()
        .map(|(name, value)| EnvVar {
            name: name.clone(),
            value: Some(value.clone()),
            ..Default::default()
        })
        .collect();
    Container {
        name: spec.name.clone(),
        image: Some(spec.image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        command: (!spec.command.is_empty()).then(|| spec.command.clone()),
        stdin: spec.stdin.then_some(true),
        tty: spec.tty.then_some(true),
        env: (!env.is_empty()).then_some(env),
        security_context: spec.security_context.clone(),
        termination_message_path: Some("/dev/termination-log".into()),
        termination_message_policy: Some("File".into()),
        ..Default::default()
    }
}

/// The phase the state file gives, or, once main processes run, the one their states
/// make: a pod whose containers have all ended for good has Succeeded or Failed.
fn phase(spec: &PodSpec) -> Phase {
    let lives: Vec<&Live> = spec
        .containers
        .iter()
        .filter_map(|c| c.live.as_ref())
        .collect();
    if spec.phase != Phase::Running || lives.is_empty() || lives.len() < spec.containers.len() {
        return spec.phase;
    }
    let ended: Vec<&Ended> = lives
        .iter()
        .filter_map(|l| match &l.state {
            LiveState::Terminated(ended) => Some(ended),
            _ => None,
        })
        .collect();
    if ended.len() < lives.len() {
        Phase::Running
    } else if ended.iter().all(|e| e.exit_code == 0) {
        Phase::Succeeded
    } else {
        Phase::Failed
    }
}

fn terminated(ended: &Ended) -> K8sContainerState {
    K8sContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: ended.exit_code,
            reason: Some(ended.reason.clone()),
            message: ended.message.clone(),
            started_at: Some(Time(ended.started)),
            finished_at: Some(Time(ended.finished)),
            container_id: Some(format!("containerd://{}", ended.id)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The status of a container whose main process the runtime runs.
fn live_status(c: &ContainerSpec, live: &Live, image_id: String) -> ContainerStatus {
    let state = match &live.state {
        LiveState::Running { started, .. } => K8sContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(Time(*started)),
            }),
            ..Default::default()
        },
        LiveState::Waiting { reason, message } => K8sContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(reason.clone()),
                message: (!message.is_empty()).then(|| message.clone()),
            }),
            ..Default::default()
        },
        LiveState::Terminated(ended) => terminated(ended),
    };
    let running = live.running();
    let id = match &live.state {
        LiveState::Running { id, .. } => Some(id),
        LiveState::Terminated(ended) => Some(&ended.id),
        LiveState::Waiting { .. } => None,
    };
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        image_id,
        container_id: id.map(|id| format!("containerd://{id}")),
        ready: c.ready && running,
        started: Some(running),
        restart_count: live.restarts,
        state: Some(state),
        last_state: Some(live.last.as_ref().map(terminated).unwrap_or_default()),
        ..Default::default()
    }
}

fn container_status(pod: &PodSpec, c: &ContainerSpec, started: Timestamp) -> ContainerStatus {
    let image_id = format!(
        "{}@sha256:{}",
        image_repo(&c.image),
        hex_digest(&[&c.image], 64)
    );
    if let Some(live) = c
        .live
        .clone()
        .or_else(|| c.supervised().then(Live::creating))
    {
        return live_status(c, &live, image_id);
    }
    let id = hex_digest(&[&pod.namespace, &pod.name, &c.name, "container"], 64);
    let state = match c.state {
        ContainerState::Running => K8sContainerState {
            running: Some(ContainerStateRunning {
                started_at: Some(Time(started)),
            }),
            ..Default::default()
        },
        ContainerState::Waiting => K8sContainerState {
            waiting: Some(ContainerStateWaiting {
                reason: Some(
                    c.reason
                        .clone()
                        .unwrap_or_else(|| "ContainerCreating".into()),
                ),
                message: (c.reason.as_deref() == Some("CrashLoopBackOff")).then(|| {
                    format!(
                        "back-off 5m0s restarting failed container={} pod={}_{}",
                        c.name, pod.name, pod.namespace
                    )
                }),
            }),
            ..Default::default()
        },
        ContainerState::Terminated => K8sContainerState {
            terminated: Some(ContainerStateTerminated {
                exit_code: c.exit_code.unwrap_or(0),
                reason: Some(c.reason.clone().unwrap_or_else(|| "Completed".into())),
                started_at: Some(Time(started)),
                finished_at: Some(Time(started + jiff::SignedDuration::from_secs(20))),
                container_id: Some(format!("containerd://{id}")),
                ..Default::default()
            }),
            ..Default::default()
        },
    };
    let last_state = (c.restarts > 0).then(|| K8sContainerState {
        terminated: Some(ContainerStateTerminated {
            exit_code: 1,
            reason: Some("Error".into()),
            started_at: Some(Time(started)),
            finished_at: Some(Time(started + jiff::SignedDuration::from_secs(5))),
            container_id: Some(format!(
                "containerd://{}",
                hex_digest(&[&id, "previous"], 64)
            )),
            ..Default::default()
        }),
        ..Default::default()
    });
    let running = c.state == ContainerState::Running;
    ContainerStatus {
        name: c.name.clone(),
        image: c.image.clone(),
        image_id,
        container_id: (c.state != ContainerState::Waiting).then(|| format!("containerd://{id}")),
        ready: c.ready && running,
        started: Some(running),
        restart_count: c.restarts,
        state: Some(state),
        last_state,
        ..Default::default()
    }
}

fn image_repo(image: &str) -> String {
    let repo = image.rsplit_once(':').map_or(image, |(r, _)| r);
    if repo.contains('/') && repo.split('/').next().is_some_and(|h| h.contains('.')) {
        repo.to_string()
    } else if repo.contains('/') {
        format!("docker.io/{repo}")
    } else {
        format!("docker.io/library/{repo}")
    }
}

/// A stable pseudo-address in the documentation range for each pod.
fn pod_ip(namespace: &str, name: &str) -> String {
    let h = hash(&[namespace, name]);
    format!("10.244.{}.{}", (h >> 8) % 250, h % 250 + 2)
}

fn hash(parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    parts.hash(&mut h);
    h.finish()
}

fn hex_digest(parts: &[&str], len: usize) -> String {
    let mut out = String::with_capacity(len);
    let mut seed = hash(parts);
    while out.len() < len {
        out.push_str(&format!("{seed:016x}"));
        seed = hash(&[&seed.to_string()]);
    }
    out.truncate(len);
    out
}

fn uid() -> String {
    uuid::Uuid::new_v4().to_string()
}
