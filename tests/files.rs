//! Files in and out of containers through podterm's endpoints, over real sockets against
//! the cluster: upload, verify, list and download back (names with spaces, newlines,
//! unicode and leading dashes); folders as .tar.gz; a distroless container through a debug
//! container, its links resolved inside its own tree; refusals in words; a pod deleted
//! mid-upload; a reader that pauses.

mod common;

use std::io::Read;
use std::net::SocketAddr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, AttachParams};
use serde_json::Value;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{BEARER, start};

/// podterm's answer: the status, the head's text and the body (de-chunked).
struct Answer {
    code: u16,
    head: String,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The answer, once its status is `code`; else what podterm said fails the test.
    #[track_caller]
    fn expect(self, code: u16) -> Self {
        assert_eq!(self.code, code, "{}\n{}", self.head, self.text());
        self
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }

    /// Whether it asks that no cache keep it.
    fn not_cached(&self) -> bool {
        self.head
            .lines()
            .any(|line| line.eq_ignore_ascii_case("cache-control: no-store"))
    }
}

/// A request's head; `length` bytes of body follow it.
fn head(
    addr: SocketAddr,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    length: usize,
) -> String {
    let mut head = format!(
        "{method} {url} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {length}\r\n"
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head + "\r\n"
}

/// One request with these headers.
async fn request(
    addr: SocketAddr,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = head(addr, method, url, headers, body.len());
    stream.write_all(head.as_bytes()).await.unwrap();
    // A refusal can come before the whole body is sent: the answer is read all the same.
    let _ = stream.write_all(body).await;
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(120), stream.read_to_end(&mut raw))
        .await
        .expect("an answer within 2 minutes")
        .ok();
    split(&raw)
}

/// A container's files routes, asked with the access token. `place` is
/// `namespace/pod/container`.
struct Files<'a> {
    addr: SocketAddr,
    place: &'a str,
}

impl Files<'_> {
    fn url(&self, what: &str, path: &str) -> String {
        let (namespace, pod, container) = parts(self.place);
        format!(
            "/api/files/{namespace}/{pod}/{container}/{what}?path={}",
            encode(path)
        )
    }

    async fn list(&self, path: &str) -> Answer {
        request(self.addr, "GET", &self.url("list", path), &[BEARER], b"").await
    }

    async fn download(&self, path: &str) -> Answer {
        let url = self.url("download", path);
        request(self.addr, "GET", &url, &[BEARER], b"").await
    }

    async fn upload(&self, path: &str, body: &[u8]) -> Answer {
        self.upload_with(path, "", body).await
    }

    /// An upload with more of the query (`&overwrite=true`).
    async fn upload_with(&self, path: &str, more: &str, body: &[u8]) -> Answer {
        let url = format!("{}{more}", self.url("upload", path));
        request(self.addr, "PUT", &url, &[BEARER], body).await
    }

    /// Where a drop goes by default (without a session, the container's working directory).
    async fn cwd(&self) -> Answer {
        let (namespace, pod, container) = parts(self.place);
        let url = format!("/api/files/{namespace}/{pod}/{container}/cwd");
        request(self.addr, "GET", &url, &[BEARER], b"").await
    }
}

fn parts(place: &str) -> (&str, &str, &str) {
    match place.split('/').collect::<Vec<_>>()[..] {
        [namespace, pod, container] => (namespace, pod, container),
        _ => panic!("namespace/pod/container"),
    }
}

fn split(raw: &[u8]) -> Answer {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let mut body = raw[end + 4..].to_vec();
    if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        body = dechunk(&body);
    }
    Answer { code, head, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(std::str::from_utf8(&raw[..eol]).unwrap().trim(), 16)
            .unwrap_or(0);
        if size == 0 || raw.len() < eol + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[eol + 2..eol + 2 + size]);
        raw = &raw[(eol + 4 + size).min(raw.len())..];
    }
    out
}

fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn sha(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random(len: usize) -> Vec<u8> {
    let mut state = 0x9e3779b97f4a7c15u64 ^ len as u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect()
}

/// A `.tar.gz`'s entries, sorted, a line each: `NAME CONTENTS`, or `NAME -> TARGET`.
fn entries(tar_gz: &[u8]) -> String {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(tar_gz));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        if entry.header().entry_type().is_symlink() {
            text = format!("-> {}", entry.link_name().unwrap().unwrap().display());
        } else {
            entry.read_to_string(&mut text).ok();
        }
        seen.push(format!("{name} {text}"));
    }
    seen.sort();
    seen.join("\n")
}

