//! The two servers under test, each its own process so its CPU time and memory can be read
//! apart: a testcluster with the bench's pods, and podterm pointed at it.

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use base64::Engine;
use serde_yaml::Value;
use tokio::process::{Child, Command};

use crate::Error;

/// The namespace of the pod every terminal opens in.
pub const NAMESPACE: &str = "bench";
pub const POD: &str = "shell";
pub const CONTAINER: &str = "shell";
/// The namespace with many pods, for the dashboard render.
pub const CROWDED: &str = "crowded";

/// A child process that is stopped when dropped, or one only watched (the real
/// kube-apiserver, whose life the harness owns).
pub struct Process {
    child: Option<Child>,
    pid: u32,
    name: &'static str,
}

impl Process {
    fn child(child: Child, name: &'static str) -> Self {
        Self {
            pid: child.id().unwrap_or(0),
            child: Some(child),
            name,
        }
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// SIGTERM, then SIGKILL after `grace`; a watched process is left alone.
    pub async fn stop(self, grace: Duration) {
        let Some(mut child) = self.child else {
            return;
        };
        if let Some(pid) = child.id() {
            let pid = nix::unistd::Pid::from_raw(pid as i32);
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM);
            if tokio::time::timeout(grace, child.wait()).await.is_err() {
                eprintln!("{} did not stop within {grace:?}; killing it", self.name);
                let _ = child.kill().await;
            }
        }
    }

    /// Waits until `ready` says the process is up; fails if it exits first or takes 30 s.
    async fn wait_until<F: Future<Output = bool>>(
        &mut self,
        what: &str,
        mut ready: impl FnMut() -> F,
    ) -> Result<(), Error> {
        let started = Instant::now();
        while !ready().await {
            if let Some(status) = self
                .child
                .as_mut()
                .map(|c| c.try_wait())
                .transpose()?
                .flatten()
            {
                return Err(format!("{} stopped at start ({status})", self.name).into());
            }
            if started.elapsed() > Duration::from_secs(30) {
                return Err(format!("{} {what} within 30 s", self.name).into());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Resident memory in bytes, from /proc.
    pub fn rss(&self) -> Result<u64, Error> {
        Self::rss_of(self.pid()).map_err(|e| format!("{}: {e}", self.name).into())
    }

    /// A process's resident memory in bytes, from /proc.
    pub fn rss_of(pid: u32) -> Result<u64, Error> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| format!("cannot read its memory: {e}"))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kib| kib * 1024)
            .ok_or_else(|| "no VmRSS".into())
    }

    /// User plus system CPU time used so far.
    pub fn cpu(&self) -> Result<Duration, Error> {
        ticks_of(self.pid()).ok_or_else(|| format!("cannot read {}'s CPU time", self.name).into())
    }
}

/// CPU time used so far by the kernel's own threads (those kthreadd starts: memory
/// reclaim, workqueues, softirqs). On a virtual machine they can take a core's share in
/// long stretches, which the processes measured then wait for.
pub fn kernel_threads_cpu() -> Duration {
    ticks_to_time(kernel_threads().map(|(_, ticks)| ticks).sum())
}

/// The kernel's own threads: the processes whose parent is kthreadd.
pub fn kernel_thread_pids() -> Vec<u32> {
    kernel_threads().map(|(pid, _)| pid).collect()
}

/// Each kernel thread's pid and its user plus system ticks, from one read of its stat.
fn kernel_threads() -> impl Iterator<Item = (u32, u64)> {
    const KTHREADD: u64 = 2;
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (parent, ticks) = parent_and_ticks(&stat)?;
            (parent == KTHREADD).then_some((pid, ticks))
        })
}

/// A process's user plus system CPU time so far; `None` once it has gone.
pub fn ticks_of(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    parent_and_ticks(&stat).map(|(_, ticks)| ticks_to_time(ticks))
}

/// The whole machine's CPU time so far, all cores together (`/proc/stat`).
#[derive(Debug, Clone, Copy, Default)]
pub struct MachineCpu {
    /// Running anything: users', the kernel's, interrupts'.
    pub busy: Duration,
    /// Taken by the virtual machine's host while this machine wanted to run.
    pub stolen: Duration,
    /// Busy, stolen, idle and waiting for disks: the cores' whole time.
    pub all: Duration,
}

impl MachineCpu {
    pub fn now() -> MachineCpu {
        std::fs::read_to_string("/proc/stat")
            .ok()
            .and_then(|stat| machine_ticks(&stat))
            .map(|[busy, stolen, all]| MachineCpu {
                busy: ticks_to_time(busy),
                stolen: ticks_to_time(stolen),
                all: ticks_to_time(all),
            })
            .unwrap_or_default()
    }
}

/// Busy, stolen and all ticks from the `cpu` line of `/proc/stat`.
fn machine_ticks(stat: &str) -> Option<[u64; 3]> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().ok())
        .collect::<Option<_>>()?;
    // user nice system idle iowait irq softirq steal (guest time is already in user's).
    let [user, nice, system, idle, iowait, irq, softirq, steal] = *fields.get(..8)? else {
        return None;
    };
    let busy = user + nice + system + irq + softirq;
    Some([busy, steal, busy + steal + idle + iowait])
}

