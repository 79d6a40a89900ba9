//! Asking the cluster before acting: may this person exec here, read this log?
//! (SelfSubjectAccessReview, as the person: impersonated, or with their own token.)

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::protocol::ErrorReason;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::{Failure, classify};

/// Ok when the caller may both `create` and `get` pods/exec (on `pod`, or in the namespace).
/// Err says why not, in words.
pub async fn may_exec(
    cluster: &Cluster,
    namespace: &str,
    pod: Option<&str>,
) -> Result<(), Failure> {
    let what = match pod {
        Some(pod) => format!("open a shell in pod {pod}"),
        None => format!("open shells in namespace {namespace}"),
    };
    may(cluster, namespace, pod, "exec", &["create", "get"], &what).await
}

/// Ok when the caller may `get` pods/log of `pod`.
pub async fn may_read_logs(cluster: &Cluster, namespace: &str, pod: &str) -> Result<(), Failure> {
    let what = format!("read the logs of pod {pod}");
    may(cluster, namespace, Some(pod), "log", &["get"], &what).await
}

/// Ok when the caller may both `create` and `get` pods/attach (of `pod`, or in the
/// namespace).
pub async fn may_attach(
    cluster: &Cluster,
    namespace: &str,
    pod: Option<&str>,
) -> Result<(), Failure> {
    let what = match pod {
        Some(pod) => format!("attach to the main process of pod {pod}"),
        None => format!("attach to main processes in namespace {namespace}"),
    };
    may(cluster, namespace, pod, "attach", &["create", "get"], &what).await
}

/// Ok when the caller may `patch` pods/ephemeralcontainers (of `pod`, or in the namespace):
/// add a debug container.
pub async fn may_debug(
    cluster: &Cluster,
    namespace: &str,
    pod: Option<&str>,
) -> Result<(), Failure> {
    let what = match pod {
        Some(pod) => format!("add a debug container to pod {pod}"),
        None => format!("add debug containers in namespace {namespace}"),
    };
    may(
        cluster,
        namespace,
        pod,
        "ephemeralcontainers",
        &["patch"],
        &what,
    )
    .await
}

/// Asks for each verb on `pods/SUBRESOURCE`; the first denial reads as "not allowed: you
/// may not WHAT: the cluster denies VERB on pods/SUBRESOURCE (its reason)".
async fn may(
    cluster: &Cluster,
    namespace: &str,
    pod: Option<&str>,
    subresource: &str,
    verbs: &[&str],
    what: &str,
) -> Result<(), Failure> {
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    for verb in verbs {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.to_string()),
                    verb: Some(verb.to_string()),
                    resource: Some("pods".into()),
                    subresource: Some(subresource.into()),
                    name: pod.map(str::to_string),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| classify(&e))?;
        let status = answer.status.unwrap_or_default();
        if !status.allowed {
            let why = status
                .reason
                .filter(|r| !r.is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(Failure::new(
                ErrorReason::Forbidden,
                format!(
                    "not allowed: you may not {what}: the cluster denies {verb} on pods/{subresource}{why}"
                ),
            ));
        }
    }
    Ok(())
}
