//! kube-rs 5 against a started testcluster: list, watch, exec with a terminal.

mod common;

use std::time::Duration;

use futures::{SinkExt, StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{Namespace, Pod};
use kube::api::{Api, AttachParams, ListParams, TerminalSize};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use common::{client, start};

#[tokio::test]
async fn list_with_selectors_and_paging() {
    let tc = start().await;
    let client = client(&tc, "admin").await;
    let namespaces: Api<Namespace> = Api::all(client.clone());
    assert_eq!(
        namespaces
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        tc.spec().namespaces.len()
    );

    let pods: Api<Pod> = Api::all(client.clone());
    let all = pods.list(&ListParams::default()).await.unwrap();
    assert_eq!(all.items.len(), tc.spec().pods.len());

    let shop: Api<Pod> = Api::namespaced(client.clone(), "shop");
    let web = shop
        .list(&ListParams::default().labels("app=web,tier in (frontend)"))
        .await
        .unwrap();
    assert_eq!(web.items.len(), 2);
    let running = pods
        .list(&ListParams::default().fields("status.phase=Running"))
        .await
        .unwrap();
    assert!(
        running
            .items
            .iter()
            .all(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Running"))
    );
    let by_name = pods
        .list(&ListParams::default().fields("metadata.name=toolbox"))
        .await
        .unwrap();
    assert_eq!(by_name.items.len(), 1);

    // limit/continue walks every pod exactly once
    let mut seen = Vec::new();
    let mut params = ListParams::default().limit(2);
    loop {
        let page = pods.list(&params).await.unwrap();
        assert!(page.items.len() <= 2);
        seen.extend(page.items.iter().map(|p| p.metadata.name.clone().unwrap()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    let mut expected: Vec<String> = all
        .items
        .iter()
        .map(|p| p.metadata.name.clone().unwrap())
        .collect();
    expected.sort();
    seen.sort();
    assert_eq!(seen, expected);

    let err = pods
        .list(&ListParams::default().labels("a in b"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 400),
        "{err:?}"
    );
}

#[tokio::test]
async fn watcher_sees_pods_added_changed_and_deleted() {
    let tc = start().await;
    let pods: Api<Pod> = Api::namespaced(client(&tc, "admin").await, "batch");
    let mut events = watcher(pods, watcher::Config::default()).boxed();
    // the initial list
    let mut initial = Vec::new();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            watcher::Event::Init => {}
            watcher::Event::InitApply(pod) => initial.push(pod.metadata.name.unwrap()),
            watcher::Event::InitDone => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    initial.sort();
    assert_eq!(initial, ["etl-1", "report-gen-pending"]);

    let mut new_pod = tc.spec().pod("etl-1").unwrap().clone();
    new_pod.name = "etl-2".into();
    tc.put_pod(new_pod).unwrap();
    tc.update_pod("batch", "etl-2", |p| {
        p.annotations.insert("note".into(), "changed".into());
    })
    .unwrap();
    tc.delete_pod("batch", "etl-2").unwrap();

    let mut seen = Vec::new();
    while seen.len() < 3 {
        match tokio::time::timeout(Duration::from_secs(10), events.try_next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            watcher::Event::Apply(pod) => {
                let note = pod
                    .metadata
                    .annotations
                    .and_then(|a| a.get("note").cloned());
                seen.push(format!(
                    "apply {} {}",
                    pod.metadata.name.unwrap(),
                    note.unwrap_or_default()
                ));
            }
            watcher::Event::Delete(pod) => {
                seen.push(format!("delete {}", pod.metadata.name.unwrap()))
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        ["apply etl-2 ", "apply etl-2 changed", "delete etl-2"]
    );
}

#[tokio::test]
async fn watcher_relists_after_410() {
    let tc = start().await;
    let pods: Api<Pod> = Api::namespaced(client(&tc, "admin").await, "batch");
    // with backoff, as applications use it: a refused connection is retried, not spun on
    let mut events = watcher(pods, watcher::Config::default())
        .default_backoff()
        .boxed();
    let mut inits = 0;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let mut compacted = false;
    while inits < 2 {
        let next = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("relist after 410");
        match next.unwrap() {
            Ok(watcher::Event::Init) => inits += 1,
            Ok(watcher::Event::InitDone) if !compacted => {
                // A change elsewhere, then forget history and end the watch: the client
                // resumes from a version older than any the server still knows.
                compacted = true;
                let mut pod = tc.spec().pods[0].clone();
                pod.name = "trigger".into();
                pod.namespace = "default".into();
                tc.put_pod(pod).unwrap();
                tc.compact();
                tc.restart_listener(Duration::from_millis(100)).unwrap();
            }
            Ok(_) => {}
            // the dropped connection and the 410 surface as errors before the relist
            Err(_) => {}
        }
    }
}

#[tokio::test]
async fn exec_with_a_terminal() {
    let tc = start().await;
    let pods: Api<Pod> = Api::namespaced(client(&tc, "admin").await, "default");
    let mut process = pods
        .exec(
            "toolbox",
            ["sh"],
            &AttachParams::interactive_tty().container("shell"),
        )
        .await
        .expect("exec starts");
    let mut stdin = process.stdin().unwrap();
    let mut stdout = process.stdout().unwrap();
    let mut sizes = process.terminal_size().unwrap();
    sizes
        .send(TerminalSize {
            width: 91,
            height: 17,
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stdin
        .write_all(b"stty size | sed 's/^/size:/'; exit 5\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stdout.read_to_end(&mut out)).await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("size:17 91"), "{out}");
    let status = tokio::time::timeout(Duration::from_secs(20), process.take_status().unwrap())
        .await
        .unwrap()
        .expect("a status arrives");
    let code = status
        .details
        .and_then(|d| d.causes)
        .and_then(|c| {
            c.into_iter()
                .find(|c| c.reason.as_deref() == Some("ExitCode"))
        })
        .and_then(|c| c.message);
    assert_eq!(code.as_deref(), Some("5"));
    assert_eq!(status.reason.as_deref(), Some("NonZeroExitCode"));
}

#[tokio::test]
async fn exec_success_status_and_stderr() {
    let tc = start().await;
    let pods: Api<Pod> = Api::namespaced(client(&tc, "admin").await, "default");
    let params = AttachParams::default()
        .stdin(false)
        .stdout(true)
        .stderr(true);
    let mut process = pods
        .exec("busybox", ["sh", "-c", "echo out; echo err >&2"], &params)
        .await
        .unwrap();
    let mut stdout = process.stdout().unwrap();
    let mut stderr = process.stderr().unwrap();
    let (mut out, mut err) = (String::new(), String::new());
    let reads = async {
        stdout.read_to_string(&mut out).await.unwrap();
        stderr.read_to_string(&mut err).await.unwrap();
    };
    tokio::time::timeout(Duration::from_secs(20), reads)
        .await
        .unwrap();
    assert_eq!((out.as_str(), err.as_str()), ("out\n", "err\n"));
    let status = process.take_status().unwrap().await.unwrap();
    assert_eq!(status.status.as_deref(), Some("Success"));
}
