//! The REST surface: authentication, errors as Status objects, Tables, watch, access reviews.

mod common;

use std::time::Duration;

use futures::{AsyncBufReadExt, StreamExt};
use serde_json::{Value, json};

use axum::http;
use common::{anonymous_client, client, exec, raw, start};

fn status(body: &str) -> Value {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|_| panic!("not JSON: {body}"));
    assert_eq!(v["kind"], "Status", "{v}");
    assert_eq!(v["apiVersion"], "v1", "{v}");
    v
}

#[tokio::test]
async fn unauthenticated_requests_get_401_except_version_and_health() {
    let tc = start().await;
    let anon = anonymous_client(&tc).await;
    for path in [
        "/api/v1/pods",
        "/api/v1/namespaces/default/pods/toolbox",
        "/api",
        "/api/v1/namespaces/default/pods/toolbox/exec?command=sh",
    ] {
        let (code, body) = raw(&anon, "GET", path, vec![]).await;
        assert_eq!(code, 401, "{path}");
        assert_eq!(status(&body)["reason"], "Unauthorized");
    }
    let (code, body) = raw(&anon, "GET", "/version", vec![]).await;
    assert_eq!(code, 200);
    assert!(body.contains("gitVersion"));
    assert_eq!(raw(&anon, "GET", "/healthz", vec![]).await.0, 200);
    // a wrong token is no better than none
    let request = http::Request::get("/api/v1/pods").body(vec![]).unwrap();
    let mut config = common::kube_config(&tc, "admin").await;
    config.auth_info = Default::default();
    config
        .headers
        .push((http::header::AUTHORIZATION, "Bearer wrong".parse().unwrap()));
    let wrong = kube::Client::try_from(config).unwrap();
    let err = wrong.request_text(request).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 401),
        "{err:?}"
    );
    // the admin endpoint takes only the admin token
    assert_eq!(
        raw(
            &client(&tc, "admin").await,
            "POST",
            "/testcluster/admin/compact",
            vec![]
        )
        .await
        .0,
        401
    );
}

