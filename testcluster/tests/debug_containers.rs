//! Ephemeral (debug) containers, the same on both clusters: `kubectl debug --target` into a
//! distroless container that has no shell, the target's processes and files seen from the
//! debug container only with the same user, and the API server's checks on
//! `pods/ephemeralcontainers` (validation, immutability, RBAC).

use std::time::Duration;

use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{Api, AttachParams, Patch, PatchParams};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod both;
use both::{Side, wait_for};
use testenv::User;

const PODS: &str = r#"
- name: app
  namespace: NS
  securityContext: {runAsUser: 65532, runAsGroup: 65532, runAsNonRoot: true}
  containers:
    - name: payments
      image: registry.example.com/shop/payments:1.4.2
      command: [/app/server, "1"]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
"#;

async fn ephemeral_status(pods: &Api<Pod>, pod: &str, name: &str) -> Option<ContainerStatus> {
    let status = pods.get_status(pod).await.ok()?.status?;
    status
        .ephemeral_container_statuses?
        .into_iter()
        .find(|s| s.name == name)
}

async fn run(pods: &Api<Pod>, pod: &str, container: &str, script: &str) -> String {
    let params = AttachParams::default()
        .container(container)
        .stderr(true)
        .stdin(false);
    let mut process = pods.exec(pod, ["sh", "-c", script], &params).await.unwrap();
    let mut out = String::new();
    process
        .stdout()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    let mut err = String::new();
    process
        .stderr()
        .unwrap()
        .read_to_string(&mut err)
        .await
        .unwrap();
    out + &err
}

