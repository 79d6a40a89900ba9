//! The two clusters every test here runs on: the testcluster as the API server (kubectl
//! 1.32, kube-rs) and the real kube-apiserver with the testcluster as its node (kubectl
//! 1.37, kube-rs).
#![allow(dead_code)]

use std::time::{Duration, Instant};

use testcluster::{ClusterSpec, Config, PodSpec, TestCluster};
use testenv::{ControlPlane, User};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One of the two clusters, with the pods a test made in its own namespace.
pub enum Side {
    Test(TestCluster),
    Real(&'static ControlPlane),
}

impl Side {
    /// The cluster, with `pods` (their namespace written `NS`) made in `namespace`.
    pub async fn start(real: bool, namespace: &str, pods: &str) -> Self {
        let pods: Vec<PodSpec> = serde_yaml::from_str(
            &pods.replace("namespace: NS", &format!("namespace: {namespace}")),
        )
        .unwrap();
        if real {
            let cp = ControlPlane::shared()
                .await
                .unwrap_or_else(|e| panic!("{e}"));
            cp.namespace(namespace).await.unwrap();
            for pod in &pods {
                cp.create_pod(pod).await.unwrap();
            }
            return Side::Real(cp);
        }
        let mut spec = ClusterSpec::demo();
        spec.namespaces
            .push(serde_yaml::from_str(&format!("name: {namespace}")).unwrap());
        spec.pods.extend(pods);
        Side::Test(TestCluster::start(Config::new(spec)).await.unwrap())
    }

    pub async fn admin(&self) -> kube::Client {
        match self {
            Side::Test(tc) => {
                let kubeconfig = kube::config::Kubeconfig::from_yaml(tc.kubeconfig_yaml()).unwrap();
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
                    .await
                    .unwrap();
                kube::Client::try_from(config).unwrap()
            }
            Side::Real(cp) => cp.client(User::Admin).await.unwrap(),
        }
    }

    /// Deletes a pod (the testcluster's API server serves no DELETE: its own controls).
    pub async fn delete_pod(&self, namespace: &str, name: &str) {
        match self {
            Side::Test(tc) => tc.delete_pod(namespace, name).unwrap(),
            Side::Real(cp) => cp.delete_pod(namespace, name).await.unwrap(),
        }
    }

    /// A client as `user` (`alice`, `bob`, ...).
    pub async fn client(&self, user: User) -> kube::Client {
        match self {
            Side::Test(tc) => {
                let name = format!("{user:?}").to_lowercase();
                let kubeconfig = kube::config::Kubeconfig::from_yaml(tc.kubeconfig_yaml()).unwrap();
                let options = kube::config::KubeConfigOptions {
                    context: Some(testcluster::kubeconfig::context_name(&name, "demo")),
                    ..Default::default()
                };
                let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .unwrap();
                kube::Client::try_from(config).unwrap()
            }
            Side::Real(cp) => cp.client(user).await.unwrap(),
        }
    }

    /// The machine's kubectl 1.32 on the testcluster, kubectl 1.37 on the real one.
    pub fn kubectl(&self, args: &[&str]) -> tokio::process::Command {
        let mut command = match self {
            Side::Test(tc) => {
                let mut command = tokio::process::Command::new("kubectl");
                command.arg("--kubeconfig").arg(tc.kubeconfig_path());
                command
            }
            Side::Real(cp) => cp.kubectl(User::Admin),
        };
        command
            .args(args)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true);
        command
    }

    pub async fn kubectl_output(&self, args: &[&str]) -> (String, String, bool) {
        let out = tokio::time::timeout(Duration::from_secs(30), self.kubectl(args).output())
            .await
            .expect("kubectl within 30 s")
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.success(),
        )
    }
}

/// Waits up to 30 s for `check` to give a value.
pub async fn wait_for<T>(what: &str, mut check: impl AsyncFnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what}: not within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Reads until `needle` shows up; what was read instead if it did not within `time`.
pub async fn read_within(
    stdout: &mut (impl tokio::io::AsyncRead + Unpin),
    needle: &str,
    time: Duration,
) -> Result<String, String> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    let deadline = tokio::time::Instant::now() + time;
    while !String::from_utf8_lossy(&seen).contains(needle) {
        let read = tokio::time::timeout_at(deadline, stdout.read(&mut buf)).await;
        let text = String::from_utf8_lossy(&seen).into_owned();
        let n = read.map_err(|_| text.clone())?.unwrap();
        assert!(n > 0, "ended before {needle:?}: {text:?}");
        seen.extend_from_slice(&buf[..n]);
    }
    Ok(String::from_utf8_lossy(&seen).into_owned())
}

/// Asks the shell for its terminal size until it has `size` (`ROWS COLS`), the one sent,
/// and gives the line that said so: `shell PID has ROWS COLS`. The size travels on a
/// stream of its own beside stdin's (through the API server, and on to a kubelet), so the
/// first command may be read before it is applied.
pub async fn until_size(
    stdin: &mut (impl tokio::io::AsyncWrite + Unpin),
    stdout: &mut (impl tokio::io::AsyncRead + Unpin),
    size: &str,
) -> String {
    // The terminal's echo of the command reads `has $(stty size)`, never this.
    let needle = format!("has {size}");
    let mut seen = Vec::new();
    for _ in 0..20 {
        stdin
            .write_all(b"echo shell $$ has $(stty size)\n")
            .await
            .unwrap();
        match read_within(stdout, &needle, Duration::from_secs(1)).await {
            Ok(text) => {
                let line = text.lines().find(|line| line.contains(&needle)).unwrap();
                return line.trim_end_matches('\r').to_owned();
            }
            Err(text) => seen.push(text),
        }
    }
    panic!("the shell never had the size {size}: {seen:?}");
}
