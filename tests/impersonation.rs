//! Proxy mode as the shipped overlay sets it up: its ClusterRole is what the cluster lets
//! podterm impersonate, its settings are what podterm passes on. A trusted peer that names
//! `system:masters` or a system user gets nothing, at podterm or at the cluster.

mod common;

use podterm::protocol::ServerEvent;
use podterm::server::cluster::clusters::Clusters;
use podterm::server::web::auth::Mode;
use podterm::server::web::identity::Identity;
use podterm::server::web::impersonation::ImpersonationPolicy;
use serde_yaml::Value;
use testcluster::config::PolicyRule;

use common::{Options, http, read_until, start_with, type_in, ws_with};

const OVERLAY: &str = "deploy/overlays/proxy";
/// The demo's proxy user, bound to the overlay's ClusterRole in these tests.
const PROXY_USER: &str = "user:proxy";

fn overlay_file(name: &str) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(OVERLAY)
        .join(name);
    serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_sequence()
        .map(|s| {
            s.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The overlay's ClusterRole as the testcluster's rules for the proxy user.
fn overlay_role() -> Vec<PolicyRule> {
    let role = overlay_file("impersonate-clusterrole.yaml");
    assert_eq!(role["kind"].as_str(), Some("ClusterRole"));
    role["rules"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|rule| {
            assert_eq!(strings(&rule["apiGroups"]), [""]);
            PolicyRule {
                subjects: vec![PROXY_USER.into()],
                namespaces: vec![],
                resources: strings(&rule["resources"]),
                verbs: strings(&rule["verbs"]),
                names: strings(&rule["resourceNames"]),
            }
        })
        .collect()
}

/// What the overlay's Deployment patch tells podterm to pass on.
fn overlay_settings() -> ImpersonationPolicy {
    let patch = overlay_file("deployment-patch.yaml");
    let env = &patch["spec"]["template"]["spec"]["containers"][0]["env"];
    let value = |name: &str| {
        env.as_sequence()
            .unwrap()
            .iter()
            .find(|e| e["name"].as_str() == Some(name))
            .and_then(|e| e["value"].as_str())
            .map(|v| v.split(',').map(|p| p.trim().to_string()).collect())
    };
    let default = ImpersonationPolicy::default();
    ImpersonationPolicy {
        users: value("PODTERM_IMPERSONATE_USER_PATTERNS").unwrap_or(default.users),
        groups: value("PODTERM_IMPERSONATE_GROUP_PATTERNS").unwrap_or(default.groups),
    }
}

/// podterm behind a proxy, with the overlay's role and settings in place of the demo's.
async fn start_as_overlay() -> common::Fixture {
    let f = start_with(Options {
        mode: Mode::Proxy,
        trusted_proxies: vec!["127.0.0.1/32"],
        impersonation: overlay_settings(),
        ..Default::default()
    })
    .await;
    let mut rules: Vec<PolicyRule> = f
        .cluster
        .spec()
        .policy
        .iter()
        .filter(|r| !r.verbs.iter().any(|v| v == "impersonate"))
        .cloned()
        .collect();
    rules.extend(overlay_role());
    f.cluster.set_policy(rules).await.unwrap();
    f
}

const CONTEXT: &str = "?context=proxy%40demo";

#[tokio::test]
async fn a_trusted_peer_naming_system_masters_gets_403_and_an_audit_line() {
    let f = start_as_overlay().await;
    let mallory = [
        ("X-Forwarded-User", "mallory"),
        ("X-Forwarded-Groups", "developers, system:masters"),
    ];
    let (code, body) = http(
        f.addr,
        "GET",
        &format!("/{CONTEXT}&namespace=kube-system"),
        &mallory,
        "",
    )
    .await;
    assert_eq!(code, 403, "{body}");
    assert!(body.contains("system:masters"), "{body}");
    assert_eq!(
        ws_with(
            f.addr,
            &format!("/ws/exec/kube-system/coredns-5d78c9869d-xk2vq/coredns{CONTEXT}"),
            &mallory
        )
        .await
        .err(),
        Some(403)
    );
    let audit = std::fs::read_to_string(&f.audit_log).unwrap();
    let line = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["audit"] == "login_refused")
        .expect("an audit line for the refusal");
    assert_eq!(line["user"], "mallory");
    assert_eq!(
        line["groups"],
        serde_json::json!(["developers", "system:masters"])
    );
    assert!(line["from"].as_str().unwrap().starts_with("127.0.0.1"));

    // A system user would pick up that user's own bindings.
    let controller = [("X-Forwarded-User", "system:kube-controller-manager")];
    let (code, body) = http(f.addr, "GET", &format!("/{CONTEXT}"), &controller, "").await;
    assert_eq!(code, 403, "{body}");
}

#[tokio::test]
async fn people_in_listed_groups_work_and_other_groups_are_left_out() {
    let f = start_as_overlay().await;
    // "everyone" is not in the role's resourceNames: passed on, the cluster would refuse
    // the whole request.
    let alice = [
        ("X-Forwarded-User", "alice"),
        ("X-Forwarded-Groups", "developers,everyone"),
    ];
    let (code, page) = http(
        f.addr,
        "GET",
        &format!("/{CONTEXT}&namespace=shop"),
        &alice,
        "",
    )
    .await;
    assert_eq!(code, 200);
    assert!(page.contains("web-7d4b9c6f5-abcde"), "{page}");
    let mut ws = ws_with(
        f.addr,
        &format!("/ws/exec/shop/web-7d4b9c6f5-abcde/web{CONTEXT}"),
        &alice,
    )
    .await
    .unwrap();
    type_in(&mut ws, "echo as-al''ice\n").await;
    let (_, event) = read_until(&mut ws, b"as-alice").await;
    assert!(
        !matches!(event, Some(ServerEvent::Error { .. })),
        "{event:?}"
    );
}

#[tokio::test]
async fn the_overlays_role_itself_refuses_system_groups() {
    // Were podterm's own check bypassed, the cluster still refuses: the role names groups.
    let f = start_as_overlay().await;
    let clusters = Clusters::from_kubeconfig_yaml(f.cluster.kubeconfig_yaml()).unwrap();
    let as_masters = Identity::Proxied {
        user: "mallory".into(),
        groups: vec!["system:masters".into()],
    };
    let cluster = clusters.get(Some("proxy@demo"), &as_masters).await.unwrap();
    let namespaces: kube::Api<k8s_openapi::api::core::v1::Namespace> =
        kube::Api::all(cluster.client);
    match namespaces.list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{status:?}"),
        other => panic!("the cluster let the proxy act as system:masters: {other:?}"),
    }
}
