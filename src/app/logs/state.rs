//! Where a log view stands, and its words for each state: the status beside its title, the
//! note where lines would be, a failure and what to do next.

use super::lines::MAX_LINES;
use crate::app::pod_list::count;

/// Where a read stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogState {
    /// Waiting for the page's script (server render, before hydration).
    Starting,
    /// Asked; no answer yet.
    Loading,
    /// Reading, and new lines come as the container writes them.
    Following,
    /// Reading what there is (follow off).
    Reading,
    /// The connection dropped; the view asks again, from its last line.
    Reconnecting {
        attempt: u32,
    },
    /// The person turned follow off.
    Paused,
    /// A read without follow got everything there was.
    Ended,
    /// A follow ended: the container stopped.
    Stopped,
    Failed(Failure),
}

/// Why a read failed: podterm's answer (its status and sentence), or `status` 0 when
/// podterm could not be reached for two minutes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub status: u16,
    pub message: String,
}

impl LogState {
    /// The status beside the log's title.
    pub fn describe(&self) -> String {
        match self {
            LogState::Starting | LogState::Loading => "Loading…".into(),
            LogState::Following => "Following".into(),
            LogState::Reading => "Reading…".into(),
            LogState::Reconnecting { attempt } => {
                format!("Connection lost — reconnecting (attempt {attempt})…")
            }
            LogState::Paused => "Paused".into(),
            LogState::Ended => "End of the log".into(),
            LogState::Stopped => "The container stopped".into(),
            LogState::Failed(failure) => failure.label().into(),
        }
    }

    pub fn css(&self) -> &'static str {
        match self {
            LogState::Starting | LogState::Loading | LogState::Reading => "status status-pending",
            LogState::Following => "status status-live",
            LogState::Reconnecting { .. } => "status status-reconnecting",
            LogState::Paused | LogState::Ended => "status status-done",
            LogState::Stopped => "status status-warn",
            LogState::Failed(_) => "status status-error",
        }
    }

    /// Over, and reading on from the last line may bring more: a container that stopped
    /// may start again, a read without follow may be read again.
    pub fn may_read_on(&self) -> bool {
        matches!(self, LogState::Ended | LogState::Stopped)
    }

    /// What the empty screen says (nothing once there are lines).
    pub fn empty_note(&self, since: bool) -> Option<&'static str> {
        Some(match self {
            LogState::Starting | LogState::Loading | LogState::Reading => "Loading the log…",
            LogState::Following | LogState::Reconnecting { .. } => {
                "No lines yet. New lines show here as the container writes them."
            }
            LogState::Paused => "No lines yet. Turn Follow on to go on reading.",
            LogState::Ended if since => "No lines in the time chosen.",
            LogState::Ended => "This log is empty.",
            LogState::Stopped => "The container stopped without writing a line.",
            LogState::Failed(_) => return None,
        })
    }
}

impl Failure {
    fn label(&self) -> &'static str {
        match self.status {
            0 => "Disconnected",
            401 => "Logged out",
            403 => "Not allowed",
            404 => "Not found",
            400 => "Cannot read",
            502 => "Cluster unreachable",
            _ => "Error",
        }
    }

    /// The failure in a sentence, before podterm's own words.
    pub fn headline(&self) -> &'static str {
        match self.status {
            0 => "Lost the connection to podterm; reconnecting failed for 2 minutes.",
            401 => "Your login has ended.",
            403 => "You may not read this container's logs.",
            404 => "This pod or container is not there.",
            400 => "The cluster cannot give this log.",
            502 => "The cluster did not answer.",
            _ => "podterm could not read the log.",
        }
    }

    /// What the person can do about it, for a log in `namespace`.
    pub fn next_step(&self, previous: bool, namespace: &str) -> String {
        match self.status {
            0 => "Press Retry once the network is back.".into(),
            401 => "Log in again, then open the log again.".into(),
            403 => format!(
                "Ask whoever runs the cluster for get on pods/log in namespace {namespace}, or pick a pod you may read."
            ),
            404 => "It may have been deleted or replaced: pick it again on the dashboard.".into(),
            400 if previous => {
                "Turn Previous off: this container has not restarted, so there is no earlier instance.".into()
            }
            400 => "Press Retry once the container has started, or change the options above.".into(),
            502 => "Press Retry; if it goes on, the cluster may be down.".into(),
            _ => "Press Retry.".into(),
        }
    }

    /// Trying again may work.
    pub fn may_retry(&self) -> bool {
        !matches!(self.status, 401 | 403 | 404)
    }

    /// A dropped connection or a cluster that did not answer, while reconnecting: tried
    /// again rather than shown.
    pub fn passing(status: u16) -> bool {
        matches!(status, 0 | 502 | 503 | 504)
    }
}

