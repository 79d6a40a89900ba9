//! The kubelet's HTTPS endpoints, for the API server only.

use std::sync::Arc;

use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Router};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;

use super::KubeletConfig;
use crate::api::ConnInfo;
use crate::cluster::Cluster;
use crate::exec::{ExecCall, Params, Subresource};
use crate::status::ApiError;

pub fn router(local: Arc<Cluster>) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/exec/{ns}/{pod}/{container}",
            get(session::<false>).post(session::<false>),
        )
        .route(
            "/attach/{ns}/{pod}/{container}",
            get(session::<true>).post(session::<true>),
        )
        .route("/containerLogs/{ns}/{pod}/{container}", get(container_logs))
        .with_state(local)
}

/// TLS that requires a client certificate from the API server's CA: a real kubelet
/// authenticates callers with `--client-ca-file`.
pub fn tls(config: &KubeletConfig) -> Result<Arc<rustls::ServerConfig>, String> {
    let pem = |what: &str, e: rustls::pki_types::pem::Error| format!("kubelet {what}: {e}");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(config.client_ca_pem.as_bytes()) {
        roots
            .add(ca.map_err(|e| pem("client CA", e))?)
            .map_err(|e| format!("kubelet client CA: {e}"))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("kubelet client CA: {e}"))?;
    let chain = CertificateDer::pem_slice_iter(config.serving.cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem("serving certificate", e))?;
    let key = PrivateKeyDer::from_pem_slice(config.serving.key_pem.as_bytes())
        .map_err(|e| pem("serving key", e))?;
    let mut tls = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| format!("kubelet serving certificate: {e}"))?;
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(tls))
}

/// An exec (`ATTACH` false) or an attach the API server forwards, for the container the
/// path names.
async fn session<const ATTACH: bool>(
    State(local): State<Arc<Cluster>>,
    Extension(conn): Extension<ConnInfo>,
    method: Method,
    Path((ns, pod, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let Some((caller, _)) = &conn.cert_identity else {
        return ApiError::unauthorized().into_response();
    };
    let subresource = if ATTACH {
        Subresource::Attach
    } else {
        Subresource::Exec
    };
    tracing::debug!(%caller, %ns, %pod, %container, ?subresource, "kubelet session");
    let call = ExecCall {
        subresource,
        method,
        namespace: ns,
        pod,
        query: query.unwrap_or_default(),
        offered_protocols: crate::exec::offered_protocols(&headers),
        container: Some(container),
        params: Params::Kubelet,
    };
    crate::exec::serve(local, call, upgrade).await
}

/// `GET /containerLogs/NS/POD/CONTAINER`, as the API server proxies `pods/log`.
async fn container_logs(
    State(local): State<Arc<Cluster>>,
    Extension(conn): Extension<ConnInfo>,
    Path((ns, pod, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    if conn.cert_identity.is_none() {
        return ApiError::unauthorized().into_response();
    }
    let Some(spec) = local.store.pod_spec(&ns, &pod) else {
        return (StatusCode::NOT_FOUND, format!("pod {pod:?} does not exist")).into_response();
    };
    let parsed = crate::logs::LogRequest::parse(&query.unwrap_or_default())
        .and_then(|mut request| request.validate(&pod).map(|()| request));
    let request = match parsed {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e.message).into_response(),
    };
    crate::logs::serve(&local, &spec, &container, &request)
        .unwrap_or_else(|(code, why)| (code, why).into_response())
}
