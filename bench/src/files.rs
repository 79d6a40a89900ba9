//! File transfer: one file of random (incompressible) bytes up into a busybox container and
//! back down, with `kubectl cp` and through podterm's `/api/files/NS/POD/CONTAINER/upload`
//! and `…/download` (an HTTP client streaming from and to disk), against the same cluster.
//! Every copy's digest is checked against the original's; podterm's memory is sampled
//! throughout its transfers.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Empty, StreamBody};
use hyper::body::{Bytes, Frame};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::Error;
use crate::servers::{Cluster, Podterm, Process};

/// The demo's busybox container: it has `tar` for `kubectl cp`, and `dd` and `sha256sum`
/// for podterm.
pub const FILES_NAMESPACE: &str = "default";
pub const FILES_POD: &str = "busybox";
pub const FILES_CONTAINER: &str = "busybox";
/// Where each path puts the file in the container (its /tmp is on the machine's disk).
const REMOTE_KUBECTL: &str = "/tmp/podterm-bench-kubectl";
const REMOTE_PODTERM: &str = "/tmp/podterm-bench-podterm";
const REMOTE_WARMUP: &str = "/tmp/podterm-bench-warmup";
/// Where the browser's upload goes, and what it is called there (the page keeps the
/// local file's name, `Local::original`'s).
const BROWSER_FOLDER: &str = "/tmp";
const REMOTE_BROWSER: &str = "/tmp/files-original";
/// What the client reads from disk, and hands the server, at a time.
const CHUNK: usize = 256 * 1024;
/// How often podterm's memory is read during a transfer.
const SAMPLE: Duration = Duration::from_millis(50);

/// One transfer of the whole file.
#[derive(Debug, Clone, Serialize)]
pub struct Transfer {
    pub bytes: u64,
    pub seconds: f64,
    pub mb_per_s: f64,
    /// podterm's resident memory before, and the highest sample during the transfer
    /// (podterm's path only).
    pub rss_before: Option<u64>,
    pub rss_peak: Option<u64>,
    /// podterm's CPU seconds per GB (podterm's path only).
    pub podterm_cpu_per_gb: Option<f64>,
    /// The API server's CPU seconds per GB (the testcluster's own process, not the
    /// container's programs).
    pub cluster_cpu_per_gb: f64,
    /// An upload through podterm: seconds until the client had handed over the last byte
    /// of the body; the rest is podterm finishing (dd's end, the rename, the container's
    /// `sha256sum`) before it answers.
    pub body_seconds: Option<f64>,
}

impl Transfer {
    fn new(bytes: u64, seconds: f64) -> Self {
        Self {
            bytes,
            seconds,
            mb_per_s: mb_per_s(bytes, seconds),
            rss_before: None,
            rss_peak: None,
            podterm_cpu_per_gb: None,
            cluster_cpu_per_gb: f64::NAN,
            body_seconds: None,
        }
    }

    fn with_cluster_cpu(mut self, cpu: Duration) -> Self {
        self.cluster_cpu_per_gb = cpu.as_secs_f64() / (self.bytes as f64 / 1e9);
        self
    }

    /// podterm's memory growth during the transfer, in bytes.
    pub fn growth(&self) -> Option<u64> {
        Some(self.rss_peak?.saturating_sub(self.rss_before?))
    }
}

/// Up and down with each client, in one run.
#[derive(Debug, Clone, Serialize)]
pub struct Files {
    pub bytes: u64,
    /// `kubectl version --client`'s first line.
    pub kubectl_version: String,
    pub kubectl_up: Transfer,
    pub kubectl_down: Transfer,
    pub podterm_up: Transfer,
    pub podterm_down: Transfer,
    /// The same upload picked in the Files tab in Chromium and sent by the page.
    pub browser_up: Transfer,
}

pub fn mb_per_s(bytes: u64, seconds: f64) -> f64 {
    bytes as f64 / 1e6 / seconds.max(f64::EPSILON)
}

