//! The exec relay: the browser's WebSocket on one side, the pod's exec stream (v5 channel
//! protocol over kube-rs's authenticated upgrade) on the other. Bytes pass through untouched.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, Path, RawQuery, State};
use axum::response::Response;
use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message as UpMessage;

use super::AppState;
use super::access::may_exec;
use super::audit::{Ending, SessionFacts};
use super::auth::Caller;
use super::kube_errors::{Failure, classify};
use super::live::SessionInfo;
use super::pods::summarize;
use super::recording::Recorder;
use super::shell::default_command;
use crate::protocol::{
    ClientMessage, ErrorReason, MAX_CONTROL_MESSAGE, MAX_INPUT_MESSAGE, ServerEvent,
};

const STDIN: u8 = 0;
const STDOUT: u8 = 1;
const STDERR: u8 = 2;
const STATUS: u8 = 3;
const RESIZE: u8 = 4;
/// Largest stdin frame sent upstream; bigger browser messages are split.
const UPSTREAM_CHUNK: usize = 32 * 1024;

/// What a browser asked to run, and where.
#[derive(Debug, Clone)]
pub struct ExecTarget {
    pub context: Option<String>,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
}

impl ExecTarget {
    /// Checks names as the API server would, before any call is made.
    pub fn parse(
        namespace: String,
        pod: String,
        container: String,
        query: Option<&str>,
    ) -> Result<Self, String> {
        use testcluster::names::{validate_label, validate_subdomain};
        validate_label(&namespace)
            .map_err(|e| format!("namespace {namespace:?} is not a valid name: {e}"))?;
        validate_subdomain(&pod).map_err(|e| format!("pod {pod:?} is not a valid name: {e}"))?;
        validate_label(&container)
            .map_err(|e| format!("container {container:?} is not a valid name: {e}"))?;
        let mut context = None;
        let mut command = Vec::new();
        for (key, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match key.as_ref() {
                "context" => context = Some(value.into_owned()).filter(|c| !c.is_empty()),
                "command" => command.push(value.into_owned()),
                _ => {}
            }
        }
        if command.iter().any(|arg| arg.contains('\0')) {
            return Err("a command argument contains a NUL byte".into());
        }
        if command.is_empty() {
            command = default_command();
        }
        Ok(Self {
            context,
            namespace,
            pod,
            container,
            command,
        })
    }
}