/// What the view holds, for its count line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub lines: usize,
    /// Dropped to keep within the bound.
    pub dropped: u64,
    pub matching: usize,
}

/// The count under the controls: how many lines the view holds, the bound, the matches.
pub fn tally(counts: Counts, filtering: bool) -> String {
    let Counts {
        lines,
        dropped,
        matching,
    } = counts;
    let held = if dropped > 0 {
        format!(
            "Showing the last {} lines; older ones are dropped (a view keeps at most {} lines or 8 MiB)",
            count(lines),
            count(MAX_LINES)
        )
    } else if lines == 1 {
        format!("1 line (a view keeps the last {})", count(MAX_LINES))
    } else {
        format!(
            "{} lines (a view keeps the last {})",
            count(lines),
            count(MAX_LINES)
        )
    };
    if filtering {
        format!("{held} · {} match", count(matching))
    } else {
        held
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_has_words() {
        for state in [
            LogState::Starting,
            LogState::Loading,
            LogState::Following,
            LogState::Reading,
            LogState::Reconnecting { attempt: 2 },
            LogState::Paused,
            LogState::Ended,
            LogState::Stopped,
        ] {
            assert!(!state.describe().is_empty());
            assert!(state.empty_note(false).is_some(), "{state:?}");
        }
        assert_eq!(
            LogState::Reconnecting { attempt: 3 }.describe(),
            "Connection lost — reconnecting (attempt 3)…"
        );
        assert_eq!(
            LogState::Ended.empty_note(true),
            Some("No lines in the time chosen.")
        );
    }

    #[test]
    fn failures_say_what_to_do() {
        let failed = |status| Failure {
            status,
            message: String::new(),
        };
        assert_eq!(
            failed(403).headline(),
            "You may not read this container's logs."
        );
        assert!(!failed(403).may_retry());
        assert!(!failed(404).may_retry());
        assert!(!failed(401).may_retry());
        assert!(failed(400).may_retry());
        assert!(failed(0).may_retry());
        assert!(
            failed(400)
                .next_step(true, "shop")
                .contains("Turn Previous off")
        );
        assert!(!failed(400).next_step(false, "shop").contains("Previous"));
        assert_eq!(
            failed(403).next_step(false, "batch"),
            "Ask whoever runs the cluster for get on pods/log in namespace batch, or pick a pod you may read."
        );
        assert_eq!(
            LogState::Failed(failed(502)).describe(),
            "Cluster unreachable"
        );
        assert!(Failure::passing(0) && Failure::passing(502) && !Failure::passing(403));
    }

    #[test]
    fn the_count_states_the_bound() {
        let counts = |lines, dropped, matching| Counts {
            lines,
            dropped,
            matching,
        };
        assert_eq!(
            tally(counts(0, 0, 0), false),
            "0 lines (a view keeps the last 10,000)"
        );
        assert_eq!(
            tally(counts(1, 0, 0), false),
            "1 line (a view keeps the last 10,000)"
        );
        assert_eq!(
            tally(counts(10_000, 52, 3), true),
            "Showing the last 10,000 lines; older ones are dropped (a view keeps at most 10,000 lines or 8 MiB) · 3 match"
        );
    }
}
