//! The container runtime: each container gets its own PID, mount, UTS and IPC namespaces
//! (when running as root), a root filesystem, and exec'd processes on their own PTYs.

mod enter;
pub mod procs;
pub mod pty;
pub mod rootfs;

use std::collections::HashMap;
use std::io;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdin, ChildStdout, Command};

use crate::config::RootfsKind;
pub use procs::ProcessInfo;
pub use pty::PtyMaster;

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The main process of a container that names none, as in many toolbox pods. Like most
/// container main processes, it does not reap orphans; zombies are never listed.
const IDLE_MAIN: &[&str] = &["sleep", "infinity"];
const INIT_SCRIPT: &str = r#"set -e
root=$1 name=$2 kind=$3
shift 3
printf '%s' "$name" > /proc/sys/kernel/hostname
mount -t proc proc "$root/proc"
for dev in null zero full tty random urandom; do mount --bind "/dev/$dev" "$root/dev/$dev"; done
mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777,size=64m shm "$root/dev/shm"
if [ "$kind" = host ]; then
  for dir in usr etc opt srv; do
    if [ -d "/$dir" ] && [ -d "$root/$dir" ]; then mount --bind -o ro "/$dir" "$root/$dir"; fi
  done
fi
exec chroot "$root" /bin/sh -c 'echo ready; exec "$@" </dev/null >/dev/null 2>&1' sh "$@"
"#;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContainerKey {
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

/// What the runtime needs to know to run processes in a container.
#[derive(Debug, Clone)]
pub struct ContainerTarget {
    pub key: ContainerKey,
    /// A pod deleted and created again under the same name gets fresh containers.
    pub pod_uid: String,
    pub rootfs: RootfsKind,
    pub env: Vec<(String, String)>,
    pub main: Vec<String>,
}

#[derive(Debug)]
pub enum ExecError {
    /// The program does not exist in the container (the runtime's own message).
    NotFound(String),
    Failed(String),
}

/// An exec'd process and its I/O.
pub struct ExecProcess {
    /// The spawned process: the command itself, or (in a container) the process that waits
    /// for it outside and exits with its status.
    pub child: Child,
    pub io: ExecIo,
    /// The session the command leads (its host PID).
    pub session: Option<i32>,
}

/// The session an exec's command leads: `child` itself, or the child it forked inside
/// the container (which exists once spawn has returned, as it has exec'd by then).
fn session_of(child: &Child, entered: bool) -> Option<i32> {
    let pid = child.id()? as i32;
    if entered {
        procs::first_child(pid)
    } else {
        Some(pid)
    }
}

/// Between fork and exec: enter the container (when there is one) and lead a new session.
fn start_session(container: Option<enter::RawContainer>, tty: bool) -> io::Result<()> {
    match container {
        // SAFETY: called between fork and exec.
        Some(container) => unsafe { enter::enter(container, tty) },
        None => {
            nix::unistd::setsid().map_err(io::Error::from)?;
            // SAFETY: TIOCSCTTY on stdin, the PTY slave.
            if tty && unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        }
    }
}

pub enum ExecIo {
    Tty(Arc<PtyMaster>),
    Pipes {
        stdin: Option<ChildStdin>,
        stdout: ChildStdout,
        stderr: ChildStderr,
    },
}

struct Init {
    child: Child,
    pidns: String,
    pid1: i32,
}

struct Container {
    target: ContainerTarget,
    root: PathBuf,
    marker: String,
    init: tokio::sync::Mutex<Option<Init>>,
}

pub struct Runtime {
    isolated: bool,
    dir: PathBuf,
    busybox: Option<PathBuf>,
    containers: Mutex<HashMap<ContainerKey, Arc<Container>>>,
    next_id: std::sync::atomic::AtomicU64,
}

