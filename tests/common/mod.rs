//! A podterm server on a free port, in front of an in-process testcluster or the real
//! control plane (`cluster`).
#![allow(dead_code)]

pub mod cluster;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use cluster::Cluster;
use futures::StreamExt;
use podterm::protocol::ServerEvent;
use podterm::server::cluster::clusters::Clusters;
use podterm::server::cluster::debug::DebugImages;
use podterm::server::relay::registry::{Sessions, Settings};
use podterm::server::trail::admission::{Admissions, Limits};
use podterm::server::trail::audit::Audit;
use podterm::server::web::auth::{Auth, AuthConfig, Mode};
use podterm::server::web::impersonation::ImpersonationPolicy;
use podterm::server::{AppState, Recordings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

pub const TOKEN: &str = "test-access-token-0123456789";

pub struct Fixture {
    pub cluster: Cluster,
    pub addr: SocketAddr,
    pub audit_log: PathBuf,
    pub state: AppState,
    _dir: tempfile::TempDir,
}

/// Makes the kubeconfig podterm serves from the demo cluster's.
pub type KubeconfigChange = Box<dyn FnOnce(&str) -> String + Send>;

/// The largest upload the tests' podterm hashes in the container; larger ones have their
/// size checked.
pub const HASH_UPLOADS_UP_TO: u64 = 4 << 20;

pub struct Options {
    pub mode: Mode,
    pub trusted_proxies: Vec<&'static str>,
    pub allowed_origins: Vec<&'static str>,
    pub sessions_per_user: usize,
    pub record: bool,
    /// How long sessions wait for their page.
    pub grace: Duration,
    /// The path prefix podterm is served under.
    pub base_path: &'static str,
    pub impersonation: ImpersonationPolicy,
    pub allowed_hosts: Vec<&'static str>,
    pub hsts_seconds: Option<u64>,
    /// Replaces the demo cluster's kubeconfig (e.g. to add a context).
    pub kubeconfig: Option<KubeconfigChange>,
    /// The largest file transfer.
    pub max_transfer_bytes: u64,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            mode: Mode::Token,
            trusted_proxies: vec![],
            allowed_origins: vec![],
            sessions_per_user: 16,
            record: false,
            grace: Duration::from_secs(30),
            base_path: "",
            impersonation: ImpersonationPolicy::default(),
            allowed_hosts: vec![],
            hsts_seconds: None,
            kubeconfig: None,
            max_transfer_bytes: 1 << 30,
        }
    }
}

pub async fn start() -> Fixture {
    start_with(Options::default()).await
}

/// Headers a trusted proxy sends for two people of the demo (see `start_behind_proxy`).
pub const ALICE: [(&str, &str); 2] = [
    ("X-Forwarded-User", "alice"),
    ("X-Forwarded-Groups", "developers"),
];
pub const BOB: [(&str, &str); 2] = [
    ("X-Forwarded-User", "bob"),
    ("X-Forwarded-Groups", "viewers"),
];

/// podterm in proxy mode, trusting this machine as its proxy.
pub async fn start_behind_proxy() -> Fixture {
    start_with(Options {
        mode: Mode::Proxy,
        trusted_proxies: vec!["127.0.0.1/32"],
        ..Default::default()
    })
    .await
}

pub async fn start_with(options: Options) -> Fixture {
    let _ = tracing_subscriber::fmt()
        .with_test_writer()
        .with_env_filter("warn")
        .try_init();
    let cluster = Cluster::start().await;
    let dir = tempfile::tempdir().unwrap();
    let audit_log = dir.path().join("audit.jsonl");
    let kubeconfig = match options.kubeconfig {
        Some(change) => change(cluster.kubeconfig_yaml()),
        None => cluster.kubeconfig_yaml().to_string(),
    };
    let clusters = Clusters::from_kubeconfig_yaml(&kubeconfig).unwrap();
    let auth = AuthConfig {
        mode: options.mode,
        token: (options.mode == Mode::Token).then(|| TOKEN.to_string().into()),
        user_header: "x-forwarded-user".into(),
        groups_header: "x-forwarded-groups".into(),
        trusted_proxies: options
            .trusted_proxies
            .iter()
            .map(|p| p.parse().unwrap())
            .collect(),
        allowed_origins: options
            .allowed_origins
            .iter()
            .map(|o| o.to_string())
            .collect(),
        login_lifetime: Duration::from_secs(3600),
        admin_users: vec![],
        admin_groups: vec!["system:masters".into()],
        impersonation: options.impersonation.clone(),
        allowed_hosts: options
            .allowed_hosts
            .iter()
            .map(|h| h.to_string())
            .collect(),
        hsts_seconds: options.hsts_seconds,
    };
    // A site with one large static file, to serve alongside pages, and a file with a
    // compressed copy as the build makes them (the copy's content is only told apart).
    let site = dir.path().join("site");
    std::fs::create_dir_all(site.join("pkg")).unwrap();
    std::fs::write(site.join("pkg/large.bin"), vec![b'x'; 4 << 20]).unwrap();
    std::fs::write(site.join("pkg/app.js"), "the file").unwrap();
    std::fs::write(site.join("pkg/app.js.gz"), "its compressed copy").unwrap();
    let metrics = Arc::new(podterm::server::web::metrics::Metrics::new());
    let state = AppState {
        leptos_options: leptos::prelude::LeptosOptions::builder()
            .output_name("podterm")
            .site_root(site.to_string_lossy().to_string())
            .build(),
        clusters: Arc::new(clusters),
        demo: true,
        auth: Arc::new(Auth::new(auth)),
        audit: Arc::new(Audit::from_path(Some(&audit_log)).unwrap()),
        admissions: Arc::new(Admissions::new(Limits {
            sessions_per_user: options.sessions_per_user,
            starts_per_minute: 1000,
            max_duration: None,
        })),
        sessions: Arc::new(Sessions::new(
            Settings {
                grace: options.grace,
                ..Settings::default()
            },
            metrics.clone(),
        )),
        metrics,
        base_path: options.base_path.to_string(),
        recordings: options.record.then(|| Recordings {
            dir: dir.path().join("casts"),
            with_input: false,
        }),
        debug: Arc::new(DebugImages::new("busybox:1.36".into(), vec![])),
        files: Arc::new(podterm::server::files::Transfers::new(
            options.max_transfer_bytes,
            4,
            HASH_UPLOADS_UP_TO,
        )),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = state.clone();
    tokio::spawn(
        async move { podterm::server::serve(listener, served, std::future::pending()).await },
    );
    Fixture {
        cluster,
        addr,
        audit_log,
        state,
        _dir: dir,
    }
}

/// A raw HTTP/1.1 exchange: the status code, the headers and the body as text.
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    exchange(stream, addr, method, path, headers, body).await
}