/// No shell in the container; `kubectl debug --target` gets one beside it, as its user,
/// seeing its processes and files.
async fn debug_a_distroless_container(real: bool) {
    let ns = if real { "debug-real" } else { "debug" };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    wait_for("the distroless container to run", async || {
        let pod = pods.get_status("app").await.ok()?;
        let status = pod.status?.container_statuses?.into_iter().next()?;
        status.state?.running.map(|_| ())
    })
    .await;

    let (_, err, ok) = side
        .kubectl_output(&["exec", "-n", ns, "app", "--", "sh"])
        .await;
    assert!(!ok);
    assert!(
        err.contains(r#"exec: "sh": executable file not found in $PATH"#),
        "{err}"
    );

    let mut kubectl = side.kubectl(&[
        "debug",
        "-i",
        "-n",
        ns,
        "app",
        "--image=busybox:1.36",
        "--target=payments",
        "--container=debugger",
    ]);
    kubectl.stdin(std::process::Stdio::piped());
    let mut child = kubectl.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    // Typed until the shell is there: its first answer shows it has started.
    let script = b"echo uid=$(id -u); ps -o pid,user,args; cat /proc/1/root/etc/os-release; exit\n";
    let typing = tokio::spawn(async move {
        for _ in 0..60 {
            if input.write_all(script).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kubectl debug within 60 s")
        .unwrap();
    typing.abort();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("uid=65532"), "{text}");
    assert!(text.contains("/app/server"), "the target's process: {text}");
    assert!(text.contains("ID=distroless"), "the target's files: {text}");

    // Its shell's output is its log, as any container's.
    let (log, err, ok) = side
        .kubectl_output(&["logs", "-n", ns, "app", "-c", "debugger"])
        .await;
    assert!(ok && log.contains("uid=65532"), "{log} {err}");

    let status = wait_for("the debugger's status", async || {
        ephemeral_status(&pods, "app", "debugger").await
    })
    .await;
    assert!(!status.ready);
    assert_eq!(status.image, "busybox:1.36");

    // As root without capabilities, the target (another user) is out of reach, as on a
    // real node without CAP_SYS_PTRACE.
    let root = json!({"spec": {"ephemeralContainers": [{
        "name": "rootdbg", "image": "busybox:1.36", "command": ["sleep", "3600"],
        "targetContainerName": "payments",
        "securityContext": {"runAsUser": 0, "capabilities": {"drop": ["ALL"]}},
    }]}});
    pods.patch_ephemeral_containers("app", &PatchParams::default(), &Patch::Strategic(root))
        .await
        .unwrap();
    wait_for("rootdbg to run", async || {
        ephemeral_status(&pods, "app", "rootdbg")
            .await?
            .state?
            .running
            .map(|_| ())
    })
    .await;
    let out = run(
        &pods,
        "app",
        "rootdbg",
        "id -u; ps -o args; ls /proc/1/root/app",
    )
    .await;
    assert!(out.starts_with("0\n"), "{out}");
    assert!(
        out.contains("/app/server"),
        "still the same processes: {out}"
    );
    assert!(out.contains("Permission denied"), "{out}");
    let caps = run(&pods, "app", "rootdbg", "grep CapEff /proc/self/status").await;
    assert!(caps.contains("0000000000000000"), "{caps}");
}

/// The API server's checks on `pods/ephemeralcontainers`.
async fn checks(real: bool) {
    let ns = if real {
        "ephemeral-checks-real"
    } else {
        "ephemeral-checks"
    };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    let add = |container: serde_json::Value| {
        Patch::Strategic(json!({"spec": {"ephemeralContainers": [container]}}))
    };
    let params = PatchParams::default();
    let failure = async |patch: Patch<serde_json::Value>| match pods
        .patch_ephemeral_containers("app", &params, &patch)
        .await
    {
        Err(kube::Error::Api(status)) => (status.code, status.message),
        other => panic!("expected a refusal, got {other:?}"),
    };

    let first = json!({"name": "one", "image": "busybox:1.36", "command": ["sleep", "3600"]});
    pods.patch_ephemeral_containers("app", &params, &add(first))
        .await
        .unwrap();
    // JSON patch appends too.
    let second = Patch::Json::<serde_json::Value>(
        serde_json::from_value(json!([{"op": "add", "path": "/spec/ephemeralContainers/-",
            "value": {"name": "two", "image": "busybox:1.36", "command": ["sleep", "3600"]}}]))
        .unwrap(),
    );
    let pod = pods
        .patch_ephemeral_containers("app", &params, &second)
        .await
        .unwrap();
    let names: Vec<String> = pod
        .spec
        .unwrap()
        .ephemeral_containers
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(names, ["one", "two"]);

    // A strategic merge puts the patch's new items first, as the API server does.
    let (code, message) = failure(add(json!({"name": "payments", "image": "busybox:1.36"}))).await;
    assert_eq!(code, 422);
    assert!(
        message.contains(r#"spec.ephemeralContainers[0].name: Duplicate value: "payments""#),
        "{message}"
    );
    let (code, message) = failure(add(json!({"name": "three", "image": "busybox:1.36",
        "ports": [{"containerPort": 80}]})))
    .await;
    assert_eq!(code, 422);
    assert!(
        message.contains(
            "spec.ephemeralContainers[0].ports: Forbidden: cannot be set for an Ephemeral Container"
        ),
        "{message}"
    );
    let (code, message) = failure(add(json!({"name": "four", "image": "busybox:1.36",
        "targetContainerName": "nope"})))
    .await;
    assert_eq!(code, 422);
    assert!(
        message.contains(r#"spec.ephemeralContainers[0].targetContainerName: Not found: "nope""#),
        "{message}"
    );
    let (code, message) = failure(add(json!({"name": "one", "image": "debian:12"}))).await;
    assert_eq!(code, 422);
    assert!(
        message.contains(r#"existing ephemeral containers "one" may not be changed"#),
        "{message}"
    );
    let remove = Patch::Json::<serde_json::Value>(
        serde_json::from_value(json!([{"op": "remove", "path": "/spec/ephemeralContainers/0"}]))
            .unwrap(),
    );
    let (code, message) = failure(remove).await;
    assert_eq!(code, 422);
    assert!(
        message.contains(r#"existing ephemeral containers "one" may not be removed"#),
        "{message}"
    );

    // The right that is checked, in the API server's words.
    let as_bob: Api<Pod> = Api::namespaced(side.client(User::Bob).await, ns);
    match as_bob
        .patch_ephemeral_containers(
            "app",
            &params,
            &add(json!({"name": "b", "image": "busybox:1.36"})),
        )
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403);
            assert!(
                status.message.contains(&format!(
                    r#"User "bob" cannot patch resource "pods/ephemeralcontainers" in API group "" in the namespace "{ns}""#
                )),
                "{}",
                status.message
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
}

#[tokio::test]
async fn kubectl_debug_on_the_testcluster() {
    debug_a_distroless_container(false).await;
}

#[tokio::test]
async fn kubectl_debug_through_the_real_api_server() {
    debug_a_distroless_container(true).await;
}

#[tokio::test]
async fn ephemeral_container_checks_on_the_testcluster() {
    checks(false).await;
}

#[tokio::test]
async fn ephemeral_container_checks_through_the_real_api_server() {
    checks(true).await;
}