/// The kubectl to compare with: the pinned one `scripts/bench` builds with the control
/// plane when there is one, otherwise the one on PATH.
pub fn kubectl_program() -> PathBuf {
    std::env::var_os("PODTERM_CONTROL_PLANE_BIN")
        .map(|dir| PathBuf::from(dir).join("kubectl"))
        .filter(|path| path.is_file())
        .unwrap_or_else(|| PathBuf::from("kubectl"))
}

/// The local side of the measurement: the original and where each download lands.
pub struct Local {
    pub original: PathBuf,
    pub sha256: String,
    pub bytes: u64,
    dir: PathBuf,
}

impl Local {
    /// Writes `bytes` from /dev/urandom into `dir`, after checking there is room for it,
    /// its two downloads and the container's two copies (the container's /tmp is on the
    /// same disk).
    pub async fn create(dir: &Path, bytes: u64) -> Result<Self, Error> {
        let need = 5 * bytes + (1 << 30);
        let free = free_bytes(dir).await?;
        if free < need {
            return Err(format!(
                "the file transfer needs {} MB free beside {} (5 copies of the file, and 1 GiB \
                 to spare); {} MB are",
                need / 1_000_000,
                dir.display(),
                free / 1_000_000
            )
            .into());
        }
        let original = dir.join("files-original");
        let path = original.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<()> {
            let mut random = std::fs::File::open("/dev/urandom")?.take(bytes);
            let mut out = std::io::BufWriter::with_capacity(CHUNK, std::fs::File::create(&path)?);
            let copied = std::io::copy(&mut random, &mut out)?;
            out.flush()?;
            if copied != bytes {
                return Err(std::io::Error::other(format!(
                    "/dev/urandom gave {copied} of {bytes} bytes"
                )));
            }
            Ok(())
        })
        .await??;
        let sha256 = sha256_of(&original).await?;
        Ok(Self {
            original,
            sha256,
            bytes,
            dir: dir.to_path_buf(),
        })
    }

    fn download(&self, name: &str) -> PathBuf {
        self.dir.join(format!("files-{name}"))
    }

    /// Checks a downloaded copy against the original, then deletes it.
    async fn check_and_remove(&self, copy: &Path, what: &str) -> Result<(), Error> {
        let size = tokio::fs::metadata(copy)
            .await
            .map_err(|e| format!("{what}: {}: {e}", copy.display()))?
            .len();
        let digest = sha256_of(copy).await?;
        let _ = tokio::fs::remove_file(copy).await;
        if size != self.bytes || digest != self.sha256 {
            return Err(format!(
                "{what}: {size} bytes with SHA-256 {digest}, not the original's {} bytes with {}",
                self.bytes, self.sha256
            )
            .into());
        }
        Ok(())
    }

    pub async fn remove(self) {
        let _ = tokio::fs::remove_file(&self.original).await;
    }
}

/// `df -Pk DIR`'s available space, in bytes.
async fn free_bytes(dir: &Path) -> Result<u64, Error> {
    let out = tokio::process::Command::new("df")
        .arg("-Pk")
        .arg(dir)
        .output()
        .await?;
    available_kib(&String::from_utf8_lossy(&out.stdout))
        .map(|kib| kib * 1024)
        .ok_or_else(|| format!("cannot read the free space of {} from df", dir.display()).into())
}

/// The "Available" column of `df -P`'s one file system.
pub fn available_kib(df: &str) -> Option<u64> {
    df.lines().nth(1)?.split_whitespace().nth(3)?.parse().ok()
}

async fn sha256_of(path: &Path) -> Result<String, Error> {
    let out = tokio::process::Command::new("sha256sum")
        .arg(path)
        .output()
        .await
        .map_err(|e| format!("cannot run sha256sum: {e}"))?;
    parse_sha256sum(&String::from_utf8_lossy(&out.stdout))
        .ok_or_else(|| format!("sha256sum {}: no digest", path.display()).into())
}

/// The digest in `sha256sum`'s line.
pub fn parse_sha256sum(line: &str) -> Option<String> {
    let digest = line.split_whitespace().next()?;
    (digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| digest.to_ascii_lowercase())
}

/// `kubectl` against the cluster, with its kubeconfig.
pub struct Kubectl {
    program: PathBuf,
    kubeconfig: PathBuf,
}

