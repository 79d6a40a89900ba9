//! Which processes live in a container, after exits and client drops, in both disconnect modes.

mod common;

use std::time::Duration;

use common::{collect, eventually, exec, exec_processes, send, start, start_hangup};

const SHELL: &[&str] = &["sh"];

#[tokio::test]
async fn clean_exit_leaves_nothing() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "toolbox", "shell", SHELL, true).await;
    send(&mut socket, 0, b"sleep 0.2; exit 0\n").await;
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    assert_eq!(done.status_json()["status"], "Success", "{done:?}");
    assert!(done.closed_normally);
    eventually(Duration::from_secs(5), "no exec processes left", || async {
        exec_processes(&tc, "default", "toolbox", "shell")
            .await
            .is_empty()
    })
    .await;
    let all = tc.processes("default", "toolbox", "shell").await;
    assert!(
        all.iter().any(|p| p.main && p.pid == 1),
        "the main process is PID 1: {all:?}"
    );
}

#[tokio::test]
async fn linger_keeps_the_shell_and_its_setsid_children() {
    let tc = start().await;
    let mut socket = exec(&tc, "default", "busybox", "busybox", SHELL, true).await;
    send(
        &mut socket,
        0,
        b"setsid sleep 1000 & sleep 999 & echo sta''rted\n",
    )
    .await;
    collect(&mut socket, Some("started\r\n"), Duration::from_secs(20)).await;
    drop(socket); // the client vanishes without a close

    tokio::time::sleep(Duration::from_secs(1)).await;
    let left = exec_processes(&tc, "default", "busybox", "busybox").await;
    let commands: Vec<String> = left.iter().map(|p| p.command.join(" ")).collect();
    assert!(
        commands.iter().any(|c| c == "sh"),
        "the shell lingers: {commands:?}"
    );
    assert!(
        commands.iter().any(|c| c == "sleep 1000"),
        "the setsid job lingers: {commands:?}"
    );
    assert!(
        commands.iter().any(|c| c == "sleep 999"),
        "the background job lingers: {commands:?}"
    );
}

#[tokio::test]
async fn hangup_ends_everything_of_the_session() {
    let tc = start_hangup().await;
    let mut socket = exec(
        &tc,
        "default",
        "toolbox",
        "shell",
        &["bash", "--norc"],
        true,
    )
    .await;
    send(
        &mut socket,
        0,
        b"trap '' HUP; sleep 1000 & echo sta''rted\n",
    )
    .await;
    collect(&mut socket, Some("started\r\n"), Duration::from_secs(20)).await;
    assert!(
        exec_processes(&tc, "default", "toolbox", "shell")
            .await
            .len()
            >= 2
    );
    drop(socket);
    eventually(
        Duration::from_secs(10),
        "hangup leaves 0 exec processes",
        || async {
            exec_processes(&tc, "default", "toolbox", "shell")
                .await
                .is_empty()
        },
    )
    .await;
}

#[tokio::test]
async fn kill_minus_one_stays_inside_the_pod() {
    let tc = start().await;
    assert!(
        tc.isolated(),
        "these tests run as root, where pods are isolated"
    );
    let mut bystander = tokio::process::Command::new("sleep")
        .arg("60")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut socket = exec(
        &tc,
        "default",
        "toolbox",
        "shell",
        &["sh", "-c", "kill -9 -1; echo after"],
        false,
    )
    .await;
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    assert_eq!(String::from_utf8_lossy(&done.stdout), "after\n");
    assert!(
        bystander.try_wait().unwrap().is_none(),
        "a host process was killed from inside a pod"
    );
    let main = tc.processes("default", "toolbox", "shell").await;
    assert!(
        main.iter().any(|p| p.main),
        "the container's PID 1 survives: {main:?}"
    );

    // and the pod's own view: its hostname, its /proc, no bash in busybox
    let mut socket = exec(
        &tc,
        "default",
        "busybox",
        "busybox",
        &[
            "sh",
            "-c",
            "hostname; ls /proc | grep -c '^[0-9]'; command -v bash || echo none",
        ],
        false,
    )
    .await;
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    let out = done.stdout_text();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "busybox");
    let visible: usize = lines[1].parse().unwrap();
    assert!(
        visible < 10,
        "only the pod's processes are visible, saw {visible}"
    );
    assert_eq!(lines[2], "none");
}

#[tokio::test]
async fn deleting_a_pod_ends_its_processes_and_its_execs() {
    let tc = start().await;
    let mut socket = exec(&tc, "batch", "etl-1", "etl", SHELL, true).await;
    send(&mut socket, 0, b"echo rea''dy\n").await;
    collect(&mut socket, Some("ready\r\n"), Duration::from_secs(20)).await;
    tc.delete_pod("batch", "etl-1").unwrap();
    let done = collect(&mut socket, None, Duration::from_secs(20)).await;
    let status = done.status_json();
    assert_eq!(status["status"], "Failure", "{status}");
    assert_eq!(
        status["details"]["causes"][0]["message"], "137",
        "SIGKILL: {status}"
    );
    assert!(tc.processes("batch", "etl-1", "etl").await.is_empty());
}
