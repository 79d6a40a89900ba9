//! How a session ended, in the words the page, the metrics and the audit trail use.

use std::time::Duration;

use crate::protocol::{ErrorReason, ServerEvent};
use crate::server::cluster::exec_channels::Outcome;
use crate::server::trail::audit::Ending;

/// Why a session ended.
pub(super) enum End {
    Cluster(Outcome),
    /// The page did not come back within the grace period.
    Abandoned,
    /// The person closed the terminal.
    Closed,
    /// podterm ended it: an administrator, a limit, shutdown.
    Ended(String),
}

impl End {
    pub(super) fn outcome(&self) -> &'static str {
        match self {
            End::Cluster(Outcome::Exited(_)) => "exited",
            End::Cluster(Outcome::Failed(_)) => "failed",
            End::Abandoned => "abandoned",
            End::Closed => "closed",
            End::Ended(_) => "ended",
        }
    }
}

/// What the page is told last (none when it is gone), and the audit record of the end.
pub(super) fn describe(end: &End, grace: Duration) -> (Option<ServerEvent>, Ending) {
    match end {
        End::Cluster(Outcome::Exited(code)) => (
            Some(ServerEvent::Exit { code: *code }),
            Ending {
                exit_code: Some(*code),
                ..Default::default()
            },
        ),
        End::Cluster(Outcome::Failed(failure)) => (
            Some(ServerEvent::Error {
                reason: failure.reason,
                message: failure.message.clone(),
            }),
            Ending {
                error: Some(failure.message.clone()),
                ..Default::default()
            },
        ),
        End::Abandoned => (
            None,
            Ending {
                error: Some(format!(
                    "the browser went away and did not come back within {} s",
                    grace.as_secs()
                )),
                ..Default::default()
            },
        ),
        End::Closed => (
            None,
            Ending {
                error: Some("closed in the browser".into()),
                ..Default::default()
            },
        ),
        End::Ended(why) => (
            Some(ServerEvent::Error {
                reason: ErrorReason::Ended,
                message: why.clone(),
            }),
            Ending {
                error: Some(why.clone()),
                ..Default::default()
            },
        ),
    }
}
