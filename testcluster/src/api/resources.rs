//! Namespaces and pods: get, list (selectors, paging), watch, and the exec entry point.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ws::{WebSocketUpgrade, rejection::WebSocketUpgradeRejection};
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use jiff::Timestamp;
use serde_json::{Value, json};
use tokio::sync::{broadcast, mpsc};

use super::table;
use crate::cluster::Cluster;
use crate::rbac::{Attributes, Identity};
use crate::selector::{FieldSelector, LabelSelector, NAMESPACE_FIELDS, POD_FIELDS};
use crate::status::ApiError;
use crate::store::{Event, EventType, Kind};

const DEFAULT_WATCH_TIMEOUT: Duration = Duration::from_secs(1800);

/// The list and watch options of a query string.
#[derive(Debug, Default)]
struct ListOptions {
    label: LabelSelector,
    field: FieldSelector,
    limit: Option<usize>,
    continue_after: Option<String>,
    watch: bool,
    resource_version: Option<u64>,
    timeout: Option<Duration>,
    bookmarks: bool,
    send_initial_events: bool,
}

impl ListOptions {
    fn parse(query: Option<&str>, kind: Kind) -> Result<Self, ApiError> {
        let mut options = ListOptions::default();
        let flag = |v: &str| matches!(v, "true" | "True" | "1");
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "labelSelector" => {
                    options.label = LabelSelector::parse(&value).map_err(ApiError::bad_request)?
                }
                "fieldSelector" => {
                    let fields = match kind {
                        Kind::Pod => POD_FIELDS,
                        Kind::Namespace => NAMESPACE_FIELDS,
                    };
                    options.field =
                        FieldSelector::parse(&value, fields).map_err(ApiError::bad_request)?;
                }
                "limit" if !value.is_empty() => {
                    let limit: i64 = value.parse().map_err(|_| {
                        ApiError::bad_request(format!(
                            "limit: Invalid value: {value:?}: must be an integer"
                        ))
                    })?;
                    options.limit = (limit > 0).then_some(limit as usize);
                }
                "continue" if !value.is_empty() => {
                    options.continue_after = Some(decode_continue(&value)?)
                }
                "watch" => options.watch = flag(&value),
                "resourceVersion" if !value.is_empty() => {
                    let rv: u64 = value.parse().map_err(|_| {
                        ApiError::bad_request(format!(
                            "resourceVersion: Invalid value: {value:?}: must be an integer"
                        ))
                    })?;
                    options.resource_version = (rv != 0).then_some(rv);
                }
                "timeoutSeconds" if !value.is_empty() => {
                    let secs: u64 = value.parse().map_err(|_| {
                        ApiError::bad_request(format!("timeoutSeconds: Invalid value: {value:?}"))
                    })?;
                    options.timeout = Some(Duration::from_secs(secs));
                }
                "allowWatchBookmarks" => options.bookmarks = flag(&value),
                "sendInitialEvents" => options.send_initial_events = flag(&value),
                _ => {}
            }
        }
        if options.send_initial_events && !options.watch {
            return Err(ApiError::bad_request(
                "sendInitialEvents is forbidden for list",
            ));
        }
        Ok(options)
    }

    fn matches(&self, object: &Value) -> bool {
        let labels: BTreeMap<String, String> =
            serde_json::from_value(object["metadata"]["labels"].clone()).unwrap_or_default();
        self.label.matches(&labels)
            && self.field.matches(|path| {
                path.split('.')
                    .fold(object, |v, key| &v[key])
                    .as_str()
                    .unwrap_or_default()
                    .to_string()
            })
    }
}

fn encode_continue(key: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"after": key}).to_string())
}

fn decode_continue(token: &str) -> Result<String, ApiError> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|raw| serde_json::from_slice::<Value>(&raw).ok())
        .and_then(|v| v["after"].as_str().map(str::to_string))
        .ok_or_else(|| {
            ApiError::bad_request(
                "invalid continue token: continue key is not valid: the token could not be decoded",
            )
        })
}

fn object_key(object: &Value) -> String {
    format!(
        "{}/{}",
        object["metadata"]["namespace"].as_str().unwrap_or(""),
        object["metadata"]["name"].as_str().unwrap_or("")
    )
}

fn json_response(value: Value) -> Response {
    let mut response = value.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

fn authorize(
    cluster: &Cluster,
    who: &Identity,
    verb: &str,
    resource: &str,
    namespace: Option<&str>,
    name: Option<&str>,
) -> Result<(), ApiError> {
    cluster.policy().check(
        who,
        &Attributes {
            verb,
            resource,
            subresource: None,
            api_group: "",
            namespace,
            name,
        },
    )
}

fn accept(headers: &HeaderMap) -> &str {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

pub async fn list_namespaces(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &cluster,
        &who,
        Kind::Namespace,
        None,
        query.as_deref(),
        table::wants_table(accept(&headers)),
    )
}

pub async fn list_all_pods(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &cluster,
        &who,
        Kind::Pod,
        None,
        query.as_deref(),
        table::wants_table(accept(&headers)),
    )
}