/// Runs argv in a container (`namespace/pod/container`) as the cluster's admin; its
/// standard output.
async fn exec(f: &common::Fixture, place: &str, argv: &[&str]) -> String {
    let (namespace, pod, container) = parts(place);
    let pods: Api<Pod> = Api::namespaced(f.cluster.admin_client().await, namespace);
    let params = AttachParams::default()
        .container(container)
        .stdin(false)
        .stderr(false);
    let mut process = pods.exec(pod, argv.to_vec(), &params).await.unwrap();
    let mut out = String::new();
    process
        .stdout()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    let _ = process.join().await;
    out
}

/// The lines of the audit trail about transfers.
fn transfers_audited(f: &common::Fixture) -> Vec<Value> {
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["audit"] == "file_transferred")
        .collect()
}

#[tokio::test]
async fn the_cluster_decides_who_may_move_files() {
    let f = common::start_behind_proxy().await;
    let url = Files {
        addr: f.addr,
        place: "shop/worker-0/sidecar",
    }
    .url("list", "/");
    let bob = request(f.addr, "GET", &url, &common::BOB, b"")
        .await
        .expect(403);
    assert!(bob.text().contains("not allowed"), "{}", bob.text());
    request(f.addr, "GET", &url, &common::ALICE, b"")
        .await
        .expect(200);
}

#[tokio::test]
async fn a_file_goes_in_verified_and_comes_back_the_same() {
    let f = start().await;
    let place = "default/busybox/busybox";
    let files = Files {
        addr: f.addr,
        place,
    };
    let path = "/tmp/up load/-é\nx.bin";
    let data = random(3 << 20);

    let answer = files
        .upload_with(path, "&mtime=1700000000", &data)
        .await
        .expect(200);
    assert!(answer.not_cached(), "{}", answer.head);
    let up = answer.json();
    assert_eq!(up["bytes"], data.len());
    assert_eq!(up["sha256"], sha(&data));
    assert_eq!(up["verified"], true, "the container's sha256sum agrees");
    assert_eq!(up["checked"], "sha256");
    assert_eq!(up["via"], "shell");

    // Over the hashing limit, the container checks the size only.
    let big = random(common::HASH_UPLOADS_UP_TO as usize + 1);
    let up = files.upload("/tmp/big.bin", &big).await.expect(200).json();
    assert_eq!(
        (&up["checked"], &up["verified"]),
        (&"size".into(), &true.into())
    );
    assert_eq!(up["sha256"], sha(&big));

    // In the container, as its own tools see it.
    let seen = exec(&f, place, &["sha256sum", path]).await;
    assert!(seen.starts_with(&sha(&data)), "{seen}");
    let mtime = exec(&f, place, &["stat", "-c", "%Y", path]).await;
    assert_eq!(mtime.trim(), "1700000000");

    // Listed with its size, its name exactly.
    let listing = files.list("/tmp/up load").await.expect(200).json();
    let entry = &listing["entries"][0];
    assert_eq!(entry["name"], "-é\nx.bin");
    assert_eq!(entry["size"], data.len());
    assert_eq!(entry["kind"], "file");
    assert_eq!(entry["mode"], "-rw-r--r--");

    // Where a drop goes by default: in no cache either.
    let cwd = files.cwd().await.expect(200);
    assert!(cwd.not_cached(), "{}", cwd.head);
    assert_eq!(cwd.json()["from_shell"], false);

    // Not replaced without asking; replaced when asked.
    let taken = files.upload(path, b"new").await.expect(409);
    assert!(taken.text().contains("already exists"));
    let down = files.download(path).await.expect(200);
    assert_eq!(sha(&down.body), sha(&data), "the same bytes come back");
    files
        .upload_with(path, "&overwrite=true", b"new")
        .await
        .expect(200);

    // No partial files left beside it, and one audit line per transfer.
    let left = exec(&f, place, &["ls", "-a", "/tmp/up load"]).await;
    assert!(!left.contains("podterm-"), "{left}");
    let lines = transfers_audited(&f);
    assert_eq!(lines.len(), 5, "{lines:?}");
    assert_eq!(lines[0]["direction"], "upload");
    assert_eq!(lines[0]["sha256"], sha(&data));
    assert_eq!(lines[1]["result"], "ok, size checked");
    assert_eq!(lines[3]["direction"], "download");
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    assert!(!audit.contains("\\u0000"), "no contents in the trail");
}

