//! One program run in a container for a transfer: a non-interactive exec, argv only (paths
//! are arguments, never part of a shell string), its output read as it comes.

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use kube::api::{Api, AttachParams, AttachedProcess};
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::protocol::ErrorReason;
use crate::server::cluster::kube_errors::{Failure, classify};

/// What a transfer's program may leave in memory from its standard error.
const STDERR_KEPT: usize = 4096;
/// The most a listing's program may print (a directory with very many entries).
pub const OUTPUT_KEPT: usize = 8 << 20;
/// What the exec may hold for podterm before the container has to wait: a reader that
/// stops stops the container's program, and podterm's memory stays this small.
const PIPE: usize = 256 * 1024;

/// A container, as the place its programs run.
#[derive(Clone)]
pub struct Runner {
    pub pods: Api<Pod>,
    pub pod: String,
    pub container: String,
}

/// How a program ended.
#[derive(Debug)]
pub struct Ended {
    pub code: i32,
    pub stderr: String,
}

/// A program that ran to its end, its output kept.
#[derive(Debug)]
pub struct Output {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
    /// The output went past `OUTPUT_KEPT` and the rest was left out.
    pub cut: bool,
}

/// Why a program did not run.
#[derive(Debug)]
pub enum RunError {
    /// The container has no such program.
    Missing(String),
    Failed(Failure),
}

impl From<Failure> for RunError {
    fn from(f: Failure) -> Self {
        RunError::Failed(f)
    }
}

impl Runner {
    /// Starts `argv`, its output to be read (a program fed input is `feed`'s).
    pub async fn start(&self, argv: &[&str]) -> Result<AttachedProcess, RunError> {
        let params = AttachParams::default()
            .container(&self.container)
            .stdin(false)
            .stdout(true)
            .stderr(true)
            .max_stdout_buf_size(PIPE)
            .max_stderr_buf_size(PIPE);
        let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
        self.pods
            .exec(&self.pod, argv, &params)
            .await
            .map_err(|e| RunError::Failed(classify(&e)))
    }

    /// Runs `argv` to its end and keeps what it printed (up to `OUTPUT_KEPT`).
    pub async fn output(&self, argv: &[&str]) -> Result<Output, RunError> {
        let mut process = self.start(argv).await?;
        let mut stdout = process.stdout().expect("asked for stdout");
        let collect = async {
            let mut out = Vec::new();
            let mut cut = false;
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                match stdout.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) if out.len() + n > OUTPUT_KEPT => {
                        cut = true;
                        break;
                    }
                    Ok(n) => out.extend_from_slice(&buf[..n]),
                }
            }
            (out, cut)
        };
        let ((stdout, cut), ended) = tokio::join!(collect, self.finish(argv[0], &mut process));
        // A cut output leaves the program waiting on a full pipe: stop it.
        if cut {
            process.abort();
        }
        let ended = match ended {
            Err(_) if cut => Ended {
                code: 0,
                stderr: String::new(),
            },
            other => other?,
        };
        Ok(Output {
            code: ended.code,
            stdout,
            stderr: ended.stderr,
            cut,
        })
    }

    /// Reads the program's standard error and waits for its end.
    pub async fn finish(
        &self,
        program: &str,
        process: &mut AttachedProcess,
    ) -> Result<Ended, RunError> {
        let status = process.take_status();
        let stderr = match process.stderr() {
            Some(reader) => read_bounded(reader).await,
            None => String::new(),
        };
        let status = match status {
            Some(status) => status.await,
            None => None,
        };
        ended(program, status, stderr)
    }
}

async fn read_bounded(mut reader: impl AsyncRead + Unpin) -> String {
    let mut kept = Stderr::default();
    let mut buf = [0u8; 4096];
    while let Ok(n) = reader.read(&mut buf).await {
        if n == 0 {
            break;
        }
        kept.add(&buf[..n]);
    }
    kept.text()
}

/// The start of a program's standard error, up to `STDERR_KEPT` bytes: enough to say why
/// it failed, never a whole stream in memory.
#[derive(Default)]
pub(super) struct Stderr(Vec<u8>);

impl Stderr {
    pub fn add(&mut self, data: &[u8]) {
        let room = STDERR_KEPT.saturating_sub(self.0.len());
        self.0.extend_from_slice(&data[..data.len().min(room)]);
    }

    pub fn text(self) -> String {
        String::from_utf8_lossy(&self.0).trim().to_string()
    }
}

/// Reads the exec's Status: an exit code, a missing program, or a failure.
pub(super) fn ended(
    program: &str,
    status: Option<Status>,
    stderr: String,
) -> Result<Ended, RunError> {
    let Some(status) = status else {
        return Err(RunError::Failed(Failure::new(
            ErrorReason::Unreachable,
            "the connection to the container broke before the program ended (the pod may have gone away)",
        )));
    };
    if status.status.as_deref() == Some("Success") {
        return Ok(Ended { code: 0, stderr });
    }
    if status.reason.as_deref() == Some("NonZeroExitCode") {
        let code = status
            .details
            .as_ref()
            .and_then(|d| d.causes.as_ref())
            .and_then(|c| c.iter().find(|c| c.reason.as_deref() == Some("ExitCode")))
            .and_then(|c| c.message.as_deref()?.parse().ok())
            .unwrap_or(1);
        return Ok(Ended { code, stderr });
    }
    let message = status.message.unwrap_or_default();
    if missing_program(&message) {
        return Err(RunError::Missing(program.to_string()));
    }
    let reason = if message.contains("not found") || message.contains("not running") {
        ErrorReason::NotRunning
    } else {
        ErrorReason::Internal
    };
    Err(RunError::Failed(Failure::new(
        reason,
        format!("{program} could not run in the container: {message}"),
    )))
}

/// The runtimes' words for an exec of a program the image does not have.
fn missing_program(message: &str) -> bool {
    message.contains("executable file not found")
        || message.contains("no such file or directory")
        || message.contains("not found in $PATH")
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{StatusCause, StatusDetails};

    fn status(reason: &str, message: &str, code: Option<&str>) -> Status {
        Status {
            status: Some("Failure".into()),
            reason: Some(reason.into()),
            message: Some(message.into()),
            details: code.map(|code| StatusDetails {
                causes: Some(vec![StatusCause {
                    reason: Some("ExitCode".into()),
                    message: Some(code.into()),
                    field: None,
                }]),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn only_the_start_of_stderr_is_kept() {
        let mut kept = Stderr::default();
        kept.add(b" dd: No space left\n");
        kept.add(&[b'x'; STDERR_KEPT]);
        let text = kept.text();
        assert!(text.starts_with("dd: No space left\nxx"), "{text}");
        assert_eq!(text.len(), STDERR_KEPT - 1);
    }

    #[test]
    fn statuses_read_as_codes_missing_programs_or_failures() {
        let success = Status {
            status: Some("Success".into()),
            ..Default::default()
        };
        let ok = ended("cat", Some(success), String::new()).unwrap();
        assert_eq!(ok.code, 0);
        let two = ended(
            "cat",
            Some(status("NonZeroExitCode", "x", Some("2"))),
            "e".into(),
        );
        assert_eq!(two.unwrap().code, 2);
        let missing =
            "failed to exec in container: exec: \"tar\": executable file not found in $PATH";
        assert!(matches!(
            ended("tar", Some(status("InternalError", missing, None)), String::new()),
            Err(RunError::Missing(p)) if p == "tar"
        ));
        assert!(matches!(
            ended("cat", None, String::new()),
            Err(RunError::Failed(f)) if f.reason == ErrorReason::Unreachable
        ));
    }
}
