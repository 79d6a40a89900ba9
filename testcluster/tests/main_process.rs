//! Containers' main processes: their logs, restarts and attach, the same on both
//! clusters: the testcluster as the API server (kubectl 1.32, kube-rs) and the real
//! kube-apiserver with the testcluster as its node (kubectl 1.37, kube-rs).

use std::time::Duration;

use futures::{AsyncBufReadExt, SinkExt, StreamExt};
use k8s_openapi::api::core::v1::{ContainerStatus, Pod};
use kube::api::{Api, AttachParams, LogParams, TerminalSize};
use tokio::io::AsyncWriteExt;

mod both;
use both::{Side, read_within, until_size, wait_for};

const PODS: &str = r#"
- name: crasher
  namespace: NS
  containers:
    - name: app
      image: busybox:1.36
      command: [sh, -c, "echo starting; echo 'FATAL: no database' >&2; exit 3"]
- name: printer
  namespace: NS
  containers:
    - name: app
      image: busybox:1.36
      command: [sh, -c, "i=0; while :; do i=$((i+1)); echo line $i; sleep 0.2; done"]
- name: once
  namespace: NS
  restartPolicy: Never
  containers:
    - name: job
      image: busybox:1.36
      command: [sh, -c, "echo one; echo two; echo three"]
- name: idle
  namespace: NS
  containers:
    - name: app
      image: busybox:1.36
- name: repl
  namespace: NS
  containers:
    - name: app
      image: busybox:1.36
      command: [sh]
      stdin: true
      tty: true
- name: echo
  namespace: NS
  containers:
    - name: app
      image: busybox:1.36
      command: [sh, -c, "while read line; do echo got $line; done"]
      stdin: true
"#;

async fn status_of(pods: &Api<Pod>, name: &str) -> (String, ContainerStatus) {
    let pod = pods.get(name).await.unwrap();
    let status = pod.status.unwrap_or_default();
    let container = status
        .container_statuses
        .unwrap_or_default()
        .into_iter()
        .next()
        .unwrap_or_default();
    (status.phase.unwrap_or_default(), container)
}

