//! Where a terminal cannot start (no shell, not running, crash-looping): the container's
//! state, its last end, the last lines of its log, and which ways in the person may take.

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{Api, LogParams};

use crate::model::{ContainerInsight, LastEnd};
use crate::protocol::ErrorReason;
use crate::server::cluster::access::{may_attach, may_debug, may_read_logs};
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::{Failure, classify};

/// Lines of log the panel shows.
const LOG_LINES: i64 = 20;

pub async fn insight(
    cluster: &Cluster,
    namespace: &str,
    pod_name: &str,
    container: &str,
    debug_image: &str,
) -> Result<ContainerInsight, Failure> {
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let pod = pods.get(pod_name).await.map_err(|e| classify(&e))?;
    let spec = pod.spec.clone().unwrap_or_default();
    let main = spec.containers.iter().find(|c| c.name == container);
    let Some(main) = main else {
        return Err(Failure::new(
            ErrorReason::NotFound,
            format!("pod {pod_name} has no container {container:?}"),
        ));
    };
    let status = pod
        .status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .and_then(|all| all.iter().find(|s| s.name == container));
    let (state, reason, message) = state_of(status);
    let last_end = last_end(status);
    let denied = |r: Result<(), Failure>| r.err().map(|f| f.message);
    let (logs, debug, attach) = tokio::join!(
        may_read_logs(cluster, namespace, pod_name),
        may_debug(cluster, namespace, Some(pod_name)),
        may_attach(cluster, namespace, Some(pod_name)),
    );
    let logs_denied = denied(logs);
    let (log, log_of_previous, log_error) = if logs_denied.is_some() {
        (Vec::new(), false, None)
    } else {
        tail(&pods, pod_name, container, status).await
    };
    Ok(ContainerInsight {
        container: container.to_string(),
        image: main.image.clone().unwrap_or_default(),
        state,
        reason,
        message,
        restarts: status.map_or(0, |s| s.restart_count),
        last_end,
        log,
        log_of_previous,
        log_error,
        logs_denied,
        debug_denied: denied(debug),
        attach_denied: denied(attach),
        interactive: main.stdin.unwrap_or(false) || main.tty.unwrap_or(false),
        debug_image: debug_image.to_string(),
    })
}

fn state_of(status: Option<&ContainerStatus>) -> (String, Option<String>, Option<String>) {
    let state = status.and_then(|s| s.state.as_ref());
    if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
        return ("waiting".into(), w.reason.clone(), w.message.clone());
    }
    if let Some(t) = state.and_then(|s| s.terminated.as_ref()) {
        return ("terminated".into(), t.reason.clone(), t.message.clone());
    }
    if state.is_some_and(|s| s.running.is_some()) {
        return ("running".into(), None, None);
    }
    ("unknown".into(), None, None)
}

/// The instance before's end, or this one's when it has ended.
fn last_end(status: Option<&ContainerStatus>) -> Option<LastEnd> {
    let status = status?;
    let ended = status
        .last_state
        .as_ref()
        .and_then(|s| s.terminated.as_ref())
        .or_else(|| status.state.as_ref().and_then(|s| s.terminated.as_ref()))?;
    Some(LastEnd {
        reason: ended.reason.clone().unwrap_or_else(|| "Terminated".into()),
        exit_code: ended.exit_code,
        finished: ended.finished_at.as_ref().map(|t| t.0.to_string()),
    })
}

/// The current instance's last lines, or the previous one's when the current has none.
async fn tail(
    pods: &Api<Pod>,
    pod: &str,
    container: &str,
    status: Option<&ContainerStatus>,
) -> (Vec<String>, bool, Option<String>) {
    let read = async |previous: bool| {
        let params = LogParams {
            container: Some(container.to_string()),
            previous,
            tail_lines: Some(LOG_LINES),
            limit_bytes: Some(64 * 1024),
            ..Default::default()
        };
        pods.logs(pod, &params).await
    };
    let restarted = status.is_some_and(|s| s.restart_count > 0);
    match read(false).await {
        Ok(text) if !text.trim().is_empty() || !restarted => (lines(&text), false, None),
        current => match read(true).await {
            Ok(text) => (lines(&text), true, None),
            Err(e) => match current {
                Ok(text) => (lines(&text), false, None),
                Err(_) => (Vec::new(), false, Some(classify(&e).message)),
            },
        },
    }
}

fn lines(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}
