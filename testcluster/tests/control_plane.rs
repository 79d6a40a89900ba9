//! The real control plane (kube-apiserver and etcd, see testenv) answers as Kubernetes does:
//! the facts podterm's tests will rely on when they run against it.

use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
use k8s_openapi::api::core::v1::{Namespace, Pod, Secret};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{Api, PostParams};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use testenv::{ControlPlane, User};

async fn control_plane() -> &'static ControlPlane {
    ControlPlane::shared()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
}

async fn client(user: User) -> kube::Client {
    control_plane().await.client(user).await.unwrap()
}

fn object<T: DeserializeOwned>(value: Value) -> T {
    serde_json::from_value(value).expect("valid object")
}

async fn create<T>(api: Api<T>, value: Value) -> T
where
    T: kube::Resource + Clone + std::fmt::Debug + serde::Serialize + DeserializeOwned,
{
    api.create(&PostParams::default(), &object(value))
        .await
        .expect("created")
}

fn status_code<T>(result: Result<T, kube::Error>) -> Option<u16> {
    match result {
        Ok(_) => None,
        Err(kube::Error::Api(status)) => Some(status.code),
        Err(e) => panic!("not an API answer: {e}"),
    }
}

/// RBAC changes reach the authorizer through a watch, so a grant may take a moment.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 15 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn version_is_the_pinned_release() {
    let startup = control_plane().await.startup_time();
    eprintln!("control plane ready in {:.1} s", startup.as_secs_f64());
    let info = client(User::Alice).await.apiserver_version().await.unwrap();
    assert_eq!(info.git_version, testenv::kubernetes_version());
    assert_eq!(info.git_version, "v1.37.2");
    assert_eq!((info.major.as_str(), info.minor.as_str()), ("1", "37"));
}

#[tokio::test]
async fn kubectl_lists_namespaces_as_admin() {
    let control_plane = control_plane().await;
    let run = |args: &'static [&'static str]| {
        let mut kubectl = control_plane.kubectl(User::Admin);
        kubectl.args(args);
        async move {
            let out = tokio::time::timeout(Duration::from_secs(60), kubectl.output())
                .await
                .expect("kubectl finished within 60 s")
                .expect("kubectl ran");
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "kubectl {args:?}: {stderr}");
            String::from_utf8(out.stdout).unwrap()
        }
    };
    let version: Value = serde_json::from_str(&run(&["version", "-o", "json"]).await).unwrap();
    assert_eq!(version["clientVersion"]["gitVersion"], "v1.37.2");
    assert_eq!(version["serverVersion"]["gitVersion"], "v1.37.2");
    let namespaces = run(&["get", "namespaces", "-o", "name"]).await;
    for name in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            namespaces.contains(&format!("namespace/{name}\n")),
            "{namespaces}"
        );
    }
}

#[tokio::test]
async fn alice_may_not_list_secrets_in_kube_system() {
    let secrets: Api<Secret> = Api::namespaced(client(User::Alice).await, "kube-system");
    assert_eq!(
        status_code(secrets.list(&Default::default()).await),
        Some(403)
    );
}

async fn can_i(user: User, verb: &str, resource: &str, namespace: &str) -> bool {
    let review = json!({"spec": {"resourceAttributes": {
        "verb": verb, "resource": resource, "namespace": namespace,
    }}});
    let answer = create(
        Api::<SelfSubjectAccessReview>::all(client(user).await),
        review,
    )
    .await;
    answer.status.expect("status").allowed
}

async fn who_am_i(client: kube::Client) -> (String, Vec<String>) {
    let review = create(Api::<SelfSubjectReview>::all(client), json!({})).await;
    let user = review.status.and_then(|s| s.user_info).expect("user info");
    (user.username.unwrap(), user.groups.unwrap_or_default())
}

#[tokio::test]
async fn self_reviews_are_answered_by_the_server() {
    assert!(can_i(User::Admin, "list", "secrets", "kube-system").await);
    assert!(!can_i(User::Alice, "list", "secrets", "kube-system").await);

    let (name, groups) = who_am_i(client(User::Alice).await).await;
    assert_eq!(name, "alice");
    assert_eq!(groups, ["developers", "system:authenticated"]);
    // Carol has a client certificate (CN = user, O = groups) instead of a token.
    let (name, groups) = who_am_i(client(User::Carol).await).await;
    assert_eq!(name, "carol");
    assert_eq!(groups, ["developers", "system:authenticated"]);
    let (name, groups) = who_am_i(client(User::Bob).await).await;
    assert_eq!(name, "bob");
    assert_eq!(groups, ["viewers", "system:authenticated"]);
}

