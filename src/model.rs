//! What the dashboard shows: clusters, namespaces, pods and containers, as plain data
//! shared by the server functions and the page; and where a terminal runs (`Target`).

use serde::{Deserialize, Serialize};

/// Where a terminal runs: a container of a pod, in a namespace of a cluster context.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Target {
    /// The kubeconfig context; `None` for the current one. The server names it once it has
    /// looked it up (`Some` in everything it keeps about a session).
    pub context: Option<String>,
    pub namespace: String,
    pub pod: String,
    pub container: String,
}

impl Target {
    /// How a terminal's tab and title name it.
    pub fn title(&self) -> String {
        format!("{}/{}", self.pod, self.container)
    }
}

/// A kubeconfig context (or the in-cluster identity).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterContext {
    pub name: String,
    pub current: bool,
    /// The context's namespace, if it names one.
    pub namespace: Option<String>,
}

/// The namespaces a person can pick from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Namespaces {
    pub names: Vec<String>,
    /// False when listing namespaces is not allowed: then `names` holds the context's
    /// namespace only and the page lets the person type another.
    pub listable: bool,
    /// Why they could not be listed, when they could not.
    pub note: Option<String>,
}

/// One pod, as the pod list shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PodSummary {
    pub name: String,
    pub namespace: String,
    pub phase: String,
    /// What `kubectl get pods` would show under STATUS (e.g. CrashLoopBackOff, Completed).
    pub status: String,
    pub ready: u32,
    pub total: u32,
    pub restarts: i32,
    /// How long ago it was created, as kubectl shows it (computed when the list was made).
    pub age: String,
    pub containers: Vec<ContainerSummary>,
    /// The container a terminal opens in when none is chosen.
    pub default_container: Option<String>,
    /// When the pod is being deleted.
    pub terminating: bool,
    /// Its containers run Windows (`spec.os.name`): no /bin/sh, `cmd.exe` instead.
    #[serde(default)]
    pub windows: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: i32,
    /// Why a shell cannot be opened in this container; `None` when it can.
    pub not_connectable: Option<String>,
    /// A debug (ephemeral) container's target: the container it was started beside.
    #[serde(default)]
    pub debug_of: Option<String>,
    /// Its main process reads stdin (the spec's `stdin` or `tty`): an attach can type into it.
    #[serde(default)]
    pub interactive: bool,
}

/// What the page shows where a terminal cannot start: the container's state, its last
/// end, the last lines of its log, and the ways in the person is allowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerInsight {
    pub container: String,
    pub image: String,
    /// `running`, `waiting` or `terminated`.
    pub state: String,
    /// Why it waits or ended (`CrashLoopBackOff`, `Error`...), with the runtime's message.
    pub reason: Option<String>,
    pub message: Option<String>,
    pub restarts: i32,
    /// How the instance before ended (or this one, when it has).
    pub last_end: Option<LastEnd>,
    /// The last lines of its log: the previous instance's when the current one has none.
    pub log: Vec<String>,
    pub log_of_previous: bool,
    /// Why the log could not be read, in words.
    pub log_error: Option<String>,
    /// The next steps, each allowed (`None`) or not (why).
    pub logs_denied: Option<String>,
    pub debug_denied: Option<String>,
    pub attach_denied: Option<String>,
    /// Its main process reads a terminal or stdin, so an attach can type into it.
    pub interactive: bool,
    /// The image a debug container would use.
    pub debug_image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastEnd {
    pub reason: String,
    pub exit_code: i32,
    /// RFC 3339.
    pub finished: Option<String>,
}

impl PodSummary {
    pub fn container(&self, name: &str) -> Option<&ContainerSummary> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Case-insensitive match on the pod's name, status or container names.
    pub fn matches(&self, filter: &str) -> bool {
        self.matches_normalized(&normalize_filter(filter))
    }

    /// As [`PodSummary::matches`], for a filter already put through [`normalize_filter`]
    /// (a list checks thousands of pods against one filter).
    pub fn matches_normalized(&self, filter: &str) -> bool {
        filter.is_empty()
            || contains_folded(&self.name, filter)
            || contains_folded(&self.status, filter)
            || self
                .containers
                .iter()
                .any(|c| contains_folded(&c.name, filter))
    }
}

