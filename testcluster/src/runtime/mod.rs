//! The container runtime: each container gets its own PID, mount, UTS and IPC namespaces
//! (when running as root), a root filesystem, and exec'd processes on their own PTYs.

mod enter;
pub mod logs;
pub mod main_io;
pub mod procs;
pub mod pty;
pub mod rootfs;
mod supervise;

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
use tokio_util::sync::CancellationToken;

use crate::config::{Credentials, RestartPolicy, RootfsKind};
pub use logs::{LogFile, ReadOptions};
pub use main_io::MainIo;
pub use procs::ProcessInfo;
pub use pty::PtyMaster;
pub use supervise::{Ended, Live, LiveState, Report};

const PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
/// The main process of a container that names none, as in many toolbox pods. Like most
/// container main processes, it does not reap orphans; zombies are never listed.
const IDLE_MAIN: &[&str] = &["sleep", "infinity"];
const INIT_SCRIPT: &str = r#"set -e
root=$1 name=$2 kind=$3 stdio=$4 user=$5 caps=$6
shift 6
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
echo ready
# The runtime's capabilities only, then the container's user (chroot needs its own).
if [ "$user" = 0:0 ]; then
  set -- setpriv --bounding-set "$caps" --inh-caps -all chroot "$root" "$@"
else
  set -- setpriv --bounding-set "$caps,+setuid,+setgid" --inh-caps -all \
    chroot --userspec="$user" --groups="${user#*:}" "$root" "$@"
fi
case "$stdio" in
  tty) exec setsid -c "$@" ;;
  stdin) exec "$@" ;;
  *) exec "$@" </dev/null ;;
esac
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
    /// Programs its busybox tree leaves out.
    pub without: Vec<String>,
    pub env: Vec<(String, String)>,
    pub main: Vec<String>,
    /// The main process's stdin is kept open for attached clients.
    pub stdin: bool,
    /// The main process runs on a terminal.
    pub tty: bool,
    /// Who its processes run as.
    pub credentials: Credentials,
    /// An ephemeral container's target, whose process namespace it joins.
    pub shares_processes_with: Option<ContainerKey>,
}

