//! Root filesystems for containers, built from what the machine has.
//!
//! A `host` tree mirrors the machine's top level: its system directories are bind-mounted
//! read-only inside the container's mount namespace, the rest (tmp, root, var, home) are the
//! container's own. A `busybox` tree holds Debian's static busybox and its applets only,
//! less those its image leaves out.

use std::fs;
use std::io;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::config::RootfsKind;

/// Host directories shared read-only with `host` containers.
pub const HOST_READ_ONLY: &[&str] = &["usr", "etc", "opt", "srv"];
/// Directories a `host` container gets empty and writable.
const OWN_DIRS: &[&str] = &["home", "mnt", "media", "var"];
/// Device nodes bind-mounted into every container's /dev.
pub const DEVICES: &[&str] = &["null", "zero", "full", "tty", "random", "urandom"];
/// Where Debian's busybox-static installs its binary.
pub const BUSYBOX: &str = "/bin/busybox";

/// Creates the tree at `root` for a container of this kind; a busybox tree has no
/// applets named in `without`.
pub fn build(
    root: &Path,
    kind: RootfsKind,
    shared_busybox: &Path,
    without: &[String],
) -> io::Result<()> {
    fs::create_dir_all(root)?;
    for dir in [
        "proc", "dev/pts", "dev/shm", "tmp", "root", "var/tmp", "run",
    ] {
        fs::create_dir_all(root.join(dir))?;
    }
    for dir in ["tmp", "var/tmp"] {
        set_mode(&root.join(dir), 0o1777)?;
    }
    for dev in DEVICES {
        fs::File::create(root.join("dev").join(dev))?;
    }
    symlink("pts/ptmx", root.join("dev/ptmx"))?;
    symlink("/proc/self/fd", root.join("dev/fd"))?;
    for (i, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        symlink(format!("/proc/self/fd/{i}"), root.join("dev").join(name))?;
    }
    match kind {
        RootfsKind::Host => build_host(root),
        RootfsKind::Busybox => build_busybox(root, shared_busybox, without),
        RootfsKind::Distroless => build_distroless(root),
    }
}

/// The distroless image's only program, built with the crate (empty when it could not be).
const DISTROLESS_SERVER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/distroless-server"));
/// Where a distroless tree holds it.
pub const DISTROLESS_PROGRAM: &str = "/app/server";

fn build_distroless(root: &Path) -> io::Result<()> {
    if DISTROLESS_SERVER.is_empty() {
        return Err(io::Error::other(
            "the distroless demo program was not built (it needs gcc and libc6-dev)",
        ));
    }
    // Root's, and only root may write there, whatever the umask: the nonroot user
    // cannot change the image's files (an upload to /app is refused), only its home's
    // and /tmp's.
    for dir in ["app", "etc", "home/nonroot"] {
        fs::create_dir_all(root.join(dir))?;
    }
    for dir in ["", "app", "etc", "home", "home/nonroot"] {
        set_mode(&root.join(dir), 0o755)?;
    }
    let program = root.join(DISTROLESS_PROGRAM.trim_start_matches('/'));
    fs::write(&program, DISTROLESS_SERVER)?;
    set_mode(&program, 0o755)?;
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n\
         nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    )?;
    fs::write(
        root.join("etc/group"),
        "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n",
    )?;
    fs::write(
        root.join("etc/os-release"),
        "PRETTY_NAME=\"Distroless\"\nID=distroless\n",
    )?;
    for file in ["etc/passwd", "etc/group", "etc/os-release"] {
        set_mode(&root.join(file), 0o644)?;
    }
    // Only root may give it away; without isolation the tree is the caller's.
    let _ = std::os::unix::fs::chown(root.join("home/nonroot"), Some(65532), Some(65532));
    Ok(())
}

fn build_host(root: &Path) -> io::Result<()> {
    for entry in fs::read_dir("/")? {
        let entry = entry?;
        let name = entry.file_name();
        let target = root.join(&name);
        if target.exists() || target.is_symlink() {
            continue;
        }
        let meta = fs::symlink_metadata(entry.path())?;
        if meta.file_type().is_symlink() {
            // /bin -> usr/bin and friends on a merged-/usr system
            symlink(fs::read_link(entry.path())?, &target)?;
        } else if meta.is_dir() && HOST_READ_ONLY.iter().chain(OWN_DIRS).any(|d| name == *d) {
            // system directories become mount points; the rest are the container's own
            fs::create_dir_all(&target)?;
        }
    }
    Ok(())
}