/// A container that exits at once: restarted at once, then held in CrashLoopBackOff, its
/// last end reported, its current and previous logs readable.
async fn crash_loop(real: bool) {
    let ns = if real {
        "logs-crash-real"
    } else {
        "logs-crash"
    };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    let status = wait_for("CrashLoopBackOff", async || {
        let (_, c) = status_of(&pods, "crasher").await;
        let waiting = c.state.as_ref()?.waiting.as_ref()?;
        (waiting.reason.as_deref() == Some("CrashLoopBackOff")).then_some(c)
    })
    .await;
    assert!(status.restart_count >= 1, "{status:?}");
    let message = status.state.unwrap().waiting.unwrap().message.unwrap();
    assert!(
        message.starts_with("back-off 10s restarting failed container=app pod=crasher_"),
        "{message}"
    );
    let last = status.last_state.unwrap().terminated.unwrap();
    assert_eq!(last.exit_code, 3);
    assert_eq!(last.reason.as_deref(), Some("Error"));
    assert!(last.finished_at >= last.started_at);
    assert!(!status.ready);

    // stdout and stderr come through pipes of their own: their order is the runtime's.
    let sorted = |out: String| {
        let mut lines: Vec<String> = out.lines().map(str::to_string).collect();
        lines.sort();
        lines
    };
    let (out, err, ok) = side.kubectl_output(&["logs", "-n", ns, "crasher"]).await;
    assert!(ok, "{err}");
    assert_eq!(sorted(out), ["FATAL: no database", "starting"]);
    let (out, err, ok) = side
        .kubectl_output(&["logs", "-n", ns, "crasher", "--previous"])
        .await;
    assert!(ok, "{err}");
    assert_eq!(sorted(out), ["FATAL: no database", "starting"]);

    let (_, err, ok) = side
        .kubectl_output(&["logs", "-n", ns, "printer", "--previous"])
        .await;
    assert!(!ok);
    assert!(
        err.contains(r#"previous terminated container "app" in pod "printer" not found"#),
        "{err}"
    );
    let (_, err, ok) = side
        .kubectl_output(&["logs", "-n", ns, "printer", "-c", "nope"])
        .await;
    assert!(!ok);
    assert!(
        err.contains("container nope is not valid for pod printer"),
        "{err}"
    );
}

/// A running container's log: followed as it grows (kubectl -f, kube-rs), and read with
/// tail, timestamps, a byte limit and since.
async fn follow_and_options(real: bool) {
    let ns = if real {
        "logs-follow-real"
    } else {
        "logs-follow"
    };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    wait_for("printer running", async || {
        let (phase, c) = status_of(&pods, "printer").await;
        (phase == "Running" && c.ready).then_some(())
    })
    .await;

    let mut kubectl = side
        .kubectl(&["logs", "-f", "-n", ns, "printer"])
        .spawn()
        .unwrap();
    let stdout = kubectl.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let mut seen = Vec::new();
    while seen.len() < 8 {
        let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("a line within 10 s")
            .unwrap();
        let Some(line) = line else {
            let out = kubectl.wait_with_output().await.unwrap();
            panic!(
                "kubectl -f ended after {seen:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        seen.push(line);
    }
    let numbers: Vec<u32> = seen
        .iter()
        .map(|l| l.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert_eq!(
        numbers,
        (1..=8).collect::<Vec<_>>(),
        "in order, from the start"
    );
    drop(kubectl);

    let stream = pods
        .log_stream(
            "printer",
            &LogParams {
                follow: true,
                tail_lines: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut stream = stream.lines();
    let first: u32 = stream.next().await.unwrap().unwrap()["line ".len()..]
        .parse()
        .unwrap();
    let second: u32 = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap()["line ".len()..]
        .parse()
        .unwrap();
    assert!(first >= 8 && second == first + 1, "{first} then {second}");

    let tail = pods
        .logs(
            "printer",
            &LogParams {
                tail_lines: Some(3),
                timestamps: true,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let tail: Vec<&str> = tail.lines().collect();
    assert_eq!(tail.len(), 3, "{tail:?}");
    for line in &tail {
        let (time, text) = line.split_once(' ').unwrap();
        assert!(time.parse::<jiff::Timestamp>().is_ok(), "{line}");
        assert!(text.starts_with("line "), "{line}");
    }
    let limited = pods
        .logs(
            "printer",
            &LogParams {
                limit_bytes: Some(10),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(limited, "line 1\nlin");
    let recent = pods
        .logs(
            "printer",
            &LogParams {
                since_seconds: Some(1),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let count = recent.lines().count();
    assert!((2..=8).contains(&count), "{count} lines in the last second");

    // A container with no main process of its own has an empty log.
    let idle = pods.logs("idle", &LogParams::default()).await.unwrap();
    assert_eq!(idle, "");
}

/// A pod whose only container runs once (restartPolicy Never) has Succeeded, and its log
/// stays readable.
async fn run_once(real: bool) {
    let ns = if real { "logs-once-real" } else { "logs-once" };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    let status = wait_for("Succeeded", async || {
        let (phase, c) = status_of(&pods, "once").await;
        (phase == "Succeeded").then_some(c)
    })
    .await;
    let ended = status.state.unwrap().terminated.unwrap();
    assert_eq!(
        (ended.exit_code, ended.reason.as_deref()),
        (0, Some("Completed"))
    );
    assert_eq!(status.restart_count, 0);
    let (out, err, ok) = side.kubectl_output(&["logs", "-n", ns, "once"]).await;
    assert!(ok, "{err}");
    assert_eq!(out, "one\ntwo\nthree\n");
}

/// A container without a main process of its own has an empty log, and a follow of it
/// waits while it runs, as on a node, until its pod goes.
async fn follow_an_idle_container(real: bool) {
    let ns = if real { "logs-idle-real" } else { "logs-idle" };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    wait_for("idle to run", async || {
        let (_, c) = status_of(&pods, "idle").await;
        c.state?.running.map(|_| ())
    })
    .await;
    let mut follow = side
        .kubectl(&["logs", "-f", "-n", ns, "idle"])
        .spawn()
        .unwrap();
    let waited = tokio::time::timeout(Duration::from_secs(3), follow.wait()).await;
    assert!(waited.is_err(), "the follow ended at once: {waited:?}");
    side.delete_pod(ns, "idle").await;
    let ended = tokio::time::timeout(Duration::from_secs(30), follow.wait()).await;
    assert!(ended.is_ok(), "the follow outlived its pod");
}

/// Reads until `needle` shows up (or fails after 20 s).
async fn read_until(stdout: &mut (impl tokio::io::AsyncRead + Unpin), needle: &str) -> String {
    read_within(stdout, needle, Duration::from_secs(20))
        .await
        .unwrap_or_else(|text| panic!("no {needle:?} within 20 s: {text:?}"))
}

/// Attaching reaches the main process itself: a terminal that resizes, a detach that
/// leaves it running, and stdin without a terminal through kubectl.
async fn attach(real: bool) {
    let ns = if real { "attach-real" } else { "attach" };
    let side = Side::start(real, ns, PODS).await;
    let pods: Api<Pod> = Api::namespaced(side.admin().await, ns);
    for name in ["repl", "echo"] {
        wait_for("running", async || {
            let (_, c) = status_of(&pods, name).await;
            c.ready.then_some(())
        })
        .await;
    }
    let params = AttachParams::interactive_tty().container("app");
    let mut attached = pods.attach("repl", &params).await.unwrap();
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
    let said = until_size(&mut stdin, &mut stdout, "40 100").await;
    assert_eq!(said, "shell 1 has 40 100", "the main process itself");
    stdin
        .write_all(b"x=remembered; echo set-$((1+1))\n")
        .await
        .unwrap();
    read_until(&mut stdout, "set-2").await;
    drop((stdin, stdout, resize));
    attached.abort();

    // The same shell, still running, after the first client left.
    let mut again = pods.attach("repl", &params).await.unwrap();
    let mut stdin = again.stdin().unwrap();
    let mut stdout = again.stdout().unwrap();
    stdin.write_all(b"echo still $x\n").await.unwrap();
    read_until(&mut stdout, "still remembered").await;
    again.abort();
    let (_, c) = status_of(&pods, "repl").await;
    assert_eq!(c.restart_count, 0, "detaching did not end it");

    let mut kubectl = side.kubectl(&["attach", "-i", "-n", ns, "echo"]);
    kubectl.stdin(std::process::Stdio::piped());
    let mut child = kubectl.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    let mut output = child.stdout.take().unwrap();
    input.write_all(b"hello\n").await.unwrap();
    read_until(&mut output, "got hello").await;
}

#[tokio::test]
async fn attach_on_the_testcluster() {
    attach(false).await;
}

#[tokio::test]
async fn attach_through_the_real_api_server() {
    attach(true).await;
}

#[tokio::test]
async fn a_crash_loop_on_the_testcluster() {
    crash_loop(false).await;
}

#[tokio::test]
async fn a_crash_loop_through_the_real_api_server() {
    crash_loop(true).await;
}

#[tokio::test]
async fn following_a_log_on_the_testcluster() {
    follow_and_options(false).await;
}

#[tokio::test]
async fn following_a_log_through_the_real_api_server() {
    follow_and_options(true).await;
}

#[tokio::test]
async fn following_an_idle_container_on_the_testcluster() {
    follow_an_idle_container(false).await;
}

#[tokio::test]
async fn following_an_idle_container_through_the_real_api_server() {
    follow_an_idle_container(true).await;
}

#[tokio::test]
async fn a_job_that_ran_once_on_the_testcluster() {
    run_once(false).await;
}

#[tokio::test]
async fn a_job_that_ran_once_through_the_real_api_server() {
    run_once(true).await;
}
