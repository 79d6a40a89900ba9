//! `pods/log`: the API server's checks (RBAC, the pod, the options, the container), then
//! the kubelet's (which instance's log, or why there is none), then the log itself,
//! streamed.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;

use crate::cluster::Cluster;
use crate::config::{ContainerSpec, ContainerState, PodSpec};
use crate::rbac::{Attributes, Identity};
use crate::runtime::{LiveState, ReadOptions};
use crate::status::ApiError;

/// The query of a log request (`PodLogOptions`).
#[derive(Debug, Default)]
pub struct LogRequest {
    pub container: Option<String>,
    pub previous: bool,
    pub since_seconds: Option<i64>,
    pub since_time: Option<Timestamp>,
    pub options: ReadOptions,
    tail_lines: Option<i64>,
    limit_bytes: Option<i64>,
}

impl LogRequest {
    pub fn parse(query: &str) -> Result<Self, ApiError> {
        let mut req = LogRequest::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let flag = || match value.as_ref() {
                "true" | "True" | "1" => Ok(true),
                "false" | "False" | "0" | "" => Ok(false),
                other => Err(ApiError::bad_request(format!(
                    "strconv.ParseBool: parsing {other:?}: invalid syntax"
                ))),
            };
            let int = || {
                value.parse::<i64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "strconv.ParseInt: parsing {:?}: invalid syntax",
                        value.as_ref()
                    ))
                })
            };
            match key.as_ref() {
                "container" => req.container = Some(value.to_string()).filter(|c| !c.is_empty()),
                "follow" => req.options.follow = flag()?,
                "previous" => req.previous = flag()?,
                "timestamps" => req.options.timestamps = flag()?,
                "tailLines" => req.tail_lines = Some(int()?),
                "limitBytes" => req.limit_bytes = Some(int()?),
                "sinceSeconds" => req.since_seconds = Some(int()?),
                "sinceTime" => {
                    req.since_time = Some(value.parse().map_err(|_| {
                        ApiError::bad_request(format!(
                            "parsing time {:?} as \"2006-01-02T15:04:05Z07:00\": cannot parse",
                            value.as_ref()
                        ))
                    })?)
                }
                _ => {}
            }
        }
        Ok(req)
    }

    /// The API server's `ValidatePodLogOptions`; then the options are read as the node
    /// reads them (`sinceSeconds` counts back from now).
    pub fn validate(&mut self, pod: &str) -> Result<(), ApiError> {
        let mut causes = Vec::new();
        if let Some(n) = self.tail_lines {
            if n < 0 {
                causes.push(format!(
                    "tailLines: Invalid value: {n}: must be greater than or equal to 0"
                ));
            }
            self.options.tail_lines = u64::try_from(n).ok();
        }
        if let Some(n) = self.limit_bytes {
            if n < 1 {
                causes.push(format!(
                    "limitBytes: Invalid value: {n}: must be greater than 0"
                ));
            }
            self.options.limit_bytes = u64::try_from(n).ok();
        }
        match (self.since_seconds, self.since_time) {
            (Some(_), Some(_)) => causes.push(
                "[]: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified"
                    .into(),
            ),
            (Some(n), None) if n < 1 => causes.push(format!(
                "sinceSeconds: Invalid value: {n}: must be greater than 0"
            )),
            (Some(n), None) => {
                self.options.since = Some(Timestamp::now() - jiff::SignedDuration::from_secs(n))
            }
            (None, since) => self.options.since = since,
        }
        if causes.is_empty() {
            return Ok(());
        }
        Err(ApiError::new(
            422,
            "Invalid",
            format!("PodLogOptions \"{pod}\" is invalid: {}", aggregate(&causes)),
        ))
    }
}

