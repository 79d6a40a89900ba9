//! The machine's real kubectl (v1.32) against a started testcluster.

mod common;

use std::os::fd::OwnedFd;
use std::time::Duration;

use common::{kubectl, kubectl_with_stdin, start, text};

#[tokio::test]
async fn get_namespaces_and_pods() {
    let tc = start().await;
    let out = kubectl(&tc, &["get", "namespaces"]).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(table.starts_with("NAME"), "{table}");
    for ns in ["default", "kube-system", "shop", "batch"] {
        assert!(table.contains(ns), "{ns} missing from {table}");
    }

    // Main processes make these states within a second: the worker crash-loops (held back
    // after two starts), the job completes, the web pods' sidecars start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let table = loop {
        let out = kubectl(&tc, &["get", "pods", "-A"]).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
        let table = text(&out.stdout);
        let settled =
            |name: &str, state: &str| table.lines().any(|l| l.contains(name) && l.contains(state));
        let all = settled("worker-0", "CrashLoopBackOff")
            && settled("db-migrate-29xkq", "Completed")
            && settled("web-7d4b9c6f5-abcde", "2/2");
        if all || std::time::Instant::now() > deadline {
            break table;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAMESPACE", "NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("{name} in {table}"))
            .to_string()
    };
    assert!(
        row("worker-0").contains("1/2") && row("worker-0").contains("CrashLoopBackOff"),
        "{}",
        row("worker-0")
    );
    assert!(
        row("worker-0").contains(" (") && row("worker-0").contains(" ago)"),
        "restarts with last restart age: {}",
        row("worker-0")
    );
    assert!(row("db-migrate-29xkq").contains("Completed"));
    assert!(row("report-gen-pending").contains("Pending"));
    assert!(row("web-7d4b9c6f5-abcde").contains("2/2"));

    let out = kubectl(
        &tc,
        &["get", "pods", "-n", "shop", "-l", "app=web", "-o", "name"],
    )
    .await;
    assert_eq!(
        text(&out.stdout).lines().count(),
        2,
        "{}",
        text(&out.stdout)
    );
}