impl Runtime {
    /// A runtime keeping its root filesystems under `dir`. Isolates containers when it can
    /// and logs what is not isolated when it cannot.
    pub fn new(dir: &Path) -> Self {
        let isolated = match isolation_available() {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(
                    "containers are NOT isolated ({why}): exec'd processes run in the machine's own PID, \
                     mount and UTS namespaces and file system, `kill -9 -1` in a pod would reach this \
                     user's processes, and busybox images still see the machine's bash"
                );
                false
            }
        };
        let busybox = Path::new(rootfs::BUSYBOX).exists().then(|| {
            let copy = dir.join("busybox");
            std::fs::copy(rootfs::BUSYBOX, &copy).map(|_| copy)
        });
        let busybox = match busybox {
            Some(Ok(path)) => Some(path),
            Some(Err(e)) => {
                tracing::warn!(
                    "could not copy {}: {e}; busybox images will not start",
                    rootfs::BUSYBOX
                );
                None
            }
            None => {
                tracing::warn!(
                    "{} is missing (Debian package busybox-static); busybox images will not start",
                    rootfs::BUSYBOX
                );
                None
            }
        };
        Self {
            isolated,
            dir: dir.to_path_buf(),
            busybox,
            containers: Mutex::new(HashMap::new()),
            next_id: Default::default(),
        }
    }

    pub fn isolated(&self) -> bool {
        self.isolated
    }

    fn containers(&self) -> std::sync::MutexGuard<'_, HashMap<ContainerKey, Arc<Container>>> {
        self.containers.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn container(&self, target: &ContainerTarget) -> Arc<Container> {
        let mut containers = self.containers();
        if let Some(existing) = containers.get(&target.key)
            && existing.target.pod_uid == target.pod_uid
        {
            return existing.clone();
        }
        let id = self
            .next_id
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir_name = format!(
            "{}_{}_{}_{id}",
            target.key.namespace, target.key.pod, target.key.container
        );
        let container = Arc::new(Container {
            target: target.clone(),
            root: self.dir.join("containers").join(dir_name),
            marker: format!("TESTCLUSTER_CONTAINER={}", uuid::Uuid::new_v4()),
            init: tokio::sync::Mutex::new(None),
        });
        if let Some(old) = containers.insert(target.key.clone(), container.clone()) {
            old.stop();
        }
        container
    }

    /// Ends every process of a container (its main process and all it holds).
    pub fn stop(&self, key: &ContainerKey) {
        if let Some(container) = self.containers().remove(key) {
            container.stop();
        }
    }

    /// Ends every container of a pod.
    pub fn stop_pod(&self, namespace: &str, pod: &str) {
        let keys: Vec<ContainerKey> = self
            .containers()
            .keys()
            .filter(|k| k.namespace == namespace && k.pod == pod)
            .cloned()
            .collect();
        for key in keys {
            self.stop(&key);
        }
    }

    pub fn shutdown(&self) {
        let all: Vec<Arc<Container>> = self.containers().drain().map(|(_, c)| c).collect();
        for container in all {
            container.stop();
        }
    }

    /// Every live process in a container, main process included.
    pub async fn processes(&self, key: &ContainerKey) -> Vec<ProcessInfo> {
        let Some(container) = self.containers().get(key).cloned() else {
            return Vec::new();
        };
        if !self.isolated {
            return procs::marked(&container.marker);
        }
        let init = container.init.lock().await;
        match init.as_ref() {
            Some(init) => procs::in_namespace(&init.pidns),
            None => Vec::new(),
        }
    }

    /// Runs `argv` in the container; `tty` gives the terminal size for a PTY session.
    pub async fn exec(
        &self,
        target: &ContainerTarget,
        argv: &[String],
        tty: Option<(u16, u16)>,
    ) -> Result<ExecProcess, ExecError> {
        let container = self.container(target);
        if target.rootfs == RootfsKind::Busybox && self.busybox.is_none() {
            return Err(ExecError::Failed(format!(
                "image for container {:?} needs {} (Debian package busybox-static)",
                target.key.container,
                rootfs::BUSYBOX
            )));
        }
        let pid1 = self.ensure_started(&container).await.map_err(|e| {
            ExecError::Failed(format!(
                "failed to start container {:?}: {e}",
                target.key.container
            ))
        })?;
        let program = argv
            .first()
            .ok_or_else(|| ExecError::Failed("empty command".into()))?;
        let path = target
            .env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or(PATH, |(_, v)| v.as_str());
        if self.isolated && rootfs::resolve(&container.root, target.rootfs, program, path).is_none()
        {
            return Err(ExecError::NotFound(format!(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{program}\": \
                 executable file not found in $PATH: unknown"
            )));
        }

        // Opened here, before the fork, so the child only makes syscalls.
        let joined = match pid1 {
            Some(pid1) => Some(enter::Container::open(pid1).map_err(|e| {
                ExecError::Failed(format!("container {:?} is gone: {e}", target.key.container))
            })?),
            None => None,
        };
        let raw = joined.as_ref().map(enter::Container::raw);
        let mut cmd = Command::new(program);
        cmd.args(&argv[1..]);
        cmd.env_clear()
            .env("PATH", PATH)
            .env("HOSTNAME", &target.key.pod)
            .env("HOME", "/root");
        if tty.is_some() {
            cmd.env("TERM", "xterm");
        }
        cmd.envs(target.env.iter().map(|(k, v)| (k, v)));
        if !self.isolated {
            let (name, value) = container
                .marker
                .split_once('=')
                .expect("marker is NAME=value");
            cmd.env(name, value);
        }

        let exec = match tty {
            Some((cols, rows)) => {
                let (master, slave) =
                    pty::open(cols, rows).map_err(|e| ExecError::Failed(format!("no PTY: {e}")))?;
                let stdio = |fd: &OwnedFd| fd.try_clone().map(Stdio::from);
                let io_err = |e: io::Error| ExecError::Failed(e.to_string());
                cmd.stdin(stdio(&slave).map_err(io_err)?)
                    .stdout(stdio(&slave).map_err(io_err)?)
                    .stderr(stdio(&slave).map_err(io_err)?);
                // SAFETY: only async-signal-safe calls between fork and exec.
                unsafe { cmd.pre_exec(move || start_session(raw, true)) };
                let child = cmd
                    .spawn()
                    .map_err(|e| ExecError::Failed(format!("exec failed: {e}")))?;
                drop(slave);
                ExecProcess {
                    session: session_of(&child, joined.is_some()),
                    child,
                    io: ExecIo::Tty(Arc::new(master)),
                }
            }
            None => {
                cmd.stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
                // SAFETY: only async-signal-safe calls between fork and exec.
                unsafe { cmd.pre_exec(move || start_session(raw, false)) };
                let mut child = cmd
                    .spawn()
                    .map_err(|e| ExecError::Failed(format!("exec failed: {e}")))?;
                let (stdin, stdout, stderr) =
                    (child.stdin.take(), child.stdout.take(), child.stderr.take());
                let (Some(stdout), Some(stderr)) = (stdout, stderr) else {
                    return Err(ExecError::Failed("exec lost its pipes".into()));
                };
                ExecProcess {
                    session: session_of(&child, joined.is_some()),
                    child,
                    io: ExecIo::Pipes {
                        stdin,
                        stdout,
                        stderr,
                    },
                }
            }
        };
        Ok(exec)
    }

    /// Starts the container's main process if needed; returns its host PID when isolated.
    async fn ensure_started(&self, container: &Container) -> io::Result<Option<i32>> {
        let mut init = container.init.lock().await;
        if let Some(running) = init.as_mut() {
            if running.child.try_wait()?.is_none() {
                return Ok(Some(running.pid1));
            }
            tracing::warn!(
                "container {:?} had stopped; starting it again",
                container.target.key
            );
        }
        if !self.isolated {
            std::fs::create_dir_all(&container.root)?;
            return Ok(None);
        }
        if !container.root.exists() {
            let busybox = self.busybox.clone().unwrap_or_default();
            let (root, kind) = (container.root.clone(), container.target.rootfs);
            tokio::task::spawn_blocking(move || rootfs::build(&root, kind, &busybox))
                .await
                .map_err(io::Error::other)??;
        }
        let key = &container.target.key;
        let main: Vec<String> = if container.target.main.is_empty() {
            IDLE_MAIN.iter().map(|s| s.to_string()).collect()
        } else {
            container.target.main.clone()
        };
        let kind = match container.target.rootfs {
            RootfsKind::Host => "host",
            RootfsKind::Busybox => "busybox",
        };
        let mut child = Command::new("unshare");
        child
            .args([
                "--pid",
                "--mount",
                "--uts",
                "--ipc",
                "--fork",
                "--kill-child",
                "--propagation",
                "private",
            ])
            .args(["--", "/bin/sh", "-c", INIT_SCRIPT, "sh"])
            .arg(&container.root)
            .arg(&key.pod)
            .arg(kind)
            .args(&main)
            .env_clear()
            .env("PATH", PATH)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Also when the testcluster is killed (no drop runs then): the kernel kills unshare
        // when the thread that started it ends, and `--kill-child` takes the container with
        // it. Started from the runtime's threads, which live as long as the runtime.
        // SAFETY: prctl is async-signal-safe; nothing is allocated between fork and exec.
        unsafe {
            child.pre_exec(|| {
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)
            });
        }
        let mut child = child.spawn()?;
        let stdout = child.stdout.take().expect("piped");
        let mut stderr = child.stderr.take().expect("piped");
        let mut line = String::new();
        let ready = tokio::time::timeout(
            Duration::from_secs(20),
            BufReader::new(stdout).read_line(&mut line),
        )
        .await;
        if !matches!(ready, Ok(Ok(_))) || line.trim() != "ready" {
            let _ = child.start_kill();
            let mut why = String::new();
            let _ =
                tokio::time::timeout(Duration::from_secs(2), stderr.read_to_string(&mut why)).await;
            return Err(io::Error::other(format!(
                "container init failed: {}",
                why.trim()
            )));
        }
        let unshare_pid = child.id().unwrap_or(0) as i32;
        let pid1 = procs::first_child(unshare_pid)
            .ok_or_else(|| io::Error::other("container init vanished"))?;
        let pidns = procs::pid_namespace(pid1)
            .ok_or_else(|| io::Error::other("container init vanished"))?;
        tracing::debug!(container = ?key, pid1, "container started");
        *init = Some(Init { child, pidns, pid1 });
        Ok(Some(pid1))
    }

    /// What `hangup` disconnect mode does: close the PTY (done by the caller dropping it),
    /// SIGHUP the session, then SIGKILL whatever is left of it after a grace period.
    pub fn hang_up(session: i32, grace: Duration) {
        if session <= 1 {
            return;
        }
        signal_session(session, Signal::SIGHUP);
        signal_session(session, Signal::SIGCONT);
        tokio::spawn(async move {
            tokio::time::sleep(grace).await;
            signal_session(session, Signal::SIGKILL);
        });
    }
}