pub async fn list_pods(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path(ns): Path<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    list(
        &cluster,
        &who,
        Kind::Pod,
        Some(&ns),
        query.as_deref(),
        table::wants_table(accept(&headers)),
    )
}

pub async fn get_namespace(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&cluster, &who, "get", "namespaces", None, Some(&name))?;
    let object = cluster
        .store
        .get(Kind::Namespace, "", &name)
        .ok_or_else(|| ApiError::not_found("namespaces", &name))?;
    Ok(single(
        &object,
        Kind::Namespace,
        table::wants_table(accept(&headers)),
    ))
}

pub async fn get_pod(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    authorize(&cluster, &who, "get", "pods", Some(&ns), Some(&name))?;
    let object = cluster
        .store
        .get(Kind::Pod, &ns, &name)
        .ok_or_else(|| ApiError::not_found("pods", &name))?;
    Ok(single(
        &object,
        Kind::Pod,
        table::wants_table(accept(&headers)),
    ))
}

/// `pods/NAME/status`: the same object, under the `pods/status` right.
pub async fn get_pod_status(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    cluster.policy().check(
        &who,
        &Attributes {
            verb: "get",
            resource: "pods",
            subresource: Some("status"),
            api_group: "",
            namespace: Some(&ns),
            name: Some(&name),
        },
    )?;
    let object = cluster
        .store
        .get(Kind::Pod, &ns, &name)
        .ok_or_else(|| ApiError::not_found("pods", &name))?;
    Ok(json_response((*object).clone()))
}

fn single(object: &Value, kind: Kind, as_table: bool) -> Response {
    if !as_table {
        return json_response(object.clone());
    }
    let rv = object["metadata"]["resourceVersion"].as_str().unwrap_or("");
    json_response(table::table(
        columns(kind),
        vec![row(kind, object, Timestamp::now())],
        rv,
        None,
    ))
}

fn columns(kind: Kind) -> Value {
    match kind {
        Kind::Pod => table::pod_columns(),
        Kind::Namespace => table::namespace_columns(),
    }
}

fn row(kind: Kind, object: &Value, now: Timestamp) -> Value {
    match kind {
        Kind::Pod => table::pod_row(object, now),
        Kind::Namespace => table::namespace_row(object, now),
    }
}

fn list(
    cluster: &Arc<Cluster>,
    who: &Identity,
    kind: Kind,
    namespace: Option<&str>,
    query: Option<&str>,
    as_table: bool,
) -> Result<Response, ApiError> {
    let options = ListOptions::parse(query, kind)?;
    let resource = match kind {
        Kind::Pod => "pods",
        Kind::Namespace => "namespaces",
    };
    let verb = if options.watch { "watch" } else { "list" };
    authorize(cluster, who, verb, resource, namespace, None)?;
    if options.watch {
        return watch(cluster, kind, namespace, options, as_table);
    }
    let (rv, objects) = cluster.store.list(kind, namespace);
    let mut items: Vec<&Value> = objects
        .iter()
        .map(|o| o.as_ref())
        .filter(|o| {
            options
                .continue_after
                .as_deref()
                .is_none_or(|after| object_key(o).as_str() > after)
        })
        .filter(|o| options.matches(o))
        .collect();
    let mut continue_token = None;
    let mut remaining = None;
    if let Some(limit) = options.limit
        && items.len() > limit
    {
        remaining = Some(items.len() - limit);
        items.truncate(limit);
        continue_token = items.last().map(|o| encode_continue(&object_key(o)));
    }
    let rv = rv.to_string();
    if as_table {
        let now = Timestamp::now();
        let rows = items.iter().map(|o| row(kind, o, now)).collect();
        return Ok(json_response(table::table(
            columns(kind),
            rows,
            &rv,
            continue_token.as_deref(),
        )));
    }
    let mut metadata = json!({"resourceVersion": rv});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
        metadata["remainingItemCount"] = json!(remaining);
    }
    let list_kind = match kind {
        Kind::Pod => "PodList",
        Kind::Namespace => "NamespaceList",
    };
    Ok(json_response(
        json!({"kind": list_kind, "apiVersion": "v1", "metadata": metadata, "items": items}),
    ))
}

fn watch(
    cluster: &Arc<Cluster>,
    kind: Kind,
    namespace: Option<&str>,
    options: ListOptions,
    as_table: bool,
) -> Result<Response, ApiError> {
    let start = cluster
        .store
        .watch(kind, namespace, options.resource_version);
    let (tx, rx) = mpsc::channel::<Bytes>(64);
    let body = Body::from_stream(futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|line| (Ok::<_, Infallible>(line), rx))
    }));
    let requested = options.resource_version;
    let namespace = namespace.map(str::to_string);
    let interval = cluster.bookmark_interval;
    tokio::spawn(async move {
        let start = match start {
            Ok(start) => start,
            Err(oldest) => {
                let requested = requested.unwrap_or(0);
                let gone = ApiError::gone(format!(
                    "too old resource version: {requested} ({})",
                    oldest - 1
                ));
                let _ = tx.send(event_line("ERROR", &gone.to_json())).await;
                return;
            }
        };
        let watcher = Watcher {
            tx,
            kind,
            namespace,
            options,
            as_table,
            columns_sent: false,
            last_rv: start.rv,
        };
        watcher.run(start.backlog, start.live, interval).await;
    });
    let mut response = Response::new(body);
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

