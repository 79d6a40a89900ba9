//! Debug containers: an ephemeral container beside a container, for the pods a shell
//! cannot reach (no shell in the image, a container that keeps crashing). Its main process
//! idles (`sleep infinity`); the page's terminal execs a shell into it like into any
//! container, so resume, flow control and the cleanup of a session's processes work the
//! same. It shares the target's process namespace: `/proc/1/root` is the target's files.

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::{
    Capabilities, ContainerStatus, EnvVar, EphemeralContainer, Pod, SeccompProfile, SecurityContext,
};
use kube::api::{Api, Patch, PatchParams};
use serde::{Deserialize, Serialize};

use crate::protocol::ErrorReason;
use crate::server::AppState;
use crate::server::cluster::access::{may_debug, may_exec};
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::{Failure, classify};
use crate::server::trail::audit::DebugFacts;
use crate::server::web::identity::Caller;

/// Marks whose debug container it is (an ephemeral container has no labels of its own).
pub const OWNER_ENV: &str = "PODTERM_DEBUG_OWNER";
/// How long a new debug container has to run (its image may have to be pulled).
const START_LIMIT: Duration = Duration::from_secs(90);

/// The images debug containers may use, as the operator set them.
#[derive(Debug, Clone)]
pub struct DebugImages {
    pub default: String,
    pub allowed: Vec<String>,
}

impl DebugImages {
    pub fn new(default: String, mut allowed: Vec<String>) -> Self {
        allowed.retain(|i| !i.trim().is_empty());
        if !allowed.contains(&default) {
            allowed.insert(0, default.clone());
        }
        Self { default, allowed }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DebugQuery {
    pub context: Option<String>,
    pub image: Option<String>,
}

/// What the page needs to open a terminal in it.
#[derive(Debug, Serialize)]
pub struct Started {
    pub container: String,
    pub image: String,
    /// An earlier one of this person's, still running, for the same target and image.
    pub reused: bool,
    /// The user it runs as (the target's), when the pod's spec says.
    pub user: Option<i64>,
}

/// `POST /api/debug/NS/POD/CONTAINER?context&image`: starts (or finds) the caller's debug
/// container beside CONTAINER and answers once it runs.
pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    Query(query): Query<DebugQuery>,
) -> Response {
    match start(&state, &caller, &namespace, &pod, &container, query).await {
        Ok(started) => Json(started).into_response(),
        Err(failure) => failure.into_response(),
    }
}

async fn start(
    state: &AppState,
    caller: &Caller,
    namespace: &str,
    pod_name: &str,
    target: &str,
    query: DebugQuery,
) -> Result<Started, Failure> {
    crate::names::validate_place(namespace, pod_name, target)
        .map_err(|e| Failure::new(ErrorReason::BadRequest, e))?;
    let cluster = state
        .clusters
        .get(query.context.as_deref(), &caller.identity)
        .await?;
    ensure(
        state,
        caller,
        &cluster,
        namespace,
        pod_name,
        target,
        query.image,
    )
    .await
}

/// Starts the caller's debug container beside `target` (or finds their running one) once
/// the cluster allows it, and answers once it runs. `image`: the operator's default when
/// `None`.
pub async fn ensure(
    state: &AppState,
    caller: &Caller,
    cluster: &Cluster,
    namespace: &str,
    pod_name: &str,
    target: &str,
    image: Option<String>,
) -> Result<Started, Failure> {
    let image = image.unwrap_or_else(|| state.debug.default.clone());
    if !state.debug.allowed.contains(&image) {
        return Err(Failure::new(
            ErrorReason::BadRequest,
            format!(
                "image {image:?} is not one this podterm may start; choose one of: {}",
                state.debug.allowed.join(", ")
            ),
        ));
    }
    may_debug(cluster, namespace, Some(pod_name)).await?;
    may_exec(cluster, namespace, Some(pod_name)).await?;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let pod = pods.get(pod_name).await.map_err(|e| classify(&e))?;
    let spec = pod.spec.clone().unwrap_or_default();
    let Some(target_spec) = spec.containers.iter().find(|c| c.name == target) else {
        return Err(Failure::new(
            ErrorReason::NotFound,
            format!("pod {pod_name} has no container {target:?}"),
        ));
    };
    if let Some(phase @ ("Succeeded" | "Failed")) =
        pod.status.as_ref().and_then(|s| s.phase.as_deref())
    {
        return Err(Failure::new(
            ErrorReason::NotRunning,
            format!("pod {pod_name} has ended ({phase}); a debug container cannot start in it"),
        ));
    }
    let own = |c: &&EphemeralContainer| {
        c.target_container_name.as_deref() == Some(target)
            && c.image.as_deref() == Some(image.as_str())
            && owner(c) == Some(caller.identity.name())
    };
    let user = target_spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_user)
        .or_else(|| spec.security_context.as_ref().and_then(|s| s.run_as_user));
    if let Some(existing) = spec.ephemeral_containers.iter().flatten().find(own)
        && running(&pod, &existing.name)
    {
        return Ok(Started {
            container: existing.name.clone(),
            image,
            reused: true,
            user,
        });
    }
    let group = target_spec
        .security_context
        .as_ref()
        .and_then(|s| s.run_as_group)
        .or_else(|| spec.security_context.as_ref().and_then(|s| s.run_as_group));
    let name = format!("podterm-debug-{}", suffix());
    let container = EphemeralContainer {
        name: name.clone(),
        image: Some(image.clone()),
        command: Some(vec!["sleep".into(), "infinity".into()]),
        target_container_name: Some(target.to_string()),
        env: Some(vec![EnvVar {
            name: OWNER_ENV.into(),
            value: Some(caller.identity.name().to_string()),
            ..Default::default()
        }]),
        security_context: Some(restricted(user, group)),
        ..Default::default()
    };
    let patch = serde_json::json!({"spec": {"ephemeralContainers": [container]}});
    pods.patch_ephemeral_containers(pod_name, &PatchParams::default(), &Patch::Strategic(patch))
        .await
        .map_err(|e| classify(&e))?;
    state.audit.debug_container_added(&DebugFacts {
        user: caller.identity.name(),
        groups: caller.identity.groups(),
        from: &caller.from,
        context: &cluster.context,
        namespace,
        pod: pod_name,
        target,
        container: &name,
        image: &image,
    });
    wait_running(&pods, pod_name, &name).await?;
    Ok(Started {
        container: name,
        image,
        reused: false,
        user,
    })
}