#[tokio::test]
async fn get_pod_as_json() {
    let tc = start().await;
    let out = kubectl(
        &tc,
        &[
            "get",
            "pod",
            "web-7d4b9c6f5-abcde",
            "-n",
            "shop",
            "-o",
            "json",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let pod: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(pod["kind"], "Pod");
    assert_eq!(
        pod["metadata"]["annotations"]["kubectl.kubernetes.io/default-container"],
        "web"
    );
    assert!(pod["metadata"]["uid"].as_str().unwrap().len() == 36);
    assert!(pod["metadata"]["resourceVersion"].as_str().is_some());
    assert_eq!(pod["spec"]["nodeName"], "node-1");
    assert_eq!(
        pod["status"]["containerStatuses"].as_array().unwrap().len(),
        2
    );

    let out = kubectl(&tc, &["get", "pod", "nope"]).await;
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Error from server (NotFound): pods \"nope\" not found"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn exec_reports_the_exit_code() {
    let tc = start().await;
    let out = kubectl(
        &tc,
        &["exec", "toolbox", "--", "sh", "-c", "echo ok; exit 3"],
    )
    .await;
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "ok\n");
    assert!(
        text(&out.stderr).contains("command terminated with exit code 3"),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test]
async fn exec_with_piped_stdin() {
    let tc = start().await;
    let input = b"line one\nline two\n";
    let out = kubectl_with_stdin(
        &tc,
        &[
            "exec",
            "-i",
            "busybox",
            "--",
            "sh",
            "-c",
            "wc -l; command -v bash || echo no-bash",
        ],
        Some(input),
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.trim_start().starts_with('2'), "{stdout}");
    assert!(stdout.contains("no-bash"), "busybox has no bash: {stdout}");
}

#[tokio::test]
async fn exec_denied_and_impersonation() {
    let tc = start().await;
    // bob may look at shop's pods but never exec
    let out = kubectl(
        &tc,
        &[
            "--context",
            "bob@demo",
            "exec",
            "-n",
            "shop",
            "web-7d4b9c6f5-abcde",
            "--",
            "true",
        ],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("Forbidden")
            && err.contains("User \"bob\" cannot")
            && err.contains("pods/exec"),
        "{err}"
    );

    // the proxy user may impersonate; the impersonated identity is what the policy checks
    let out = kubectl(
        &tc,
        &[
            "--context",
            "proxy@demo",
            "--as",
            "alice",
            "--as-group",
            "developers",
            "exec",
            "-n",
            "shop",
            "web-7d4b9c6f5-abcde",
            "-c",
            "web",
            "--",
            "printenv",
            "SHOP_MODE",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "production\n");
    let out = kubectl(
        &tc,
        &[
            "--context",
            "proxy@demo",
            "--as",
            "bob",
            "--as-group",
            "viewers",
            "exec",
            "-n",
            "shop",
            "web-7d4b9c6f5-abcde",
            "--",
            "true",
        ],
    )
    .await;
    assert!(
        text(&out.stderr).contains("User \"bob\" cannot"),
        "{}",
        text(&out.stderr)
    );

    // alice may not impersonate anyone; since 1.36 the refusal names the constrained
    // impersonation verb on the request (the real kube-apiserver's words)
    let out = kubectl(
        &tc,
        &["--context", "alice@demo", "--as", "admin", "get", "pods"],
    )
    .await;
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(
            "pods is forbidden: User \"alice\" cannot impersonate-on:user-info:list resource \"pods\" in API group \"\" in the namespace \"shop\""
        ),
        "{err}"
    );
}

#[tokio::test]
async fn client_certificate_user() {
    let tc = start().await;
    let out = kubectl(
        &tc,
        &[
            "--context",
            "carol@demo",
            "get",
            "pods",
            "-n",
            "shop",
            "-o",
            "name",
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = kubectl(
        &tc,
        &[
            "--context",
            "carol@demo",
            "get",
            "pods",
            "-n",
            "kube-system",
        ],
    )
    .await;
    assert!(
        text(&out.stderr).contains("User \"carol\" cannot list resource \"pods\""),
        "{}",
        text(&out.stderr)
    );
}

/// `kubectl exec -it` under a real pseudo-terminal: the shell sees the terminal's size
/// and every resize of it.
#[tokio::test]
async fn interactive_exec_follows_resizes() {
    let tc = start().await;
    let (master, slave) = testcluster::runtime::pty::open(100, 30).unwrap();
    let stdio = |fd: &OwnedFd| std::process::Stdio::from(fd.try_clone().unwrap());
    let mut cmd = tokio::process::Command::new("kubectl");
    cmd.arg("--kubeconfig")
        .arg(tc.kubeconfig_path())
        .args([
            "exec",
            "-it",
            "toolbox",
            "--",
            "bash",
            "--norc",
            "--noprofile",
        ])
        .stdin(stdio(&slave))
        .stdout(stdio(&slave))
        .stderr(stdio(&slave))
        .kill_on_drop(true);
    // SAFETY: setsid and ioctl are async-signal-safe.
    unsafe {
        cmd.pre_exec(|| {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            if libc::ioctl(0, libc::TIOCSCTTY, 0) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().unwrap();
    drop(slave);
    let mut screen = String::new();
    let read_until = async |needle: &str, screen: &mut String| {
        let mut buf = [0u8; 4096];
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !screen.contains(needle) {
            let n = tokio::time::timeout_at(deadline, master.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("waiting for {needle:?}; screen: {screen:?}"))
                .unwrap();
            assert!(n > 0, "kubectl closed; screen: {screen:?}");
            screen.push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    };
    master
        .write_all(b"stty size | sed 's/^/size:/'\n")
        .await
        .unwrap();
    read_until("size:30 100", &mut screen).await;
    master.resize(132, 43).unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    master
        .write_all(b"stty size | sed 's/^/size:/'\n")
        .await
        .unwrap();
    read_until("size:43 132", &mut screen).await;
    master.write_all(b"exit 4\n").await.unwrap();
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status.code(), Some(4));
}
