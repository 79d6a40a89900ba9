//! A container's log, streamed to the page as the person may read it: names checked,
//! the cluster asked first, the bytes passed on as they come (never held whole).

use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::{AsyncReadExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, LogParams};
use serde::Deserialize;

use crate::protocol::ErrorReason;
use crate::server::AppState;
use crate::server::cluster::access::may_read_logs;
use crate::server::cluster::kube_errors::{Failure, classify};
use crate::server::web::identity::Caller;

/// Read at most this much of a log at once: a follower's memory stays this small.
const CHUNK: usize = 16 * 1024;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    pub context: Option<String>,
    #[serde(default)]
    pub follow: bool,
    /// The previous instance (after a restart) instead of the current one.
    #[serde(default)]
    pub previous: bool,
    /// Only the last lines.
    pub tail: Option<i64>,
    /// Only lines from this time (RFC 3339) on.
    pub since_time: Option<String>,
    #[serde(default)]
    pub timestamps: bool,
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    Query(query): Query<LogQuery>,
) -> Response {
    match stream(&state, &caller, &namespace, &pod, &container, query).await {
        Ok(body) => {
            let mut response = (StatusCode::OK, body).into_response();
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(failure) => failure.into_response(),
    }
}

async fn stream(
    state: &AppState,
    caller: &Caller,
    namespace: &str,
    pod: &str,
    container: &str,
    query: LogQuery,
) -> Result<Body, Failure> {
    crate::names::validate_place(namespace, pod, container)
        .map_err(|e| Failure::new(ErrorReason::BadRequest, e))?;
    if query.tail.is_some_and(|n| n < 0) {
        return Err(Failure::new(
            ErrorReason::BadRequest,
            "tail must be a number of lines, 0 or more",
        ));
    }
    let since_time = match &query.since_time {
        Some(text) => Some(text.parse::<jiff::Timestamp>().map_err(|_| {
            Failure::new(
                ErrorReason::BadRequest,
                format!("since_time {text:?} is not a time like 2026-12-02T10:00:00Z"),
            )
        })?),
        None => None,
    };
    let cluster = state
        .clusters
        .get(query.context.as_deref(), &caller.identity)
        .await?;
    may_read_logs(&cluster, namespace, pod).await?;
    let params = LogParams {
        container: Some(container.to_string()),
        follow: query.follow,
        previous: query.previous,
        tail_lines: query.tail,
        since_time,
        timestamps: query.timestamps,
        ..Default::default()
    };
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), namespace);
    let reader = pods
        .log_stream(pod, &params)
        .await
        .map_err(|e| classify(&e))?;
    let chunks = futures::stream::unfold(Box::pin(reader), |mut reader| async move {
        let mut buf = vec![0u8; CHUNK];
        match reader.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(buf)), reader))
            }
            Err(e) => Some((Err(e), reader)),
        }
    });
    // A follow ends at shutdown, which would otherwise wait for it.
    let stopping = state.sessions.stopping().cancelled_owned();
    Ok(Body::from_stream(chunks.take_until(stopping)))
}