#[tokio::test]
async fn a_folder_comes_down_as_a_tar_gz_with_links_kept() {
    let f = start().await;
    let place = "default/busybox/busybox";
    let files = Files {
        addr: f.addr,
        place,
    };
    files.upload("/srv/site/a.txt", b"alpha").await.expect(200);
    files
        .upload("/srv/site/sub dir/b.txt", b"beta")
        .await
        .expect(200);
    exec(&f, place, &["ln", "-s", "/etc/passwd", "/srv/site/out"]).await;

    let down = files.download("/srv/site").await.expect(200);
    assert!(down.head.contains("site.tar.gz"), "{}", down.head);
    let listed = entries(&down.body);
    assert!(listed.contains("site/a.txt alpha"), "{listed}");
    assert!(listed.contains("site/sub dir/b.txt beta"), "{listed}");
    assert!(
        listed.contains("site/out -> /etc/passwd"),
        "a link stays a link: {listed}"
    );
    assert!(
        !listed.contains("root:x:0"),
        "never followed out of the tree: {listed}"
    );
}

#[tokio::test]
async fn a_distroless_container_is_reached_through_a_debug_container() {
    let f = start().await;
    let pod = f
        .cluster
        .spec()
        .pods
        .iter()
        .find(|p| p.name.starts_with("payments-"))
        .unwrap()
        .name
        .clone();
    f.cluster.running("shop", &pod).await;
    let place = format!("shop/{pod}/payments");
    let files = Files {
        addr: f.addr,
        place: &place,
    };

    let listing = files.list("/app").await.expect(200).json();
    assert_eq!(listing["via"], "debug");
    assert_eq!(listing["entries"][0]["name"], "server");

    let server = files.download("/app/server").await.expect(200);
    assert_eq!(
        &server.body[..4],
        b"\x7fELF",
        "the target's program, not the debug container's"
    );

    let data = random(200_000);
    let up = files
        .upload("/home/nonroot/data.bin", &data)
        .await
        .expect(200)
        .json();
    assert_eq!(up["verified"], true);

    // /app is root's; the container runs as 65532.
    let refused = files.upload("/app/x", b"x").await.expect(403);
    assert!(refused.text().contains("Permission denied"));

    // An absolute link in the target's tree points into the target's tree.
    let url = format!("/api/debug/shop/{pod}/payments");
    let debug = request(f.addr, "POST", &url, &[BEARER], b"").await.json();
    let debugger = format!("shop/{pod}/{}", debug["container"].as_str().unwrap());
    let link = ["ln", "-sfn", "/etc", "/proc/1/root/home/nonroot/etc"];
    exec(&f, &debugger, &link).await;
    let os = files
        .download("/home/nonroot/etc/os-release")
        .await
        .expect(200);
    assert!(os.text().contains("Distroless"), "{}", os.text());
}

#[tokio::test]
async fn refusals_say_what_is_wrong() {
    let f = start().await;
    let files = Files {
        addr: f.addr,
        place: "default/busybox/busybox",
    };
    type Case<'a> = (String, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 4] = [
        (
            "/api/files/default/busybox/busybox/list?path=tmp".into(),
            &[BEARER],
            400,
            "absolute",
        ),
        (files.url("list", "/nowhere"), &[BEARER], 404, "no /nowhere"),
        (
            files.url("download", "/proc/self/fd/0"),
            &[BEARER],
            400,
            "neither a file nor a folder",
        ),
        (
            files.url("download", "/etc/passwd"),
            &[BEARER, ("Sec-Fetch-Site", "cross-site")],
            403,
            "",
        ),
    ];
    for (url, headers, want, words) in cases {
        let answer = request(f.addr, "GET", &url, headers, b"").await;
        let text = answer.text();
        assert_eq!(answer.code, want, "{url}: {}\n{text}", answer.head);
        assert!(text.contains(words), "{url}: {text}");
    }
    let full = files.upload("/dev/full/x", b"x").await;
    assert!(full.code >= 400, "{}", full.text());
    files.upload("/tmp/", b"x").await.expect(409);
}