#[tokio::test]
async fn a_role_binding_lets_alice_get_pods_in_one_namespace() {
    let control_plane = control_plane().await;
    for namespace in ["rbac-granted", "rbac-other"] {
        control_plane.namespace(namespace).await.unwrap();
    }
    let admin = client(User::Admin).await;
    for namespace in ["rbac-granted", "rbac-other"] {
        create(
            Api::<Pod>::namespaced(admin.clone(), namespace),
            busybox_pod(),
        )
        .await;
    }
    let role = json!({"metadata": {"name": "pod-reader"}, "rules": [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
    ]});
    create(Api::<Role>::namespaced(admin.clone(), "rbac-granted"), role).await;
    let binding = json!({
        "metadata": {"name": "alice-reads-pods"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    });
    create(
        Api::<RoleBinding>::namespaced(admin, "rbac-granted"),
        binding,
    )
    .await;

    let alice = client(User::Alice).await;
    let granted: Api<Pod> = Api::namespaced(alice.clone(), "rbac-granted");
    eventually("alice gets the pod", || async {
        granted.get("web").await.is_ok()
    })
    .await;
    let other: Api<Pod> = Api::namespaced(alice, "rbac-other");
    assert_eq!(status_code(other.get("web").await), Some(403));
}

fn busybox_pod() -> Value {
    json!({"metadata": {"name": "web"}, "spec": {"containers": [
        {"name": "web", "image": "busybox"},
    ]}})
}

#[tokio::test]
async fn service_account_admission_needs_the_default_account() {
    let admin = client(User::Admin).await;
    let bare = json!({"metadata": {"name": "no-default-account"}});
    create(Api::<Namespace>::all(admin.clone()), bare).await;
    let pods: Api<Pod> = Api::namespaced(admin.clone(), "no-default-account");
    match pods
        .create(&PostParams::default(), &object(busybox_pod()))
        .await
    {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403);
            assert!(
                status
                    .message
                    .contains(r#"serviceaccount "default" not found"#),
                "{status:?}"
            );
        }
        other => panic!("created without a service account: {other:?}"),
    }

    // The helper's namespaces have one, and the plugin mounts its token.
    control_plane()
        .await
        .namespace("with-default-account")
        .await
        .unwrap();
    let pods: Api<Pod> = Api::namespaced(admin, "with-default-account");
    let pod = create(pods, busybox_pod()).await;
    let volumes = pod.spec.unwrap().volumes.unwrap_or_default();
    assert!(
        volumes
            .iter()
            .any(|v| v.name.starts_with("kube-api-access-")),
        "{volumes:?}"
    );
}

#[tokio::test]
async fn the_proxy_may_impersonate_listed_groups_only() {
    let admin = client(User::Admin).await;
    let role = json!({"metadata": {"name": "impersonate-developers"}, "rules": [
        {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"]},
        {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"],
         "resourceNames": ["developers"]},
    ]});
    create(Api::<ClusterRole>::all(admin.clone()), role).await;
    let binding = json!({
        "metadata": {"name": "proxy-impersonates-developers"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": "impersonate-developers"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "proxy"}],
    });
    create(Api::<ClusterRoleBinding>::all(admin), binding).await;

    let as_alice_in = |group: &'static str| async move {
        let mut config = control_plane().await.config(User::Proxy).await.unwrap();
        config.auth_info.impersonate = Some("alice".into());
        config.auth_info.impersonate_groups = Some(vec![group.into()]);
        kube::Client::try_from(config).unwrap()
    };
    let developers = as_alice_in("developers").await;
    eventually("the proxy impersonates alice in developers", || async {
        let review = Api::<SelfSubjectReview>::all(developers.clone());
        review
            .create(&PostParams::default(), &object(json!({})))
            .await
            .is_ok()
    })
    .await;
    let (name, groups) = who_am_i(developers).await;
    assert_eq!(name, "alice");
    assert_eq!(groups, ["developers", "system:authenticated"]);

    let masters = Api::<SelfSubjectReview>::all(as_alice_in("system:masters").await);
    let refused = masters
        .create(&PostParams::default(), &object(json!({})))
        .await;
    assert_eq!(status_code(refused), Some(403));
}