impl ContainerTarget {
    /// Where its programs are looked up: its own PATH, else the usual one.
    fn path(&self) -> &str {
        self.env
            .iter()
            .find(|(k, _)| k == "PATH")
            .map_or(PATH, |(_, v)| v.as_str())
    }
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

/// A running instance of a container: its PID 1 and namespace.
struct Init {
    /// The process holding the namespace; a supervised main process's is the supervisor's.
    child: Option<Child>,
    pidns: String,
    pid1: i32,
}

struct Container {
    target: ContainerTarget,
    root: PathBuf,
    marker: String,
    init: Arc<tokio::sync::Mutex<Option<Init>>>,
    /// Cancelled when the container is stopped: its supervisor ends.
    stopped: CancellationToken,
    /// Whether the main process is supervised (started eagerly, logged, restarted); exec
    /// never starts such a container.
    supervised: std::sync::atomic::AtomicBool,
    /// The last instances' logs, oldest first, by container ID.
    logs: Mutex<std::collections::VecDeque<(String, Arc<LogFile>)>>,
    /// The running main process's stdio, for attached clients.
    main_io: Mutex<Option<Arc<MainIo>>>,
    /// An ephemeral container's target's instance, whose process namespace it joins.
    shares_processes_with: Option<Arc<tokio::sync::Mutex<Option<Init>>>>,
}

/// What starting a container needs, shared with its supervisor.
#[derive(Clone)]
struct Starter {
    isolated: bool,
    dir: PathBuf,
    busybox: Option<PathBuf>,
}

pub struct Runtime {
    starter: Starter,
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
            starter: Starter {
                isolated,
                dir: dir.to_path_buf(),
                busybox,
            },
            containers: Mutex::new(HashMap::new()),
            next_id: Default::default(),
        }
    }

    pub fn isolated(&self) -> bool {
        self.starter.isolated
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
        let shared = target.shares_processes_with.as_ref().and_then(|key| {
            let other = containers.get(key)?;
            (other.target.pod_uid == target.pod_uid).then(|| other.init.clone())
        });
        let container = Arc::new(Container {
            target: target.clone(),
            root: self.starter.dir.join("containers").join(dir_name),
            marker: format!("TESTCLUSTER_CONTAINER={}", uuid::Uuid::new_v4()),
            init: Default::default(),
            stopped: CancellationToken::new(),
            supervised: Default::default(),
            logs: Default::default(),
            main_io: Default::default(),
            shares_processes_with: shared,
        });
        if let Some(old) = containers.insert(target.key.clone(), container.clone()) {
            old.stop();
        }
        container
    }

    /// Runs a container's main process under `policy`, its output logged and its changes
    /// of state sent to `report`, until the container is stopped. An ephemeral container
    /// joins the process namespace of `shared`, its target, started first if it idles
    /// until an exec.
    pub fn start_main(
        &self,
        target: &ContainerTarget,
        policy: RestartPolicy,
        shared: Option<&ContainerTarget>,
        report: Report,
    ) {
        let other = shared.map(|t| self.container(t));
        let container = self.container(target);
        if container
            .supervised
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        // Taken now, so an exec that comes first waits for the start.
        let Ok(first) = container.init.clone().try_lock_owned() else {
            tracing::warn!(container = ?target.key, "already starting");
            return;
        };
        let starter = self.starter.clone();
        tokio::spawn(async move {
            if let Some(other) = other
                && !other.supervised.load(std::sync::atomic::Ordering::Acquire)
                && let Err(e) = starter.ensure_started(&other).await
            {
                tracing::warn!(container = ?other.target.key, "target did not start: {e}");
            }
            supervise::run(starter, container, first, policy, report).await;
        });
    }

    /// The stdio of a container's running main process (of this pod), to attach to.
    pub fn main_io(&self, key: &ContainerKey, pod_uid: &str) -> Option<Arc<MainIo>> {
        let container = self.containers().get(key).cloned()?;
        if container.target.pod_uid != pod_uid {
            return None;
        }
        container
            .main_io
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The log of a container instance (of this pod), by container ID, while kept.
    pub fn log(&self, key: &ContainerKey, pod_uid: &str, id: &str) -> Option<Arc<LogFile>> {
        let container = self.containers().get(key).cloned()?;
        if container.target.pod_uid != pod_uid {
            return None;
        }
        let logs = container.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.iter()
            .find(|(i, _)| i == id)
            .map(|(_, log)| log.clone())
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
        if !self.starter.isolated {
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
        if target.rootfs == RootfsKind::Busybox && self.starter.busybox.is_none() {
            return Err(ExecError::Failed(format!(
                "image for container {:?} needs {} (Debian package busybox-static)",
                target.key.container,
                rootfs::BUSYBOX
            )));
        }
        let pid1 = self.starter.ensure_started(&container).await.map_err(|e| {
            ExecError::Failed(format!(
                "failed to start container {:?}: {e}",
                target.key.container
            ))
        })?;
        let program = argv
            .first()
            .ok_or_else(|| ExecError::Failed("empty command".into()))?;
        let path = target.path();
        if self.starter.isolated
            && rootfs::resolve(&container.root, target.rootfs, program, path).is_none()
        {
            return Err(ExecError::NotFound(format!(
                "OCI runtime exec failed: exec failed: unable to start container process: exec: \"{program}\": \
                 executable file not found in $PATH: unknown"
            )));
        }

        // Opened here, before the fork, so the child only makes syscalls.
        let joined =
            match pid1 {
                // A crashing container's process can exit between the check above and here;
                // containerd's words for that.
                Some(pid1) => Some(enter::Container::open(pid1).map_err(|_| {
                    ExecError::Failed("container is in CONTAINER_EXITED state".into())
                })?),
                None => None,
            };
        let raw = joined.as_ref().map(|j| j.raw(&target.credentials));
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
        if !self.starter.isolated {
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

/// A started instance: the process to wait for and its stdio.
struct Instance {
    child: Child,
    stdout: Option<BufReader<ChildStdout>>,
    stderr: Option<ChildStderr>,
    stdin: Option<ChildStdin>,
    /// A terminal main process's PTY, and what it wrote before it was handed over.
    pty: Option<(Arc<PtyMaster>, Vec<u8>)>,
}

/// How a main process's stdin is connected.
#[derive(Clone, Copy, PartialEq, Eq)]
enum MainStdio {
    Null,
    Stdin,
    Tty,
}

impl Starter {
    /// For an exec: the running instance's PID 1 (`None` without isolation). A container
    /// without a supervised main process starts on first use, with its idle main process.
    async fn ensure_started(&self, container: &Container) -> io::Result<Option<i32>> {
        let mut init = container.init.lock().await;
        let pid1 = |init: &Init| self.isolated.then_some(init.pid1);
        if container
            .supervised
            .load(std::sync::atomic::Ordering::Acquire)
        {
            return init
                .as_ref()
                .map(pid1)
                .ok_or_else(|| io::Error::other("the container is not running"));
        }
        if let Some(running) = init.as_mut() {
            if running
                .child
                .as_mut()
                .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
            {
                return Ok(pid1(running));
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
        let main: Vec<String> = IDLE_MAIN.iter().map(|s| s.to_string()).collect();
        let mut instance = self
            .boot(container, &main, &mut init, MainStdio::Null)
            .await?;
        // Nothing reads an idle main process's output.
        drop(instance.stdout.take());
        drop(instance.stderr.take());
        if let Some(init) = init.as_mut() {
            init.child = Some(instance.child);
        }
        Ok(init.as_ref().map(|i| i.pid1))
    }

    /// Starts a supervised container's main process, leaving the instance in `init`.
    async fn start_main(
        &self,
        container: &Container,
        mut init: tokio::sync::OwnedMutexGuard<Option<Init>>,
    ) -> io::Result<Instance> {
        let main = &container.target.main;
        if !self.isolated {
            std::fs::create_dir_all(&container.root)?;
            let program = main
                .first()
                .ok_or_else(|| io::Error::other("empty command"))?;
            let (name, value) = container
                .marker
                .split_once('=')
                .expect("marker is NAME=value");
            let mut child = Command::new(program)
                .args(&main[1..])
                .envs(container.target.env.iter().map(|(k, v)| (k, v)))
                .env(name, value)
                .current_dir(&container.root)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()?;
            *init = Some(Init {
                child: None,
                pidns: String::new(),
                pid1: 0,
            });
            return Ok(Instance {
                stdout: child.stdout.take().map(BufReader::new),
                stderr: child.stderr.take(),
                stdin: None,
                pty: None,
                child,
            });
        }
        let path = container.target.path();
        if !container.root.exists() {
            self.build_root(container).await?;
        }
        let program = main.first().map(String::as_str).unwrap_or_default();
        if rootfs::resolve(&container.root, container.target.rootfs, program, path).is_none() {
            return Err(io::Error::other(format!(
                "failed to create containerd task: failed to create shim task: OCI runtime create failed: \
                 runc create failed: unable to start container process: error during container init: \
                 exec: \"{program}\": executable file not found in $PATH: unknown"
            )));
        }
        let stdio = match (container.target.tty, container.target.stdin) {
            (true, _) => MainStdio::Tty,
            (false, true) => MainStdio::Stdin,
            _ => MainStdio::Null,
        };
        self.boot(container, main, &mut init, stdio).await
    }

    async fn build_root(&self, container: &Container) -> io::Result<()> {
        let busybox = self.busybox.clone().unwrap_or_default();
        let (root, kind) = (container.root.clone(), container.target.rootfs);
        let without = container.target.without.clone();
        tokio::task::spawn_blocking(move || rootfs::build(&root, kind, &busybox, &without))
            .await
            .map_err(io::Error::other)?
    }

    /// Starts a container instance running `main` as PID 1 in new namespaces; records it
    /// in `init` and hands back its process and output.
    async fn boot(
        &self,
        container: &Container,
        main: &[String],
        init: &mut Option<Init>,
        stdio: MainStdio,
    ) -> io::Result<Instance> {
        if !container.root.exists() {
            self.build_root(container).await?;
        }
        let pty = match stdio {
            MainStdio::Tty => Some(pty::open(80, 24)?),
            _ => None,
        };
        let key = &container.target.key;
        let credentials = &container.target.credentials;
        let kind = match container.target.rootfs {
            RootfsKind::Host => "host",
            RootfsKind::Busybox => "busybox",
            RootfsKind::Distroless => "distroless",
        };
        // An ephemeral container joins its target's process namespace, as `ps` there shows.
        let target_pids = match &container.shares_processes_with {
            Some(target) => Some(target_pid_namespace(target).await?),
            None => None,
        };
        let mut child = Command::new("unshare");
        if target_pids.is_none() {
            child.arg("--pid");
        }
        child
            .args([
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
            .arg(match stdio {
                MainStdio::Null => "null",
                MainStdio::Stdin => "stdin",
                MainStdio::Tty => "tty",
            })
            .arg(format!("{}:{}", credentials.uid, credentials.gid))
            .arg(bounding_set(&credentials.capabilities))
            .args(main)
            .env_clear()
            .env("PATH", PATH)
            .env("HOSTNAME", &key.pod)
            .env("HOME", "/root")
            .envs(container.target.env.iter().map(|(k, v)| (k, v)))
            .kill_on_drop(true);
        match &pty {
            Some((_, slave)) => {
                let stdio = |fd: &OwnedFd| fd.try_clone().map(Stdio::from);
                child
                    .stdin(stdio(slave)?)
                    .stdout(stdio(slave)?)
                    .stderr(stdio(slave)?);
            }
            None => {
                let input = if stdio == MainStdio::Stdin {
                    Stdio::piped()
                } else {
                    Stdio::null()
                };
                child
                    .stdin(input)
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped());
            }
        }
        // Also when the testcluster is killed (no drop runs then): the kernel kills unshare
        // when the thread that started it ends, and `--kill-child` takes the container with
        // it. Started from the runtime's threads, which live as long as the runtime.
        // SAFETY: prctl is async-signal-safe; nothing is allocated between fork and exec.
        let join = target_pids.as_ref().map(std::os::fd::AsRawFd::as_raw_fd);
        unsafe {
            child.pre_exec(move || {
                if let Some(fd) = join
                    && libc::setns(fd, libc::CLONE_NEWPID) != 0
                {
                    return Err(io::Error::last_os_error());
                }
                nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)
            });
        }
        let mut child = child.spawn()?;
        let (mut stdout, mut stderr, mut terminal) = (None, None, None);
        let ready = match pty {
            Some((master, slave)) => {
                drop(slave);
                let master = Arc::new(master);
                let early = tokio::time::timeout(Duration::from_secs(20), read_ready(&master))
                    .await
                    .unwrap_or_else(|_| Err(io::Error::other("no answer within 20 s")));
                terminal = early.as_ref().ok().map(|early| (master, early.clone()));
                early.map(|_| ())
            }
            None => {
                let mut out = BufReader::new(child.stdout.take().expect("piped"));
                let mut err = child.stderr.take().expect("piped");
                let mut line = String::new();
                let ready =
                    tokio::time::timeout(Duration::from_secs(20), out.read_line(&mut line)).await;
                let ready = if matches!(ready, Ok(Ok(_))) && line.trim() == "ready" {
                    Ok(())
                } else {
                    let mut why = String::new();
                    let wait = Duration::from_secs(2);
                    let _ = tokio::time::timeout(wait, err.read_to_string(&mut why)).await;
                    Err(io::Error::other(why.trim().to_string()))
                };
                (stdout, stderr) = (Some(out), Some(err));
                ready
            }
        };
        if let Err(why) = ready {
            let _ = child.start_kill();
            return Err(io::Error::other(format!("container init failed: {why}")));
        }
        let unshare_pid = child.id().unwrap_or(0) as i32;
        // A main process that ends at once may be gone already: the instance ran, and its
        // end is the supervisor's to see.
        let pid1 = procs::first_child(unshare_pid);
        let pidns = pid1.and_then(procs::pid_namespace);
        if let (Some(pid1), Some(pidns)) = (pid1, pidns) {
            // "ready" comes just before the chroot: an exec must not join the host's root.
            wait_for_root(pid1, &container.root).await;
            tracing::debug!(container = ?key, pid1, "container started");
            *init = Some(Init {
                child: None,
                pidns,
                pid1,
            });
        } else if main == IDLE_MAIN {
            return Err(io::Error::other("container init vanished"));
        }
        Ok(Instance {
            stdin: child.stdin.take(),
            child,
            stdout,
            stderr,
            pty: terminal,
        })
    }
}

/// The process namespace of a running target container's instance.
async fn target_pid_namespace(
    target: &tokio::sync::Mutex<Option<Init>>,
) -> io::Result<std::fs::File> {
    let pid1 = target
        .lock()
        .await
        .as_ref()
        .map(|init| init.pid1)
        .filter(|pid| *pid > 1)
        .ok_or_else(|| io::Error::other("its target container is not running"))?;
    std::fs::File::open(format!("/proc/{pid1}/ns/pid"))
        .map_err(|e| io::Error::other(format!("its target container is gone: {e}")))
}

/// setpriv's `--bounding-set` for these capabilities; chroot itself needs sys_chroot.
fn bounding_set(capabilities: &[String]) -> String {
    let mut set = String::from("-all");
    for cap in capabilities
        .iter()
        .map(String::as_str)
        .chain(["sys_chroot"])
    {
        set.push_str(",+");
        set.push_str(cap);
    }
    set
}

/// Reads a terminal up to the init's "ready" line; returns what came after it.
async fn read_ready(master: &PtyMaster) -> io::Result<Vec<u8>> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = master.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::other(
                String::from_utf8_lossy(&seen).trim().to_string(),
            ));
        }
        seen.extend_from_slice(&buf[..n]);
        if let Some(at) = seen.windows(7).position(|w| w == b"ready\r\n") {
            return Ok(seen.split_off(at + 7));
        }
    }
}

/// A process's exit code as a runtime reports it: 128+N for a signal.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

/// Waits (briefly) until `pid` has entered `root`, or is gone.
async fn wait_for_root(pid: i32, root: &Path) {
    let link = format!("/proc/{pid}/root");
    for _ in 0..400 {
        match std::fs::read_link(&link) {
            Ok(at) if at == root => return,
            Ok(_) => tokio::time::sleep(Duration::from_millis(5)).await,
            Err(_) => return,
        }
    }
    tracing::warn!(pid, "a container's init did not enter its root within 2 s");
}

fn signal_session(session: i32, signal: Signal) {
    let _ = kill(Pid::from_raw(-session), signal);
    for pid in procs::session_members(session) {
        let _ = kill(Pid::from_raw(pid), signal);
    }
}

impl Container {
    fn set_main_io(&self, io: Option<Arc<MainIo>>) {
        *self.main_io.lock().unwrap_or_else(|e| e.into_inner()) = io;
    }

    /// Keeps an instance's log, forgetting (and deleting) the oldest beyond `keep`.
    fn keep_log(&self, id: &str, log: Arc<LogFile>, keep: usize) {
        let mut logs = self.logs.lock().unwrap_or_else(|e| e.into_inner());
        logs.push_back((id.to_string(), log));
        while logs.len() > keep {
            if let Some((_, old)) = logs.pop_front() {
                let _ = std::fs::remove_file(old.path());
            }
        }
    }

    fn stop(&self) {
        self.stopped.cancel();
        if let Ok(mut init) = self.init.try_lock() {
            if let Some(mut init) = init.take() {
                // --kill-child: unshare's death takes PID 1, and with it the whole namespace.
                if let Some(child) = init.child.as_mut() {
                    let _ = child.start_kill();
                }
                if init.pid1 > 1 {
                    let _ = kill(Pid::from_raw(init.pid1), Signal::SIGKILL);
                }
            }
        } else if !self.supervised.load(std::sync::atomic::Ordering::Acquire) {
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
        if let Ok(mut init) = self.init.try_lock()
            && let Some(init) = init.as_mut()
            && init.pid1 > 1
        {
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
