//! The audit trail: one JSON line when a terminal session starts and one when it ends, and
//! one for each person a trusted proxy named whom podterm refused to act as. A file for it
//! is private to podterm's user (mode 0600).

use std::fs::{File, OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::private_files::{open_to_others, owned_by_podterm};
use crate::model::Target;

pub struct Audit {
    sink: Mutex<Box<dyn Write + Send>>,
}

/// What is known about a session for the audit trail.
#[derive(Debug, Clone)]
pub struct SessionFacts {
    pub id: String,
    pub user: String,
    pub groups: Vec<String>,
    pub from: String,
    /// With its context named.
    pub target: Target,
    /// Empty for an attach.
    pub command: Vec<String>,
    /// On the container's main process (`kubectl attach`).
    pub attach: bool,
    /// RFC 3339
    pub start: String,
}

/// Who added which debug container to which pod, beside which container.
#[derive(Debug)]
pub struct DebugFacts<'a> {
    pub user: &'a str,
    pub groups: &'a [String],
    pub from: &'a str,
    pub context: &'a str,
    pub namespace: &'a str,
    pub pod: &'a str,
    pub target: &'a str,
    pub container: &'a str,
    pub image: &'a str,
}

/// One file or folder moved in or out of a container (never its contents).
#[derive(Debug)]
pub struct TransferFacts<'a> {
    pub user: &'a str,
    pub groups: &'a [String],
    pub from: &'a str,
    pub context: &'a str,
    pub namespace: &'a str,
    pub pod: &'a str,
    pub container: &'a str,
    /// `upload` or `download`.
    pub direction: &'a str,
    pub path: &'a str,
    pub bytes: u64,
    /// SHA-256 of the bytes relayed, hex.
    pub sha256: &'a str,
    /// `ok`, or what went wrong, in words.
    pub result: &'a str,
}

impl SessionFacts {
    fn to_json(&self, kind: &str) -> Value {
        json!({
            "audit": kind,
            "session": self.id,
            "user": self.user,
            "groups": self.groups,
            "from": self.from,
            "context": self.target.context,
            "namespace": self.target.namespace,
            "pod": self.target.pod,
            "container": self.target.container,
            "command": self.command,
            "attach": self.attach,
            "start": self.start,
        })
    }
}

/// Narrows an audit log that others may read to 0600 when podterm owns it: its lines say
/// who opened shells where. One that belongs to another user is left as it is, with a
/// warning: giving the file to another user is how an operator lets a log reader in.
fn keep_private(file: &File, path: &Path) -> std::io::Result<()> {
    let meta = file.metadata()?;
    if !open_to_others(&meta) {
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o777;
    let shown = path.display();
    if owned_by_podterm(&meta) {
        file.set_permissions(Permissions::from_mode(0o600))?;
        tracing::warn!(
            "the audit log {shown} was open to other users (mode {mode:o}); podterm made it mode 600"
        );
    } else {
        tracing::warn!(
            "the audit log {shown} is open to other users (mode {mode:o}) and belongs to another \
             user, so podterm left it as it is; make it mode 600 unless they are meant to read it"
        );
    }
    Ok(())
}

/// How a session ended.
#[derive(Debug, Clone, Default)]
pub struct Ending {
    pub exit_code: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: u128,
    pub bytes_in: u64,
    pub bytes_out: u64,
}

impl Audit {
    pub fn new(sink: Box<dyn Write + Send>) -> Self {
        Self {
            sink: Mutex::new(sink),
        }
    }

    /// Audit lines go to standard error, with the logs, unless a file is named.
    pub fn from_path(path: Option<&Path>) -> std::io::Result<Self> {
        Ok(match path {
            None => Self::new(Box::new(std::io::stderr())),
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .mode(0o600)
                    .open(path)?;
                keep_private(&file, path)?;
                Self::new(Box::new(file))
            }
        })
    }

    pub fn started(&self, facts: &SessionFacts) {
        self.write(facts.to_json("session_start"));
    }

    pub fn ended(&self, facts: &SessionFacts, ending: &Ending) {
        let mut line = facts.to_json("session_end");
        line["duration_ms"] = json!(ending.duration_ms as u64);
        line["exit_code"] = json!(ending.exit_code);
        line["error"] = json!(ending.error);
        line["bytes_in"] = json!(ending.bytes_in);
        line["bytes_out"] = json!(ending.bytes_out);
        self.write(line);
    }

    /// What the person types into this session also goes to other terminals (`on`), or
    /// no longer; `terminals`: how many get it, this one included.
    pub fn broadcast(&self, facts: &SessionFacts, on: bool, terminals: u32) {
        let kind = if on {
            "broadcast_start"
        } else {
            "broadcast_stop"
        };
        let mut line = facts.to_json(kind);
        line["terminals"] = json!(terminals);
        line["time"] = json!(jiff::Timestamp::now().to_string());
        self.write(line);
    }

    /// Someone added a debug (ephemeral) container to a pod: it stays in the pod's spec.
    pub fn debug_container_added(&self, facts: &DebugFacts) {
        self.write(json!({
            "audit": "debug_container_added",
            "user": facts.user,
            "groups": facts.groups,
            "from": facts.from,
            "context": facts.context,
            "namespace": facts.namespace,
            "pod": facts.pod,
            "target": facts.target,
            "container": facts.container,
            "image": facts.image,
            "time": jiff::Timestamp::now().to_string(),
        }));
    }

    /// A file went in or out of a container (or failed to).
    pub fn file_transferred(&self, facts: &TransferFacts) {
        self.write(json!({
            "audit": "file_transferred",
            "user": facts.user,
            "groups": facts.groups,
            "from": facts.from,
            "context": facts.context,
            "namespace": facts.namespace,
            "pod": facts.pod,
            "container": facts.container,
            "direction": facts.direction,
            "path": facts.path,
            "bytes": facts.bytes,
            "sha256": facts.sha256,
            "result": facts.result,
            "time": jiff::Timestamp::now().to_string(),
        }));
    }

    /// A trusted proxy named someone podterm may not act as.
    pub fn login_refused(&self, user: &str, groups: &[String], from: &str, reason: &str) {
        self.write(json!({
            "audit": "login_refused",
            "user": user,
            "groups": groups,
            "from": from,
            "reason": reason,
            "time": jiff::Timestamp::now().to_string(),
        }));
    }

    fn write(&self, line: Value) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(sink, "{line}");
        let _ = sink.flush();
    }
}
