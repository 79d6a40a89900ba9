//! `pods/exec`: request checks in the API server's order, then a WebSocket session relaying
//! the process's PTY or pipes.

mod attach;
pub mod protocol;

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{
    Message, WebSocket, WebSocketUpgrade, rejection::WebSocketUpgradeRejection,
};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

use crate::cluster::Cluster;
use crate::config::DisconnectMode;
use crate::rbac::{Attributes, Identity};
use crate::runtime::{ContainerTarget, ExecError, ExecIo, ExecProcess, Runtime};
use crate::status::ApiError;
use protocol::{Protocol, ResizeDecoder};

/// Largest WebSocket message accepted from a client.
pub const MAX_MESSAGE: usize = 16 << 20;
const READ_CHUNK: usize = 32 * 1024;
/// How long output may keep trickling in after the command exited.
const DRAIN_IDLE: Duration = Duration::from_millis(150);
const HANGUP_GRACE: Duration = Duration::from_secs(2);

/// What the query string asks for.
#[derive(Debug, Default)]
pub struct ExecRequest {
    pub command: Vec<String>,
    pub container: Option<String>,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

/// Which names the query string uses for the streams: the API server's
/// (`stdin`, `stdout`, `stderr`) or the kubelet's (`input`, `output`, `error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Params {
    Api,
    Kubelet,
}

impl ExecRequest {
    pub fn parse(query: &str, params: Params) -> Result<Self, ApiError> {
        let [stdin, stdout, stderr] = match params {
            Params::Api => ["stdin", "stdout", "stderr"],
            Params::Kubelet => ["input", "output", "error"],
        };
        let mut req = ExecRequest::default();
        for (key, value) in form_urlencoded::parse(query.as_bytes()) {
            let flag = || match value.as_ref() {
                "true" | "True" | "1" => Ok(true),
                "false" | "False" | "0" | "" => Ok(false),
                other => Err(ApiError::bad_request(format!(
                    "invalid value {other:?} for {key}: want true or false"
                ))),
            };
            match key.as_ref() {
                "command" => req.command.push(value.into_owned()),
                "container" => req.container = Some(value.into_owned()).filter(|c| !c.is_empty()),
                "tty" => req.tty = flag()?,
                name if name == stdin => req.stdin = flag()?,
                name if name == stdout => req.stdout = flag()?,
                name if name == stderr => req.stderr = flag()?,
                _ => {}
            }
        }
        Ok(req)
    }
}

/// What the session reaches: a new process, or the container's main process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subresource {
    Exec,
    Attach,
}

impl Subresource {
    fn name(self) -> &'static str {
        match self {
            Subresource::Exec => "exec",
            Subresource::Attach => "attach",
        }
    }
}

/// An exec or attach request as it arrived.
pub struct ExecCall {
    pub subresource: Subresource,
    pub method: Method,
    pub namespace: String,
    pub pod: String,
    pub query: String,
    /// The client's `Sec-WebSocket-Protocol` list, comma-separated.
    pub offered_protocols: String,
    /// The kubelet's path names the container; the API server's query may.
    pub container: Option<String>,
    pub params: Params,
}

/// The client's `Sec-WebSocket-Protocol` offers, comma-separated.
pub fn offered_protocols(headers: &axum::http::HeaderMap) -> String {
    headers
        .get_all(axum::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",")
}

/// Handles GET (WebSocket) and POST (SPDY) exec requests alike up to the transport choice.
pub async fn handle(
    cluster: Arc<Cluster>,
    caller: Identity,
    call: ExecCall,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    if let Err(e) = authorize(&cluster, &caller, &call) {
        return e.into_response();
    }
    serve(cluster, call, upgrade).await
}