impl Kubectl {
    pub fn new(cluster: &Cluster) -> Self {
        Self {
            program: kubectl_program(),
            kubeconfig: cluster.kubeconfig.clone(),
        }
    }

    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.program);
        command
            .arg("--kubeconfig")
            .arg(&self.kubeconfig)
            .args(args)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str], limit: Duration) -> Result<String, Error> {
        let out = tokio::time::timeout(limit, self.command(args).output())
            .await
            .map_err(|_| format!("kubectl {}: not done within {limit:?}", args.join(" ")))?
            .map_err(|e| format!("cannot run {}: {e}", self.program.display()))?;
        if !out.status.success() {
            return Err(format!(
                "kubectl {}: {}: {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )
            .into());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    pub async fn version(&self) -> Result<String, Error> {
        let out = self
            .run(&["version", "--client"], Duration::from_secs(30))
            .await?;
        Ok(out.lines().next().unwrap_or("").trim().to_string())
    }

    /// Runs `argv` in the busybox container.
    async fn exec(&self, argv: &[&str]) -> Result<String, Error> {
        let mut args = vec![
            "exec",
            "-n",
            FILES_NAMESPACE,
            FILES_POD,
            "-c",
            FILES_CONTAINER,
            "--",
        ];
        args.extend_from_slice(argv);
        self.run(&args, Duration::from_secs(60)).await
    }

    async fn remove_remote(&self, paths: &[&str]) -> Result<(), Error> {
        let mut argv = vec!["rm", "-f"];
        argv.extend_from_slice(paths);
        self.exec(&argv).await.map(|_| ())
    }

    /// `kubectl cp LOCAL NS/POD:REMOTE -c CONTAINER`.
    async fn up(&self, local: &Local, cluster: &Process) -> Result<Transfer, Error> {
        let original = local.original.to_string_lossy().into_owned();
        let remote = format!("{FILES_NAMESPACE}/{FILES_POD}:{REMOTE_KUBECTL}");
        let cpu = cluster.cpu()?;
        let started = Instant::now();
        self.run(
            &["cp", &original, &remote, "-c", FILES_CONTAINER],
            patience(local.bytes),
        )
        .await?;
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cluster.cpu()?.saturating_sub(cpu);
        // What landed, read by the container's own tools.
        let out = self.exec(&["sha256sum", REMOTE_KUBECTL]).await?;
        if parse_sha256sum(&out).as_deref() != Some(local.sha256.as_str()) {
            return Err(format!("kubectl cp up: the container's copy differs: {out}").into());
        }
        Ok(Transfer::new(local.bytes, seconds).with_cluster_cpu(cpu))
    }

    /// `kubectl cp NS/POD:REMOTE LOCAL -c CONTAINER`.
    async fn down(&self, local: &Local, cluster: &Process) -> Result<Transfer, Error> {
        let copy = local.download("kubectl");
        let remote = format!("{FILES_NAMESPACE}/{FILES_POD}:{REMOTE_KUBECTL}");
        let target = copy.to_string_lossy().into_owned();
        let cpu = cluster.cpu()?;
        let started = Instant::now();
        let limit = patience(local.bytes);
        self.run(&["cp", &remote, &target, "-c", FILES_CONTAINER], limit)
            .await?;
        let seconds = started.elapsed().as_secs_f64();
        let cpu = cluster.cpu()?.saturating_sub(cpu);
        local.check_and_remove(&copy, "kubectl cp down").await?;
        Ok(Transfer::new(local.bytes, seconds).with_cluster_cpu(cpu))
    }
}

/// `kubectl cp` up, then down; the container's copy is removed afterwards.
pub async fn kubectl(
    kubectl: &Kubectl,
    local: &Local,
    cluster: &Process,
) -> Result<(Transfer, Transfer), Error> {
    let result = async {
        let up = kubectl.up(local, cluster).await?;
        let down = kubectl.down(local, cluster).await?;
        Ok((up, down))
    }
    .await;
    kubectl.remove_remote(&[REMOTE_KUBECTL]).await?;
    result
}

/// How long one transfer may take: at least 2 minutes, or the file at 2 MB/s.
pub fn patience(bytes: u64) -> Duration {
    Duration::from_secs((bytes / 2_000_000).max(120))
}

/// A query value, percent-encoded (RFC 3986's unreserved characters and `/` kept).
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// podterm's path for `what` (`upload` or `download`) of `path` in the busybox container.
pub fn files_path(what: &str, path: &str) -> String {
    let overwrite = if what == "upload" {
        "&overwrite=true"
    } else {
        ""
    };
    format!(
        "/api/files/{FILES_NAMESPACE}/{FILES_POD}/{FILES_CONTAINER}/{what}?path={}{overwrite}",
        encode_query_value(path)
    )
}

/// Samples a process's resident memory every `SAMPLE` until told to stop; the highest.
struct Sampler {
    running: Arc<std::sync::atomic::AtomicBool>,
    task: tokio::task::JoinHandle<u64>,
}

impl Sampler {
    fn start(pid: u32) -> Self {
        let running = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let flag = running.clone();
        let task = tokio::spawn(async move {
            let mut peak = 0;
            let mut tick = tokio::time::interval(SAMPLE);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while flag.load(std::sync::atomic::Ordering::Acquire) {
                tick.tick().await;
                if let Ok(rss) = Process::rss_of(pid) {
                    peak = peak.max(rss);
                }
            }
            peak
        });
        Self { running, task }
    }

    async fn stop(self) -> u64 {
        self.running
            .store(false, std::sync::atomic::Ordering::Release);
        self.task.await.unwrap_or(0)
    }
}

type Sender = hyper::client::conn::http1::SendRequest<Body>;
type Body = http_body_util::combinators::BoxBody<Bytes, std::io::Error>;

async fn connect(podterm: &Podterm) -> Result<Sender, Error> {
    let stream = tokio::net::TcpStream::connect(podterm.addr).await?;
    stream.set_nodelay(true)?;
    let (sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    Ok(sender)
}

fn builder(podterm: &Podterm, method: &str, path: &str) -> hyper::http::request::Builder {
    hyper::Request::builder()
        .method(method)
        .uri(path)
        .header("host", podterm.addr.to_string())
        .header("authorization", format!("Bearer {}", podterm.token))
}

/// The file's bytes as a body, read from disk by a thread in `CHUNK`s, a few ahead at
/// most; `ended` is set when the last one has been taken (hyper stops asking once it has
/// the Content-Length's worth, so that is counted rather than waited for).
fn file_body(path: &Path, ended: Arc<Mutex<Option<Instant>>>) -> Result<Body, Error> {
    let mut file = std::fs::File::open(path)?;
    let length = file.metadata()?.len();
    let mut taken = 0u64;
    let (tx, mut rx) = mpsc::channel::<std::io::Result<Bytes>>(4);
    std::thread::spawn(move || {
        loop {
            let mut buf = vec![0u8; CHUNK];
            let chunk = match file.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    buf.truncate(n);
                    Ok(Bytes::from(buf))
                }
                Err(e) => Err(e),
            };
            let failed = chunk.is_err();
            if tx.blocking_send(chunk).is_err() || failed {
                break;
            }
        }
    });
    let stream = futures::stream::poll_fn(move |cx| {
        let next = rx.poll_recv(cx);
        if let std::task::Poll::Ready(Some(Ok(chunk))) = &next {
            taken += chunk.len() as u64;
        }
        if matches!(next, std::task::Poll::Ready(None)) || taken >= length {
            ended
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(Instant::now);
        }
        next.map(|item| item.map(|chunk| chunk.map(Frame::data)))
    });
    Ok(BodyExt::boxed(StreamBody::new(stream)))
}

/// A warm-up request's status and whole answer. The connection is waited for first: a
/// second request sent while hyper is still finishing the first is refused as canceled.
async fn answered(
    sender: &mut Sender,
    request: hyper::Request<Body>,
) -> Result<(hyper::StatusCode, Bytes), Error> {
    sender
        .ready()
        .await
        .map_err(|e| format!("podterm's warm-up: the connection closed: {e}"))?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("podterm's warm-up: {e}"))?;
    let status = response.status();
    Ok((status, response.into_body().collect().await?.to_bytes()))
}

