//! The live pod feed: a server-sent event stream per open pod list, sending its pods (or
//! its window of them) again only when they changed.

use std::convert::Infallible;

use axum::extract::{Extension, Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::model::{PodCounts, WINDOW_MAX};
use crate::server::AppState;
use crate::server::cluster::pod_watch::{Follower, PodWatch};
use crate::server::cluster::watch::{COALESCE, REFRESH};
use crate::server::web::identity::Caller;

#[derive(Debug, Deserialize)]
pub struct FeedQuery {
    pub context: Option<String>,
    pub namespace: String,
    /// With `limit`: send windows of the pods matching this filter.
    pub filter: Option<String>,
    /// Send `window` events of at most this many pods instead of every pod.
    pub limit: Option<usize>,
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Query(query): Query<FeedQuery>,
) -> Response {
    if let Err(e) = crate::names::validate_label(&query.namespace) {
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
    let follower = match state
        .clusters
        .watches
        .get(&cluster, &query.namespace, false)
    {
        Ok(follower) => follower,
        Err(refusal) => {
            return (axum::http::StatusCode::TOO_MANY_REQUESTS, refusal).into_response();
        }
    };
    let shape = match query.limit {
        Some(limit) => Shape::Window {
            filter: query.filter.unwrap_or_default(),
            limit: limit.min(WINDOW_MAX),
        },
        None => Shape::Every,
    };
    // The feed ends at shutdown, which would otherwise wait for it forever.
    let stopping = state.sessions.stopping().cancelled_owned();
    Sse::new(feed(follower, shape).take_until(stopping))
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// What a feed sends.
enum Shape {
    /// `pods` events: every pod of the namespace, by name.
    Every,
    /// `window` events: a [`PodWindow`]; `counts` events when only its counts changed.
    Window { filter: String, limit: usize },
}

/// What a feed sent last, so that it sends only what changed.
#[derive(Default)]
struct Sent {
    /// The pods of the last `pods` or `window` event, as sent.
    pods: Option<String>,
    counts: PodCounts,
}

impl Shape {
    /// The event that brings a page that has seen `sent` up to date, if it is not.
    fn update(&self, watch: &PodWatch, sent: &mut Sent) -> Option<Event> {
        match self {
            Shape::Every => {
                let json = serde_json::to_string(&watch.all()).ok()?;
                if sent.pods.as_ref() == Some(&json) {
                    return None;
                }
                let event = Event::default().event("pods").data(&json);
                sent.pods = Some(json);
                Some(event)
            }
            Shape::Window { filter, limit } => {
                let window = watch.window(filter, *limit);
                let counts = PodCounts {
                    matching: window.matching,
                    total: window.total,
                };
                let pods = serde_json::to_string(&window.pods).ok()?;
                if sent.pods.as_ref() == Some(&pods) {
                    // A change outside the window: a few bytes rather than the window.
                    if sent.counts == counts {
                        return None;
                    }
                    sent.counts = counts;
                    let json = serde_json::to_string(&counts).ok()?;
                    return Some(Event::default().event("counts").data(json));
                }
                let json = serde_json::to_string(&window).ok()?;
                (sent.pods, sent.counts) = (Some(pods), counts);
                Some(Event::default().event("window").data(json))
            }
        }
    }
}

/// Sends the pods when they (or their ages) change, and `problem` events saying why the
/// feed is not live right now (the watch retries by itself).
fn feed(follower: Follower, shape: Shape) -> impl Stream<Item = Result<Event, Infallible>> {
    let (tx, rx) = mpsc::channel::<Event>(4);
    tokio::spawn(async move {
        let mut changes = follower.0.status.clone();
        let mut refresh = tokio::time::interval(REFRESH);
        refresh.reset();
        let (mut sent, mut last_problem) = (Sent::default(), None::<String>);
        loop {
            let status = changes.borrow_and_update().clone();
            if status.ended {
                let _ = tx
                    .send(
                        Event::default()
                            .event("problem")
                            .data("podterm stopped watching these pods; reload the page"),
                    )
                    .await;
                return;
            }
            if status.problem != last_problem {
                last_problem = status.problem.clone();
                // When the problem goes away, the next update says so even if the pods
                // did not change.
                sent = Sent::default();
                if let Some(problem) = &status.problem
                    && tx
                        .send(Event::default().event("problem").data(problem))
                        .await
                        .is_err()
                {
                    return;
                }
            }
            if status.ready
                && let Some(event) = shape.update(&follower.0, &mut sent)
                && tx.send(event).await.is_err()
            {
                return;
            }
            tokio::select! {
                changed = changes.changed() => {
                    if changed.is_err() { return; }
                    tokio::time::sleep(COALESCE).await;
                }
                _ = refresh.tick() => {}
                _ = tx.closed() => return,
            }
        }
    });
    futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|event| (Ok(event), rx))
    })
}
