//! Version and discovery documents, enough for kubectl's legacy discovery and kube-rs.

use axum::Json;
use serde_json::{Value, json};

pub const GIT_VERSION: &str = "v1.35.0-testcluster";

pub async fn version() -> Json<Value> {
    Json(json!({
        "major": "1",
        "minor": "35",
        "gitVersion": GIT_VERSION,
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.25.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    }))
}

pub async fn api_versions() -> Json<Value> {
    Json(json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1:6443"}],
    }))
}

fn authorization_group_json() -> Value {
    json!({
        "name": "authorization.k8s.io",
        "versions": [{"groupVersion": "authorization.k8s.io/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "authorization.k8s.io/v1", "version": "v1"},
    })
}

fn authentication_group_json() -> Value {
    json!({
        "name": "authentication.k8s.io",
        "versions": [{"groupVersion": "authentication.k8s.io/v1", "version": "v1"}],
        "preferredVersion": {"groupVersion": "authentication.k8s.io/v1", "version": "v1"},
    })
}

pub async fn api_groups() -> Json<Value> {
    Json(json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [authentication_group_json(), authorization_group_json()],
    }))
}

pub async fn authentication_group() -> Json<Value> {
    let mut group = authentication_group_json();
    group["kind"] = json!("APIGroup");
    group["apiVersion"] = json!("v1");
    Json(group)
}

pub async fn authentication_resources() -> Json<Value> {
    Json(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "authentication.k8s.io/v1",
        "resources": [resource("selfsubjectreviews", "SelfSubjectReview", false, &["create"], &[])],
    }))
}

pub async fn authorization_group() -> Json<Value> {
    let mut group = authorization_group_json();
    group["kind"] = json!("APIGroup");
    group["apiVersion"] = json!("v1");
    Json(group)
}

fn resource(name: &str, kind: &str, namespaced: bool, verbs: &[&str], short: &[&str]) -> Value {
    let mut r = json!({
        "name": name,
        "singularName": if name.contains('/') { "" } else { name.trim_end_matches('s') },
        "namespaced": namespaced,
        "kind": kind,
        "verbs": verbs,
    });
    if !short.is_empty() {
        r["shortNames"] = json!(short);
    }
    r
}

pub async fn core_resources() -> Json<Value> {
    Json(json!({
        "kind": "APIResourceList",
        "groupVersion": "v1",
        "resources": [
            resource("namespaces", "Namespace", false, &["get", "list", "watch"], &["ns"]),
            resource("pods", "Pod", true, &["get", "list", "watch"], &["po"]),
            resource("pods/attach", "PodAttachOptions", true, &["create", "get"], &[]),
            resource("pods/ephemeralcontainers", "Pod", true, &["get", "patch", "update"], &[]),
            resource("pods/exec", "PodExecOptions", true, &["create", "get"], &[]),
            resource("pods/log", "Pod", true, &["get"], &[]),
        ],
    }))
}

pub async fn authorization_resources() -> Json<Value> {
    Json(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": "authorization.k8s.io/v1",
        "resources": [resource("selfsubjectaccessreviews", "SelfSubjectAccessReview", false, &["create"], &[])],
    }))
}
