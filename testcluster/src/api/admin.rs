//! Test controls over HTTP (admin token only): processes, pods, policy, latency, cuts,
//! restarts.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post, put};
use axum::{Json, Router};
use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::config::{PodSpec, PolicyRule};
use crate::status::ApiError;

pub fn router() -> Router<Arc<Cluster>> {
    Router::new()
        .route("/processes", get(processes))
        .route("/pods", post(create_pod))
        .route(
            "/pods/{ns}/{name}",
            get(get_pod).put(replace_pod).delete(delete_pod),
        )
        .route("/latency", put(set_latency))
        .route("/policy", put(set_policy))
        .route("/cut-exec", post(cut_exec))
        .route("/compact", post(compact))
        .route("/restart", post(restart))
}

fn param<'a>(query: &'a HashMap<String, String>, key: &str) -> Result<&'a str, ApiError> {
    query
        .get(key)
        .map(String::as_str)
        .ok_or_else(|| ApiError::bad_request(format!("query parameter {key} is required")))
}

/// Live processes of one container, as `[{pid, ppid, state, command, main}]`.
async fn processes(
    State(cluster): State<Arc<Cluster>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let (ns, pod, container) = (
        param(&q, "namespace")?,
        param(&q, "pod")?,
        param(&q, "container")?,
    );
    let list = cluster.processes(ns, pod, container).await;
    Ok(Json(json!(list)))
}

/// The body as YAML (or JSON) in the state file's format; `what` names it in the error.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ApiError> {
    let text =
        std::str::from_utf8(body).map_err(|_| ApiError::bad_request("the body is not UTF-8"))?;
    serde_yaml::from_str(text).map_err(|e| ApiError::bad_request(format!("not {what}: {e}")))
}

fn parse_pod(body: &[u8]) -> Result<PodSpec, ApiError> {
    parse(body, "a pod spec")
}

async fn create_pod(
    State(cluster): State<Arc<Cluster>>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let pod = parse_pod(&body)?;
    if cluster.store.pod_spec(&pod.namespace, &pod.name).is_some() {
        return Err(ApiError::new(
            409,
            "AlreadyExists",
            format!("pods \"{}\" already exists", pod.name),
        ));
    }
    cluster.put_pod(pod).map_err(ApiError::bad_request)?;
    Ok(StatusCode::CREATED)
}

async fn get_pod(
    State(cluster): State<Arc<Cluster>>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Json<PodSpec>, ApiError> {
    cluster
        .store
        .pod_spec(&ns, &name)
        .map(Json)
        .ok_or_else(|| ApiError::not_found("pods", &name))
}

async fn replace_pod(
    State(cluster): State<Arc<Cluster>>,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let mut pod = parse_pod(&body)?;
    pod.namespace = ns;
    pod.name = name;
    cluster.put_pod(pod).map_err(ApiError::bad_request)?;
    Ok(StatusCode::OK)
}

async fn delete_pod(
    State(cluster): State<Arc<Cluster>>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    cluster
        .delete_pod(&ns, &name)
        .map_err(|_| ApiError::not_found("pods", &name))?;
    Ok(StatusCode::OK)
}

/// Replaces the RBAC policy with the rules in the body (YAML or JSON, as in the state file).
async fn set_policy(
    State(cluster): State<Arc<Cluster>>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let rules: Vec<PolicyRule> = parse(&body, "a list of policy rules")?;
    cluster.set_policy(rules).map_err(ApiError::bad_request)?;
    Ok(StatusCode::OK)
}

fn millis(q: &HashMap<String, String>, key: &str) -> Result<Duration, ApiError> {
    let text = param(q, key)?;
    text.parse()
        .map(Duration::from_millis)
        .map_err(|_| ApiError::bad_request(format!("{key} must be a number of milliseconds")))
}

async fn set_latency(
    State(cluster): State<Arc<Cluster>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    cluster.set_latency(millis(&q, "ms")?);
    Ok(StatusCode::OK)
}

async fn cut_exec(State(cluster): State<Arc<Cluster>>) -> StatusCode {
    cluster.cut_exec_connections();
    StatusCode::OK
}

async fn compact(State(cluster): State<Arc<Cluster>>) -> StatusCode {
    cluster.store.compact();
    StatusCode::OK
}

/// Stops the API listener and starts it again on the same port after `downMs`.
async fn restart(
    State(cluster): State<Arc<Cluster>>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<StatusCode, ApiError> {
    let down = millis(&q, "downMs").unwrap_or(Duration::from_millis(500));
    cluster.request_restart(down).map_err(ApiError::internal)?;
    Ok(StatusCode::ACCEPTED)
}
