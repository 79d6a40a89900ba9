//! Starting etcd, then kube-apiserver, and waiting until each answers.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::controlplane::{ControlPlane, User};
use crate::process::{log_tail, remove_at_exit, spawn_tied, stop};
use crate::{Error, files, versions};

const ETCD_READY: Duration = Duration::from_secs(30);
const APISERVER_READY: Duration = Duration::from_secs(120);

pub async fn start() -> Result<ControlPlane, Error> {
    let began = Instant::now();
    let bin = versions::bin_dir();
    check_binaries(&bin)?;
    let dir = tempfile::Builder::new()
        .prefix("podterm-controlplane-")
        .tempdir()
        .map_err(|e| Error::new(format!("temporary directory: {e}")))?
        .keep();
    remove_at_exit(&dir).map_err(|e| Error::new(format!("cleanup helper: {e}")))?;
    let (etcd_port, port) = (free_port()?, free_port()?);
    let url = format!("https://127.0.0.1:{port}");
    let written = files::write(&dir, &url)?;

    let mut etcd = launch("etcd", &bin, &etcd_args(&dir, etcd_port), &dir)?;
    if let Err(e) = wait_for_etcd(&mut etcd, etcd_port, &dir).await {
        stop(&mut etcd);
        return Err(e);
    }
    let args = apiserver_args(&dir, etcd_port, port);
    let mut apiserver = launch("kube-apiserver", &bin, &args, &dir)?;
    let control_plane = ControlPlane {
        apiserver_args: args,
        dir,
        bin,
        url,
        ca_pem: written.ca_pem.clone(),
        tokens: written.tokens.clone(),
        kubelet: None,
        startup: Duration::ZERO,
        _servers: Mutex::new(Vec::new()),
    };
    if let Err(e) = wait_for_apiserver(&control_plane, &mut apiserver, port).await {
        stop(&mut apiserver);
        stop(&mut etcd);
        return Err(e);
    }
    *control_plane._servers.lock().expect("servers lock") = vec![etcd, apiserver];
    control_plane.namespace("default").await?;
    let kubelet = crate::node::start(&control_plane, written.kubelet_serving).await?;
    Ok(ControlPlane {
        startup: began.elapsed(),
        kubelet: Some(kubelet),
        ..control_plane
    })
}

fn check_binaries(bin: &Path) -> Result<(), Error> {
    let missing: Vec<&str> = ["etcd", "kube-apiserver", "kubectl"]
        .into_iter()
        .filter(|name| !bin.join(name).is_file())
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(Error::new(format!(
        "{} not built in {}: run scripts/test, or `source scripts/lib.sh && ensure_control_plane` \
         (builds them from controlplane/go.mod once per machine; PODTERM_CONTROL_PLANE_BIN \
         overrides the directory)",
        missing.join(", "),
        bin.display()
    )))
}

/// A port free now; a server that loses it to another process says so in its log.
fn free_port() -> Result<u16, Error> {
    let listener = std::net::TcpListener::bind(("127.0.0.1", 0))
        .map_err(|e| Error::new(format!("no free loopback port: {e}")))?;
    Ok(listener.local_addr().expect("bound").port())
}

/// Starts `name` from `bin` with its output in `dir/NAME.log`.
pub(crate) fn launch(name: &str, bin: &Path, args: &[String], dir: &Path) -> Result<Child, Error> {
    // Appended to: a restarted server keeps its earlier log.
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{name}.log")))
        .map_err(|e| Error::new(format!("{name}'s log: {e}")))?;
    let mut command = Command::new(bin.join(name));
    command
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().map_err(|e| Error::new(e.to_string()))?)
        .stderr(log);
    spawn_tied(command).map_err(|e| Error::new(format!("starting {name}: {e}")))
}

fn etcd_args(dir: &Path, port: u16) -> Vec<String> {
    let client = format!("http://127.0.0.1:{port}");
    vec![
        format!("--data-dir={}", dir.join("etcd").display()),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        // A single member: its peer port only has to be free, not known.
        "--listen-peer-urls=http://127.0.0.1:0".into(),
        // Test data: speed over durability.
        "--unsafe-no-fsync".into(),
        "--log-level=warn".into(),
    ]
}

