//! `meta.k8s.io/v1` Table responses: what `kubectl get` prints, computed by the server.

use jiff::Timestamp;
use serde_json::{Value, json};

const NAME_DOC: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
const AGE_DOC: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// Whether the Accept header asks for a Table.
pub fn wants_table(accept: &str) -> bool {
    accept
        .split(',')
        .next()
        .is_some_and(|first| first.contains("as=Table"))
}

fn column(name: &str, format: &str, priority: u8, description: &str) -> Value {
    json!({"name": name, "type": "string", "format": format, "description": description, "priority": priority})
}

pub fn pod_columns() -> Value {
    json!([
        column("Name", "name", 0, NAME_DOC),
        column(
            "Ready",
            "",
            0,
            "The aggregate readiness state of this pod for accepting traffic."
        ),
        column(
            "Status",
            "",
            0,
            "The aggregate status of the containers in this pod."
        ),
        column(
            "Restarts",
            "",
            0,
            "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."
        ),
        column("Age", "", 0, AGE_DOC),
        column(
            "IP",
            "",
            1,
            "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated."
        ),
        column(
            "Node",
            "",
            1,
            "NodeName indicates in which node this pod is scheduled."
        ),
        column(
            "Nominated Node",
            "",
            1,
            "nominatedNodeName is set only when this pod preempts other pods on the node."
        ),
        column(
            "Readiness Gates",
            "",
            1,
            "If specified, all readiness gates will be evaluated for pod readiness."
        ),
    ])
}

pub fn namespace_columns() -> Value {
    json!([
        column("Name", "name", 0, NAME_DOC),
        column("Status", "", 0, "The status of the namespace"),
        column("Age", "", 0, AGE_DOC),
    ])
}

/// A Table of objects; `columns` is left empty for watch events after the first.
pub fn table(
    columns: Value,
    rows: Vec<Value>,
    resource_version: &str,
    continue_token: Option<&str>,
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": columns, "rows": rows})
}

fn partial_metadata(object: &Value) -> Value {
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"]})
}

pub fn namespace_row(ns: &Value, now: Timestamp) -> Value {
    json!({
        "cells": [ns["metadata"]["name"], ns["status"]["phase"], age(&ns["metadata"]["creationTimestamp"], now)],
        "object": partial_metadata(ns),
    })
}

pub fn pod_row(pod: &Value, now: Timestamp) -> Value {
    let statuses = pod["status"]["containerStatuses"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let total = pod["spec"]["containers"].as_array().map_or(0, Vec::len);
    let ready = statuses
        .iter()
        .filter(|s| s["ready"].as_bool() == Some(true) && s["state"]["running"].is_object())
        .count();
    let mut reason = pod["status"]["reason"]
        .as_str()
        .or(pod["status"]["phase"].as_str())
        .unwrap_or("")
        .to_string();
    for s in statuses.iter().rev() {
        if let Some(r) = s["state"]["waiting"]["reason"].as_str() {
            reason = r.to_string();
        } else if let Some(r) = s["state"]["terminated"]["reason"].as_str() {
            reason = r.to_string();
        } else if let Some(code) = s["state"]["terminated"]["exitCode"].as_i64() {
            reason = format!("ExitCode:{code}");
        }
    }
    if reason == "Completed" && ready > 0 {
        reason = "Running".into();
    }
    if pod["metadata"]["deletionTimestamp"].is_string()
        && !matches!(reason.as_str(), "Succeeded" | "Failed" | "Completed")
    {
        reason = "Terminating".into();
    }
    let restarts: i64 = statuses
        .iter()
        .filter_map(|s| s["restartCount"].as_i64())
        .sum();
    let last_restart = statuses
        .iter()
        .filter_map(|s| {
            s["lastState"]["terminated"]["finishedAt"]
                .as_str()?
                .parse::<Timestamp>()
                .ok()
        })
        .max();
    let restarts = match last_restart {
        Some(at) if restarts > 0 => format!(
            "{restarts} ({} ago)",
            human_duration(now.duration_since(at))
        ),
        _ => restarts.to_string(),
    };
    let none = || json!("<none>");
    let mut row = json!({
        "cells": [
            pod["metadata"]["name"],
            format!("{ready}/{total}"),
            reason,
            restarts,
            age(&pod["metadata"]["creationTimestamp"], now),
            pod["status"]["podIPs"][0]["ip"].as_str().map_or_else(none, |ip| json!(ip)),
            pod["spec"]["nodeName"].as_str().map_or_else(none, |n| json!(n)),
            none(),
            none(),
        ],
        "object": partial_metadata(pod),
    });
    match pod["status"]["phase"].as_str() {
        Some("Succeeded") => {
            row["conditions"] = json!([{"type": "Completed", "status": "True", "reason": "Succeeded", "message": "The pod has completed successfully."}])
        }
        Some("Failed") => {
            row["conditions"] = json!([{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}])
        }
        _ => {}
    }
    row
}

fn age(created: &Value, now: Timestamp) -> String {
    match created.as_str().and_then(|t| t.parse::<Timestamp>().ok()) {
        Some(at) => human_duration(now.duration_since(at)),
        None => "<unknown>".into(),
    }
}

/// apimachinery's `duration.HumanDuration`.
pub fn human_duration(d: jiff::SignedDuration) -> String {
    let secs = d.as_secs();
    if secs < -1 {
        return "<invalid>".into();
    }
    if secs < 0 {
        return "0s".into();
    }
    let (minutes, hours, days) = (secs / 60, secs / 3600, secs / 86400);
    let years = days / 365;
    if secs < 120 {
        format!("{secs}s")
    } else if minutes < 10 {
        let s = secs % 60;
        if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        }
    } else if hours < 3 {
        format!("{minutes}m")
    } else if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if days < 8 {
        let h = hours % 24;
        if h == 0 {
            format!("{days}d")
        } else {
            format!("{days}d{h}h")
        }
    } else if years < 2 {
        format!("{days}d")
    } else if years < 8 {
        let rd = days % 365;
        if rd == 0 {
            format!("{years}y")
        } else {
            format!("{years}y{rd}d")
        }
    } else {
        format!("{years}y")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_durations_match_apimachinery() {
        let d = |s: i64| human_duration(jiff::SignedDuration::from_secs(s));
        assert_eq!(d(5), "5s");
        assert_eq!(d(119), "119s");
        assert_eq!(d(150), "2m30s");
        assert_eq!(d(600), "10m");
        assert_eq!(d(3 * 3600 + 120), "3h2m");
        assert_eq!(d(9 * 3600), "9h");
        assert_eq!(d(3 * 86400 + 3600), "3d1h");
        assert_eq!(d(40 * 86400), "40d");
        assert_eq!(d(-5), "<invalid>");
    }

    #[test]
    fn accept_header() {
        assert!(wants_table(
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
        ));
        assert!(!wants_table("application/json"));
    }
}