pub async fn handler(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((namespace, pod, container)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let target = ExecTarget::parse(namespace, pod, container, query.as_deref());
    upgrade
        .max_message_size(MAX_INPUT_MESSAGE.max(MAX_CONTROL_MESSAGE))
        .on_upgrade(move |socket| session(state, caller, target, socket))
}

async fn session(
    state: AppState,
    caller: Caller,
    target: Result<ExecTarget, String>,
    mut browser: WebSocket,
) {
    let target = match target {
        Ok(target) => target,
        Err(message) => return fail(browser, Failure::new(ErrorReason::BadRequest, message)).await,
    };
    let id = super::auth::random_hex(8);
    // Limits first: a refused session must not have started anything in the pod.
    let context = target
        .context
        .clone()
        .or_else(|| state.clusters.current())
        .unwrap_or_default();
    let mut facts = SessionFacts {
        id: id.clone(),
        user: caller.identity.name().to_string(),
        groups: caller.identity.groups().to_vec(),
        from: caller.from.clone(),
        context: context.clone(),
        namespace: target.namespace.clone(),
        pod: target.pod.clone(),
        container: target.container.clone(),
        command: target.command.clone(),
        start: jiff::Timestamp::now().to_string(),
    };
    let ticket = match state.live.admit(SessionInfo {
        id: id.clone(),
        user: facts.user.clone(),
        from: facts.from.clone(),
        context,
        namespace: facts.namespace.clone(),
        pod: facts.pod.clone(),
        container: facts.container.clone(),
        start: facts.start.clone(),
    }) {
        Ok(ticket) => ticket,
        Err(why) => return fail(browser, Failure::new(ErrorReason::TooMany, why)).await,
    };
    let upstream = match open(&state, &caller, &target).await {
        Ok((upstream, context)) => {
            facts.context = context;
            upstream
        }
        Err(failure) => {
            tracing::info!(user = caller.identity.name(), pod = %target.pod, namespace = %target.namespace, "exec not started: {failure}");
            return fail(browser, failure).await;
        }
    };
    let recorder = state.recordings.as_ref().and_then(|r| {
        let title = format!(
            "{} in {}/{}/{}",
            facts.user, facts.namespace, facts.pod, facts.container
        );
        match Recorder::create(&r.dir, &id, &title, r.with_input) {
            Ok(recorder) => Some(Arc::new(Mutex::new(recorder))),
            Err(e) => {
                tracing::warn!("cannot record session {id}: {e}");
                None
            }
        }
    });
    state.audit.started(&facts);
    let started = Instant::now();
    let counters = Arc::new(Counters::default());
    let stop = async {
        match state.live.max_duration() {
            Some(limit) => tokio::select! {
                _ = ticket.end.cancelled() => "an administrator ended this session".to_string(),
                _ = tokio::time::sleep(limit) => format!("this session reached its maximum length of {} minutes", limit.as_secs() / 60),
            },
            None => {
                ticket.end.cancelled().await;
                "an administrator ended this session".to_string()
            }
        }
    };
    let outcome = tokio::select! {
        outcome = relay(&mut browser, upstream, counters.clone(), recorder.clone()) => outcome,
        why = stop => Outcome::Failed(Failure::new(ErrorReason::Ended, why)),
    };
    let (event, ending) = match &outcome {
        Outcome::Exited(code) => (
            Some(ServerEvent::Exit { code: *code }),
            Ending {
                exit_code: Some(*code),
                ..Default::default()
            },
        ),
        Outcome::Failed(failure) => (
            Some(ServerEvent::Error {
                reason: failure.reason,
                message: failure.message.clone(),
            }),
            Ending {
                error: Some(failure.message.clone()),
                ..Default::default()
            },
        ),
        Outcome::BrowserGone => (
            None,
            Ending {
                error: Some("the browser went away".into()),
                ..Default::default()
            },
        ),
    };
    let ending = Ending {
        duration_ms: started.elapsed().as_millis(),
        bytes_in: counters.bytes_in.load(Ordering::Relaxed),
        bytes_out: counters.bytes_out.load(Ordering::Relaxed),
        ..ending
    };
    state.audit.ended(&facts, &ending);
    if let Some(recorder) = recorder.and_then(Arc::into_inner) {
        recorder
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .finish();
    }
    drop(ticket);
    if let Some(event) = event {
        let _ = browser.send(Message::Text(event.to_json().into())).await;
        close(browser).await;
    }
}

async fn fail(mut browser: WebSocket, failure: Failure) {
    let event = ServerEvent::Error {
        reason: failure.reason,
        message: failure.message,
    };
    let _ = browser.send(Message::Text(event.to_json().into())).await;
    close(browser).await;
}

async fn close(mut browser: WebSocket) {
    let frame = CloseFrame {
        code: 1000,
        reason: "".into(),
    };
    let _ = browser.send(Message::Close(Some(frame))).await;
    let _ = tokio::time::timeout(Duration::from_secs(1), browser.close()).await;
}

/// Bytes relayed in each direction, for the audit trail.
#[derive(Default)]
struct Counters {
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
}

type Upstream =
    tokio_tungstenite::WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// Checks access and the pod and container first (for a clear "not allowed" or "not
/// running"), then opens the exec as the caller. Returns the stream and the context used.
async fn open(
    state: &AppState,
    caller: &Caller,
    target: &ExecTarget,
) -> Result<(Upstream, String), Failure> {
    let cluster = state
        .clusters
        .get(target.context.as_deref(), &caller.identity)
        .await
        .map_err(|e| match e {
            super::clusters::ClusterError::UnknownContext(_) => {
                Failure::new(ErrorReason::NotFound, e.to_string())
            }
            super::clusters::ClusterError::Config(_) => {
                Failure::new(ErrorReason::Unreachable, e.to_string())
            }
        })?;
    may_exec(&cluster, &target.namespace, Some(&target.pod))
        .await
        .map_err(|why| Failure::new(ErrorReason::Forbidden, why))?;
    let pods: Api<Pod> = Api::namespaced(cluster.client.clone(), &target.namespace);
    let pod = pods.get(&target.pod).await.map_err(|e| classify(&e))?;
    let summary = summarize(&pod);
    let container = summary.container(&target.container).ok_or_else(|| {
        let names: Vec<&str> = summary.containers.iter().map(|c| c.name.as_str()).collect();
        Failure::new(
            ErrorReason::NotFound,
            format!(
                "pod {} has no container {:?} (it has: {})",
                target.pod,
                target.container,
                names.join(", ")
            ),
        )
    })?;
    if let Some(why) = &container.not_connectable {
        return Err(Failure::new(
            ErrorReason::NotRunning,
            format!("cannot open a shell in {}: {why}", target.container),
        ));
    }
    let params = AttachParams::interactive_tty().container(&target.container);
    let request = kube::core::Request::new(format!("/api/v1/namespaces/{}/pods", target.namespace))
        .exec(&target.pod, target.command.clone(), &params)
        .map_err(|e| Failure::new(ErrorReason::BadRequest, e.to_string()))?;
    let connection = cluster
        .client
        .connect(request)
        .await
        .map_err(|e| classify(&e))?;
    Ok((connection.into_stream(), cluster.context.clone()))
}

enum Outcome {
    Exited(i32),
    Failed(Failure),
    BrowserGone,
}

/// Relays until the command ends, the cluster side breaks, or the browser goes away.
async fn relay(
    browser: &mut WebSocket,
    upstream: Upstream,
    counters: Arc<Counters>,
    recorder: Option<Arc<Mutex<Recorder>>>,
) -> Outcome {
    let record = |f: &dyn Fn(&mut Recorder)| {
        if let Some(r) = &recorder {
            f(&mut r.lock().unwrap_or_else(|e| e.into_inner()));
        }
    };
    let (mut up_tx, mut up_rx) = upstream.split();
    let (mut down_tx, mut down_rx) = browser.split();
    // Notices about bad control messages, sent to the browser by the output side.
    let (notice_tx, mut notices) = mpsc::channel::<ServerEvent>(8);
    let (counters, record) = (&counters, &record);

    let to_pod = async move {
        while let Some(Ok(message)) = down_rx.next().await {
            let sent = match message {
                Message::Binary(data) => {
                    counters
                        .bytes_in
                        .fetch_add(data.len() as u64, Ordering::Relaxed);
                    record(&|r| r.input(&data));
                    let mut result = Ok(());
                    for chunk in data.chunks(UPSTREAM_CHUNK) {
                        result = up_tx.send(UpMessage::Binary(frame(STDIN, chunk))).await;
                        if result.is_err() {
                            break;
                        }
                    }
                    result
                }
                Message::Text(text) => match ClientMessage::parse(text.as_str()) {
                    Ok(ClientMessage::Resize { cols, rows }) => {
                        record(&|r| r.resize(cols, rows));
                        let size = serde_json::json!({"Width": cols, "Height": rows}).to_string();
                        up_tx
                            .send(UpMessage::Binary(frame(RESIZE, size.as_bytes())))
                            .await
                    }
                    Err(message) => {
                        let _ = notice_tx.try_send(ServerEvent::Error {
                            reason: ErrorReason::BadRequest,
                            message,
                        });
                        Ok(())
                    }
                },
                Message::Close(_) => break,
                Message::Ping(_) | Message::Pong(_) => Ok(()),
            };
            if sent.is_err() {
                // The cluster side is gone: wait for the output side to deliver what is
                // left and report how it ended.
                std::future::pending::<()>().await;
            }
        }
        let _ = up_tx.close().await;
    };

    let to_browser = async move {
        loop {
            tokio::select! {
                notice = notices.recv() => {
                    if let Some(notice) = notice
                        && down_tx.send(Message::Text(notice.to_json().into())).await.is_err()
                    {
                        return Outcome::BrowserGone;
                    }
                }
                message = up_rx.next() => {
                    let data = match message {
                        Some(Ok(UpMessage::Binary(data))) => data,
                        Some(Ok(UpMessage::Close(_))) | None => return lost(),
                        Some(Ok(_)) => continue,
                        Some(Err(e)) => {
                            return Outcome::Failed(Failure::new(
                                ErrorReason::Unreachable,
                                format!("the connection to the cluster broke: {e}"),
                            ));
                        }
                    };
                    if data.len() < 2 {
                        continue;
                    }
                    match data[0] {
                        STDOUT | STDERR => {
                            let output = data.slice(1..);
                            counters.bytes_out.fetch_add(output.len() as u64, Ordering::Relaxed);
                            record(&|r| r.output(&output));
                            if down_tx.send(Message::Binary(output)).await.is_err() {
                                return Outcome::BrowserGone;
                            }
                        }
                        STATUS => return status_outcome(&data[1..]),
                        _ => {}
                    }
                }
            }
        }
    };

    tokio::pin!(to_pod);
    tokio::pin!(to_browser);
    tokio::select! {
        outcome = &mut to_browser => outcome,
        () = &mut to_pod => Outcome::BrowserGone,
    }
}

fn lost() -> Outcome {
    Outcome::Failed(Failure::new(
        ErrorReason::Unreachable,
        "the connection to the cluster was lost",
    ))
}

fn frame(channel: u8, payload: &[u8]) -> Bytes {
    let mut out = Vec::with_capacity(payload.len() + 1);
    out.push(channel);
    out.extend_from_slice(payload);
    Bytes::from(out)
}

/// Reads the channel-3 Status: success, an exit code, or a failure to report.
fn status_outcome(payload: &[u8]) -> Outcome {
    let Ok(status) = serde_json::from_slice::<serde_json::Value>(payload) else {
        return Outcome::Failed(Failure::new(
            ErrorReason::Internal,
            String::from_utf8_lossy(payload).into_owned(),
        ));
    };
    if status["status"] == "Success" {
        return Outcome::Exited(0);
    }
    if status["reason"] == "NonZeroExitCode"
        && let Some(code) = status["details"]["causes"]
            .as_array()
            .and_then(|causes| causes.iter().find(|c| c["reason"] == "ExitCode"))
            .and_then(|c| c["message"].as_str())
            .and_then(|m| m.parse::<i32>().ok())
    {
        return Outcome::Exited(code);
    }
    let message = status["message"]
        .as_str()
        .unwrap_or("the command failed")
        .to_string();
    let reason = if message.contains("container not found") {
        ErrorReason::NotRunning
    } else if message.contains("executable file not found") {
        ErrorReason::NotFound
    } else {
        ErrorReason::Internal
    };
    Outcome::Failed(Failure::new(reason, message))
}
