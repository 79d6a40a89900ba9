//! The live pod feed: a server-sent event stream of pod list snapshots for one namespace,
//! fed by a kube-rs watcher, so the page follows pods that appear, change or vanish.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Extension, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use kube::runtime::{WatchStreamExt, reflector, watcher};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::AppState;
use super::auth::Caller;
use super::clusters::Cluster;
use super::kube_errors::classify;
use super::pods::summarize;

/// Changes within this window are sent as one snapshot.
const COALESCE: Duration = Duration::from_millis(200);
/// Ages move on even when nothing changes.
const REFRESH: Duration = Duration::from_secs(30);

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    pub context: Option<String>,
    pub namespace: String,
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<FeedQuery>,
) -> Response {
    if let Err(e) = testcluster::names::validate_label(&query.namespace) {
        return (
            axum::http::StatusCode::BAD_REQUEST,
            format!("namespace {:?}: {e}", query.namespace),
        )
            .into_response();
    }
    let cluster = match state
        .clusters
        .get(query.context.as_deref(), &caller.identity)
        .await
    {
        Ok(cluster) => cluster,
        Err(e) => return (axum::http::StatusCode::NOT_FOUND, e.to_string()).into_response(),
    };
    // The feed ends at shutdown, which would otherwise wait for it forever.
    let stopping = state.sessions.stopping().cancelled_owned();
    Sse::new(feed(cluster, query.namespace).take_until(stopping))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// `pods` events carry the namespace's pods as JSON; `problem` events say why the feed is
/// not live right now (it retries by itself).
fn feed(cluster: Cluster, namespace: String) -> impl Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = mpsc::channel::<Event>(4);
    tokio::spawn(async move {
        let api: Api<Pod> = Api::namespaced(cluster.client.clone(), &namespace);
        let (store, writer) = reflector::store();
        let mut events = watcher(api, watcher::Config::default())
            .default_backoff()
            .reflect(writer)
            .boxed();
        let (mut ready, mut dirty, mut last_problem) = (false, false, None::<String>);
        let mut coalesce = tokio::time::interval(COALESCE);
        let mut refresh = tokio::time::interval(REFRESH);
        loop {
            tokio::select! {
                event = events.next() => match event {
                    Some(Ok(watcher::Event::InitDone)) => { ready = true; dirty = true; }
                    Some(Ok(_)) => dirty = true,
                    // A 410 is routine: the watcher lists again.
                    Some(Err(watcher::Error::WatchError(status))) if status.code == 410 => {}
                    Some(Err(e)) => {
                        let message = match e {
                            watcher::Error::InitialListFailed(e)
                            | watcher::Error::WatchStartFailed(e)
                            | watcher::Error::WatchFailed(e) => classify(&e).message,
                            watcher::Error::WatchError(status) => status.message.clone(),
                            other => other.to_string(),
                        };
                        if last_problem.as_ref() != Some(&message) {
                            last_problem = Some(message.clone());
                            if tx.send(Event::default().event("problem").data(message)).await.is_err() { return; }
                        }
                    }
                    None => return,
                },
                _ = coalesce.tick(), if dirty && ready => {
                    dirty = false;
                    last_problem = None;
                    let mut pods: Vec<_> = store.state().iter().map(|p| summarize(p)).collect();
                    pods.sort_by(|a, b| a.name.cmp(&b.name));
                    let json = serde_json::to_string(&pods).expect("serializable");
                    if tx.send(Event::default().event("pods").data(json)).await.is_err() { return; }
                }
                _ = refresh.tick() => dirty = true,
                _ = tx.closed() => return,
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    })
}