#[tokio::test]
async fn errors_are_status_objects_with_the_right_codes() {
    let tc = start().await;
    let admin = client(&tc, "admin").await;
    let (code, body) = raw(
        &admin,
        "GET",
        "/api/v1/namespaces/default/pods/ghost",
        vec![],
    )
    .await;
    assert_eq!(code, 404);
    let s = status(&body);
    assert_eq!(s["message"], "pods \"ghost\" not found");
    assert_eq!(s["details"], json!({"name": "ghost", "kind": "pods"}));

    assert_eq!(
        raw(&admin, "GET", "/api/v1/namespaces/ghost", vec![])
            .await
            .0,
        404
    );
    assert_eq!(
        raw(
            &admin,
            "DELETE",
            "/api/v1/namespaces/default/pods/toolbox",
            vec![]
        )
        .await
        .0,
        405
    );
    assert_eq!(
        raw(&admin, "PUT", "/api/v1/namespaces/default/pods", vec![])
            .await
            .0,
        405
    );
    let (code, body) = raw(
        &admin,
        "GET",
        "/api/v1/namespaces/default/pods?labelSelector=a%20in%20b",
        vec![],
    )
    .await;
    assert_eq!(
        (code, status(&body)["reason"].clone()),
        (400, json!("BadRequest"))
    );
    let (code, body) = raw(
        &admin,
        "GET",
        "/api/v1/pods?fieldSelector=spec.bogus%3Dx",
        vec![],
    )
    .await;
    assert_eq!(code, 400);
    assert!(
        status(&body)["message"]
            .as_str()
            .unwrap()
            .contains("field label not supported")
    );
    assert_eq!(
        raw(&admin, "GET", "/api/v1/pods?limit=x", vec![]).await.0,
        400
    );
    assert_eq!(
        raw(&admin, "GET", "/api/v1/pods?continue=%%%", vec![])
            .await
            .0,
        400
    );
    assert_eq!(
        raw(
            &admin,
            "GET",
            "/api/v1/pods?resourceVersion=abc&watch=1",
            vec![]
        )
        .await
        .0,
        400
    );
    assert_eq!(raw(&admin, "GET", "/no/such/path", vec![]).await.0, 404);

    let bob = client(&tc, "bob").await;
    let (code, body) = raw(&bob, "GET", "/api/v1/namespaces", vec![]).await;
    assert_eq!(code, 403);
    assert_eq!(
        status(&body)["message"],
        "namespaces is forbidden: User \"bob\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );
    let (code, _) = raw(&bob, "GET", "/api/v1/namespaces/kube-system/pods", vec![]).await;
    assert_eq!(code, 403);
}

#[tokio::test]
async fn exec_request_errors_come_before_the_upgrade_and_match_for_spdy() {
    let tc = start().await;
    let admin = client(&tc, "admin").await;
    let cases = [
        (
            "/api/v1/namespaces/default/pods/ghost/exec?command=sh&stdout=true",
            404,
            "pods \"ghost\" not found",
        ),
        (
            "/api/v1/namespaces/nowhere/pods/toolbox/exec?command=sh&stdout=true",
            404,
            "pods \"toolbox\" not found",
        ),
        (
            "/api/v1/namespaces/default/pods/toolbox/exec?command=sh&stdout=true&container=nope",
            400,
            "container nope is not valid for pod toolbox",
        ),
        (
            "/api/v1/namespaces/shop/pods/web-7d4b9c6f5-abcde/exec?command=sh&stdout=true",
            400,
            "a container name must be specified for pod web-7d4b9c6f5-abcde, choose one of: [log-shipper web]",
        ),
        (
            "/api/v1/namespaces/batch/pods/report-gen-pending/exec?command=sh&stdout=true",
            400,
            "pod report-gen-pending does not have a host assigned",
        ),
        (
            "/api/v1/namespaces/default/pods/toolbox/exec?stdout=true",
            400,
            "you must specify at least one command for the container",
        ),
        (
            "/api/v1/namespaces/default/pods/toolbox/exec?command=sh",
            400,
            "you must specify at least 1 of stdin, stdout, stderr",
        ),
        (
            "/api/v1/namespaces/default/pods/toolbox/exec?command=sh&tty=maybe",
            400,
            "invalid value \"maybe\" for tty",
        ),
    ];
    for (path, want_code, want_message) in cases {
        for method in ["GET", "POST"] {
            let (code, body) = raw(&admin, method, path, vec![]).await;
            assert_eq!(code, want_code, "{method} {path}: {body}");
            let message = status(&body)["message"].as_str().unwrap().to_string();
            assert!(message.contains(want_message), "{method} {path}: {message}");
        }
    }
    // a request that would succeed: POST (SPDY) says WebSocket only; GET without upgrade asks for one
    let ok = "/api/v1/namespaces/default/pods/toolbox/exec?command=sh&stdout=true";
    let (code, body) = raw(&admin, "POST", ok, vec![]).await;
    assert_eq!(code, 400);
    assert!(
        status(&body)["message"]
            .as_str()
            .unwrap()
            .contains("WebSocket only")
    );
    let (code, body) = raw(&admin, "GET", ok, vec![]).await;
    assert_eq!(
        (code, status(&body)["message"].clone()),
        (400, json!("Upgrade request required"))
    );
    // forbidden is the same whichever transport
    let bob = client(&tc, "bob").await;
    for method in ["GET", "POST"] {
        let (code, body) = raw(&bob, method, "/api/v1/namespaces/shop/pods/web-7d4b9c6f5-abcde/exec?command=sh&stdout=true&container=web", vec![]).await;
        assert_eq!(code, 403, "{method}");
        assert_eq!(
            status(&body)["details"],
            json!({"name": "web-7d4b9c6f5-abcde", "kind": "pods"})
        );
    }
}

#[tokio::test]
async fn tables_for_kubectl() {
    let tc = start().await;
    let admin = client(&tc, "admin").await;
    // The worker's main process crashes at once; the node holds it back after two starts.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let (table, worker) = loop {
        let request = http::Request::get("/api/v1/namespaces/shop/pods")
            .header(
                "Accept",
                "application/json;as=Table;v=v1;g=meta.k8s.io,application/json",
            )
            .body(vec![])
            .unwrap();
        let table: Value =
            serde_json::from_str(&admin.request_text(request).await.unwrap()).unwrap();
        let worker = table["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["cells"][0] == "worker-0")
            .unwrap()
            .clone();
        if worker["cells"][2] == "CrashLoopBackOff" || std::time::Instant::now() > deadline {
            break (table, worker);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(table["kind"], "Table");
    let names: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(&names[..5], ["Name", "Ready", "Status", "Restarts", "Age"]);
    assert_eq!(worker["cells"][1], "1/2");
    assert_eq!(worker["cells"][2], "CrashLoopBackOff");
    assert_eq!(worker["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(worker["object"]["metadata"]["namespace"], "shop");
}

#[tokio::test]
async fn watch_streams_events_bookmarks_and_410() {
    let tc = start().await;
    let admin = client(&tc, "admin").await;
    let list: Value = serde_json::from_str(
        &admin
            .request_text(
                http::Request::get("/api/v1/namespaces/default/pods")
                    .body(vec![])
                    .unwrap(),
            )
            .await
            .unwrap(),
    )
    .unwrap();
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();

    let request = http::Request::get(format!("/api/v1/namespaces/default/pods?watch=true&allowWatchBookmarks=true&resourceVersion={rv}&labelSelector=app%3Dnew"))
        .body(vec![])
        .unwrap();
    let mut lines = admin.request_stream(request).await.unwrap().lines();
    let mut pod = tc.spec().pod("toolbox").unwrap().clone();
    pod.name = "new-one".into();
    pod.labels = [("app".to_string(), "new".to_string())].into();
    tc.put_pod(pod.clone()).unwrap();
    tc.update_pod("default", "new-one", |p| {
        p.labels
            .insert("app".into(), "other".into())
            .map(|_| ())
            .unwrap_or(())
    })
    .unwrap();
    let mut kinds = Vec::new();
    while kinds.len() < 3 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let event: Value = serde_json::from_str(&line).unwrap();
        kinds.push(event["type"].as_str().unwrap().to_string());
        if event["type"] == "BOOKMARK" {
            assert_eq!(event["object"]["kind"], "Pod");
            assert!(
                event["object"]["metadata"]["resourceVersion"]
                    .as_str()
                    .is_some()
            );
        }
    }
    // leaving the selection reads as DELETED; bookmarks arrive every second in tests
    assert_eq!(&kinds[..2], ["ADDED", "DELETED"]);
    assert_eq!(kinds[2], "BOOKMARK");

    tc.compact();
    let request = http::Request::get(format!(
        "/api/v1/namespaces/default/pods?watch=true&resourceVersion={rv}"
    ))
    .body(vec![])
    .unwrap();
    let mut lines = admin.request_stream(request).await.unwrap().lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_str(&line).unwrap();
    assert_eq!(event["type"], "ERROR");
    assert_eq!(event["object"]["code"], 410);
    assert_eq!(event["object"]["reason"], "Expired");
    assert!(lines.next().await.is_none(), "the stream ends after a 410");
}

#[tokio::test]
async fn self_subject_access_review_answers_from_the_policy() {
    let tc = start().await;
    let ask = |verb: &str, ns: &str| {
        json!({
            "apiVersion": "authorization.k8s.io/v1",
            "kind": "SelfSubjectAccessReview",
            "spec": {"resourceAttributes": {"namespace": ns, "verb": verb, "resource": "pods", "subresource": "exec", "name": "web"}},
        })
        .to_string()
        .into_bytes()
    };
    let path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews";
    let alice = client(&tc, "alice").await;
    let (code, body) = raw(&alice, "POST", path, ask("create", "shop")).await;
    assert_eq!(code, 201);
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"]["allowed"],
        true
    );
    let (_, body) = raw(&alice, "POST", path, ask("create", "kube-system")).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"]["allowed"],
        false
    );
    let (_, body) = raw(&client(&tc, "bob").await, "POST", path, ask("get", "shop")).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"]["allowed"],
        false
    );
    // impersonated: the proxy asks as alice
    let mut config = common::kube_config(&tc, "proxy").await;
    config.auth_info.impersonate = Some("alice".into());
    config.auth_info.impersonate_groups = Some(vec!["developers".into()]);
    let as_alice = kube::Client::try_from(config).unwrap();
    let (_, body) = raw(&as_alice, "POST", path, ask("create", "shop")).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["status"]["allowed"],
        true
    );
    // malformed
    assert_eq!(raw(&alice, "POST", path, b"{".to_vec()).await.0, 400);
    assert_eq!(
        raw(
            &alice,
            "POST",
            path,
            br#"{"kind":"SelfSubjectAccessReview","spec":{}}"#.to_vec()
        )
        .await
        .0,
        400
    );
    // discovery names the group
    let (_, body) = raw(&alice, "GET", "/apis", vec![]).await;
    assert!(body.contains("authorization.k8s.io"));
}

