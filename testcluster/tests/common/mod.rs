//! Shared helpers: start clusters, run kubectl, make kube-rs clients, speak raw WebSocket.
#![allow(dead_code)]

use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use testcluster::{Config, DisconnectMode, TestCluster};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, http};

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<tokio::net::TcpStream>>;

pub fn init_logs() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
}

pub async fn start() -> TestCluster {
    start_with(|_| {}).await
}

pub async fn start_with(change: impl FnOnce(&mut Config)) -> TestCluster {
    init_logs();
    let mut config = Config::demo();
    config.bookmark_interval = Duration::from_secs(1);
    change(&mut config);
    TestCluster::start(config)
        .await
        .expect("testcluster starts")
}

pub async fn start_hangup() -> TestCluster {
    start_with(|c| c.disconnect = Some(DisconnectMode::Hangup)).await
}

/// Runs the machine's kubectl against the cluster (as its admin context unless args say so).
pub async fn kubectl(tc: &TestCluster, args: &[&str]) -> Output {
    kubectl_with_stdin(tc, args, None).await
}

pub async fn kubectl_with_stdin(tc: &TestCluster, args: &[&str], stdin: Option<&[u8]>) -> Output {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(tc.kubeconfig_path())
        .args(args)
        .stdin(if stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    let mut child = cmd.spawn().expect("kubectl is installed");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        pipe.write_all(input).await.unwrap();
        drop(pipe);
    }
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kubectl finished within 60 s")
        .expect("kubectl ran")
}

pub fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
}

/// A kube-rs client for one of the demo users' contexts.
pub async fn client(tc: &TestCluster, user: &str) -> kube::Client {
    kube::Client::try_from(kube_config(tc, user).await).expect("client")
}

pub async fn kube_config(tc: &TestCluster, user: &str) -> kube::Config {
    let kubeconfig =
        kube::config::Kubeconfig::from_yaml(tc.kubeconfig_yaml()).expect("kubeconfig parses");
    let options = kube::config::KubeConfigOptions {
        context: Some(testcluster::context_name(user, &tc.spec().name)),
        ..Default::default()
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .expect("config")
}

/// A client that sends no credentials at all.
pub async fn anonymous_client(tc: &TestCluster) -> kube::Client {
    let mut config = kube_config(tc, "admin").await;
    config.auth_info = Default::default();
    kube::Client::try_from(config).expect("client")
}

/// A client that sends the admin endpoint's token (and no user's credentials).
pub async fn admin_client(tc: &TestCluster) -> kube::Client {
    let mut config = kube_config(tc, "admin").await;
    config.auth_info = Default::default();
    config.auth_info.token = Some(tc.admin_token().to_string().into());
    kube::Client::try_from(config).expect("client")
}

/// Sends a request and returns the status code and body, whatever the code.
pub async fn raw(client: &kube::Client, method: &str, path: &str, body: Vec<u8>) -> (u16, String) {
    let request = http::Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(kube::client::Body::from(body))
        .unwrap();
    let response = client.send(request).await.expect("request sent");
    let code = response.status().as_u16();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (code, String::from_utf8_lossy(&bytes).into_owned())
}

fn tls_connector(tc: &TestCluster) -> tokio_rustls::TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let ca = CertificateDer::from_pem_slice(tc.ca_pem().expect("TLS cluster").as_bytes()).unwrap();
    roots.add(ca).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    tokio_rustls::TlsConnector::from(Arc::new(config))
}

/// Opens a WebSocket to `path` with the given subprotocol header and bearer token.
/// Err holds the HTTP status and body when the upgrade is refused.
pub async fn ws(
    tc: &TestCluster,
    path: &str,
    protocols: &str,
    token: Option<&str>,
) -> Result<Ws, (u16, String)> {
    ws_negotiated(tc, path, protocols, token)
        .await
        .map(|(ws, _)| ws)
}

