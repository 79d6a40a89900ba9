//! Recordings and the audit log hold what people did (and, with --record-input, typed): only
//! podterm's user may read them, whatever the umask.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::{Options, read_until, start_with, terminal, type_in};
use podterm::protocol::ServerEvent;
use podterm::server::trail::audit::Audit;
use podterm::server::trail::recording::prepare_dir;

/// The usual umask, which leaves new files readable by everyone.
fn usual_umask() {
    // SAFETY: umask has no preconditions; every test here sets the same value.
    unsafe { libc::umask(0o022) };
}

/// The permission bits, in octal as `ls` and `chmod` show them.
fn mode(path: &Path) -> String {
    format!(
        "{:o}",
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    )
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[tokio::test]
async fn recordings_and_the_audit_log_are_private() {
    usual_umask();
    let f = start_with(Options {
        record: true,
        ..Default::default()
    })
    .await;
    let mut ws = terminal(&f, "/ws/exec/default/toolbox/shell").await;
    type_in(&mut ws, "echo mo''des; exit 4\n").await;
    let (_, event) = read_until(&mut ws, b"").await;
    assert_eq!(event, Some(ServerEvent::Exit { code: 4 }));

    let dir = &f.state.recordings.as_ref().unwrap().dir;
    assert_eq!(mode(dir), "700", "the recording directory");
    let casts: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    assert_eq!(casts.len(), 1, "{casts:?}");
    assert_eq!(mode(&casts[0]), "600", "the recording {:?}", casts[0]);
    assert_eq!(mode(&f.audit_log), "600", "the audit log");
}

#[test]
fn what_exists_already_is_made_private_when_podterm_owns_it() {
    usual_umask();
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("casts");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o755);
    prepare_dir(&dir).unwrap();
    assert_eq!(mode(&dir), "700");

    let missing = scratch.path().join("new/casts");
    prepare_dir(&missing).unwrap();
    assert_eq!(mode(&missing), "700");
    assert_eq!(mode(&scratch.path().join("new")), "700");

    let log = scratch.path().join("audit.jsonl");
    std::fs::write(&log, "").unwrap();
    set_mode(&log, 0o644);
    drop(Audit::from_path(Some(&log)).unwrap());
    assert_eq!(mode(&log), "600");
}

#[test]
fn another_users_open_directory_is_refused_and_their_log_left_alone() {
    usual_umask();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    }
    const NOBODY: u32 = 65534;
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("theirs");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o755);
    std::os::unix::fs::chown(&dir, Some(NOBODY), Some(NOBODY)).unwrap();
    let refusal = prepare_dir(&dir).unwrap_err();
    assert!(
        refusal.contains("another user") && refusal.contains("--record-dir"),
        "{refusal}"
    );
    assert_eq!(mode(&dir), "755", "not taken from its owner");

    let log = scratch.path().join("shared-audit.jsonl");
    std::fs::write(&log, "").unwrap();
    set_mode(&log, 0o644);
    std::os::unix::fs::chown(&log, Some(NOBODY), Some(NOBODY)).unwrap();
    drop(Audit::from_path(Some(&log)).unwrap());
    assert_eq!(mode(&log), "644", "not taken from its owner");
}

#[test]
fn podterm_refuses_at_start_a_recording_directory_it_cannot_make_private() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: only root can give a directory to another user");
        return;
    }
    let scratch = tempfile::tempdir().unwrap();
    let dir = scratch.path().join("theirs");
    std::fs::create_dir(&dir).unwrap();
    set_mode(&dir, 0o755);
    std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
    let mut podterm = std::process::Command::new(env!("CARGO_BIN_EXE_podterm"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("PODTERM_TOKEN")
        .args(["--demo", "--listen", "127.0.0.1:0", "--record-dir"])
        .arg(&dir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = podterm.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = podterm.kill();
            let _ = podterm.wait();
            panic!("podterm started with a recording directory others may read");
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut podterm.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!status.success());
    assert!(
        stderr.contains("another user") && stderr.contains("--record-dir"),
        "{stderr}"
    );
}