fn apiserver_args(dir: &Path, etcd_port: u16, port: u16) -> Vec<String> {
    let file = |name: &str| dir.join(name).display().to_string();
    vec![
        format!("--etcd-servers=http://127.0.0.1:{etcd_port}"),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={port}"),
        format!("--cert-dir={}", file("certs")),
        format!("--tls-cert-file={}", file("apiserver.crt")),
        format!("--tls-private-key-file={}", file("apiserver.key")),
        format!("--client-ca-file={}", file("ca.crt")),
        format!("--token-auth-file={}", file("tokens.csv")),
        "--authorization-mode=Node,RBAC".into(),
        // As kubeadm sets it: the kubelet's InternalIP first (its Hostname need not resolve).
        "--kubelet-preferred-address-types=InternalIP,Hostname".into(),
        format!("--kubelet-certificate-authority={}", file("ca.crt")),
        // Added to the release's default plugins (ServiceAccount among them).
        "--enable-admission-plugins=NodeRestriction".into(),
        "--service-account-issuer=https://kubernetes.default.svc".into(),
        format!(
            "--service-account-key-file={}",
            file("service-accounts.pub")
        ),
        format!(
            "--service-account-signing-key-file={}",
            file("service-accounts.key")
        ),
        format!(
            "--kubelet-client-certificate={}",
            file("kubelet-client.crt")
        ),
        format!("--kubelet-client-key={}", file("kubelet-client.key")),
        "--service-cluster-ip-range=10.0.0.0/24".into(),
        // The `kubernetes` Service's endpoints may not be loopback, and nothing here uses them.
        "--endpoint-reconciler-type=none".into(),
    ]
}

async fn wait_for_etcd(etcd: &mut Child, port: u16, dir: &Path) -> Result<(), Error> {
    let deadline = Instant::now() + ETCD_READY;
    while Instant::now() < deadline {
        exited("etcd", etcd, port, dir)?;
        if etcd_healthy(port).await {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(not_ready("etcd", ETCD_READY, port, dir))
}

/// GET /health over plain HTTP (etcd listens on loopback only).
async fn etcd_healthy(port: u16) -> bool {
    let check = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
            .await?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await?;
        Ok::<_, std::io::Error>(answer.contains(r#""health":"true""#))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), check).await,
        Ok(Ok(true))
    )
}

async fn wait_for_apiserver(
    control_plane: &ControlPlane,
    apiserver: &mut Child,
    port: u16,
) -> Result<(), Error> {
    let dir = &control_plane.dir;
    let admin = control_plane.client(User::Admin).await?;
    let deadline = Instant::now() + APISERVER_READY;
    while Instant::now() < deadline {
        exited("kube-apiserver", apiserver, port, dir)?;
        let readyz = http::Request::get("/readyz")
            .body(Vec::new())
            .expect("literal");
        let answer = tokio::time::timeout(Duration::from_secs(5), admin.request_text(readyz));
        if matches!(answer.await, Ok(Ok(text)) if text.trim() == "ok") {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    Err(not_ready("kube-apiserver", APISERVER_READY, port, dir))
}

/// Fails if the server has already exited, with the end of its log.
fn exited(name: &str, child: &mut Child, port: u16, dir: &Path) -> Result<(), Error> {
    match child.try_wait() {
        Ok(None) => Ok(()),
        Ok(Some(status)) => Err(failure(name, &format!("exited ({status})"), port, dir)),
        Err(e) => Err(Error::new(format!("{name}: {e}"))),
    }
}

fn not_ready(name: &str, limit: Duration, port: u16, dir: &Path) -> Error {
    let what = format!("was not ready within {} s", limit.as_secs());
    failure(name, &what, port, dir)
}

fn failure(name: &str, what: &str, port: u16, dir: &Path) -> Error {
    let log = log_tail(&dir.join(format!("{name}.log")), 20);
    let hint = if log.contains("address already in use") {
        format!(" (port {port} or another of its ports is in use)")
    } else {
        String::new()
    };
    Error::new(format!("{name} {what}{hint}; the end of its log:\n{log}"))
}