/// Like `ws`, also returning the subprotocol the server chose.
pub async fn ws_negotiated(
    tc: &TestCluster,
    path: &str,
    protocols: &str,
    token: Option<&str>,
) -> Result<(Ws, Option<String>), (u16, String)> {
    let url = format!("wss://{}{path}", tc.addr());
    let mut request = url.into_client_request().unwrap();
    if !protocols.is_empty() {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocols.parse().unwrap());
    }
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("Authorization", format!("Bearer {token}").parse().unwrap());
    }
    let tcp = tokio::net::TcpStream::connect(tc.addr()).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = tls_connector(tc)
        .connect(name, tcp)
        .await
        .expect("TLS handshake");
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    match tokio_tungstenite::client_async_with_config(request, tls, Some(config)).await {
        Ok((ws, response)) => {
            let chosen = response
                .headers()
                .get("Sec-WebSocket-Protocol")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            Ok((ws, chosen))
        }
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let code = response.status().as_u16();
            let body = response
                .body()
                .as_ref()
                .map(|b| String::from_utf8_lossy(b).into_owned())
                .unwrap_or_default();
            Err((code, body))
        }
        Err(e) => panic!("websocket failed: {e}"),
    }
}

pub fn exec_path(ns: &str, pod: &str, container: &str, command: &[&str], tty: bool) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    for c in command {
        q.append_pair("command", c);
    }
    q.append_pair("container", container);
    q.append_pair("stdin", "true");
    q.append_pair("stdout", "true");
    q.append_pair("stderr", if tty { "false" } else { "true" });
    q.append_pair("tty", if tty { "true" } else { "false" });
    format!("/api/v1/namespaces/{ns}/pods/{pod}/exec?{}", q.finish())
}

pub async fn send(ws: &mut Ws, channel: u8, payload: &[u8]) {
    let mut frame = vec![channel];
    frame.extend_from_slice(payload);
    ws.send(Message::Binary(frame.into())).await.expect("send");
}

/// What an exec session produced: output per channel and the channel-3 status.
#[derive(Debug, Default)]
pub struct Collected {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub status: Vec<u8>,
    pub closed_normally: bool,
}

impl Collected {
    pub fn stdout_text(&self) -> String {
        text(&self.stdout)
    }
    pub fn status_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.status).unwrap_or(serde_json::Value::Null)
    }
}

/// Reads until the server closes, or until `until` appears in stdout (then returns early).
pub async fn collect(ws: &mut Ws, until: Option<&str>, limit: Duration) -> Collected {
    let mut out = Collected::default();
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let next = match tokio::time::timeout_at(deadline, ws.next()).await {
            Ok(next) => next,
            Err(_) => panic!(
                "timed out; so far: {:?} / status {:?}",
                out.stdout_text(),
                text(&out.status)
            ),
        };
        match next {
            Some(Ok(Message::Binary(data))) if !data.is_empty() => {
                let (channel, payload) = (data[0], &data[1..]);
                match channel {
                    1 => out.stdout.extend_from_slice(payload),
                    2 => out.stderr.extend_from_slice(payload),
                    3 => out.status.extend_from_slice(payload),
                    _ => {}
                }
                if let Some(needle) = until
                    && out.stdout_text().contains(needle)
                {
                    return out;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                out.closed_normally = frame.is_some_and(|f| u16::from(f.code) == 1000);
                return out;
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return out,
        }
    }
}

/// Waits until `check` holds, polling; panics with `what` after `limit`.
pub async fn eventually<F, Fut>(limit: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

/// Processes other than the container's main one.
pub async fn exec_processes(
    tc: &TestCluster,
    ns: &str,
    pod: &str,
    container: &str,
) -> Vec<testcluster::ProcessInfo> {
    tc.processes(ns, pod, container)
        .await
        .into_iter()
        .filter(|p| !p.main)
        .collect()
}

/// An exec WebSocket (v5, as the admin) running `command` in a container.
pub async fn exec(
    tc: &TestCluster,
    ns: &str,
    pod: &str,
    container: &str,
    command: &[&str],
    tty: bool,
) -> Ws {
    ws(
        tc,
        &exec_path(ns, pod, container, command, tty),
        "v5.channel.k8s.io",
        Some("admin-token"),
    )
    .await
    .expect("exec upgrade")
}