fn signal_session(session: i32, signal: Signal) {
    let _ = kill(Pid::from_raw(-session), signal);
    for pid in procs::session_members(session) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

impl Container {
    fn stop(&self) {
        if let Ok(mut init) = self.init.try_lock() {
            if let Some(mut init) = init.take() {
                // --kill-child: unshare's death takes PID 1, and with it the whole namespace.
                let _ = init.child.start_kill();
                let _ = kill(Pid::from_raw(init.pid1), Signal::SIGKILL);
            }
        } else {
            tracing::warn!(
                "container {:?} is starting; it will be stopped when dropped",
                self.target.key
            );
        }
        for process in procs::marked(&self.marker) {
            let _ = kill(Pid::from_raw(process.host_pid), Signal::SIGKILL);
        }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(init) = self.init.get_mut().as_mut() {
            let _ = kill(Pid::from_raw(init.pid1), Signal::SIGKILL);
        }
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn isolation_available() -> Result<(), String> {
    if !nix::unistd::geteuid().is_root() {
        return Err("not running as root".into());
    }
    let status = std::process::Command::new("unshare")
        .args(["--pid", "--mount", "--uts", "--ipc", "--fork", "--", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("cannot run unshare: {e}"))?;
    if !status.success() {
        return Err("unshare --pid --mount --uts --fork fails here".into());
    }
    Ok(())
}