async fn exchange(
    mut stream: tokio::net::TcpStream,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    // The caller's Host, if it names one, replaces the address.
    if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
        request.push_str(&format!("Host: {addr}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut raw))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&raw).into_owned();
    let code = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, text)
}

pub const BEARER: (&str, &str) = ("Authorization", "Bearer test-access-token-0123456789");

/// GET with the access token.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    http(addr, "GET", path, &[BEARER], "").await
}

pub type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a terminal WebSocket with these headers; Err has the refusal's status code.
pub async fn ws_with(addr: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Result<Ws, u16> {
    let mut request = format!("ws://{addr}{path}").into_client_request().unwrap();
    for (k, v) in headers {
        request.headers_mut().insert(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Ok((ws, _)) => Ok(ws),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            Err(response.status().as_u16())
        }
        Err(e) => panic!("websocket failed: {e}"),
    }
}

/// A terminal opened with the access token.
pub async fn terminal(f: &Fixture, path: &str) -> Ws {
    ws_with(f.addr, path, &[BEARER]).await.expect("upgrade")
}

/// Reads until `needle` shows up in the output, or an event arrives, or the socket ends.
/// `attached` and `pong` events are skipped.
pub async fn read_until(ws: &mut Ws, needle: &[u8]) -> (Vec<u8>, Option<ServerEvent>) {
    let mut out = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let next = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| {
                panic!(
                    "timed out; output so far: {:?}",
                    String::from_utf8_lossy(&out)
                )
            });
        match next {
            Some(Ok(Message::Binary(data))) => {
                out.extend_from_slice(&data);
                if !needle.is_empty() && out.windows(needle.len()).any(|w| w == needle) {
                    return (out, None);
                }
            }
            Some(Ok(Message::Text(text))) => {
                let event: ServerEvent = serde_json::from_str(text.as_str()).expect("an event");
                if !matches!(event, ServerEvent::Attached { .. } | ServerEvent::Pong) {
                    return (out, Some(event));
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => return (out, None),
        }
    }
}

pub async fn type_in(ws: &mut Ws, text: &str) {
    use futures::SinkExt;
    ws.send(Message::Binary(text.as_bytes().to_vec().into()))
        .await
        .unwrap();
}

/// A stand-in API server that answers every request with 401 and keeps each request's
/// head, to show what podterm sent it (a person's token must never arrive here).
pub async fn recording_server() -> (SocketAddr, Arc<std::sync::Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let kept = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let kept = kept.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                kept.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let body = r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#;
                let answer = format!(
                    "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            });
        }
    });
    (addr, seen)
}

/// The kubeconfig with one more context, `NAME`, for the cluster at `server` and the
/// current context's user.
pub fn with_context(kubeconfig: &str, name: &str, server: &str, current: bool) -> String {
    let mut config: serde_yaml::Value = serde_yaml::from_str(kubeconfig).unwrap();
    let current_name = config["current-context"].as_str().unwrap().to_string();
    let user = config["contexts"]
        .as_sequence()
        .unwrap()
        .iter()
        .find(|c| c["name"].as_str() == Some(&current_name))
        .unwrap()["context"]["user"]
        .clone();
    let cluster: serde_yaml::Value = serde_yaml::from_str(&format!(
        "{{name: {name}, cluster: {{server: '{server}'}}}}"
    ))
    .unwrap();
    let mut context: serde_yaml::Value =
        serde_yaml::from_str(&format!("{{name: {name}, context: {{cluster: {name}}}}}")).unwrap();
    context["context"]["user"] = user;
    config["clusters"].as_sequence_mut().unwrap().push(cluster);
    config["contexts"].as_sequence_mut().unwrap().push(context);
    if current {
        config["current-context"] = name.into();
    }
    serde_yaml::to_string(&config).unwrap()
}

/// A raw HTTP/1.1 exchange from a chosen loopback source address (e.g. 127.0.0.2).
pub async fn http_from(
    source: std::net::IpAddr,
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(source, 0)).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    exchange(stream, addr, method, path, headers, body).await
}