fn event_line(kind: &str, object: &Value) -> Bytes {
    let mut line = json!({"type": kind, "object": object})
        .to_string()
        .into_bytes();
    line.push(b'\n');
    Bytes::from(line)
}

struct Watcher {
    tx: mpsc::Sender<Bytes>,
    kind: Kind,
    namespace: Option<String>,
    options: ListOptions,
    as_table: bool,
    columns_sent: bool,
    last_rv: u64,
}

impl Watcher {
    async fn run(
        mut self,
        backlog: Vec<Arc<Event>>,
        mut live: broadcast::Receiver<Arc<Event>>,
        interval: Duration,
    ) {
        let initial = self.options.resource_version.is_none();
        for event in backlog {
            if !self.emit(&event).await {
                return;
            }
        }
        if initial && self.options.send_initial_events && !self.bookmark(true).await {
            return;
        }
        let deadline = tokio::time::sleep(self.options.timeout.unwrap_or(DEFAULT_WATCH_TIMEOUT));
        tokio::pin!(deadline);
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
        loop {
            tokio::select! {
                _ = &mut deadline => return,
                _ = ticks.tick(), if self.options.bookmarks => {
                    if !self.bookmark(false).await { return; }
                }
                event = live.recv() => match event {
                    Ok(event) => {
                        if event.rv > self.last_rv && !self.emit(&event).await { return; }
                    }
                    // Too slow to keep up: end the watch; the client resumes from its last version.
                    Err(_) => return,
                },
                _ = self.tx.closed() => return,
            }
        }
    }

    /// Sends what this event means for this watch's selection. False once the client is gone.
    async fn emit(&mut self, event: &Event) -> bool {
        self.last_rv = self.last_rv.max(event.rv);
        let namespace = event.object["metadata"]["namespace"].as_str();
        if event.kind != self.kind
            || self
                .namespace
                .as_deref()
                .is_some_and(|ns| Some(ns) != namespace)
        {
            return true;
        }
        let now = self.options.matches(&event.object);
        let before = event
            .previous
            .as_ref()
            .is_some_and(|p| self.options.matches(p));
        let kind = match (event.event, before, now) {
            (EventType::Added, _, true) => "ADDED",
            (EventType::Modified, true, true) => "MODIFIED",
            (EventType::Modified, false, true) => "ADDED",
            (EventType::Modified, true, false) => "DELETED",
            (EventType::Deleted, true, _) => "DELETED",
            (EventType::Deleted, false, _) if event.previous.is_none() => "DELETED",
            _ => return true,
        };
        let object = if self.as_table {
            let columns = if self.columns_sent {
                json!([])
            } else {
                columns(self.kind)
            };
            self.columns_sent = true;
            let rv = event.rv.to_string();
            table::table(
                columns,
                vec![row(self.kind, &event.object, Timestamp::now())],
                &rv,
                None,
            )
        } else {
            (*event.object).clone()
        };
        self.tx.send(event_line(kind, &object)).await.is_ok()
    }

    async fn bookmark(&mut self, initial_end: bool) -> bool {
        let (kind, api_version) = match self.kind {
            Kind::Pod => ("Pod", "v1"),
            Kind::Namespace => ("Namespace", "v1"),
        };
        let mut metadata =
            json!({"resourceVersion": self.last_rv.to_string(), "creationTimestamp": null});
        if initial_end {
            metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let object = json!({"kind": kind, "apiVersion": api_version, "metadata": metadata});
        self.tx.send(event_line("BOOKMARK", &object)).await.is_ok()
    }
}

/// An exec (`ATTACH` false) or an attach: the same checks up to the session.
pub async fn session<const ATTACH: bool>(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    method: Method,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let subresource = if ATTACH {
        crate::exec::Subresource::Attach
    } else {
        crate::exec::Subresource::Exec
    };
    let call = session_call(subresource, method, ns, name, query, &headers);
    crate::exec::handle(cluster, who, call, upgrade).await
}

fn session_call(
    subresource: crate::exec::Subresource,
    method: Method,
    ns: String,
    name: String,
    query: Option<String>,
    headers: &HeaderMap,
) -> crate::exec::ExecCall {
    crate::exec::ExecCall {
        subresource,
        method,
        namespace: ns,
        pod: name,
        query: query.unwrap_or_default(),
        offered_protocols: crate::exec::offered_protocols(headers),
        container: None,
        params: crate::exec::Params::Api,
    }
}

pub async fn log(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    crate::logs::handle(&cluster, &who, &ns, &name, &query.unwrap_or_default())
}