/// Go's aggregate error text: one cause alone, several in brackets.
fn aggregate(causes: &[String]) -> String {
    match causes {
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// A log request through the API server: authorized, checked, then served as the node.
pub fn handle(
    cluster: &Arc<Cluster>,
    caller: &Identity,
    namespace: &str,
    pod: &str,
    query: &str,
) -> Response {
    match check(cluster, caller, namespace, pod, query) {
        Ok(Some((spec, container, request))) => serve(cluster, &spec, &container, &request)
            .unwrap_or_else(|(_, why)| ApiError::bad_request(why).into_response()),
        // A pod on no node has no log yet: the API server answers with nothing.
        Ok(None) => text(Body::empty()),
        Err(e) => e.into_response(),
    }
}

fn check(
    cluster: &Cluster,
    caller: &Identity,
    namespace: &str,
    pod: &str,
    query: &str,
) -> Result<Option<(PodSpec, String, LogRequest)>, ApiError> {
    cluster.policy().check(
        caller,
        &Attributes {
            verb: "get",
            resource: "pods",
            subresource: Some("log"),
            api_group: "",
            namespace: Some(namespace),
            name: Some(pod),
        },
    )?;
    let spec = cluster
        .store
        .pod_spec(namespace, pod)
        .ok_or_else(|| ApiError::not_found("pods", pod))?;
    let mut request = LogRequest::parse(query)?;
    request.validate(pod)?;
    let container = spec
        .container_named(request.container.as_deref())
        .map_err(ApiError::bad_request)?
        .name
        .clone();
    if spec.node.is_none() {
        return Ok(None);
    }
    Ok(Some((spec, container, request)))
}

/// The kubelet's part: the log of the instance asked for, or the code and sentence that
/// say why there is none.
pub fn serve(
    cluster: &Arc<Cluster>,
    pod: &PodSpec,
    container: &str,
    request: &LogRequest,
) -> Result<Response, (StatusCode, String)> {
    let Some(spec) = pod.all_containers().find(|c| c.name == container) else {
        return Err((
            StatusCode::NOT_FOUND,
            format!("container {container:?} not found in pod {:?}", pod.name),
        ));
    };
    let id = match instance(pod, spec, request.previous) {
        Ok(Some(id)) => id,
        // A container without a main process of its own here: its log is empty, and a
        // follow of it waits, as on a node, while the container runs.
        Ok(None) if request.options.follow && spec.running() => {
            return Ok(text(Body::from_stream(until_gone(cluster, pod, container))));
        }
        Ok(None) => return Ok(text(Body::empty())),
        Err(why) => return Err((StatusCode::BAD_REQUEST, why)),
    };
    let target = cluster.target(pod, spec);
    let Some(log) = cluster.runtime.log(&target.key, &target.pod_uid, &id) else {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("the log of container {container:?} (containerd://{id}) is no longer kept"),
        ));
    };
    let rx = log.read(request.options.clone());
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Ok(text(Body::from_stream(body)))
}

/// Nothing, until the container no longer runs in this pod (deleted, replaced, stopped).
fn until_gone(
    cluster: &Arc<Cluster>,
    pod: &PodSpec,
    container: &str,
) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> + Send + 'static {
    let uid = |cluster: &Cluster, namespace: &str, name: &str| {
        cluster
            .store
            .get(crate::store::Kind::Pod, namespace, name)
            .and_then(|p| p["metadata"]["uid"].as_str().map(str::to_string))
    };
    let first = uid(cluster, &pod.namespace, &pod.name);
    let cluster = Arc::downgrade(cluster);
    let (namespace, name, container) = (
        pod.namespace.clone(),
        pod.name.clone(),
        container.to_string(),
    );
    futures::stream::unfold((), move |()| {
        let (cluster, namespace, name, container, first) = (
            cluster.clone(),
            namespace.clone(),
            name.clone(),
            container.clone(),
            first.clone(),
        );
        async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                let cluster = cluster.upgrade()?;
                let spec = cluster.store.pod_spec(&namespace, &name)?;
                let same = uid(&cluster, &namespace, &name) == first;
                if !same
                    || !spec
                        .all_containers()
                        .any(|c| c.name == container && c.running())
                {
                    return None;
                }
            }
        }
    })
}

/// The kubelet's `validateContainerLogStatus`: the ID of the instance to read, `None` for
/// a container with no main process of its own here.
fn instance(pod: &PodSpec, c: &ContainerSpec, previous: bool) -> Result<Option<String>, String> {
    let (name, pod) = (&c.name, &pod.name);
    let creating = c.supervised().then(crate::runtime::Live::creating);
    let Some(live) = c.live.as_ref().or(creating.as_ref()) else {
        return match (previous, c.state) {
            (true, _) if c.restarts == 0 => Err(format!(
                "previous terminated container {name:?} in pod {pod:?} not found"
            )),
            (false, ContainerState::Waiting) if c.restarts == 0 => Err(format!(
                "container {name:?} in pod {pod:?} is waiting to start: {}",
                c.reason.as_deref().unwrap_or("ContainerCreating")
            )),
            _ => Ok(None),
        };
    };
    if previous {
        return match &live.last {
            Some(last) => Ok(Some(last.id.clone())),
            None => Err(format!(
                "previous terminated container {name:?} in pod {pod:?} not found"
            )),
        };
    }
    match (&live.state, live.current_id()) {
        (_, Some(id)) => Ok(Some(id.to_string())),
        (LiveState::Waiting { reason, .. }, None) => Err(format!(
            "container {name:?} in pod {pod:?} is waiting to start: {reason}"
        )),
        _ => Err(format!("container {name:?} in pod {pod:?} is terminated")),
    }
}

fn text(body: Body) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
    response
}
