//! SelfSubjectAccessReview: "may I?", answered from the same policy that guards requests.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::rbac::{Attributes, Identity};
use crate::status::ApiError;

/// SelfSubjectReview: "who am I?", as `kubectl auth whoami` asks.
pub async fn self_subject_review(
    Extension(who): Extension<Identity>,
) -> (axum::http::StatusCode, Json<Value>) {
    let review = json!({
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "status": {"userInfo": {"username": who.user, "groups": who.groups}},
    });
    (axum::http::StatusCode::CREATED, Json(review))
}

pub async fn self_subject_access_review(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    body: Bytes,
) -> Result<(axum::http::StatusCode, Json<Value>), ApiError> {
    // Creating a SelfSubjectAccessReview is open to every authenticated user, as in the
    // default bootstrap policy (system:basic-user).
    let mut review: Value = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the request body is not a SelfSubjectAccessReview: {e}"
        ))
    })?;
    if review["kind"] != "SelfSubjectAccessReview" {
        return Err(ApiError::bad_request(format!(
            "expected kind SelfSubjectAccessReview, got {}",
            review["kind"]
        )));
    }
    let spec = &review["spec"];
    let status = if let Some(attrs) = spec["resourceAttributes"].as_object() {
        let text = |key: &str| {
            attrs
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let Some(verb) = text("verb") else {
            return Err(ApiError::bad_request(
                "spec.resourceAttributes.verb: Required value",
            ));
        };
        let attributes = Attributes {
            verb,
            resource: text("resource").unwrap_or(""),
            subresource: text("subresource"),
            api_group: text("group").unwrap_or(""),
            namespace: text("namespace"),
            name: text("name"),
        };
        match cluster.policy().allowing_rule(&who, &attributes) {
            Some(index) => {
                json!({"allowed": true, "reason": format!("allowed by testcluster policy rule {index}")})
            }
            None => json!({"allowed": false}),
        }
    } else if spec["nonResourceAttributes"].is_object() {
        json!({"allowed": false, "reason": "testcluster grants no non-resource URLs"})
    } else {
        return Err(ApiError::bad_request(
            "spec: Invalid value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    review["apiVersion"] = json!("authorization.k8s.io/v1");
    review["metadata"] = json!({"creationTimestamp": null});
    review["status"] = status;
    Ok((axum::http::StatusCode::CREATED, Json(review)))
}
