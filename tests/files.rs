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

/// One request; the status, the headers' text and the body (de-chunked).
async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
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

fn split(raw: &[u8]) -> (u16, String, Vec<u8>) {
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
    (code, head, body)
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

fn files(pod: &str, what: &str, path: &str) -> String {
    let (namespace, pod, container) = match pod.split('/').collect::<Vec<_>>()[..] {
        [ns, pod, c] => (ns, pod, c),
        _ => panic!("namespace/pod/container"),
    };
    format!(
        "/api/files/{namespace}/{pod}/{container}/{what}?path={}",
        encode(path)
    )
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

/// Runs argv in a container as the cluster's admin; its standard output.
async fn exec(f: &common::Fixture, ns: &str, pod: &str, container: &str, argv: &[&str]) -> String {
    let pods: Api<Pod> = Api::namespaced(f.cluster.admin_client().await, ns);
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

/// Until every container of the pod runs.
async fn running(f: &common::Fixture, namespace: &str, name: &str) {
    let pods: Api<Pod> = Api::namespaced(f.cluster.admin_client().await, namespace);
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let up = pods
            .get(name)
            .await
            .ok()
            .and_then(|p| p.status?.container_statuses)
            .is_some_and(|all| {
                all.iter()
                    .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
            });
        if up {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{name} did not run");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn the_cluster_decides_who_may_move_files() {
    let f = common::start_behind_proxy().await;
    let path = files("shop/worker-0/sidecar", "list", "/");
    let (code, _, body) = request(f.addr, "GET", &path, &common::BOB, b"").await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 403, "{text}");
    assert!(text.contains("not allowed"), "{text}");
    let (code, _, body) = request(f.addr, "GET", &path, &common::ALICE, b"").await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn a_file_goes_in_verified_and_comes_back_the_same() {
    let f = start().await;
    let place = "default/busybox/busybox";
    let path = "/tmp/up load/-é\nx.bin";
    let data = random(3 << 20);
    let url = format!("{}&mtime=1700000000", files(place, "upload", path));

    let (code, _, body) = request(f.addr, "PUT", &url, &[BEARER], &data).await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let up: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(up["bytes"], data.len());
    assert_eq!(up["sha256"], sha(&data));
    assert_eq!(up["verified"], true, "the container's sha256sum agrees");
    assert_eq!(up["checked"], "sha256");
    assert_eq!(up["via"], "shell");

    // Over the hashing limit, the container checks the size only.
    let big = random(common::HASH_UPLOADS_UP_TO as usize + 1);
    let url_big = files(place, "upload", "/tmp/big.bin");
    let (code, _, body) = request(f.addr, "PUT", &url_big, &[BEARER], &big).await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let up: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        (&up["checked"], &up["verified"]),
        (&"size".into(), &true.into())
    );
    assert_eq!(up["sha256"], sha(&big));

    // In the container, as its own tools see it.
    let seen = exec(&f, "default", "busybox", "busybox", &["sha256sum", path]).await;
    assert!(seen.starts_with(&sha(&data)), "{seen}");
    let mtime = exec(
        &f,
        "default",
        "busybox",
        "busybox",
        &["stat", "-c", "%Y", path],
    )
    .await;
    assert_eq!(mtime.trim(), "1700000000");

    // Listed with its size, its name exactly.
    let (code, _, body) = request(
        f.addr,
        "GET",
        &files(place, "list", "/tmp/up load"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let listing: Value = serde_json::from_slice(&body).unwrap();
    let entry = &listing["entries"][0];
    assert_eq!(entry["name"], "-é\nx.bin");
    assert_eq!(entry["size"], data.len());
    assert_eq!(entry["kind"], "file");
    assert_eq!(entry["mode"], "-rw-r--r--");

    // Not replaced without asking; replaced when asked.
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(place, "upload", path),
        &[BEARER],
        b"new",
    )
    .await;
    assert_eq!(code, 409, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("already exists"));
    let (code, _, down) = request(
        f.addr,
        "GET",
        &files(place, "download", path),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(sha(&down), sha(&data), "the same bytes come back");
    let url = format!("{}&overwrite=true", files(place, "upload", path));
    let (code, _, _) = request(f.addr, "PUT", &url, &[BEARER], b"new").await;
    assert_eq!(code, 200);

    // No partial files left beside it, and one audit line per transfer.
    let left = exec(
        &f,
        "default",
        "busybox",
        "busybox",
        &["ls", "-a", "/tmp/up load"],
    )
    .await;
    assert!(!left.contains("podterm-"), "{left}");
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|l| l["audit"] == "file_transferred")
        .collect();
    assert_eq!(lines.len(), 5, "{audit}");
    assert_eq!(lines[0]["direction"], "upload");
    assert_eq!(lines[0]["sha256"], sha(&data));
    assert_eq!(lines[1]["result"], "ok, size checked");
    assert_eq!(lines[3]["direction"], "download");
    assert!(!audit.contains("\\u0000"), "no contents in the trail");
}

#[tokio::test]
async fn a_folder_comes_down_as_a_tar_gz_with_links_kept() {
    let f = start().await;
    let place = "default/busybox/busybox";
    for (path, body) in [
        ("/srv/site/a.txt", "alpha"),
        ("/srv/site/sub dir/b.txt", "beta"),
    ] {
        let (code, _, answer) = request(
            f.addr,
            "PUT",
            &files(place, "upload", path),
            &[BEARER],
            body.as_bytes(),
        )
        .await;
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&answer));
    }
    exec(
        &f,
        "default",
        "busybox",
        "busybox",
        &["ln", "-s", "/etc/passwd", "/srv/site/out"],
    )
    .await;

    let (code, head, body) = request(
        f.addr,
        "GET",
        &files(place, "download", "/srv/site"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200, "{head}");
    assert!(head.contains("site.tar.gz"), "{head}");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&body[..]));
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
    let joined = seen.join("\n");
    assert!(joined.contains("site/a.txt alpha"), "{joined}");
    assert!(joined.contains("site/sub dir/b.txt beta"), "{joined}");
    assert!(
        joined.contains("site/out -> /etc/passwd"),
        "a link stays a link: {joined}"
    );
    assert!(
        !joined.contains("root:x:0"),
        "never followed out of the tree: {joined}"
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
    running(&f, "shop", &pod).await;
    let place = format!("shop/{pod}/payments");

    let (code, _, body) = request(
        f.addr,
        "GET",
        &files(&place, "list", "/app"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let listing: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(listing["via"], "debug");
    assert_eq!(listing["entries"][0]["name"], "server");

    let (code, _, server) = request(
        f.addr,
        "GET",
        &files(&place, "download", "/app/server"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(
        &server[..4],
        b"\x7fELF",
        "the target's program, not the debug container's"
    );

    let data = random(200_000);
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(&place, "upload", "/home/nonroot/data.bin"),
        &[BEARER],
        &data,
    )
    .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let up: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(up["verified"], true);

    // /app is root's; the container runs as 65532.
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(&place, "upload", "/app/x"),
        &[BEARER],
        b"x",
    )
    .await;
    assert_eq!(code, 403, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("Permission denied"));

    // An absolute link in the target's tree points into the target's tree.
    let debug: Value = {
        let (_, _, body) = request(
            f.addr,
            "POST",
            &format!("/api/debug/shop/{pod}/payments"),
            &[BEARER],
            b"",
        )
        .await;
        serde_json::from_slice(&body).unwrap()
    };
    let debugger = debug["container"].as_str().unwrap();
    exec(
        &f,
        "shop",
        &pod,
        debugger,
        &["ln", "-sfn", "/etc", "/proc/1/root/home/nonroot/etc"],
    )
    .await;
    let (code, _, os) = request(
        f.addr,
        "GET",
        &files(&place, "download", "/home/nonroot/etc/os-release"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200);
    assert!(
        String::from_utf8_lossy(&os).contains("Distroless"),
        "{}",
        String::from_utf8_lossy(&os)
    );
}

#[tokio::test]
async fn refusals_say_what_is_wrong() {
    let f = start().await;
    let place = "default/busybox/busybox";
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)], u16, &'a str);
    let cases: [Case; 4] = [
        (
            "GET",
            "/api/files/default/busybox/busybox/list?path=tmp",
            &[BEARER],
            400,
            "absolute",
        ),
        (
            "GET",
            &files(place, "list", "/nowhere"),
            &[BEARER],
            404,
            "no /nowhere",
        ),
        (
            "GET",
            &files(place, "download", "/proc/self/fd/0"),
            &[BEARER],
            400,
            "neither a file nor a folder",
        ),
        (
            "GET",
            &files(place, "download", "/etc/passwd"),
            &[BEARER, ("Sec-Fetch-Site", "cross-site")],
            403,
            "",
        ),
    ];
    for (method, path, headers, want, words) in cases {
        let (code, head, body) = request(f.addr, method, path, headers, b"").await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(code, want, "{path}: {head}\n{text}");
        assert!(text.contains(words), "{path}: {text}");
    }
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(place, "upload", "/dev/full/x"),
        &[BEARER],
        b"x",
    )
    .await;
    assert!(code >= 400, "{}", String::from_utf8_lossy(&body));
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(place, "upload", "/tmp/"),
        &[BEARER],
        b"x",
    )
    .await;
    assert_eq!(code, 409, "{}", String::from_utf8_lossy(&body));
}

#[tokio::test]
async fn a_pod_deleted_mid_upload_ends_it_with_words_and_a_paused_reader_loses_nothing() {
    let f = start().await;
    // A paused reader: the download waits for it and then completes.
    let place = "default/busybox/busybox";
    let data = random(24 << 20);
    let (code, _, _) = request(
        f.addr,
        "PUT",
        &files(place, "upload", "/tmp/big"),
        &[BEARER],
        &data,
    )
    .await;
    assert_eq!(code, 200);
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let head = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: {}\r\n\r\n",
        files(place, "download", "/tmp/big"),
        f.addr,
        BEARER.1
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut first = vec![0u8; 256 * 1024];
    stream.read_exact(&mut first).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    first.extend_from_slice(&rest);
    let (code, _, body) = split(&first);
    assert_eq!(code, 200);
    assert_eq!(sha(&body), sha(&data));

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
    running(&f, "default", &pod.name).await;
    let url = files(
        &format!("default/{}/busybox", pod.name),
        "upload",
        "/tmp/doomed",
    );
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let head = format!(
        "PUT {url} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
        f.addr,
        BEARER.1,
        64 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
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
    let (code, _, body) = split(&raw);
    let text = String::from_utf8_lossy(&body);
    assert!(code >= 400, "{code}: {text}");
    assert!(text.contains("pod") || text.contains("container"), "{text}");
}

#[tokio::test]
async fn a_cancelled_upload_leaves_nothing_behind() {
    let f = start().await;
    let url = files(
        "default/busybox/busybox",
        "upload",
        "/tmp/cancelled/half.bin",
    );
    let mut stream = tokio::net::TcpStream::connect(f.addr).await.unwrap();
    let head = format!(
        "PUT {url} HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\nContent-Length: {}\r\n\r\n",
        f.addr,
        BEARER.1,
        32 << 20
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&random(4 << 20)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(stream);
    // The partial file goes once podterm sees the request end.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let left = exec(
            &f,
            "default",
            "busybox",
            "busybox",
            &["ls", "-a", "/tmp/cancelled"],
        )
        .await;
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
    let reloader = "tools/config-reloader-5b7f9d6c8-r2t9w/reloader";
    running(&f, "tools", "config-reloader-5b7f9d6c8-r2t9w").await;
    for (path, body) in [
        ("/srv/conf/a.yaml", "a: 1"),
        ("/srv/conf/deep/b c.yaml", "b: 2"),
    ] {
        let (code, _, answer) = request(
            f.addr,
            "PUT",
            &files(reloader, "upload", path),
            &[BEARER],
            body.as_bytes(),
        )
        .await;
        assert_eq!(code, 200, "{}", String::from_utf8_lossy(&answer));
    }
    let (code, head, body) = request(
        f.addr,
        "GET",
        &files(reloader, "download", "/srv/conf"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200, "{head}");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&body[..]));
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut text = String::new();
        entry.read_to_string(&mut text).ok();
        seen.push(format!("{name}={text}"));
    }
    let joined = seen.join("\n");
    assert!(joined.contains("conf/a.yaml=a: 1"), "{joined}");
    assert!(joined.contains("conf/deep/b c.yaml=b: 2"), "{joined}");

    // No shell: single programs.
    let exporter = "tools/metrics-exporter-6d8c7b9f5-m3x8v/exporter";
    running(&f, "tools", "metrics-exporter-6d8c7b9f5-m3x8v").await;
    let data = random(1 << 20);
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(exporter, "upload", "/tmp/in.bin"),
        &[BEARER],
        &data,
    )
    .await;
    assert_eq!(code, 200, "{}", String::from_utf8_lossy(&body));
    let up: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(up["via"], "tools");
    assert_eq!(up["verified"], true);
    let (code, _, down) = request(
        f.addr,
        "GET",
        &files(exporter, "download", "/tmp/in.bin"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200);
    assert_eq!(sha(&down), sha(&data));
    let (code, _, body) = request(
        f.addr,
        "GET",
        &files(exporter, "list", "/tmp"),
        &[BEARER],
        b"",
    )
    .await;
    assert_eq!(code, 200);
    let listing: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(listing["entries"][0]["owner"], "nobody", "{listing}");
    // Its user may not write to /etc: the refusal names the path.
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(exporter, "upload", "/etc/x"),
        &[BEARER],
        b"x",
    )
    .await;
    assert_eq!(code, 403);
    assert!(
        String::from_utf8_lossy(&body).contains("/etc"),
        "{}",
        String::from_utf8_lossy(&body)
    );
}

#[tokio::test]
async fn a_full_disk_is_said_and_leaves_nothing() {
    let f = start().await;
    // /dev/shm is a 64 MiB tmpfs in the container, as on a node.
    let place = "default/busybox/busybox";
    let data = random(80 << 20);
    let (code, _, body) = request(
        f.addr,
        "PUT",
        &files(place, "upload", "/dev/shm/big.bin"),
        &[BEARER],
        &data,
    )
    .await;
    let text = String::from_utf8_lossy(&body);
    assert_eq!(code, 507, "{text}");
    assert!(text.contains("ran out of space in /dev/shm"), "{text}");
    let left = exec(
        &f,
        "default",
        "busybox",
        "busybox",
        &["ls", "-a", "/dev/shm"],
    )
    .await;
    assert!(!left.contains("big.bin"), "{left}");
}
