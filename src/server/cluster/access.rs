//! Asking the cluster before acting: may this person exec here? (SelfSubjectAccessReview,
//! as the person: impersonated, or with their own token.)

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
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    for verb in ["create", "get"] {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(namespace.to_string()),
                    verb: Some(verb.into()),
                    resource: Some("pods".into()),
                    subresource: Some("exec".into()),
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
            let what = match pod {
                Some(pod) => format!("open a shell in pod {pod}"),
                None => format!("open shells in namespace {namespace}"),
            };
            let why = status
                .reason
                .filter(|r| !r.is_empty())
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            return Err(Failure::new(
                ErrorReason::Forbidden,
                format!(
                    "not allowed: you may not {what}: the cluster denies {verb} on pods/exec{why}"
                ),
            ));
        }
    }
    Ok(())
}
