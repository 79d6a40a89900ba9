//! `pods/ephemeralcontainers`: reading a pod's ephemeral containers and adding some, with
//! the API server's checks: RBAC, the three patch types and PUT, validation, and
//! immutability of the ones already there. Only `spec.ephemeralContainers` changes.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::core::v1::EphemeralContainer;
use serde_json::{Value, json};

use crate::cluster::Cluster;
use crate::config::{ContainerSpec, ContainerState, PodSpec};
use crate::rbac::{Attributes, Identity};
use crate::status::ApiError;
use crate::store::Kind;

pub async fn get(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    authorize(&cluster, &who, "get", &ns, &name)?;
    Ok(json(current(&cluster, &ns, &name)?))
}

pub async fn patch(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&cluster, &who, "patch", &ns, &name)?;
    let mut object = current(&cluster, &ns, &name)?;
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_string();
    let patch: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    match kind.as_str() {
        "application/strategic-merge-patch+json" => strategic_merge(&mut object, &patch),
        "application/merge-patch+json" => json_patch::merge(&mut object, &patch),
        "application/json-patch+json" => {
            let operations: Vec<json_patch::PatchOperation> = serde_json::from_value(patch)
                .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
            json_patch::patch(&mut object, &operations).map_err(|e| {
                ApiError::new(
                    422,
                    "Invalid",
                    format!("the server rejected our request due to an error in our request: {e}"),
                )
            })?;
        }
        _ => {
            return Err(ApiError::new(
                415,
                "UnsupportedMediaType",
                format!(
                    "the body of the request was in an unknown format - accepted media types include: \
                     application/json-patch+json, application/merge-patch+json, \
                     application/strategic-merge-patch+json (not {kind:?})"
                ),
            ));
        }
    }
    replace(&cluster, &ns, &name, &object)
}

pub async fn put(
    State(cluster): State<Arc<Cluster>>,
    Extension(who): Extension<Identity>,
    Path((ns, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    authorize(&cluster, &who, "update", &ns, &name)?;
    let object: Value = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad_request(format!("error decoding body: {e}")))?;
    let current = current(&cluster, &ns, &name)?;
    if let Some(given) = object["metadata"]["name"].as_str()
        && given != name
    {
        return Err(ApiError::bad_request(format!(
            "the name of the object ({given}) does not match the name on the URL ({name})"
        )));
    }
    if let Some(version) = object["metadata"]["resourceVersion"].as_str()
        && Some(version) != current["metadata"]["resourceVersion"].as_str()
    {
        return Err(ApiError::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on pods \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again"
            ),
        )
        .with_details(json!({"name": name, "kind": "pods"})));
    }
    replace(&cluster, &ns, &name, &object)
}

fn authorize(
    cluster: &Cluster,
    who: &Identity,
    verb: &str,
    ns: &str,
    name: &str,
) -> Result<(), ApiError> {
    cluster.policy().check(
        who,
        &Attributes {
            verb,
            resource: "pods",
            subresource: Some("ephemeralcontainers"),
            api_group: "",
            namespace: Some(ns),
            name: Some(name),
        },
    )
}

fn current(cluster: &Cluster, ns: &str, name: &str) -> Result<Value, ApiError> {
    cluster
        .store
        .get(Kind::Pod, ns, name)
        .map(|object| (*object).clone())
        .ok_or_else(|| ApiError::not_found("pods", name))
}

fn json(value: Value) -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        value.to_string(),
    )
        .into_response()
}

/// Takes the new object's ephemeral containers (nothing else of it), checks them, and
/// runs the added ones.
fn replace(cluster: &Cluster, ns: &str, name: &str, object: &Value) -> Result<Response, ApiError> {
    let listed = object["spec"]["ephemeralContainers"].clone();
    let listed: Vec<EphemeralContainer> = if listed.is_null() {
        Vec::new()
    } else {
        serde_json::from_value(listed).map_err(|e| {
            ApiError::bad_request(format!(
                "Pod in version \"v1\" cannot be handled as a Pod: {e}"
            ))
        })?
    };
    let spec = cluster
        .store
        .pod_spec(ns, name)
        .ok_or_else(|| ApiError::not_found("pods", name))?;
    let added = validate(&spec, &listed)?;
    if !added.is_empty() {
        cluster
            .update_pod(ns, name, |spec| spec.ephemeral_containers.extend(added))
            .map_err(ApiError::internal)?;
    }
    Ok(json(current(cluster, ns, name)?))
}