#[tokio::test]
async fn restart_and_latency() {
    let tc = start().await;
    let admin = client(&tc, "admin").await;
    tc.set_latency(Duration::from_millis(300));
    let started = std::time::Instant::now();
    assert_eq!(
        raw(&admin, "GET", "/api/v1/namespaces", vec![]).await.0,
        200
    );
    assert!(started.elapsed() >= Duration::from_millis(300));
    tc.set_latency(Duration::ZERO);

    tc.restart_listener(Duration::from_millis(300)).unwrap();
    tokio::time::sleep(Duration::from_millis(150)).await;
    let refused = tokio::net::TcpStream::connect(tc.addr()).await;
    assert!(refused.is_err(), "the listener is down");
    common::eventually(
        Duration::from_secs(5),
        "the listener is back on the same port",
        || async { tokio::net::TcpStream::connect(tc.addr()).await.is_ok() },
    )
    .await;
    let fresh = client(&tc, "admin").await;
    assert_eq!(
        raw(&fresh, "GET", "/api/v1/namespaces", vec![]).await.0,
        200
    );
}

#[tokio::test]
async fn admin_endpoint_over_http() {
    let tc = start().await;
    let admin = common::admin_client(&tc).await;

    // start a shell so the container has processes to list
    let mut socket = exec(&tc, "default", "toolbox", "shell", &["sleep", "30"], false).await;
    let _ = &mut socket;
    let list = async || {
        let (code, body) = raw(
            &admin,
            "GET",
            "/testcluster/admin/processes?namespace=default&pod=toolbox&container=shell",
            vec![],
        )
        .await;
        assert_eq!(code, 200, "{body}");
        serde_json::from_str::<Vec<Value>>(&body).unwrap()
    };
    common::eventually(Duration::from_secs(10), "sleep 30 is listed", || async {
        list()
            .await
            .iter()
            .any(|p| p["command"] == json!(["sleep", "30"]))
    })
    .await;
    let listed = list().await;
    assert!(
        listed.iter().any(|p| p["main"] == true && p["pid"] == 1),
        "{listed:?}"
    );
    assert_eq!(
        raw(
            &admin,
            "GET",
            "/testcluster/admin/processes?namespace=default",
            vec![]
        )
        .await
        .0,
        400
    );

    // change a pod through its spec: fetch, edit, put back
    let (code, body) = raw(
        &admin,
        "GET",
        "/testcluster/admin/pods/default/toolbox",
        vec![],
    )
    .await;
    assert_eq!(code, 200);
    let mut spec: Value = serde_json::from_str(&body).unwrap();
    spec["phase"] = json!("Failed");
    assert_eq!(
        raw(
            &admin,
            "PUT",
            "/testcluster/admin/pods/default/toolbox",
            spec.to_string().into_bytes()
        )
        .await
        .0,
        200
    );
    let pod: Value = serde_json::from_str(
        &raw(
            &client(&tc, "admin").await,
            "GET",
            "/api/v1/namespaces/default/pods/toolbox",
            vec![],
        )
        .await
        .1,
    )
    .unwrap();
    assert_eq!(pod["status"]["phase"], "Failed");
    assert_eq!(
        raw(
            &admin,
            "PUT",
            "/testcluster/admin/pods/default/toolbox",
            b"containers: 5".to_vec()
        )
        .await
        .0,
        400
    );
    assert_eq!(
        raw(
            &admin,
            "DELETE",
            "/testcluster/admin/pods/default/toolbox",
            vec![]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        raw(
            &admin,
            "DELETE",
            "/testcluster/admin/pods/default/toolbox",
            vec![]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        raw(&admin, "PUT", "/testcluster/admin/latency?ms=abc", vec![])
            .await
            .0,
        400
    );
    assert_eq!(
        raw(&admin, "POST", "/testcluster/admin/cut-exec", vec![])
            .await
            .0,
        200
    );
}

#[tokio::test]
async fn a_new_policy_governs_requests_from_then_on() {
    let tc = start().await;
    let admin = common::admin_client(&tc).await;
    let alice = client(&tc, "alice").await;
    let (batch, shop) = (
        "/api/v1/namespaces/batch/pods",
        "/api/v1/namespaces/shop/pods",
    );
    assert_eq!(raw(&alice, "GET", batch, vec![]).await.0, 200);

    // the demo's policy, the developers no longer reading batch's pods
    let mut rules = tc.spec().policy.clone();
    let developers = rules
        .iter_mut()
        .find(|r| {
            r.namespaces.contains(&"batch".to_string()) && r.resources.contains(&"pods".to_string())
        })
        .expect("the demo lets developers read batch's pods");
    developers.namespaces.retain(|n| n != "batch");
    let body = serde_json::to_vec(&rules).unwrap();
    let (code, answer) = raw(&admin, "PUT", "/testcluster/admin/policy", body).await;
    assert_eq!(code, 200, "{answer}");
    let (code, answer) = raw(&alice, "GET", batch, vec![]).await;
    assert_eq!(code, 403, "{answer}");
    assert!(
        answer.contains(r#"User \"alice\" cannot list resource \"pods\""#),
        "{answer}"
    );
    assert_eq!(raw(&alice, "GET", shop, vec![]).await.0, 200);

    // a body that is not a policy changes nothing
    for bad in [
        &b"not: [a list"[..],
        br#"[{"subjects": ["alice"], "resources": ["*"], "verbs": ["*"]}]"#,
    ] {
        let (code, answer) = raw(&admin, "PUT", "/testcluster/admin/policy", bad.to_vec()).await;
        assert_eq!(code, 400, "{answer}");
    }
    assert_eq!(raw(&alice, "GET", batch, vec![]).await.0, 403);
    assert_eq!(raw(&alice, "GET", shop, vec![]).await.0, 200);
    // and only the admin token may change it
    let (code, _) = raw(&alice, "PUT", "/testcluster/admin/policy", b"[]".to_vec()).await;
    assert!(matches!(code, 401 | 403), "{code}");
}