/// A fresh podterm's first transfers: a tiny file up and down, so that the measured ones
/// start with its connections open and its ways into the container found.
pub async fn podterm_warmup(podterm: &Podterm, dir: &Path) -> Result<(), Error> {
    let small = dir.join("files-warmup");
    tokio::fs::write(&small, b"warm-up\n").await?;
    let mut sender = connect(podterm).await?;
    let ended = Arc::new(Mutex::new(None));
    let body = file_body(&small, ended)?;
    let request = builder(podterm, "PUT", &files_path("upload", REMOTE_WARMUP))
        .header("content-length", "8")
        .body(body)?;
    let (status, answer) = answered(&mut sender, request).await?;
    let _ = tokio::fs::remove_file(&small).await;
    if !status.is_success() {
        return Err(format!(
            "podterm's warm-up upload: {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    let request = builder(podterm, "GET", &files_path("download", REMOTE_WARMUP))
        .body(BodyExt::boxed(Empty::new().map_err(|never| match never {})))?;
    let (status, answer) = answered(&mut sender, request).await?;
    if !status.is_success() || &answer[..] != b"warm-up\n" {
        return Err(format!("podterm's warm-up download: {status}").into());
    }
    Ok(())
}

/// What podterm's upload answers (`Uploaded` in podterm's `src/files.rs`).
#[derive(Debug, serde::Deserialize)]
pub struct Uploaded {
    pub path: String,
    pub bytes: u64,
    pub sha256: String,
    pub verified: Option<bool>,
}

/// Checks podterm's answer to an upload of `local`.
pub fn check_uploaded(answer: &[u8], local_bytes: u64, local_sha256: &str) -> Result<(), Error> {
    let up: Uploaded = serde_json::from_slice(answer).map_err(|e| {
        format!(
            "podterm's upload answered {e}: {}",
            String::from_utf8_lossy(answer)
        )
    })?;
    if up.path != REMOTE_PODTERM
        || up.bytes != local_bytes
        || up.sha256 != local_sha256
        || up.verified != Some(true)
    {
        return Err(format!(
            "podterm's upload: {up:?}, not {local_bytes} bytes with SHA-256 {local_sha256}, verified"
        )
        .into());
    }
    Ok(())
}

/// `PUT …/upload?path=` with the file streamed from disk.
pub async fn podterm_up(
    podterm: &Podterm,
    local: &Local,
    cluster: &Process,
) -> Result<Transfer, Error> {
    let process = &podterm.process;
    let mut sender = connect(podterm).await?;
    let ended = Arc::new(Mutex::new(None));
    let body = file_body(&local.original, ended.clone())?;
    let request = builder(podterm, "PUT", &files_path("upload", REMOTE_PODTERM))
        .header("content-length", local.bytes.to_string())
        .header("content-type", "application/octet-stream")
        .body(body)?;
    let (rss_before, cpu_before, cluster_cpu) = (process.rss()?, process.cpu()?, cluster.cpu()?);
    let sampler = Sampler::start(process.pid());
    let started = Instant::now();
    let answered = tokio::time::timeout(patience(local.bytes), async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("podterm's upload: {e}"))?;
        let status = response.status();
        let answer = response.into_body().collect().await?.to_bytes();
        Ok::<_, Error>((status, answer))
    })
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let rss_peak = sampler.stop().await.max(rss_before);
    let cpu = process.cpu()?.saturating_sub(cpu_before).as_secs_f64();
    let cluster_cpu = cluster.cpu()?.saturating_sub(cluster_cpu);
    let (status, answer) =
        answered.map_err(|_| "podterm's upload: no answer in time".to_string())??;
    if !status.is_success() {
        return Err(format!(
            "podterm's upload: {status}: {}",
            String::from_utf8_lossy(&answer)
        )
        .into());
    }
    check_uploaded(&answer, local.bytes, &local.sha256)?;
    let body_ended = *ended.lock().unwrap_or_else(|e| e.into_inner());
    Ok(Transfer {
        rss_before: Some(rss_before),
        rss_peak: Some(rss_peak),
        podterm_cpu_per_gb: Some(cpu / (local.bytes as f64 / 1e9)),
        body_seconds: body_ended.map(|at| at.duration_since(started).as_secs_f64()),
        ..Transfer::new(local.bytes, seconds).with_cluster_cpu(cluster_cpu)
    })
}

/// `GET …/download?path=` of what the upload left, streamed to disk by a thread.
pub async fn podterm_down(
    podterm: &Podterm,
    local: &Local,
    cluster: &Process,
) -> Result<Transfer, Error> {
    let process = &podterm.process;
    let copy = local.download("podterm");
    let mut sender = connect(podterm).await?;
    let request = builder(podterm, "GET", &files_path("download", REMOTE_PODTERM))
        .body(BodyExt::boxed(Empty::new().map_err(|never| match never {})))?;
    let (rss_before, cpu_before, cluster_cpu) = (process.rss()?, process.cpu()?, cluster.cpu()?);
    let sampler = Sampler::start(process.pid());
    let started = Instant::now();
    let file = std::fs::File::create(&copy)?;
    let (tx, mut rx) = mpsc::channel::<Bytes>(4);
    let writer = std::thread::spawn(move || -> std::io::Result<u64> {
        let mut file = file;
        let mut written = 0;
        while let Some(chunk) = rx.blocking_recv() {
            file.write_all(&chunk)?;
            written += chunk.len() as u64;
        }
        Ok(written)
    });
    let received = tokio::time::timeout(patience(local.bytes), async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("podterm's download: {e}"))?;
        let status = response.status();
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let mut body = response.into_body();
        if !status.is_success() {
            let answer = body.collect().await?.to_bytes();
            return Err(format!(
                "podterm's download: {status}: {}",
                String::from_utf8_lossy(&answer)
            )
            .into());
        }
        if length != Some(local.bytes) {
            return Err(format!("podterm's download: Content-Length {length:?}").into());
        }
        while let Some(frame) = body.frame().await {
            if let Ok(data) = frame?.into_data()
                && tx.send(data).await.is_err()
            {
                return Err("podterm's download: the writer stopped".into());
            }
        }
        Ok::<_, Error>(())
    })
    .await;
    drop(tx);
    let written = writer
        .join()
        .map_err(|_| "podterm's download: the writer panicked")??;
    let seconds = started.elapsed().as_secs_f64();
    let rss_peak = sampler.stop().await.max(rss_before);
    let cpu = process.cpu()?.saturating_sub(cpu_before).as_secs_f64();
    let cluster_cpu = cluster.cpu()?.saturating_sub(cluster_cpu);
    let outcome = received
        .map_err(|_| Error::from("podterm's download: not done in time"))
        .and_then(|r| r);
    if let Err(e) = outcome {
        let _ = tokio::fs::remove_file(&copy).await;
        return Err(e);
    }
    if written != local.bytes {
        let _ = tokio::fs::remove_file(&copy).await;
        return Err(format!("podterm's download: {written} of {} bytes", local.bytes).into());
    }
    local.check_and_remove(&copy, "podterm's download").await?;
    Ok(Transfer {
        rss_before: Some(rss_before),
        rss_peak: Some(rss_peak),
        podterm_cpu_per_gb: Some(cpu / (local.bytes as f64 / 1e9)),
        ..Transfer::new(local.bytes, seconds).with_cluster_cpu(cluster_cpu)
    })
}