/// The API server's checks; the containers to add when they pass.
fn validate(pod: &PodSpec, listed: &[EphemeralContainer]) -> Result<Vec<ContainerSpec>, ApiError> {
    let mut errors: Vec<(String, &'static str, String)> = Vec::new();
    let path = "spec.ephemeralContainers";
    let mut names: Vec<&str> = pod.containers.iter().map(|c| c.name.as_str()).collect();
    let mut added = Vec::new();
    for (i, new) in listed.iter().enumerate() {
        let at = format!("{path}[{i}]");
        if new.name.is_empty() {
            errors.push((
                format!("{at}.name"),
                "FieldValueRequired",
                "Required value".into(),
            ));
        } else if let Err(e) = crate::names::validate_label(&new.name) {
            errors.push((
                format!("{at}.name"),
                "FieldValueInvalid",
                format!("Invalid value: {:?}: {e}", new.name),
            ));
        } else if names.contains(&new.name.as_str()) {
            errors.push((
                format!("{at}.name"),
                "FieldValueDuplicate",
                format!("Duplicate value: {:?}", new.name),
            ));
        }
        names.push(&new.name);
        if new.image.as_deref().unwrap_or("").is_empty() {
            errors.push((
                format!("{at}.image"),
                "FieldValueRequired",
                "Required value".into(),
            ));
        }
        for field in forbidden_fields(new) {
            errors.push((
                format!("{at}.{field}"),
                "FieldValueForbidden",
                "Forbidden: cannot be set for an Ephemeral Container".into(),
            ));
        }
        if let Some(target) = &new.target_container_name
            && !pod.containers.iter().any(|c| &c.name == target)
        {
            errors.push((
                format!("{at}.targetContainerName"),
                "FieldValueNotFound",
                format!("Not found: {target:?}"),
            ));
        }
        if !pod
            .ephemeral_containers
            .iter()
            .any(|old| old.name == new.name)
        {
            added.push(new);
        }
    }
    for old in &pod.ephemeral_containers {
        match listed.iter().find(|new| new.name == old.name) {
            None => errors.push((
                path.into(),
                "FieldValueForbidden",
                format!(
                    "Forbidden: existing ephemeral containers {:?} may not be removed\n",
                    old.name
                ),
            )),
            Some(new) if !unchanged(old, new) => errors.push((
                format!("{path}[{}]", old.name),
                "FieldValueForbidden",
                format!(
                    "Forbidden: existing ephemeral containers {:?} may not be changed\n",
                    old.name
                ),
            )),
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(invalid(&pod.name, &errors));
    }
    Ok(added.into_iter().map(local).collect())
}

/// Fields a container may have that an ephemeral one may not.
fn forbidden_fields(c: &EphemeralContainer) -> Vec<&'static str> {
    let resources = c
        .resources
        .as_ref()
        .is_some_and(|r| r.limits.is_some() || r.requests.is_some() || r.claims.is_some());
    [
        ("ports", c.ports.as_ref().is_some_and(|p| !p.is_empty())),
        ("resources", resources),
        ("lifecycle", c.lifecycle.is_some()),
        ("livenessProbe", c.liveness_probe.is_some()),
        ("readinessProbe", c.readiness_probe.is_some()),
        ("startupProbe", c.startup_probe.is_some()),
        ("restartPolicy", c.restart_policy.is_some()),
    ]
    .into_iter()
    .filter(|(_, set)| *set)
    .map(|(field, _)| field)
    .collect()
}

/// Whether a listed container is the one already there, as the API shows it.
fn unchanged(old: &ContainerSpec, new: &EphemeralContainer) -> bool {
    let shown = crate::objects::ephemeral(old);
    let mut new = new.clone();
    new.resources = new
        .resources
        .filter(|r| r.limits.is_some() || r.requests.is_some());
    defaults(&mut new);
    serde_json::to_value(&shown).ok() == serde_json::to_value(&new).ok()
}

/// What the API server fills in on a container it stores.
fn defaults(c: &mut EphemeralContainer) {
    c.image_pull_policy
        .get_or_insert_with(|| "IfNotPresent".into());
    c.termination_message_path
        .get_or_insert_with(|| "/dev/termination-log".into());
    c.termination_message_policy
        .get_or_insert_with(|| "File".into());
}

fn local(c: &EphemeralContainer) -> ContainerSpec {
    let mut command = c.command.clone().unwrap_or_default();
    command.extend(c.args.clone().unwrap_or_default());
    ContainerSpec {
        name: c.name.clone(),
        image: c.image.clone().unwrap_or_default(),
        command,
        env: c
            .env
            .iter()
            .flatten()
            .filter_map(|e| Some((e.name.clone(), e.value.clone()?)))
            .collect(),
        stdin: c.stdin.unwrap_or(false),
        tty: c.tty.unwrap_or(false),
        security_context: c.security_context.clone(),
        target_container_name: c.target_container_name.clone(),
        state: ContainerState::Running,
        reason: None,
        exit_code: None,
        ready: false,
        restarts: 0,
        live: None,
    }
}

/// 422 Invalid, worded as the API server words it.
fn invalid(pod: &str, errors: &[(String, &'static str, String)]) -> ApiError {
    let lines: Vec<String> = errors
        .iter()
        .map(|(field, _, text)| format!("{field}: {text}"))
        .collect();
    let message = if lines.len() == 1 {
        format!("Pod \"{pod}\" is invalid: {}", lines[0])
    } else {
        format!("Pod \"{pod}\" is invalid: [{}]", lines.join(", "))
    };
    let causes: Vec<Value> = errors
        .iter()
        .map(|(field, reason, text)| json!({"reason": reason, "message": text, "field": field}))
        .collect();
    ApiError::new(422, "Invalid", message)
        .with_details(json!({"name": pod, "kind": "Pod", "causes": causes}))
}

/// A strategic merge patch as far as a pod needs it: maps merge, `null` deletes, lists of
/// named objects merge by name (`$patch: delete` removes one), other lists are replaced,
/// and ordering directives are ignored.
pub fn strategic_merge(target: &mut Value, patch: &Value) {
    let (Some(target_map), Some(patch_map)) = (target.as_object_mut(), patch.as_object()) else {
        *target = patch.clone();
        return;
    };
    for (key, value) in patch_map {
        if key.starts_with('$') {
            continue;
        }
        match value {
            Value::Null => {
                target_map.remove(key);
            }
            Value::Array(items) if named(items) => {
                let order = patch_map
                    .get(&format!("$setElementOrder/{key}"))
                    .and_then(Value::as_array)
                    .cloned();
                let list = target_map
                    .entry(key.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                merge_named(list, items, order.as_deref());
            }
            Value::Object(_) => {
                let slot = target_map.entry(key.clone()).or_insert_with(|| json!({}));
                strategic_merge(slot, value);
            }
            _ => {
                target_map.insert(key.clone(), value.clone());
            }
        }
    }
}

fn named(items: &[Value]) -> bool {
    !items.is_empty() && items.iter().all(|i| i["name"].is_string())
}

/// Merges named items into `list`. The result is ordered as `$setElementOrder` says, or
/// else the patch's items first, then the others, as the API server orders it.
fn merge_named(list: &mut Value, items: &[Value], order: Option<&[Value]>) {
    let old = match list.take() {
        Value::Array(old) => old,
        _ => Vec::new(),
    };
    let mut patched = Vec::new();
    let mut rest = old;
    for item in items {
        let at = rest.iter().position(|old| old["name"] == item["name"]);
        let mut merged = match at {
            Some(at) => rest.remove(at),
            None => json!({}),
        };
        if item["$patch"].as_str() == Some("delete") {
            continue;
        }
        strategic_merge(&mut merged, item);
        patched.push(merged);
    }
    patched.extend(rest);
    if let Some(order) = order {
        let rank = |item: &Value| {
            order
                .iter()
                .position(|o| o["name"] == item["name"])
                .unwrap_or(usize::MAX)
        };
        patched.sort_by_key(rank);
    }
    *list = Value::Array(patched);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategic_merge_adds_by_name_and_keeps_the_rest() {
        let mut pod = json!({"spec": {"containers": [{"name": "app", "image": "a"}],
            "ephemeralContainers": [{"name": "one", "image": "busybox"}]}});
        let patch = json!({"spec": {
            "$setElementOrder/ephemeralContainers": [{"name": "one"}, {"name": "two"}],
            "ephemeralContainers": [{"name": "two", "image": "busybox", "stdin": true}]}});
        strategic_merge(&mut pod, &patch);
        let names: Vec<&str> = pod["spec"]["ephemeralContainers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["one", "two"], "as $setElementOrder says");
        assert_eq!(pod["spec"]["containers"][0]["image"], "a");
        let three = json!({"spec": {"ephemeralContainers": [{"name": "three", "image": "b"}]}});
        strategic_merge(&mut pod, &three);
        assert_eq!(
            pod["spec"]["ephemeralContainers"][0]["name"], "three",
            "patch first"
        );
        let delete =
            json!({"spec": {"ephemeralContainers": [{"name": "one", "$patch": "delete"}]}});
        strategic_merge(&mut pod, &delete);
        assert_eq!(
            pod["spec"]["ephemeralContainers"].as_array().unwrap().len(),
            2
        );
    }
}
