//! The testcluster as the node of a real kube-apiserver: the API server proxies exec
//! WebSockets to it unchanged, kubectl 1.37 and kube-rs exec through it, and pods bound to
//! it run, report their status and finish their deletion.

use std::time::{Duration, Instant};

use futures::SinkExt;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::api::{Api, AttachParams, DeleteParams, PostParams, TerminalSize};
use serde_json::json;
use testenv::{ControlPlane, User};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod both;
use both::until_size;

async fn control_plane() -> &'static ControlPlane {
    ControlPlane::shared()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A busybox pod bound to the node in its own namespace, once the kubelet says it runs.
async fn running_pod(namespace: &str, name: &str) -> Api<Pod> {
    let control_plane = control_plane().await;
    control_plane.namespace(namespace).await.unwrap();
    let admin = control_plane.client(User::Admin).await.unwrap();
    let pods: Api<Pod> = Api::namespaced(admin, namespace);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": {"name": name},
        "spec": {
            "nodeName": control_plane.node_name(),
            "containers": [{"name": "main", "image": "busybox:1.36"}],
        },
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    wait_until(&format!("{namespace}/{name} running"), || async {
        let pod = pods.get(name).await.unwrap();
        let status = pod.status.unwrap_or_default();
        status.phase.as_deref() == Some("Running")
            && status.container_statuses.is_some_and(|c| {
                c.iter()
                    .all(|c| c.ready && c.state.as_ref().is_some_and(|s| s.running.is_some()))
            })
    })
    .await;
    pods
}

async fn wait_until<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 20 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn kubectl(user: User, args: &[&str], stdin: &[u8]) -> (String, String, Option<i32>) {
    let mut command = control_plane().await.kubectl(user);
    command
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = command.spawn().expect("kubectl runs");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin).await.unwrap();
    drop(input);
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("kubectl finished within 60 s")
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

#[tokio::test]
async fn the_node_is_ready_declares_websockets_and_holds_its_lease() {
    let control_plane = control_plane().await;
    let admin = control_plane.client(User::Admin).await.unwrap();
    let node = Api::<Node>::all(admin.clone())
        .get(control_plane.node_name())
        .await
        .unwrap();
    let status = node.status.unwrap();
    let ready = status
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .unwrap();
    assert_eq!(ready.status, "True");
    assert_eq!(
        status.declared_features.unwrap(),
        ["ExtendWebSocketsToKubelet"]
    );
    let port = status
        .daemon_endpoints
        .unwrap()
        .kubelet_endpoint
        .unwrap()
        .port;
    assert_eq!(port, i32::from(control_plane.kubelet().addr().port()));
    let leases: Api<Lease> = Api::namespaced(admin, "kube-node-lease");
    wait_until("the node's lease", || async {
        leases
            .get_opt(control_plane.node_name())
            .await
            .unwrap()
            .and_then(|l| l.spec?.holder_identity)
            .as_deref()
            == Some(control_plane.node_name())
    })
    .await;
}

#[tokio::test]
async fn kubectl_execs_through_the_real_api_server() {
    let _pods = running_pod("kubelet-kubectl", "shell").await;
    let ns = ["-n", "kubelet-kubectl"];
    let (out, err, code) = kubectl(
        User::Admin,
        &[
            &ns[..],
            &[
                "exec",
                "shell",
                "--",
                "sh",
                "-c",
                "echo out; echo err >&2; exit 3",
            ],
        ]
        .concat(),
        b"",
    )
    .await;
    assert_eq!((out.as_str(), code), ("out\n", Some(3)), "{err}");
    assert!(err.starts_with("err\n"), "{err}");

    let (out, err, code) = kubectl(
        User::Admin,
        &[&ns[..], &["exec", "-i", "shell", "--", "cat"]].concat(),
        "grüße, 世界\n".as_bytes(),
    )
    .await;
    assert_eq!((out.as_str(), code), ("grüße, 世界\n", Some(0)), "{err}");

    let (_, err, code) = kubectl(
        User::Admin,
        &[&ns[..], &["exec", "shell", "--", "no-such-program"]].concat(),
        b"",
    )
    .await;
    assert_ne!(code, Some(0));
    assert!(err.contains("no-such-program"), "{err}");
}

#[tokio::test]
async fn kube_rs_gets_a_terminal_that_resizes() {
    let pods = running_pod("kubelet-tty", "shell").await;
    let params = AttachParams::interactive_tty().container("main");
    let mut attached = pods
        .exec("shell", ["sh"], &params)
        .await
        .expect("exec through the API server");
    let mut resize = attached.terminal_size().unwrap();
    resize
        .send(TerminalSize {
            width: 100,
            height: 40,
        })
        .await
        .unwrap();
    let mut stdin = attached.stdin().unwrap();
    let mut stdout = attached.stdout().unwrap();
    until_size(&mut stdin, &mut stdout, "40 100").await;
    stdin.write_all(b"exit 7\n").await.unwrap();
    let mut rest = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stdout.read_to_end(&mut rest))
        .await
        .expect("the shell ended")
        .unwrap();
    let status = attached.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Failure"), "{status:?}");
    let causes = status.details.unwrap().causes.unwrap();
    assert_eq!(causes[0].message.as_deref(), Some("7"));
}

