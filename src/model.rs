//! What the dashboard shows: clusters, namespaces, pods and containers, as plain data
//! shared by the server functions and the page.

use serde::{Deserialize, Serialize};

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
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub name: String,
    pub image: String,
    pub ready: bool,
    pub restarts: i32,
    /// Why a shell cannot be opened in this container; `None` when it can.
    pub not_connectable: Option<String>,
}

impl PodSummary {
    pub fn container(&self, name: &str) -> Option<&ContainerSummary> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// Case-insensitive match on the pod's name, status or container names.
    pub fn matches(&self, filter: &str) -> bool {
        let filter = filter.trim().to_lowercase();
        filter.is_empty()
            || self.name.to_lowercase().contains(&filter)
            || self.status.to_lowercase().contains(&filter)
            || self
                .containers
                .iter()
                .any(|c| c.name.to_lowercase().contains(&filter))
    }
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
