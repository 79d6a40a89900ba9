//! The audit trail: one JSON line when a terminal session starts and one when it ends.

use std::io::Write;
use std::sync::Mutex;

use serde_json::{Value, json};

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
    pub context: String,
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub command: Vec<String>,
    /// RFC 3339
    pub start: String,
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
    pub fn from_path(path: Option<&std::path::Path>) -> std::io::Result<Self> {
        Ok(match path {
            None => Self::new(Box::new(std::io::stderr())),
            Some(path) => Self::new(Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)?,
            )),
        })
    }

    pub fn started(&self, facts: &SessionFacts) {
        self.write(json!({
            "audit": "session_start",
            "session": facts.id,
            "user": facts.user,
            "groups": facts.groups,
            "from": facts.from,
            "context": facts.context,
            "namespace": facts.namespace,
            "pod": facts.pod,
            "container": facts.container,
            "command": facts.command,
            "start": facts.start,
        }));
    }

    pub fn ended(&self, facts: &SessionFacts, ending: &Ending) {
        self.write(json!({
            "audit": "session_end",
            "session": facts.id,
            "user": facts.user,
            "groups": facts.groups,
            "from": facts.from,
            "context": facts.context,
            "namespace": facts.namespace,
            "pod": facts.pod,
            "container": facts.container,
            "command": facts.command,
            "start": facts.start,
            "duration_ms": ending.duration_ms as u64,
            "exit_code": ending.exit_code,
            "error": ending.error,
            "bytes_in": ending.bytes_in,
            "bytes_out": ending.bytes_out,
        }));
    }

    fn write(&self, line: Value) {
        let mut sink = self.sink.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(sink, "{line}");
        let _ = sink.flush();
    }
}
