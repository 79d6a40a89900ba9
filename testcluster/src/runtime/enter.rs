//! Entering a container for an exec, as runc does: join its namespaces and root, then fork
//! so the process lives inside the PID namespace, where it leads its own session.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;

/// Handles on a container's namespaces and root, opened before forking.
pub struct Container {
    namespaces: Vec<(OwnedFd, libc::c_int)>,
    root: OwnedFd,
}

/// Raw descriptors and credentials, copied into the forked child (no allocation
/// happens there).
#[derive(Clone, Copy)]
pub struct RawContainer {
    namespaces: [(libc::c_int, libc::c_int); 4],
    root: libc::c_int,
    uid: libc::uid_t,
    gid: libc::gid_t,
    /// The capabilities kept, one bit per capability number.
    capabilities: u64,
}

/// Capability names by number, as in `linux/capability.h`.
const CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "dac_read_search",
    "fowner",
    "fsetid",
    "kill",
    "setgid",
    "setuid",
    "setpcap",
    "linux_immutable",
    "net_bind_service",
    "net_broadcast",
    "net_admin",
    "net_raw",
    "ipc_lock",
    "ipc_owner",
    "sys_module",
    "sys_rawio",
    "sys_chroot",
    "sys_ptrace",
    "sys_pacct",
    "sys_admin",
    "sys_boot",
    "sys_nice",
    "sys_resource",
    "sys_time",
    "sys_tty_config",
    "mknod",
    "lease",
    "audit_write",
    "audit_control",
    "setfcap",
    "mac_override",
    "mac_admin",
    "syslog",
    "wake_alarm",
    "block_suspend",
    "audit_read",
    "perfmon",
    "bpf",
    "checkpoint_restore",
];

impl Container {
    pub fn open(pid1: i32) -> io::Result<Self> {
        let open = |path: String| -> io::Result<OwnedFd> {
            Ok(File::options()
                .read(true)
                .custom_flags(libc::O_CLOEXEC)
                .open(path)?
                .into())
        };
        // The mount namespace goes last: once in it, /proc paths would resolve inside.
        let kinds = [
            ("ipc", libc::CLONE_NEWIPC),
            ("uts", libc::CLONE_NEWUTS),
            ("pid", libc::CLONE_NEWPID),
            ("mnt", libc::CLONE_NEWNS),
        ];
        let namespaces = kinds
            .iter()
            .map(|(name, flag)| Ok((open(format!("/proc/{pid1}/ns/{name}"))?, *flag)))
            .collect::<io::Result<Vec<_>>>()?;
        let root = File::options()
            .read(true)
            .custom_flags(libc::O_CLOEXEC | libc::O_DIRECTORY)
            .open(format!("/proc/{pid1}/root"))?
            .into();
        Ok(Self { namespaces, root })
    }

    pub fn raw(&self, credentials: &crate::config::Credentials) -> RawContainer {
        let mut namespaces = [(0, 0); 4];
        for (slot, (fd, flag)) in namespaces.iter_mut().zip(&self.namespaces) {
            *slot = (fd.as_raw_fd(), *flag);
        }
        let capabilities = credentials
            .capabilities
            .iter()
            .filter_map(|name| CAPABILITIES.iter().position(|c| c == name))
            .fold(0u64, |mask, number| mask | 1 << number);
        RawContainer {
            namespaces,
            root: self.root.as_raw_fd(),
            uid: credentials.uid,
            gid: credentials.gid,
            capabilities,
        }
    }
}

/// Drops the capabilities the container does not have, then takes its user and group.
///
/// # Safety
/// Only async-signal-safe calls, as `enter`.
unsafe fn become_container_user(container: &RawContainer) -> io::Result<()> {
    // SAFETY: plain syscalls.
    unsafe {
        for number in 0..64u64 {
            if container.capabilities & (1 << number) == 0
                && libc::prctl(libc::PR_CAPBSET_DROP, number as libc::c_ulong, 0, 0, 0) != 0
                && *libc::__errno_location() != libc::EINVAL
            {
                return Err(io::Error::last_os_error());
            }
        }
        if container.uid != 0 || container.gid != 0 {
            check(libc::setgroups(1, &container.gid))?;
            check(libc::setgid(container.gid))?;
            check(libc::setuid(container.uid))?;
        }
    }
    Ok(())
}

fn check(rc: libc::c_int) -> io::Result<()> {
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Runs between fork and exec. Joins the container, then forks: the parent stays behind,
/// waits, and exits with the child's status (128+N for a signal); the child returns to
/// exec the command as a session leader inside the container, with the PTY as its
/// controlling terminal when `tty`.
///
/// # Safety
/// Only async-signal-safe calls: it must run in a freshly forked, single-threaded child.
pub unsafe fn enter(container: RawContainer, tty: bool) -> io::Result<()> {
    // SAFETY: plain syscalls on descriptors opened by the parent before the fork.
    unsafe {
        for (fd, flag) in container.namespaces {
            check(libc::setns(fd, flag))?;
        }
        check(libc::fchdir(container.root))?;
        check(libc::chroot(c".".as_ptr()))?;
        check(libc::chdir(c"/".as_ptr()))?;
        match libc::fork() {
            -1 => Err(io::Error::last_os_error()),
            0 => {
                check(libc::setsid())?;
                if tty {
                    check(libc::ioctl(0, libc::TIOCSCTTY, 0))?;
                }
                become_container_user(&container)
            }
            child => {
                // Drop everything but stdio, including the spawner's exec-status pipe, so
                // the spawner learns of the exec without waiting for this process.
                libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                let mut status = 0;
                loop {
                    let rc = libc::waitpid(child, &mut status, 0);
                    if rc == child {
                        break;
                    }
                    if rc < 0 && *libc::__errno_location() != libc::EINTR {
                        libc::_exit(1);
                    }
                }
                if libc::WIFEXITED(status) {
                    libc::_exit(libc::WEXITSTATUS(status));
                }
                if libc::WIFSIGNALED(status) {
                    libc::_exit(128 + libc::WTERMSIG(status));
                }
                libc::_exit(1)
            }
        }
    }
}
