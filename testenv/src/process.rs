//! Child processes that end with the test process, however it ends.

use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};

use nix::sys::signal::Signal;

type Request = (Command, mpsc::Sender<io::Result<Child>>);

/// Spawns `command` with PR_SET_PDEATHSIG, from a thread that lives as long as the process.
/// The kernel sends the signal when the *thread* that forked the child ends: from a test's
/// runtime thread the servers would die with that test, from this one they die only when
/// the process exits or is killed.
pub fn spawn_tied(mut command: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<Request>>> = OnceLock::new();
    let spawner = SPAWNER.get_or_init(|| {
        let (requests, incoming) = mpsc::channel::<Request>();
        std::thread::Builder::new()
            .name("testenv-spawner".into())
            .spawn(move || {
                for (mut command, reply) in incoming {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("spawner thread starts");
        Mutex::new(requests)
    });
    // SAFETY: prctl is async-signal-safe; nothing is allocated between fork and exec.
    unsafe {
        command
            .pre_exec(|| nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from));
    }
    let (reply, answer) = mpsc::channel();
    let sent = spawner.lock().expect("spawner lock").send((command, reply));
    sent.map_err(|_| io::Error::other("the spawner thread has ended"))?;
    answer
        .recv()
        .map_err(|_| io::Error::other("the spawner thread has ended"))?
}

/// Removes `dir` after this process has ended, killed or not: a shell in its own process
/// group (so Ctrl-C spares it) waits for EOF on a pipe only this process holds open.
pub fn remove_at_exit(dir: &Path) -> io::Result<()> {
    let mut janitor = Command::new("sh")
        .args([
            "-c",
            r#"cat >/dev/null; sleep 1; rm -rf -- "$1""#,
            "testenv-janitor",
        ])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()?;
    // Never closed by hand: the kernel closes it when the process ends.
    std::mem::forget(janitor.stdin.take());
    Ok(())
}

/// Stops a server that failed to start.
pub fn stop(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The last `lines` lines of a log file, for error messages.
pub fn log_tail(path: &Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
