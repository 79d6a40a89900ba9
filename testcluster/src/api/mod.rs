//! The HTTP surface: authentication, impersonation, discovery, resources, exec and admin.

mod admin;
mod discovery;
mod request_info;
mod resources;
mod review;
pub mod table;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};

use crate::cluster::Cluster;
use crate::rbac::{Attributes, Identity};
use crate::status::ApiError;
use request_info::RequestInfo;

/// What the transport knows about a connection: the peer and a verified client certificate.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    pub peer: std::net::SocketAddr,
    pub cert_identity: Option<(String, Vec<String>)>,
}

pub fn router(cluster: Arc<Cluster>) -> Router {
    Router::new()
        .route("/version", get(discovery::version))
        .route("/healthz", get(|| async { "ok" }))
        .route("/livez", get(|| async { "ok" }))
        .route("/readyz", get(|| async { "ok" }))
        .route("/api", get(discovery::api_versions))
        .route("/apis", get(discovery::api_groups))
        .route("/api/v1", get(discovery::core_resources))
        .route(
            "/apis/authorization.k8s.io",
            get(discovery::authorization_group),
        )
        .route(
            "/apis/authorization.k8s.io/v1",
            get(discovery::authorization_resources),
        )
        .route(
            "/apis/authentication.k8s.io",
            get(discovery::authentication_group),
        )
        .route(
            "/apis/authentication.k8s.io/v1",
            get(discovery::authentication_resources),
        )
        .route(
            "/apis/authentication.k8s.io/v1/selfsubjectreviews",
            post(review::self_subject_review).fallback(method_not_allowed),
        )
        .route(
            "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
            post(review::self_subject_access_review).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces",
            get(resources::list_namespaces).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{name}",
            get(resources::get_namespace).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/pods",
            get(resources::list_all_pods).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods",
            get(resources::list_pods).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}",
            get(resources::get_pod).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/exec",
            get(resources::session::<false>).post(resources::session::<false>),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/attach",
            get(resources::session::<true>).post(resources::session::<true>),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/log",
            get(resources::log).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/status",
            get(resources::get_pod_status).fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/ephemeralcontainers",
            get(crate::ephemeral::get)
                .patch(crate::ephemeral::patch)
                .put(crate::ephemeral::put)
                .fallback(method_not_allowed),
        )
        .route(
            "/api/v1/namespaces/{ns}/pods/{name}/{sub}",
            any(method_not_allowed),
        )
        .nest("/testcluster/admin", admin::router())
        .fallback(|| async {
            ApiError::new(
                404,
                "NotFound",
                "the server could not find the requested resource",
            )
            .with_details(serde_json::json!({}))
        })
        .layer(middleware::from_fn_with_state(
            cluster.clone(),
            authenticate,
        ))
        .with_state(cluster)
}

async fn method_not_allowed() -> ApiError {
    ApiError::method_not_allowed()
}

const ANONYMOUS_PATHS: &[&str] = &["/version", "/healthz", "/livez", "/readyz"];

/// Authenticates (bearer token, then client certificate), applies impersonation, and adds
/// the resulting `Identity` to the request. Admin routes take the admin token instead.
async fn authenticate(
    State(cluster): State<Arc<Cluster>>,
    mut req: Request,
    next: Next,
) -> Response {
    let latency = cluster.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let path = req.uri().path().to_string();
    if ANONYMOUS_PATHS.contains(&path.as_str()) {
        return next.run(req).await;
    }
    let bearer = bearer_token(req.headers());
    if path.starts_with("/testcluster/admin") {
        return if bearer.as_deref() == Some(cluster.admin_token.as_str()) {
            next.run(req).await
        } else {
            ApiError::unauthorized().into_response()
        };
    }
    let conn = req.extensions().get::<ConnInfo>().cloned();
    let identity = match bearer {
        Some(token) => cluster.identity_for_token(&token),
        None => conn
            .and_then(|c| c.cert_identity)
            .map(|(user, groups)| Identity::new(user, groups)),
    };
    let Some(identity) = identity else {
        let peer = req.extensions().get::<ConnInfo>().map(|c| c.peer);
        tracing::debug!(?peer, %path, "unauthenticated request refused");
        return ApiError::unauthorized().into_response();
    };
    let info = RequestInfo::parse(req.method(), &path, req.uri().query());
    let identity = match impersonate(&cluster, identity, req.headers(), info.as_ref()) {
        Ok(identity) => identity,
        Err(e) => return e.into_response(),
    };
    req.extensions_mut().insert(identity);
    next.run(req).await
}

fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
}

/// `Impersonate-User` / `Impersonate-Group`, honoured only for callers allowed to impersonate.
///
/// Since 1.36 the API server tries constrained impersonation (`impersonate-on:MODE:VERB` on
/// the request itself) before the legacy `impersonate` verb, and a refusal names the first
/// mode that applies to the user asked for; this policy grants no constrained verbs, so
/// only the legacy check can allow.
fn impersonate(
    cluster: &Cluster,
    caller: Identity,
    headers: &HeaderMap,
    request: Option<&RequestInfo>,
) -> Result<Identity, ApiError> {
    let user = headers
        .get("impersonate-user")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let groups: Vec<String> = headers
        .get_all("impersonate-group")
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_string))
        .collect();
    let Some(user) = user else {
        if groups.is_empty() {
            return Ok(caller);
        }
        return Err(ApiError::internal(format!(
            "requested {groups:?} without impersonating a user"
        )));
    };
    let check = |resource: &str, name: &str| {
        cluster.policy().check(
            &caller,
            &Attributes {
                verb: "impersonate",
                resource,
                subresource: None,
                api_group: "",
                namespace: None,
                name: Some(name),
            },
        )
    };
    let legacy = check("users", &user)
        .and_then(|()| groups.iter().try_for_each(|group| check("groups", group)));
    match (legacy, request) {
        (Ok(()), _) => Ok(Identity::new(user, groups)),
        (Err(refused), None) => Err(refused),
        (Err(_), Some(request)) => {
            let mode = if user.starts_with("system:serviceaccount:") {
                "serviceaccount"
            } else if user.starts_with("system:node:") {
                "arbitrary-node"
            } else {
                "user-info"
            };
            let verb = format!("impersonate-on:{mode}:{}", request.verb);
            Err(crate::rbac::forbidden(&caller, &request.attributes(&verb)))
        }
    }
}