#[tokio::test]
async fn the_api_server_proxies_exec_websockets_to_the_kubelet() {
    let _pods = running_pod("kubelet-metrics", "shell").await;
    let (_, err, code) = kubectl(
        User::Admin,
        &["-n", "kubelet-metrics", "exec", "shell", "--", "true"],
        b"",
    )
    .await;
    assert_eq!(code, Some(0), "{err}");
    let (metrics, err, _) = kubectl(User::Admin, &["get", "--raw", "/metrics"], b"").await;
    let proxied = metrics
        .lines()
        .find(|l| {
            l.starts_with("apiserver_websocket_streaming_requests_total")
                && l.contains(r#"proxy_type="proxied_to_kubelet""#)
                && l.contains(r#"subresource="exec""#)
        })
        .unwrap_or_else(|| panic!("no proxied exec in the metrics: {err}"));
    let count: f64 = proxied.rsplit(' ').next().unwrap().parse().unwrap();
    assert!(count >= 1.0, "{proxied}");
    assert!(
        !metrics
            .lines()
            .any(|l| l.contains(r#"proxy_type="translated_at_apiserver""#)
                && !l.starts_with('#')
                && !l.ends_with(" 0")),
        "an exec was translated to SPDY"
    );
}

#[tokio::test]
async fn a_denied_user_gets_403_and_a_role_lets_them_in() {
    let pods = running_pod("kubelet-rbac", "shell").await;
    let (_, err, code) = kubectl(
        User::Alice,
        &["-n", "kubelet-rbac", "exec", "shell", "--", "true"],
        b"",
    )
    .await;
    assert_ne!(code, Some(0));
    // kubectl reads the pod first.
    assert!(err.contains(r#"cannot get resource "pods""#), "{err}");
    let alice: Api<Pod> = Api::namespaced(
        control_plane().await.client(User::Alice).await.unwrap(),
        "kubelet-rbac",
    );
    let refused = alice
        .exec("shell", ["true"], &AttachParams::default().stderr(false))
        .await
        .err()
        .expect("alice may not exec yet");
    assert!(refused.to_string().contains("403"), "{refused}");

    let admin = control_plane().await.client(User::Admin).await.unwrap();
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "exec", "namespace": "kubelet-rbac"},
        "rules": [
            {"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
            {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get", "create"]},
        ],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "exec", "namespace": "kubelet-rbac"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "exec"},
        "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
    });
    for (object, plural) in [(role, "roles"), (binding, "rolebindings")] {
        let resource = kube::discovery::ApiResource {
            group: "rbac.authorization.k8s.io".into(),
            version: "v1".into(),
            api_version: "rbac.authorization.k8s.io/v1".into(),
            kind: object["kind"].as_str().unwrap().into(),
            plural: plural.into(),
        };
        let api: Api<kube::api::DynamicObject> =
            Api::namespaced_with(admin.clone(), "kubelet-rbac", &resource);
        api.create(
            &PostParams::default(),
            &serde_json::from_value(object).unwrap(),
        )
        .await
        .unwrap();
    }
    wait_until("alice's exec allowed", || async {
        let params = AttachParams::default().stderr(false);
        match alice.exec("shell", ["echo", "in"], &params).await {
            Ok(mut attached) => {
                let mut out = String::new();
                attached
                    .stdout()
                    .unwrap()
                    .read_to_string(&mut out)
                    .await
                    .unwrap();
                out == "in\n"
            }
            Err(_) => false,
        }
    })
    .await;
    drop(pods);
}

#[tokio::test]
async fn a_deleted_pod_stops_and_goes() {
    let pods = running_pod("kubelet-delete", "doomed").await;
    let control_plane = control_plane().await;
    let attached = pods
        .exec(
            "doomed",
            ["sleep", "600"],
            &AttachParams::default().stderr(false),
        )
        .await
        .unwrap();
    wait_until("the sleep runs", || async {
        control_plane
            .kubelet()
            .processes("kubelet-delete", "doomed", "main")
            .await
            .iter()
            .any(|p| p.command == ["sleep", "600"])
    })
    .await;
    let began = Instant::now();
    // The default grace period: the API server marks the pod, the kubelet ends it.
    pods.delete("doomed", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        while pods.get_opt("doomed").await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
    .expect("the kubelet finished the deletion");
    assert!(began.elapsed() < Duration::from_secs(20));
    assert!(
        control_plane
            .kubelet()
            .processes("kubelet-delete", "doomed", "main")
            .await
            .is_empty()
    );
    let ended = tokio::time::timeout(Duration::from_secs(10), attached.join()).await;
    assert!(ended.is_ok(), "the exec did not end with its pod");
}