/// An exec the caller may make: as the kubelet serves one the API server forwarded.
pub async fn serve(
    cluster: Arc<Cluster>,
    call: ExecCall,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Response {
    let ExecCall {
        subresource,
        method,
        namespace,
        pod,
        query,
        offered_protocols,
        container,
        params,
    } = call;
    match prepare(&cluster, &namespace, &pod, &query, container, params, subresource) {
        Err(e) => e.into_response(),
        Ok(_) if method == Method::POST => ApiError::bad_request(
            "testcluster supports exec over WebSocket only (v5.channel.k8s.io, v4.channel.k8s.io); SPDY is not supported",
        )
        .into_response(),
        Ok(session) => {
            let protocol_name = match protocol::negotiate(&offered_protocols) {
                Ok(p) => p,
                Err(e) => return ApiError::bad_request(e).into_response(),
            };
            let Ok(upgrade) = upgrade else {
                return ApiError::bad_request("Upgrade request required").into_response();
            };
            let protocol = Protocol::from_name(protocol_name).expect("negotiated protocols are known");
            let upgrade = if protocol_name.is_empty() { upgrade } else { upgrade.protocols([protocol_name]) };
            upgrade
                .max_message_size(MAX_MESSAGE)
                .max_frame_size(MAX_MESSAGE)
                .on_upgrade(move |socket| run(cluster, session, protocol, socket))
        }
    }
}

/// A checked exec: who may run what where.
struct Session {
    subresource: Subresource,
    request: ExecRequest,
    target: ContainerTarget,
    running: bool,
}

fn authorize(cluster: &Cluster, caller: &Identity, call: &ExecCall) -> Result<(), ApiError> {
    // A WebSocket exec is a GET, authorized as get and (since 1.35) create; SPDY's POST as create.
    let verbs: &[&str] = if call.method == Method::GET {
        &["get", "create"]
    } else {
        &["create"]
    };
    for verb in verbs {
        cluster.policy().check(
            caller,
            &Attributes {
                verb,
                resource: "pods",
                subresource: Some(call.subresource.name()),
                api_group: "",
                namespace: Some(&call.namespace),
                name: Some(&call.pod),
            },
        )?;
    }
    Ok(())
}

fn prepare(
    cluster: &Cluster,
    namespace: &str,
    pod_name: &str,
    query: &str,
    container: Option<String>,
    params: Params,
    subresource: Subresource,
) -> Result<Session, ApiError> {
    let mut request = ExecRequest::parse(query, params)?;
    if container.is_some() {
        request.container = container;
    }
    let spec = cluster
        .store
        .pod_spec(namespace, pod_name)
        .ok_or_else(|| ApiError::not_found("pods", pod_name))?;
    let container = spec
        .container_named(request.container.as_deref())
        .map_err(ApiError::bad_request)?;
    if spec.node.is_none() {
        return Err(ApiError::bad_request(format!(
            "pod {pod_name} does not have a host assigned"
        )));
    }
    if subresource == Subresource::Exec && request.command.is_empty() {
        return Err(ApiError::bad_request(
            "you must specify at least one command for the container",
        ));
    }
    if !(request.stdin || request.stdout || request.stderr) {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    if request.tty {
        // The kubelet merges stderr into the terminal.
        request.stderr = false;
    }
    let target = cluster.target(&spec, container);
    let running = container.running() && spec.phase == crate::config::Phase::Running;
    Ok(Session {
        subresource,
        request,
        target,
        running,
    })
}

type Sink = SplitSink<WebSocket, Message>;

async fn send(
    sink: &mut Sink,
    protocol: Protocol,
    channel: u8,
    payload: &[u8],
) -> Result<(), axum::Error> {
    let (bytes, text) = protocol::encode(protocol, channel, payload);
    let message = if text {
        Message::Text(String::from_utf8(bytes).unwrap_or_default().into())
    } else {
        Message::Binary(Bytes::from(bytes))
    };
    sink.send(message).await
}

async fn run(cluster: Arc<Cluster>, session: Session, protocol: Protocol, socket: WebSocket) {
    let cut = cluster.exec_cut_token();
    let (mut sink, stream) = socket.split();
    let request = &session.request;
    let first = if request.stdout {
        protocol::STDOUT
    } else if request.stderr {
        protocol::STDERR
    } else {
        protocol::ERROR
    };
    if send(&mut sink, protocol, first, b"").await.is_err() {
        return;
    }
    if !session.running {
        let status = protocol::container_not_found(protocol, &session.target.key.container);
        finish(sink, protocol, Some(status)).await;
        drain(stream).await;
        return;
    }
    if session.subresource == Subresource::Attach {
        attach::run(&cluster, &session, protocol, sink, stream, cut).await;
        return;
    }
    let size = if request.tty { Some((80, 24)) } else { None };
    let process = match cluster
        .runtime
        .exec(&session.target, &request.command, size)
        .await
    {
        Ok(p) => p,
        Err(ExecError::NotFound(message) | ExecError::Failed(message)) => {
            tracing::info!(container = ?session.target.key, "exec failed: {message}");
            finish(
                sink,
                protocol,
                Some(protocol::internal_error(protocol, &message)),
            )
            .await;
            drain(stream).await;
            return;
        }
    };
    let ExecProcess {
        mut child,
        io,
        session: session_id,
    } = process;
    tracing::info!(container = ?session.target.key, command = ?request.command, tty = request.tty, "exec started");

    let (input_tx, input_rx) = mpsc::channel::<Input>(64);
    let (exited_tx, exited_rx) = watch::channel(false);
    let (client_gone_tx, mut client_gone) = mpsc::channel::<()>(1);
    let mut resize_target = None;
    let mut terminal = None;
    let (pump, stdin_task) = match io {
        ExecIo::Tty(master) => {
            resize_target = Some(master.clone());
            terminal = Some(master.clone());
            let pump = tokio::spawn(pump_tty(
                master.clone(),
                sink,
                protocol,
                exited_rx,
                request.stdout,
            ));
            let stdin_task = tokio::spawn(stdin_tty(master, input_rx));
            (pump, stdin_task)
        }
        ExecIo::Pipes {
            stdin,
            stdout,
            stderr,
        } => {
            let stdin = if request.stdin { stdin } else { None };
            let pump = tokio::spawn(pump_pipes(
                stdout,
                stderr,
                sink,
                protocol,
                exited_rx,
                request.stdout,
                request.stderr,
            ));
            let stdin_task = tokio::spawn(stdin_pipe(stdin, input_rx));
            (pump, stdin_task)
        }
    };
    let mut reader = tokio::spawn(read_client(
        stream,
        protocol,
        input_tx,
        resize_target,
        client_gone_tx,
    ));

    enum End {
        Exited(i32),
        ClientGone,
        Cut,
    }
    let end = tokio::select! {
        status = child.wait() => End::Exited(status.map(crate::runtime::exit_code).unwrap_or(1)),
        _ = client_gone.recv() => End::ClientGone,
        _ = cut.cancelled() => End::Cut,
    };
    match end {
        End::Exited(code) => {
            let _ = exited_tx.send(true);
            // The reader goes on until the client has closed too, dropping what it still
            // sends: a socket closed with input unread is reset, and the status with it.
            stdin_task.abort();
            let sink = pump.await.ok().flatten();
            tracing::info!(container = ?session.target.key, code, "exec finished");
            if let Some(sink) = sink {
                finish(
                    sink,
                    protocol,
                    protocol::exit_status(protocol, code, &request.command),
                )
                .await;
            }
            let _ = tokio::time::timeout(CLOSE_WAIT, &mut reader).await;
            reader.abort();
        }
        End::ClientGone | End::Cut => {
            reader.abort();
            pump.abort();
            stdin_task.abort();
            // Let the aborted tasks drop their handles on the PTY before deciding its fate.
            let (pump_result, _, _) = tokio::join!(pump, stdin_task, reader);
            drop(pump_result);
            let mode = cluster.spec.disconnect;
            tracing::info!(container = ?session.target.key, ?mode, "exec client went away");
            disconnect(mode, child, session_id, terminal);
        }
    }
}

/// The processes of a dropped exec: left running with their terminal open (`linger`, like
/// real runtimes), or hung up: PTY closed, SIGHUP, then SIGKILL (`hangup`).
fn disconnect(
    mode: DisconnectMode,
    mut child: tokio::process::Child,
    session: Option<i32>,
    terminal: Option<Arc<crate::runtime::PtyMaster>>,
) {
    match mode {
        DisconnectMode::Hangup => {
            drop(terminal);
            if let Some(session) = session {
                Runtime::hang_up(session, HANGUP_GRACE);
            }
            tokio::spawn(async move {
                let _ = child.wait().await;
            });
        }
        DisconnectMode::Linger => {
            // Keep the terminal open and discard its output until the command ends.
            tokio::spawn(async move {
                let drain = async {
                    let mut buf = vec![0u8; READ_CHUNK];
                    if let Some(master) = &terminal {
                        while matches!(master.read(&mut buf).await, Ok(n) if n > 0) {}
                    }
                    std::future::pending::<()>().await
                };
                tokio::select! {
                    _ = child.wait() => {}
                    _ = drain => {}
                }
            });
        }
    }
}

/// Sends the final status (if any) and a normal close. The client may already be gone.
async fn finish(mut sink: Sink, protocol: Protocol, status: Option<Vec<u8>>) {
    if let Some(status) = status {
        let _ = send(&mut sink, protocol, protocol::ERROR, &status).await;
    }
    let _ = sink
        .send(Message::Close(Some(axum::extract::ws::CloseFrame {
            code: 1000,
            reason: "".into(),
        })))
        .await;
    let _ = tokio::time::timeout(Duration::from_secs(1), sink.close()).await;
}

/// How long a closed exec waits for its client to close too.
const CLOSE_WAIT: Duration = Duration::from_secs(2);

/// Reads (and drops) what the client still sends until it closes, so that the socket is
/// not closed with input unread: the kernel would reset the connection, and a proxy in
/// between (kube-apiserver) may lose the status sent just before.
async fn drain(mut stream: SplitStream<WebSocket>) {
    let _ = tokio::time::timeout(CLOSE_WAIT, async {
        while let Some(Ok(message)) = stream.next().await {
            if matches!(message, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

enum Input {
    Data(Bytes),
    Close,
}

/// Reads client frames: stdin goes to the input task, resizes to the PTY, close to stdin.
async fn read_client(
    mut stream: SplitStream<WebSocket>,
    protocol: Protocol,
    input: mpsc::Sender<Input>,
    pty: Option<Arc<crate::runtime::PtyMaster>>,
    gone: mpsc::Sender<()>,
) {
    let mut resize = ResizeDecoder::default();
    while let Some(Ok(message)) = stream.next().await {
        let data: Bytes = match message {
            Message::Binary(b) => b,
            Message::Text(t) => Bytes::copy_from_slice(t.as_str().as_bytes()),
            Message::Close(_) => break,
            Message::Ping(_) | Message::Pong(_) => continue,
        };
        let Some(frame) = protocol::decode(protocol, &data) else {
            continue;
        };
        match frame.channel {
            // Once stdin is closed, further input is dropped, as the kubelet does.
            protocol::STDIN if !frame.payload.is_empty() => {
                let _ = input.send(Input::Data(Bytes::from(frame.payload))).await;
            }
            protocol::RESIZE => {
                for (cols, rows) in resize.feed(&frame.payload) {
                    if let Some(pty) = &pty
                        && let Err(e) = pty.resize(cols, rows)
                    {
                        tracing::debug!("resize failed: {e}");
                    }
                }
            }
            protocol::CLOSE if protocol.v5 => {
                if frame.payload.len() != 1 {
                    tracing::info!("protocol error: a close message must be exactly 2 bytes");
                    break;
                }
                if frame.payload[0] == protocol::STDIN {
                    let _ = input.send(Input::Close).await;
                }
            }
            _ => {}
        }
    }
    let _ = gone.send(()).await;
}

async fn stdin_tty(master: Arc<crate::runtime::PtyMaster>, mut input: mpsc::Receiver<Input>) {
    while let Some(item) = input.recv().await {
        let bytes: &[u8] = match &item {
            Input::Data(data) => data,
            // A terminal has no half-close: end-of-file is the EOF character.
            Input::Close => b"\x04",
        };
        if master.write_all(bytes).await.is_err() {
            break;
        }
    }
}

async fn stdin_pipe(
    mut stdin: Option<tokio::process::ChildStdin>,
    mut input: mpsc::Receiver<Input>,
) {
    while let Some(item) = input.recv().await {
        match item {
            Input::Data(data) => {
                if let Some(pipe) = stdin.as_mut()
                    && pipe.write_all(&data).await.is_err()
                {
                    stdin = None;
                }
            }
            Input::Close => stdin = None,
        }
    }
}

/// Relays PTY output; after the command exits, drains what is left. Returns the sink.
async fn pump_tty(
    master: Arc<crate::runtime::PtyMaster>,
    mut sink: Sink,
    protocol: Protocol,
    mut exited: watch::Receiver<bool>,
    forward: bool,
) -> Option<Sink> {
    let mut buf = vec![0u8; READ_CHUNK];
    let mut draining = false;
    loop {
        let n = if draining {
            match tokio::time::timeout(DRAIN_IDLE, master.read(&mut buf)).await {
                Ok(r) => r,
                Err(_) => break,
            }
        } else {
            tokio::select! {
                r = master.read(&mut buf) => r,
                _ = exited.wait_for(|e| *e) => { draining = true; continue; }
            }
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if forward
                    && send(&mut sink, protocol, protocol::STDOUT, &buf[..n])
                        .await
                        .is_err()
                {
                    return None;
                }
            }
        }
    }
    Some(sink)
}

async fn pump_pipes(
    mut stdout: tokio::process::ChildStdout,
    mut stderr: tokio::process::ChildStderr,
    mut sink: Sink,
    protocol: Protocol,
    mut exited: watch::Receiver<bool>,
    want_stdout: bool,
    want_stderr: bool,
) -> Option<Sink> {
    let (mut out_buf, mut err_buf) = (vec![0u8; READ_CHUNK], vec![0u8; READ_CHUNK]);
    let (mut out_open, mut err_open, mut draining) = (true, true, false);
    while out_open || err_open {
        let idle = async {
            if draining {
                tokio::time::sleep(DRAIN_IDLE).await
            } else {
                let _ = exited.wait_for(|e| *e).await;
            }
        };
        let (channel, result) = tokio::select! {
            r = stdout.read(&mut out_buf), if out_open => (protocol::STDOUT, r),
            r = stderr.read(&mut err_buf), if err_open => (protocol::STDERR, r),
            _ = idle => {
                if draining { break; }
                draining = true;
                continue;
            }
        };
        let n = match result {
            Ok(0) | Err(_) => {
                if channel == protocol::STDOUT {
                    out_open = false
                } else {
                    err_open = false
                }
                continue;
            }
            Ok(n) => n,
        };
        let (buf, wanted) = if channel == protocol::STDOUT {
            (&out_buf, want_stdout)
        } else {
            (&err_buf, want_stderr)
        };
        if wanted && send(&mut sink, protocol, channel, &buf[..n]).await.is_err() {
            return None;
        }
    }
    Some(sink)
}
