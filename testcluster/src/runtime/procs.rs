//! Reading /proc: which processes belong to a container or a session.

use std::fs;

use serde::{Deserialize, Serialize};

/// A process as seen from inside its container.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessInfo {
    /// PID inside the container's PID namespace (the host PID without isolation).
    pub pid: i32,
    /// Parent PID inside the container; 0 when the parent is outside it.
    pub ppid: i32,
    pub host_pid: i32,
    /// One-letter state from /proc (R, S, D, T...); zombies are not listed.
    pub state: String,
    pub command: Vec<String>,
    /// The container's main process (PID 1).
    pub main: bool,
}

/// The parts of /proc/PID/stat we need, in the host's view.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub state: char,
    pub ppid: i32,
    pub pgrp: i32,
    pub session: i32,
}

pub fn stat(pid: i32) -> Option<Stat> {
    let text = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &text[text.rfind(')')? + 2..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    let pgrp = fields.next()?.parse().ok()?;
    let session = fields.next()?.parse().ok()?;
    Some(Stat {
        state,
        ppid,
        pgrp,
        session,
    })
}

pub fn all_pids() -> Vec<i32> {
    fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// The PID namespace of a process, as the link text `pid:[inode]`.
pub fn pid_namespace(pid: i32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/pid"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// The last NSpid entry: the PID in the innermost namespace.
fn inner_pid(pid: i32) -> Option<i32> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("NSpid:"))?;
    line.split_whitespace().last()?.parse().ok()
}

fn cmdline(pid: i32) -> Vec<String> {
    fs::read(format!("/proc/{pid}/cmdline"))
        .map(|raw| {
            raw.split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// Every live process in the PID namespace `ns`.
pub fn in_namespace(ns: &str) -> Vec<ProcessInfo> {
    let members: Vec<(i32, Stat)> = all_pids()
        .into_iter()
        .filter(|pid| pid_namespace(*pid).as_deref() == Some(ns))
        .filter_map(|pid| Some((pid, stat(pid)?)))
        .filter(|(_, st)| st.state != 'Z' && st.state != 'X')
        .collect();
    let inner = |host: i32| {
        if members.iter().any(|(p, _)| *p == host) {
            inner_pid(host)
        } else {
            None
        }
    };
    members
        .iter()
        .filter_map(|(host_pid, st)| {
            let pid = inner_pid(*host_pid)?;
            Some(ProcessInfo {
                pid,
                ppid: inner(st.ppid).unwrap_or(0),
                host_pid: *host_pid,
                state: st.state.to_string(),
                command: cmdline(*host_pid),
                main: pid == 1,
            })
        })
        .collect()
}

/// Every live process whose environment carries `marker` (`NAME=value`).
pub fn marked(marker: &str) -> Vec<ProcessInfo> {
    let needle = marker.as_bytes();
    all_pids()
        .into_iter()
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.split(|b| *b == 0).any(|var| var == needle))
        })
        .filter_map(|pid| {
            let st = stat(pid)?;
            (st.state != 'Z').then(|| ProcessInfo {
                pid,
                ppid: st.ppid,
                host_pid: pid,
                state: st.state.to_string(),
                command: cmdline(pid),
                main: false,
            })
        })
        .collect()
}

/// Host PIDs of every live process in session `sid` or process group `sid`.
pub fn session_members(sid: i32) -> Vec<i32> {
    all_pids()
        .into_iter()
        .filter(|pid| {
            stat(*pid).is_some_and(|st| st.state != 'Z' && (st.session == sid || st.pgrp == sid))
        })
        .collect()
}

/// The first child of `pid` (needs /proc/PID/task/PID/children).
pub fn first_child(pid: i32) -> Option<i32> {
    let text = fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).ok()?;
    text.split_whitespace().next()?.parse().ok()
}
