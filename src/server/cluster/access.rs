//! Asking the cluster before acting: may this person exec here, read this log?
//! (SelfSubjectAccessReview, as the person: impersonated, or with their own token.)

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::api::{Api, PostParams};

use crate::protocol::ErrorReason;
use crate::server::cluster::clusters::Cluster;
use crate::server::cluster::kube_errors::{Failure, classify};
use crate::server::cluster::recent::Recent;

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

/// How long an "allowed" answer is used again for the same person, verb and pod: a
/// terminal opened many times a second asks once, and a revoked right still takes effect
/// within seconds. Denials are never kept, so a right just granted works at once.
const REVIEW_KEPT: Duration = Duration::from_secs(5);

/// One identity's recent "allowed" answers, by what was asked (its `Cluster` is per
/// identity and context, so no answer is ever used for another person).
pub struct Reviews(Recent<Asked, ()>);

impl Default for Reviews {
    fn default() -> Self {
        Self(Recent::new(REVIEW_KEPT))
    }
}

/// One question: may the person VERB pods/SUBRESOURCE (of POD, or in the namespace)?
#[derive(Clone, PartialEq, Eq, Hash)]
struct Asked {
    namespace: String,
    pod: Option<String>,
    subresource: String,
    verb: String,
}

impl Asked {
    fn attributes(&self) -> ResourceAttributes {
        ResourceAttributes {
            namespace: Some(self.namespace.clone()),
            verb: Some(self.verb.clone()),
            resource: Some("pods".into()),
            subresource: Some(self.subresource.clone()),
            name: self.pod.clone(),
            ..Default::default()
        }
    }
}

/// Asks for each verb on `pods/SUBRESOURCE` (at once); the first denial reads as "not
/// allowed: you may not WHAT: the cluster denies VERB on pods/SUBRESOURCE (its reason)".
async fn may(
    cluster: &Cluster,
    namespace: &str,
    pod: Option<&str>,
    subresource: &str,
    verbs: &[&str],
    what: &str,
) -> Result<(), Failure> {
    let asks = verbs.iter().map(|verb| Asked {
        namespace: namespace.to_string(),
        pod: pod.map(str::to_string),
        subresource: subresource.to_string(),
        verb: verb.to_string(),
    });
    let answers = futures::future::try_join_all(asks.map(|asked| ask(cluster, asked))).await?;
    for (verb, denied) in verbs.iter().zip(answers) {
        if let Some(reason) = denied {
            let why = Some(reason)
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

/// None when allowed (asked of the cluster unless it said so within `REVIEW_KEPT`), else
/// the cluster's reason for the denial.
async fn ask(cluster: &Cluster, asked: Asked) -> Result<Option<String>, Failure> {
    if cluster.reviews.0.get(&asked).is_some() {
        return Ok(None);
    }
    let api: Api<SelfSubjectAccessReview> = Api::all(cluster.client.clone());
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(asked.attributes()),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| classify(&e))?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        cluster.reviews.0.keep(asked, ());
        return Ok(None);
    }
    Ok(Some(status.reason.unwrap_or_default()))
}