/// Removes what podterm's transfers left in the container.
pub async fn remove_podterm_copies(kubectl: &Kubectl) -> Result<(), Error> {
    kubectl
        .remove_remote(&[REMOTE_PODTERM, REMOTE_WARMUP, REMOTE_BROWSER])
        .await
}

/// The whole measurement: a local file of `bytes`, `kubectl cp` up and down, then podterm
/// up and down (each in a fresh podterm, warmed up first), in `order`; every copy removed
/// afterwards, here and in the container.
/// A failure with the last lines of the log that may say why (the run's directory goes
/// when the benchmark ends).
fn with_log_tail(e: Error, log: &Path) -> Error {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    let tail = lines[lines.len().saturating_sub(10)..].join("\n");
    format!("{e}\n--- the end of {} ---\n{tail}", log.display()).into()
}

pub async fn measure(
    bin: &crate::servers::Binaries,
    dir: &Path,
    cluster: &Cluster,
    bytes: u64,
    order: [crate::terminal::Path; 2],
) -> Result<Files, Error> {
    let kubectl = Kubectl::new(cluster);
    let kubectl_version = kubectl.version().await?;
    // Also the container's first exec, which starts it: not part of either path's cost.
    kubectl
        .remove_remote(&[
            REMOTE_KUBECTL,
            REMOTE_PODTERM,
            REMOTE_WARMUP,
            REMOTE_BROWSER,
        ])
        .await?;
    let local = Local::create(dir, bytes).await?;
    let mut by_kubectl = None;
    let mut by_podterm = None;
    let mut failed = None;
    for path in order {
        let result = match path {
            crate::terminal::Path::Direct => self::kubectl(&kubectl, &local, &cluster.process)
                .await
                .map(|r| by_kubectl = Some(r)),
            crate::terminal::Path::Podterm => {
                let result = through_podterm(bin, dir, cluster, &local)
                    .await
                    .map_err(|e| with_log_tail(e, &dir.join("podterm.log")));
                let removed = remove_podterm_copies(&kubectl).await;
                result.and_then(|r| {
                    by_podterm = Some(r);
                    removed
                })
            }
        };
        if let Err(e) = result {
            failed = Some(e);
            break;
        }
    }
    local.remove().await;
    if let Some(e) = failed {
        return Err(e);
    }
    let ((kubectl_up, kubectl_down), (podterm_up, podterm_down, browser_up)) = by_kubectl
        .zip(by_podterm)
        .ok_or("the file transfer measured only one path")?;
    Ok(Files {
        bytes,
        kubectl_version,
        kubectl_up,
        kubectl_down,
        podterm_up,
        podterm_down,
        browser_up,
    })
}