/// The longest filter kept (longer than any Kubernetes name).
pub const FILTER_MAX_CHARS: usize = 256;

/// A filter as typed, trimmed and cut to [`FILTER_MAX_CHARS`].
pub fn trim_filter(filter: &str) -> String {
    filter.trim().chars().take(FILTER_MAX_CHARS).collect()
}

/// A filter as it is compared: trimmed, cut, lower-cased.
pub fn normalize_filter(filter: &str) -> String {
    trim_filter(filter).to_lowercase()
}

/// Whether `haystack` contains `needle` (lower-case), ignoring ASCII case, without
/// allocating. Names and statuses are ASCII; other text compares exactly.
fn contains_folded(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|w| w.eq_ignore_ascii_case(needle))
}

/// Pods listed at first, and added by each "show more".
pub const WINDOW_STEP: usize = 200;
/// The most pods one list shows; past that, the filter finds the others.
pub const WINDOW_MAX: usize = 1000;

/// How many pods to list for a `limit` a page or a URL asked for.
pub fn window_limit(asked: Option<usize>) -> usize {
    asked.unwrap_or(WINDOW_STEP).clamp(1, WINDOW_MAX)
}

/// Part of a namespace's pods: the first `limit` (by name) that match `filter`, with how
/// many match and how many there are. What the dashboard renders and its live feed sends,
/// so a namespace with thousands of pods costs a page no more than a few hundred rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodWindow {
    pub pods: Vec<PodSummary>,
    /// The filter these pods match, as asked (empty: every pod).
    pub filter: String,
    pub limit: usize,
    /// How many pods match the filter.
    pub matching: usize,
    /// How many pods the namespace has.
    pub total: usize,
    /// Why the list may be out of date (the cluster's watch is failing), if it may be.
    pub problem: Option<String>,
}

/// A window's counts: what the live feed sends when only they changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PodCounts {
    pub matching: usize,
    pub total: usize,
}

/// A short age like kubectl's: 45s, 12m, 3h, 5d.
pub fn short_age(seconds: i64) -> String {
    match seconds {
        s if s < 0 => "0s".into(),
        s if s < 120 => format!("{s}s"),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 48 * 3600 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, status: &str, containers: &[&str]) -> PodSummary {
        PodSummary {
            name: name.into(),
            namespace: "ns".into(),
            phase: "Running".into(),
            status: status.into(),
            ready: 0,
            total: containers.len() as u32,
            restarts: 0,
            age: "1m".into(),
            containers: containers
                .iter()
                .map(|c| ContainerSummary {
                    name: c.to_string(),
                    image: "img".into(),
                    ready: true,
                    restarts: 0,
                    not_connectable: None,
                    debug_of: None,
                    interactive: false,
                })
                .collect(),
            default_container: None,
            terminating: false,
            windows: false,
        }
    }

    #[test]
    fn filters_match_name_status_or_container_whatever_the_case() {
        let p = pod("web-7d4b9", "CrashLoopBackOff", &["log-shipper", "web"]);
        for filter in ["", "  ", "WEB-7", "crashloop", " Shipper ", "b9"] {
            assert!(p.matches(filter), "{filter:?}");
        }
        for filter in ["worker", "web-7d4b9x", "é", "\u{0}"] {
            assert!(!p.matches(filter), "{filter:?}");
        }
        let long = "w".repeat(FILTER_MAX_CHARS * 4);
        assert_eq!(normalize_filter(&long).chars().count(), FILTER_MAX_CHARS);
        assert_eq!(trim_filter("  Web "), "Web");
        assert_eq!(normalize_filter("ÉTÉ"), "été");
    }

    #[test]
    fn window_lengths_are_clamped() {
        assert_eq!(window_limit(None), WINDOW_STEP);
        assert_eq!(window_limit(Some(0)), 1);
        assert_eq!(window_limit(Some(450)), 450);
        assert_eq!(window_limit(Some(usize::MAX)), WINDOW_MAX);
    }
}