/// The parent's pid and the user plus system ticks of a `/proc/PID/stat` line.
fn parent_and_ticks(stat: &str) -> Option<(u64, u64)> {
    // The command name may hold spaces; fields after it are fixed.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let number = |i: usize| fields.get(i).and_then(|v| v.parse::<u64>().ok());
    // ppid, utime and stime are fields 4, 14 and 15 of the line (1, 11 and 12 after the name).
    Some((number(1)?, number(11)? + number(12)?))
}

fn ticks_to_time(ticks: u64) -> Duration {
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as f64;
    Duration::from_secs_f64(ticks as f64 / hz)
}

/// Where the binaries and the built site are.
#[derive(Debug, Clone)]
pub struct Binaries {
    pub podterm: PathBuf,
    pub testcluster: PathBuf,
    pub site_root: PathBuf,
    pub leptos_toml: PathBuf,
}

pub struct Cluster {
    pub process: Process,
    pub addr: SocketAddr,
    pub token: String,
    pub ca_pem: Vec<u8>,
    pub kubeconfig: PathBuf,
    /// The testcluster's own controls (none on the real control plane).
    pub admin_token: Option<String>,
}

pub struct Podterm {
    pub process: Process,
    pub addr: SocketAddr,
    pub token: String,
}

/// The demo cluster's users and policy, plus the bench's namespaces and pods.
pub fn state(crowded_pods: usize) -> Result<String, Error> {
    let mut spec: Value = serde_yaml::from_str(include_str!("../../testcluster/demo.yaml"))?;
    let namespaces = spec["namespaces"]
        .as_sequence_mut()
        .ok_or("the demo state has no namespaces")?;
    for name in [NAMESPACE, CROWDED] {
        namespaces.push(serde_yaml::from_str(&format!("name: {name}"))?);
    }
    let pods = spec["pods"]
        .as_sequence_mut()
        .ok_or("the demo state has no pods")?;
    // busybox: the same small shell and tools on every machine, and a shell whose start-up
    // is not the machine's own dotfiles (the host image would run root's .bashrc).
    pods.push(serde_yaml::from_str(&format!(
        "{{name: {POD}, namespace: {NAMESPACE}, containers: [{{name: {CONTAINER}, image: 'busybox:1.36'}}]}}"
    ))?);
    for i in 0..crowded_pods {
        pods.push(serde_yaml::from_str(&format!(
            "{{name: worker-{i:05}, namespace: {CROWDED}, labels: {{app: worker}}, age: 3h, \
             containers: [{{name: app, image: 'registry.example.com/shop/web:2.4.1'}}, \
             {{name: sidecar, image: 'busybox:1.36'}}]}}"
        ))?);
    }
    Ok(serde_yaml::to_string(&spec)?)
}

/// Server output goes to files next to the state (audit lines would drown the report).
fn log_file(dir: &Path, name: &str) -> Result<Stdio, Error> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(name))?;
    Ok(Stdio::from(file))
}

fn free_addr() -> Result<SocketAddr, Error> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

pub async fn start_cluster(bin: &Binaries, dir: &Path, crowded: usize) -> Result<Cluster, Error> {
    let state_file = dir.join("state.yaml");
    std::fs::write(&state_file, state(crowded)?)?;
    let kubeconfig = dir.join("kubeconfig.yaml");
    let _ = std::fs::remove_file(&kubeconfig);
    let addr = free_addr()?;
    let child = Command::new(&bin.testcluster)
        .arg("--state")
        .arg(&state_file)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--kubeconfig-out")
        .arg(&kubeconfig)
        .arg("--admin-token-out")
        .arg(dir.join("admin-token"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log_file(dir, "testcluster.log")?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.testcluster.display()))?;
    let mut process = Process::child(child, "testcluster");
    process
        .wait_until("wrote no kubeconfig", || {
            let written = std::fs::metadata(&kubeconfig).is_ok_and(|m| m.len() > 0);
            async move { written }
        })
        .await?;
    let config: Value = serde_yaml::from_str(&std::fs::read_to_string(&kubeconfig)?)?;
    let cluster = &config["clusters"][0]["cluster"];
    let ca_pem = base64::engine::general_purpose::STANDARD.decode(
        cluster["certificate-authority-data"]
            .as_str()
            .ok_or("kubeconfig without a CA")?,
    )?;
    let current = config["current-context"].as_str().unwrap_or_default();
    let user = config["contexts"]
        .as_sequence()
        .and_then(|c| c.iter().find(|c| c["name"].as_str() == Some(current)))
        .and_then(|c| c["context"]["user"].as_str())
        .ok_or("kubeconfig without a current context")?;
    let token = config["users"]
        .as_sequence()
        .and_then(|u| u.iter().find(|u| u["name"].as_str() == Some(user)))
        .and_then(|u| u["user"]["token"].as_str())
        .ok_or("the current user has no token")?
        .to_string();
    let admin_token = std::fs::read_to_string(dir.join("admin-token"))
        .map(|t| t.trim().to_string())
        .ok();
    Ok(Cluster {
        process,
        addr,
        token,
        ca_pem,
        kubeconfig,
        admin_token,
    })
}

