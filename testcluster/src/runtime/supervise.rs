//! A container's main process as a kubelet runs it: its output goes to the container's
//! log, it is restarted under the pod's restart policy with the kubelet's back-off (the
//! first restart at once, then 10 s doubling up to 5 min), and every change of state is
//! reported as the container's status.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;

use super::logs::LogFile;
use super::main_io::MainIo;
use super::{Container, ContainerKey, Starter};
use crate::config::RestartPolicy;

const BACKOFF_START: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(300);
/// An instance that ran this long resets the back-off, as the kubelet forgets it.
const BACKOFF_RESET: Duration = Duration::from_secs(600);
/// How many instances' logs a container keeps: the current and the previous.
const KEPT_LOGS: usize = 2;

/// A container's state as its node reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Live {
    pub state: LiveState,
    /// The previous instance's end, once there has been one.
    pub last: Option<Ended>,
    pub restarts: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum LiveState {
    Running { started: Timestamp, id: String },
    Waiting { reason: String, message: String },
    Terminated(Ended),
}

/// How an instance ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Ended {
    pub exit_code: i32,
    pub reason: String,
    pub message: Option<String>,
    pub started: Timestamp,
    pub finished: Timestamp,
    /// The instance's container ID (its log's key).
    pub id: String,
}

impl Live {
    /// A container whose main process has not started yet.
    pub fn creating() -> Self {
        Live {
            state: LiveState::Waiting {
                reason: "ContainerCreating".into(),
                message: String::new(),
            },
            last: None,
            restarts: 0,
        }
    }

    /// A container that cannot start, and why.
    pub fn waiting(reason: &str, message: String) -> Self {
        Live {
            state: LiveState::Waiting {
                reason: reason.into(),
                message,
            },
            last: None,
            restarts: 0,
        }
    }

    pub fn running(&self) -> bool {
        matches!(self.state, LiveState::Running { .. })
    }

    /// The ID of the instance whose log `kubectl logs` shows, as the kubelet picks it.
    pub fn current_id(&self) -> Option<&str> {
        match &self.state {
            LiveState::Running { id, .. } => Some(id),
            LiveState::Terminated(ended) => Some(&ended.id),
            LiveState::Waiting { .. } => self.last.as_ref().map(|e| e.id.as_str()),
        }
    }
}

/// Where a container's changes of state go: `(container, pod uid, state)`.
pub type Report = Arc<dyn Fn(&ContainerKey, &str, Live) + Send + Sync>;

/// Runs the main process until the container is stopped or the policy lets it end.
pub(super) async fn run(
    starter: Starter,
    container: Arc<Container>,
    first_start: tokio::sync::OwnedMutexGuard<Option<super::Init>>,
    policy: RestartPolicy,
    report: Report,
) {
    let key = container.target.key.clone();
    let uid = container.target.pod_uid.clone();
    let send = |live: &Live| report(&key, &uid, live.clone());
    let mut live = Live::creating();
    let mut backoff: Option<Duration> = None;
    let mut guard = Some(first_start);
    loop {
        let init = match guard.take() {
            Some(guard) => guard,
            None => container.init.clone().lock_owned().await,
        };
        let id = crate::random_hex(32);
        let log = match LogFile::create(log_path(&starter, &container, live.restarts)).await {
            Ok(log) => log,
            Err(e) => {
                tracing::warn!(container = ?key, "cannot create its log: {e}");
                return;
            }
        };
        container.keep_log(&id, log.clone(), KEPT_LOGS);
        let started_at = Timestamp::now();
        let ended = match starter.start_main(&container, init).await {
            Ok(mut instance) => {
                live.state = LiveState::Running {
                    started: started_at,
                    id: id.clone(),
                };
                send(&live);
                let (pty, early) = instance.pty.take().unzip();
                let io = MainIo::new(instance.stdin.take(), pty);
                container.set_main_io(Some(io.clone()));
                let (stdout, stderr) = (instance.stdout.take(), instance.stderr.take());
                let copying = tokio::spawn(async move {
                    io.copy_output(stdout, stderr, early.unwrap_or_default(), log)
                        .await;
                });
                let status = tokio::select! {
                    status = instance.child.wait() => status,
                    () = container.stopped.cancelled() => return,
                };
                let _ = copying.await;
                container.set_main_io(None);
                container.init.lock().await.take();
                let exit_code = status.map_or(128, super::exit_code);
                tracing::info!(container = ?key, exit_code, "main process exited");
                Ended {
                    exit_code,
                    reason: if exit_code == 0 { "Completed" } else { "Error" }.into(),
                    message: None,
                    started: started_at,
                    finished: Timestamp::now(),
                    id,
                }
            }
            Err(e) => {
                tracing::info!(container = ?key, "main process failed to start: {e}");
                log.close().await;
                Ended {
                    exit_code: 128,
                    reason: "StartError".into(),
                    message: Some(e.to_string()),
                    started: started_at,
                    finished: Timestamp::now(),
                    id,
                }
            }
        };
        if container.stopped.is_cancelled() {
            return;
        }
        if !policy.restarts(ended.exit_code) {
            live.state = LiveState::Terminated(ended);
            send(&live);
            return;
        }
        let ran = ended.finished.duration_since(ended.started).unsigned_abs();
        if ran >= BACKOFF_RESET {
            backoff = None;
        }
        live.last = Some(ended);
        if let Some(delay) = backoff {
            live.state = LiveState::Waiting {
                reason: "CrashLoopBackOff".into(),
                message: format!(
                    "back-off {} restarting failed container={} pod={}_{}({})",
                    go_duration(delay),
                    key.container,
                    key.pod,
                    key.namespace,
                    uid
                ),
            };
            send(&live);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = container.stopped.cancelled() => return,
            }
            backoff = Some((delay * 2).min(BACKOFF_MAX));
        } else {
            backoff = Some(BACKOFF_START);
        }
        live.restarts += 1;
    }
}

fn log_path(starter: &Starter, container: &Container, restarts: i32) -> std::path::PathBuf {
    let key = &container.target.key;
    starter
        .dir
        .join("logs")
        .join(format!(
            "{}_{}_{}",
            key.namespace, key.pod, container.target.pod_uid
        ))
        .join(&key.container)
        .join(format!("{restarts}.log"))
}

/// A duration as Go prints it: `10s`, `1m20s`, `5m0s`.
fn go_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if secs < 60 {
        format!("{secs}s")
    } else {
        format!("{}m{}s", secs / 60, secs % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_secs(10)), "10s");
        assert_eq!(go_duration(Duration::from_secs(80)), "1m20s");
        assert_eq!(go_duration(Duration::from_secs(300)), "5m0s");
    }
}