#[tokio::test]
async fn a_pod_deleted_mid_upload_ends_it_with_words_and_a_paused_reader_loses_nothing() {
    let f = start().await;
    // A paused reader: the download waits for it and then completes.
    let files = Files {
        addr: f.addr,
        place: "default/busybox/busybox",
    };
    let data = random(24 << 20);
    files.upload("/tmp/big", &data).await.expect(200);
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let url = files.url("download", "/tmp/big");
    let get = head(f.addr, "GET", &url, &[BEARER], 0);
    stream.write_all(get.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 256 * 1024];
    stream.read_exact(&mut first).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    first.extend_from_slice(&rest);
    let down = split(&first).expect(200);
    assert_eq!(sha(&down.body), sha(&data));

    // A pod deleted while its upload runs.
    let mut pod = f
        .cluster
        .spec()
        .pods
        .iter()
        .find(|p| p.name == "busybox")
        .unwrap()
        .clone();
    pod.name = format!("doomed-{}", std::process::id());
    f.cluster.put_pod(pod.clone()).await.unwrap();
    f.cluster.running("default", &pod.name).await;
    let place = format!("default/{}/busybox", pod.name);
    let url = Files {
        addr: f.addr,
        place: &place,
    }
    .url("upload", "/tmp/doomed");
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let put = head(f.addr, "PUT", &url, &[BEARER], 64 << 20);
    stream.write_all(put.as_bytes()).await.unwrap();
    let chunk = random(1 << 20);
    stream.write_all(&chunk).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    f.cluster.delete_pod("default", &pod.name).await.unwrap();
    let (mut rx, tx) = stream.into_split();
    let writer = tokio::spawn(async move {
        let mut tx = tx;
        for _ in 0..63 {
            if tx.write_all(&chunk).await.is_err() {
                break;
            }
        }
    });
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), rx.read_to_end(&mut raw))
        .await
        .expect("an answer")
        .ok();
    writer.abort();
    let ended = split(&raw);
    let text = ended.text();
    assert!(ended.code >= 400, "{}: {text}", ended.code);
    assert!(text.contains("pod") || text.contains("container"), "{text}");
}

#[tokio::test]
async fn a_cancelled_upload_leaves_nothing_behind() {
    let f = start().await;
    let place = "default/busybox/busybox";
    let url = Files {
        addr: f.addr,
        place,
    }
    .url("upload", "/tmp/cancelled/half.bin");
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let put = head(f.addr, "PUT", &url, &[BEARER], 32 << 20);
    stream.write_all(put.as_bytes()).await.unwrap();
    stream.write_all(&random(4 << 20)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(stream);
    // The partial file goes once podterm sees the request end.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = exec(&f, place, &["ls", "-a", "/tmp/cancelled"]).await;
        assert!(left.contains(".."), "the folder was made: {left:?}");
        if !left.contains("half.bin") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "left behind: {left}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    assert!(audit.contains("the upload was cancelled"), "{audit}");
}

#[tokio::test]
async fn containers_without_tar_or_a_shell_still_move_files() {
    let f = start().await;
    // No tar: podterm writes the folder's archive itself.
    f.cluster
        .running("tools", "config-reloader-5b7f9d6c8-r2t9w")
        .await;
    let reloader = Files {
        addr: f.addr,
        place: "tools/config-reloader-5b7f9d6c8-r2t9w/reloader",
    };
    reloader
        .upload("/srv/conf/a.yaml", b"a: 1")
        .await
        .expect(200);
    reloader
        .upload("/srv/conf/deep/b c.yaml", b"b: 2")
        .await
        .expect(200);
    let down = reloader.download("/srv/conf").await.expect(200);
    let listed = entries(&down.body);
    assert!(listed.contains("conf/a.yaml a: 1"), "{listed}");
    assert!(listed.contains("conf/deep/b c.yaml b: 2"), "{listed}");

    // No shell: single programs.
    f.cluster
        .running("tools", "metrics-exporter-6d8c7b9f5-m3x8v")
        .await;
    let exporter = Files {
        addr: f.addr,
        place: "tools/metrics-exporter-6d8c7b9f5-m3x8v/exporter",
    };
    let data = random(1 << 20);
    let up = exporter
        .upload("/tmp/in.bin", &data)
        .await
        .expect(200)
        .json();
    assert_eq!(up["via"], "tools");
    assert_eq!(up["verified"], true);
    let down = exporter.download("/tmp/in.bin").await.expect(200);
    assert_eq!(sha(&down.body), sha(&data));
    let listing = exporter.list("/tmp").await.expect(200).json();
    assert_eq!(listing["entries"][0]["owner"], "nobody", "{listing}");
    // Its user may not write to /etc: the refusal names the path.
    let refused = exporter.upload("/etc/x", b"x").await.expect(403);
    assert!(refused.text().contains("/etc"), "{}", refused.text());
}

#[tokio::test]
async fn a_full_disk_is_said_and_leaves_nothing() {
    let f = start().await;
    // /dev/shm is a 64 MiB tmpfs in the container, as on a node.
    let place = "default/busybox/busybox";
    let files = Files {
        addr: f.addr,
        place,
    };
    let full = files
        .upload("/dev/shm/big.bin", &random(80 << 20))
        .await
        .expect(507);
    assert!(
        full.text().contains("ran out of space in /dev/shm"),
        "{}",
        full.text()
    );
    let left = exec(&f, place, &["ls", "-a", "/dev/shm"]).await;
    assert!(!left.contains("big.bin"), "{left}");
}