/// The real kube-apiserver (the process's shared control plane, the testcluster as its
/// node) with the bench's pod, and a kubeconfig with the demo's users, admin current.
pub async fn start_real_cluster(dir: &Path) -> Result<Cluster, Error> {
    let control_plane = testenv::ControlPlane::shared().await?;
    control_plane.namespace(NAMESPACE).await?;
    let admin = control_plane.client(testenv::User::Admin).await?;
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(admin, NAMESPACE);
    let pod = serde_json::from_value(serde_json::json!({
        "metadata": {"name": POD},
        "spec": {
            "nodeName": control_plane.node_name(),
            "containers": [{"name": CONTAINER, "image": "busybox:1.36"}],
        },
    }))?;
    if pods.get_opt(POD).await?.is_none() {
        pods.create(&Default::default(), &pod).await?;
    }
    let started = Instant::now();
    while pods.get(POD).await?.status.and_then(|s| s.phase).as_deref() != Some("Running") {
        if started.elapsed() > Duration::from_secs(30) {
            return Err(format!("{NAMESPACE}/{POD} not running within 30 s").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kubeconfig = dir.join("real-kubeconfig.yaml");
    std::fs::write(&kubeconfig, control_plane.demo_kubeconfig_yaml()?)?;
    let addr = control_plane
        .url()
        .trim_start_matches("https://")
        .parse()
        .map_err(|e| format!("the API server's address: {e}"))?;
    Ok(Cluster {
        process: Process {
            child: None,
            pid: control_plane.apiserver_pid(),
            name: "kube-apiserver",
        },
        addr,
        token: control_plane
            .token(testenv::User::Admin)
            .ok_or("admin has no token")?
            .to_string(),
        ca_pem: control_plane.ca_pem().as_bytes().to_vec(),
        kubeconfig,
        admin_token: None,
    })
}

pub async fn start_podterm(
    bin: &Binaries,
    dir: &Path,
    cluster: &Cluster,
) -> Result<Podterm, Error> {
    let addr = free_addr()?;
    let token = "bench-token-0123456789abcdef0123456789abcdef".to_string();
    let child = Command::new(&bin.podterm)
        .arg("--listen")
        .arg(addr.to_string())
        .arg("--site-root")
        .arg(&bin.site_root)
        .arg("--leptos-toml")
        .arg(&bin.leptos_toml)
        .env("KUBECONFIG", &cluster.kubeconfig)
        .env("PODTERM_TOKEN", &token)
        .env("PODTERM_MAX_SESSIONS_PER_USER", "5000")
        .env("PODTERM_MAX_STARTS_PER_MINUTE", "100000")
        // One address plays a thousand people.
        .env("PODTERM_MAX_CONNECTIONS_PER_ADDRESS", "5000")
        .env("RUST_LOG", "warn")
        .stdout(log_file(dir, "podterm.log")?)
        .stderr(log_file(dir, "podterm.log")?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", bin.podterm.display()))?;
    let mut process = Process::child(child, "podterm");
    process
        .wait_until(&format!("did not answer on {addr}"), || async move {
            crate::http::get(addr, "/healthz", None)
                .await
                .is_ok_and(|r| r.status == 200)
        })
        .await?;
    Ok(Podterm {
        process,
        addr,
        token,
    })
}

/// Lets this process and its children open as many files as allowed.
pub fn raise_open_files() -> Result<u64, Error> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let (_, hard) = getrlimit(Resource::RLIMIT_NOFILE)?;
    setrlimit(Resource::RLIMIT_NOFILE, hard, hard)?;
    Ok(hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_parent_and_ticks_past_a_name_with_spaces_and_parentheses() {
        let stat = "75 (kdamond (0) x) S 2 0 0 0 -1 2129984 0 0 0 0 25900 31 0 0 20 0 1 0";
        assert_eq!(parent_and_ticks(stat), Some((2, 25931)));
        assert_eq!(parent_and_ticks("75 (cut"), None);
        assert_eq!(parent_and_ticks("75 (x) S two 0"), None);
    }

    #[test]
    fn reads_the_machines_busy_stolen_and_whole_time() {
        let stat = "cpu  100 5 30 800 10 2 3 50 0 0\ncpu0 50 2 15 400 5 1 1 25 0 0\n";
        assert_eq!(machine_ticks(stat), Some([140, 50, 1000]));
        assert_eq!(machine_ticks("cpu  1 2 3\n"), None);
        assert_eq!(machine_ticks("intr 1 2 3 4 5 6 7 8\n"), None);
    }
}