/// Passes Pod Security `restricted`, which checks ephemeral containers too: the target's
/// user, no privilege escalation, every capability dropped, the runtime's seccomp profile.
fn restricted(user: Option<i64>, group: Option<i64>) -> SecurityContext {
    SecurityContext {
        run_as_user: user,
        run_as_group: group,
        run_as_non_root: user.map(|uid| uid != 0),
        allow_privilege_escalation: Some(false),
        capabilities: Some(Capabilities {
            drop: Some(vec!["ALL".into()]),
            add: None,
        }),
        seccomp_profile: Some(SeccompProfile {
            type_: "RuntimeDefault".into(),
            localhost_profile: None,
        }),
        ..Default::default()
    }
}

fn owner(c: &EphemeralContainer) -> Option<&str> {
    c.env
        .iter()
        .flatten()
        .find(|e| e.name == OWNER_ENV)
        .and_then(|e| e.value.as_deref())
}

fn status_of<'a>(pod: &'a Pod, name: &str) -> Option<&'a ContainerStatus> {
    pod.status
        .as_ref()?
        .ephemeral_container_statuses
        .as_ref()?
        .iter()
        .find(|s| s.name == name)
}

fn running(pod: &Pod, name: &str) -> bool {
    status_of(pod, name)
        .and_then(|s| s.state.as_ref())
        .is_some_and(|s| s.running.is_some())
}

/// Five characters from a-z0-9, as kubectl names its debuggers.
fn suffix() -> String {
    use rand::Rng;
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut rng = rand::rng();
    (0..5)
        .map(|_| CHARS[rng.random_range(0..CHARS.len())] as char)
        .collect()
}

/// Until the container runs; a container that cannot start says why.
async fn wait_running(pods: &Api<Pod>, pod: &str, name: &str) -> Result<(), Failure> {
    let deadline = tokio::time::Instant::now() + START_LIMIT;
    loop {
        let current = pods.get(pod).await.map_err(|e| classify(&e))?;
        let state = status_of(&current, name).and_then(|s| s.state.clone());
        if state.as_ref().is_some_and(|s| s.running.is_some()) {
            return Ok(());
        }
        if let Some(ended) = state.as_ref().and_then(|s| s.terminated.as_ref()) {
            return Err(Failure::new(
                ErrorReason::NotRunning,
                format!(
                    "the debug container ended at once ({}, exit code {}): its image may lack `sleep`",
                    ended.reason.as_deref().unwrap_or("terminated"),
                    ended.exit_code
                ),
            ));
        }
        let waiting = state.as_ref().and_then(|s| s.waiting.as_ref());
        if let Some(w) = waiting.filter(|w| {
            matches!(
                w.reason.as_deref(),
                Some(
                    "ErrImagePull"
                        | "ImagePullBackOff"
                        | "InvalidImageName"
                        | "CreateContainerConfigError"
                        | "CreateContainerError"
                )
            )
        }) {
            return Err(Failure::new(
                ErrorReason::NotRunning,
                format!(
                    "the debug container cannot start ({}): {}",
                    w.reason.as_deref().unwrap_or("waiting"),
                    w.message.as_deref().unwrap_or("no reason given")
                ),
            ));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(Failure::new(
                ErrorReason::NotRunning,
                format!(
                    "the debug container {name} did not start within {} s; it stays in the pod's spec",
                    START_LIMIT.as_secs()
                ),
            ));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}