fn build_busybox(root: &Path, shared_busybox: &Path, without: &[String]) -> io::Result<()> {
    for dir in ["bin", "sbin", "usr/bin", "usr/sbin", "etc", "home"] {
        fs::create_dir_all(root.join(dir))?;
    }
    let binary = root.join("bin/busybox");
    if fs::hard_link(shared_busybox, &binary).is_err() {
        fs::copy(shared_busybox, &binary)?;
    }
    for applet in applets(shared_busybox)? {
        let applet = applet.trim_start_matches('/');
        if applet.is_empty() || applet == "bin/busybox" || !applet.contains('/') {
            continue;
        }
        let name = applet.rsplit('/').next().unwrap_or(applet);
        if without.iter().any(|w| w == name) {
            continue;
        }
        let link = root.join(applet);
        if link.exists() || link.is_symlink() {
            continue;
        }
        if let Some(parent) = link.parent() {
            fs::create_dir_all(parent)?;
        }
        symlink("/bin/busybox", link)?;
    }
    fs::write(
        root.join("etc/passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n",
    )?;
    fs::write(root.join("etc/group"), "root:x:0:\nnobody:x:65534:\n")?;
    fs::write(
        root.join("etc/os-release"),
        "NAME=\"BusyBox\"\nID=busybox\n",
    )?;
    Ok(())
}

/// The applets of a busybox binary, with their install paths (`/bin/sh`, `/sbin/init`...).
fn applets(busybox: &Path) -> io::Result<Vec<String>> {
    let out = Command::new(busybox).arg("--list-full").output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "{} --list-full failed",
            busybox.display()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect())
}

fn set_mode(path: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// Finds `program` as the container would, searching `path` inside `root`; `None` if absent.
pub fn resolve(root: &Path, kind: RootfsKind, program: &str, path: &str) -> Option<PathBuf> {
    // A host container's system directories are bind mounts that only exist inside its
    // namespace; from outside, the machine's own tree has the same contents.
    let base = match kind {
        RootfsKind::Host if program_in_host_dirs(program) => Path::new("/"),
        _ => root,
    };
    let candidates: Vec<PathBuf> = if program.contains('/') {
        vec![PathBuf::from(program)]
    } else {
        path.split(':')
            .filter(|d| !d.is_empty())
            .map(|d| Path::new(d).join(program))
            .collect()
    };
    candidates.into_iter().find_map(|candidate| {
        let relative = candidate.strip_prefix("/").unwrap_or(&candidate);
        let full = base.join(relative);
        is_executable(&full).then_some(candidate)
    })
}

fn program_in_host_dirs(program: &str) -> bool {
    let first = program
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or("");
    !program.starts_with('/')
        || HOST_READ_ONLY.contains(&first)
        || ["bin", "sbin", "lib", "lib64"].contains(&first)
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::*;

    #[test]
    fn a_busybox_tree_leaves_out_what_its_image_lacks() {
        if !Path::new(BUSYBOX).exists() {
            eprintln!("skipped: {BUSYBOX} is missing");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        let without = ["tar", "sh", "ash"].map(String::from);
        build(&root, RootfsKind::Busybox, Path::new(BUSYBOX), &without).unwrap();
        for gone in ["bin/tar", "bin/sh", "bin/ash"] {
            assert!(!root.join(gone).is_symlink(), "{gone} is still there");
        }
        for kept in [
            "bin/busybox",
            "bin/cat",
            "bin/dd",
            "usr/bin/find",
            "bin/sleep",
        ] {
            assert!(root.join(kept).exists(), "{kept} is missing");
        }
        let path = "/usr/bin:/bin";
        assert!(resolve(&root, RootfsKind::Busybox, "tar", path).is_none());
        assert!(resolve(&root, RootfsKind::Busybox, "cat", path).is_some());
    }

    #[test]
    fn the_distroless_tree_is_roots_and_only_its_home_is_the_users() {
        if DISTROLESS_SERVER.is_empty() {
            eprintln!("skipped: the distroless program was not built");
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("root");
        build(&root, RootfsKind::Distroless, Path::new(BUSYBOX), &[]).unwrap();
        let mode = |p: &str| fs::metadata(root.join(p)).unwrap().permissions().mode() & 0o7777;
        for dir in ["", "app", "etc", "home"] {
            assert_eq!(mode(dir), 0o755, "/{dir}");
        }
        assert_eq!(mode("app/server"), 0o755);
        assert_eq!(mode("etc/passwd"), 0o644);
        assert_eq!(mode("tmp"), 0o1777);
        if nix::unistd::geteuid().is_root() {
            let owner = |p: &str| fs::metadata(root.join(p)).unwrap().uid();
            assert_eq!(owner("app"), 0);
            assert_eq!(owner("home/nonroot"), 65532);
        }
    }
}
