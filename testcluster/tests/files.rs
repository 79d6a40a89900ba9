//! A container's files through the real kubectl, the same on both clusters: `kubectl cp`
//! in and out of a busybox container (which has tar), its refusal where the image has no
//! tar, and single programs (cat, dd) where the image has no shell at all.

use std::process::Stdio;
use std::time::Duration;

use k8s_openapi::api::core::v1::Pod;
use kube::api::Api;
use tokio::io::AsyncWriteExt;

mod both;
use both::{Side, wait_for};

const PODS: &str = r#"
- name: box
  namespace: NS
  containers:
    - name: box
      image: busybox:1.36
- name: notar
  namespace: NS
  containers:
    - name: reloader
      image: registry.example.com/platform/config-reloader:1.8.0
- name: noshell
  namespace: NS
  securityContext: {runAsUser: 65534, runAsGroup: 65534, runAsNonRoot: true}
  containers:
    - name: exporter
      image: registry.example.com/platform/metrics-exporter:0.7.0
      command: [sleep, infinity]
"#;

/// Bytes no text encoding keeps as they are: every byte value, and more than a pipe holds.
fn payload() -> Vec<u8> {
    (0..300_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect()
}

/// Runs kubectl with `input` on its stdin: (stdout, stderr, success).
async fn kubectl_with_input(side: &Side, args: &[&str], input: &[u8]) -> (Vec<u8>, String, bool) {
    let mut kubectl = side.kubectl(args);
    kubectl.stdin(Stdio::piped());
    let mut child = kubectl.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writing = tokio::spawn(async move {
        let _ = stdin.write_all(&input).await;
    });
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kubectl within 60 s")
        .unwrap();
    writing.await.unwrap();
    (
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.success(),
    )
}

async fn files(real: bool) {
    let ns = if real { "files-real" } else { "files" };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    for pod in ["box", "notar", "noshell"] {
        wait_for(&format!("{pod} to run"), async || {
            let status = pods.get_status(pod).await.ok()?.status?;
            let container = status.container_statuses?.into_iter().next()?;
            container.state?.running.map(|_| ())
        })
        .await;
    }
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("upload.bin");
    let bytes = payload();
    std::fs::write(&local, &bytes).unwrap();
    let local = local.to_str().unwrap();

    // busybox has tar: in and out, the same bytes.
    let (out, err, ok) = side
        .kubectl_output(&["cp", "-n", ns, local, "box:/tmp/upload.bin"])
        .await;
    assert!(ok, "kubectl cp into box: {out} {err}");
    let back = dir.path().join("download.bin");
    let (out, err, ok) = side
        .kubectl_output(&[
            "cp",
            "-n",
            ns,
            "box:/tmp/upload.bin",
            back.to_str().unwrap(),
        ])
        .await;
    assert!(ok, "kubectl cp out of box: {out} {err}");
    assert!(
        std::fs::read(&back).unwrap() == bytes,
        "the bytes came back changed"
    );

    // No tar in the image: kubectl cp fails with the runtime's words for it.
    let (out, err, ok) = side
        .kubectl_output(&["cp", "-n", ns, local, "notar:/tmp/upload.bin"])
        .await;
    assert!(!ok, "kubectl cp into a container without tar: {out} {err}");
    assert!(
        err.contains(r#"exec: "tar": executable file not found in $PATH"#),
        "{err}"
    );
    let (out, err, ok) = side
        .kubectl_output(&[
            "exec",
            "-n",
            ns,
            "notar",
            "--",
            "sh",
            "-c",
            "echo shell; ls /bin/cat",
        ])
        .await;
    assert!(
        ok && out.contains("shell") && out.contains("/bin/cat"),
        "{out} {err}"
    );

    // No shell in the image: single programs only.
    let (_, err, ok) = side
        .kubectl_output(&["exec", "-n", ns, "noshell", "--", "sh"])
        .await;
    assert!(!ok);
    assert!(
        err.contains(r#"exec: "sh": executable file not found in $PATH"#),
        "{err}"
    );
    let (out, err, ok) = side
        .kubectl_output(&["exec", "-n", ns, "noshell", "--", "cat", "/etc/os-release"])
        .await;
    assert!(ok && out.contains("ID=busybox"), "{out} {err}");
    let (_, err, ok) = kubectl_with_input(
        &side,
        &["exec", "-i", "-n", ns, "noshell", "--", "dd", "of=/tmp/x"],
        &bytes,
    )
    .await;
    assert!(ok, "dd of=/tmp/x: {err}");
    let (out, err, ok) = kubectl_with_input(
        &side,
        &["exec", "-n", ns, "noshell", "--", "cat", "/tmp/x"],
        &[],
    )
    .await;
    assert!(ok, "{err}");
    assert!(out == bytes, "cat gave {} bytes back", out.len());
    let (out, err, ok) = side
        .kubectl_output(&[
            "exec", "-n", ns, "noshell", "--", "stat", "-c", "%u %s", "/tmp/x",
        ])
        .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), format!("65534 {}", bytes.len()));
    // As nobody, the image's own directories are not its to write.
    let (_, err, ok) = kubectl_with_input(
        &side,
        &["exec", "-i", "-n", ns, "noshell", "--", "dd", "of=/etc/x"],
        b"no",
    )
    .await;
    assert!(!ok && err.contains("Permission denied"), "{err}");
    for program in [
        "ls",
        "find",
        "mv",
        "rm",
        "mkdir",
        "touch",
        "chmod",
        "sha256sum",
    ] {
        let (out, err, ok) = side
            .kubectl_output(&["exec", "-n", ns, "noshell", "--", program, "--help"])
            .await;
        assert!(
            !err.contains("executable file not found"),
            "{program}: {out} {err} {ok}"
        );
    }
}

#[tokio::test]
async fn kubectl_cp_and_single_programs_on_the_testcluster() {
    files(false).await;
}

#[tokio::test]
async fn kubectl_cp_and_single_programs_through_the_real_api_server() {
    files(true).await;
}