async fn through_podterm(
    bin: &crate::servers::Binaries,
    dir: &Path,
    cluster: &Cluster,
    local: &Local,
) -> Result<(Transfer, Transfer, Transfer), Error> {
    let up = crate::with_podterm(bin, dir, cluster, async |podterm| {
        podterm_warmup(podterm, dir).await?;
        podterm_up(podterm, local, &cluster.process).await
    })
    .await?;
    let down = crate::with_podterm(bin, dir, cluster, async |podterm| {
        podterm_warmup(podterm, dir).await?;
        podterm_down(podterm, local, &cluster.process).await
    })
    .await?;
    let browser = crate::with_podterm(bin, dir, cluster, async |podterm| {
        podterm_warmup(podterm, dir).await?;
        browser_up(podterm, local, &cluster.process).await
    })
    .await?;
    Ok((up, down, browser))
}

/// The upload through the page: `end2end/bench/upload.mjs` picks the file in the Files tab
/// and reports the seconds until its result shows.
pub async fn browser_up(
    podterm: &Podterm,
    local: &Local,
    cluster: &Process,
) -> Result<Transfer, Error> {
    let process = &podterm.process;
    let (rss_before, cpu_before, cluster_cpu) = (process.rss()?, process.cpu()?, cluster.cpu()?);
    let sampler = Sampler::start(process.pid());
    let output = tokio::process::Command::new("node")
        .arg("end2end/bench/upload.mjs")
        .env("PODTERM_URL", format!("http://{}", podterm.addr))
        .env("PODTERM_TOKEN", &podterm.token)
        .env("UPLOAD_FILE", &local.original)
        .env("POD", FILES_POD)
        .env("CONTAINER", FILES_CONTAINER)
        .env("FOLDER", BROWSER_FOLDER)
        .env("PATIENCE_MS", patience(local.bytes).as_millis().to_string())
        .output()
        .await
        .map_err(|e| format!("cannot run node for the browser upload: {e}"))?;
    let rss_peak = sampler.stop().await.max(rss_before);
    let cpu = process.cpu()?.saturating_sub(cpu_before).as_secs_f64();
    let cluster_cpu = cluster.cpu()?.saturating_sub(cluster_cpu);
    if !output.status.success() {
        return Err(format!(
            "the browser upload failed: {}",
            String::from_utf8_lossy(&output.stderr)
        )
        .into());
    }
    #[derive(serde::Deserialize)]
    struct Said {
        seconds: f64,
    }
    let said: Said = serde_json::from_slice(&output.stdout).map_err(|e| {
        format!(
            "the browser upload printed no result ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })?;
    Ok(Transfer {
        rss_before: Some(rss_before),
        rss_peak: Some(rss_peak),
        podterm_cpu_per_gb: Some(cpu / (local.bytes as f64 / 1e9)),
        ..Transfer::new(local.bytes, said.seconds).with_cluster_cpu(cluster_cpu)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn df_and_sha256sum_are_read() {
        let df = "Filesystem     1024-blocks     Used Available Capacity Mounted on\n\
                  /dev/vda         263174212 30000000  66000000      31% /\n";
        assert_eq!(available_kib(df), Some(66_000_000));
        assert_eq!(available_kib("Filesystem\n"), None);
        let digest = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
        assert_eq!(
            parse_sha256sum(&format!("{digest}  /tmp/a b\n")).as_deref(),
            Some(digest.to_ascii_lowercase().as_str())
        );
        assert_eq!(parse_sha256sum("sha256sum: /tmp/x: No such file\n"), None);
        assert_eq!(parse_sha256sum(""), None);
    }

    #[test]
    fn paths_and_queries() {
        assert_eq!(
            files_path("upload", "/tmp/a b&c"),
            "/api/files/default/busybox/busybox/upload?path=/tmp/a%20b%26c&overwrite=true"
        );
        assert_eq!(
            files_path("download", "/tmp/é"),
            "/api/files/default/busybox/busybox/download?path=/tmp/%C3%A9"
        );
    }

    #[test]
    fn rates_patience_and_growth() {
        assert_eq!(mb_per_s(1_000_000_000, 10.0), 100.0);
        assert_eq!(patience(20_000_000), Duration::from_secs(120));
        assert_eq!(patience(1_000_000_000), Duration::from_secs(500));
        let mut t = Transfer::new(1, 1.0);
        assert_eq!(t.growth(), None);
        (t.rss_before, t.rss_peak) = (Some(10 << 20), Some(14 << 20));
        assert_eq!(t.growth(), Some(4 << 20));
    }

    #[test]
    fn uploads_are_checked() {
        let sha = "ab".repeat(32);
        let answer = |bytes: u64, verified: &str| {
            format!(
                r#"{{"path":"{REMOTE_PODTERM}","bytes":{bytes},"sha256":"{sha}","verified":{verified},"via":"shell"}}"#
            )
        };
        assert!(check_uploaded(answer(5, "true").as_bytes(), 5, &sha).is_ok());
        assert!(check_uploaded(answer(4, "true").as_bytes(), 5, &sha).is_err());
        assert!(check_uploaded(answer(5, "null").as_bytes(), 5, &sha).is_err());
        assert!(check_uploaded(answer(5, "false").as_bytes(), 5, &sha).is_err());
        assert!(check_uploaded(b"not json", 5, &sha).is_err());
    }

    #[tokio::test]
    async fn a_file_body_streams_the_file_and_marks_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let data: Vec<u8> = (0..(CHUNK * 2 + 5)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &data).unwrap();
        let ended = Arc::new(Mutex::new(None));
        let mut body = file_body(&path, ended.clone()).unwrap();
        let mut sizes = Vec::new();
        let mut got = Vec::new();
        while got.len() < data.len() {
            let frame = body.frame().await.unwrap();
            let data = frame.unwrap().into_data().unwrap();
            sizes.push(data.len());
            got.extend_from_slice(&data);
        }
        // Marked once the last byte is taken, without waiting for the body's end.
        assert!(ended.lock().unwrap().is_some());
        assert_eq!(got, data);
        assert!(sizes.iter().all(|&n| n <= CHUNK));
        assert!(body.frame().await.is_none());
    }
}
