//! The testcluster's demo state in the real control plane: its namespaces, its policy as
//! RBAC objects, and the pods this node can truthfully run.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::{Value, json};
use testcluster::ClusterSpec;
use testcluster::config::{ContainerState, Phase, PodSpec, PolicyRule};

use crate::Error;
use crate::controlplane::{ControlPlane, User};

/// Marks the RBAC objects a policy became, so the next policy replaces them.
const POLICY_LABEL: &str = "podterm.test/policy";
const READY: Duration = Duration::from_secs(30);

impl ControlPlane {
    /// Puts the demo's namespaces, policy and pods in place, as a fresh testcluster has
    /// them: pods in the demo's namespaces are deleted and created again (so each test
    /// starts with fresh containers), the policy replaces the previous one. Their main
    /// processes make their states (the crash loop, the completed job) on the node.
    pub async fn load_demo(&self) -> Result<(), Error> {
        let demo = ClusterSpec::demo();
        let admin = self.client(User::Admin).await?;
        for namespace in &demo.namespaces {
            self.namespace(&namespace.name).await?;
            let labels = json!({"metadata": {"labels": namespace.labels}});
            Api::<Namespace>::all(admin.clone())
                .patch(
                    &namespace.name,
                    &PatchParams::default(),
                    &Patch::Merge(labels),
                )
                .await
                .map_err(|e| failed(&format!("labelling namespace {}", namespace.name), e))?;
        }
        self.set_policy(&demo.policy).await?;
        for namespace in &demo.namespaces {
            clear_pods(&admin, &namespace.name).await?;
        }
        let pods = self.demo_pods();
        for pod in &pods {
            let api: Api<Pod> = Api::namespaced(admin.clone(), &pod.namespace);
            api.create(&PostParams::default(), &pod_object(pod, self.node_name()))
                .await
                .map_err(|e| failed(&format!("creating pod {}/{}", pod.namespace, pod.name), e))?;
        }
        for pod in pods.iter().filter(|p| p.node.is_some()) {
            wait_reported(&admin, pod).await?;
        }
        Ok(())
    }

    /// Deletes a pod as `kubectl delete` does (its grace period), and waits until the
    /// kubelet has stopped its containers and the object is gone.
    pub async fn delete_pod(&self, namespace: &str, name: &str) -> Result<(), Error> {
        let admin = self.client(User::Admin).await?;
        let pods: Api<Pod> = Api::namespaced(admin, namespace);
        let what = format!("deleting pod {namespace}/{name}");
        pods.delete(name, &DeleteParams::default())
            .await
            .map_err(|e| failed(&what, e))?;
        let deadline = Instant::now() + READY;
        while pods
            .get_opt(name)
            .await
            .map_err(|e| failed(&what, e))?
            .is_some()
        {
            if Instant::now() > deadline {
                return Err(Error::new(format!("{what}: still there after 30 s")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(())
    }

    /// Waits until the kubelet has reported a status for every pod of the namespace bound to
    /// the node: until then each report changes the pod again (the testcluster makes a pod
    /// with its status at once).
    pub async fn wait_settled(&self, namespace: &str) -> Result<(), Error> {
        let admin = self.client(User::Admin).await?;
        let pods: Api<Pod> = Api::namespaced(admin, namespace);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let list = pods
                .list(&ListParams::default())
                .await
                .map_err(|e| failed(&format!("listing the pods of {namespace}"), e))?;
            let unsettled = list.items.iter().filter(|pod| {
                let bound = pod.spec.as_ref().is_some_and(|s| s.node_name.is_some());
                let reported = pod
                    .status
                    .as_ref()
                    .is_some_and(|s| s.container_statuses.is_some());
                bound && !reported
            });
            if unsettled.count() == 0 {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(Error::new(format!(
                    "pods of {namespace} not reported within 60 s"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The demo's pods this node runs as the demo describes them.
    pub fn demo_pods(&self) -> Vec<PodSpec> {
        ClusterSpec::demo()
            .pods
            .into_iter()
            .filter(truthful)
            .collect()
    }

    /// Creates a pod from a state-file spec, bound to the node (or unscheduled when the
    /// spec has no node). The kubelet then runs it; its state is the kubelet's to report,
    /// so a spec that asks for another state than running is refused.
    pub async fn create_pod(&self, pod: &PodSpec) -> Result<(), Error> {
        if !truthful(pod) {
            return Err(Error::new(format!(
                "pod {}/{}: a node decides a pod's state; only running or unscheduled pods \
                 can be created from a spec",
                pod.namespace, pod.name
            )));
        }
        let admin = self.client(User::Admin).await?;
        Api::<Pod>::namespaced(admin, &pod.namespace)
            .create(&PostParams::default(), &pod_object(pod, self.node_name()))
            .await
            .map_err(|e| failed(&format!("creating pod {}/{}", pod.namespace, pod.name), e))?;
        Ok(())
    }

    /// Replaces the previous policy with RBAC objects for `rules` (the testcluster's
    /// policy language), and waits until the authorizer applies them.
    pub async fn set_policy(&self, rules: &[PolicyRule]) -> Result<(), Error> {
        let admin = self.client(User::Admin).await?;
        let marked = ListParams::default().labels(POLICY_LABEL);
        let delete = DeleteParams::default();
        Api::<ClusterRoleBinding>::all(admin.clone())
            .delete_collection(&delete, &marked)
            .await
            .map_err(|e| failed("removing the old policy", e))?;
        for binding in Api::<RoleBinding>::all(admin.clone())
            .list(&marked)
            .await
            .map_err(|e| failed("listing the old policy", e))?
        {
            let namespace = binding.metadata.namespace.unwrap_or_default();
            Api::<RoleBinding>::namespaced(admin.clone(), &namespace)
                .delete_collection(&delete, &marked)
                .await
                .map_err(|e| failed("removing the old policy", e))?;
        }
        Api::<ClusterRole>::all(admin.clone())
            .delete_collection(&delete, &marked)
            .await
            .map_err(|e| failed("removing the old policy", e))?;
        for (index, rule) in rules.iter().enumerate() {
            create_rule(&admin, index, rule).await?;
        }
        for rule in rules {
            wait_applied(&admin, rule).await?;
        }
        Ok(())
    }
}

/// Every container running, or not scheduled at all (no scheduler runs here, so it stays
/// Pending): what this node shows as the spec says.
fn truthful(pod: &PodSpec) -> bool {
    let running = pod.phase == Phase::Running
        && pod
            .containers
            .iter()
            .all(|c| c.state == ContainerState::Running);
    running || pod.node.is_none()
}

fn failed(what: &str, e: kube::Error) -> Error {
    Error::new(format!("{what}: {e}"))
}

/// Deletes every pod of the namespace at once (grace 0) and waits until they are gone.
async fn clear_pods(admin: &kube::Client, namespace: &str) -> Result<(), Error> {
    let pods: Api<Pod> = Api::namespaced(admin.clone(), namespace);
    let now = DeleteParams {
        grace_period_seconds: Some(0),
        ..Default::default()
    };
    pods.delete_collection(&now, &ListParams::default())
        .await
        .map_err(|e| failed(&format!("deleting the pods of {namespace}"), e))?;
    let deadline = Instant::now() + READY;
    loop {
        let left = pods
            .list(&ListParams::default())
            .await
            .map_err(|e| failed(&format!("listing the pods of {namespace}"), e))?;
        if left.items.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "pods of {namespace} still there after 30 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn pod_object(pod: &PodSpec, node: &str) -> Pod {
    let containers: Vec<Value> = pod
        .containers
        .iter()
        .map(|c| {
            let env: Vec<Value> = c
                .env
                .iter()
                .map(|(name, value)| json!({"name": name, "value": value}))
                .collect();
            let mut container = json!({"name": c.name, "image": c.image, "env": env});
            if !c.command.is_empty() {
                container["command"] = json!(c.command);
            }
            if c.stdin || c.tty {
                container["stdin"] = json!(c.stdin);
                container["tty"] = json!(c.tty);
            }
            if let Some(context) = &c.security_context {
                container["securityContext"] = json!(context);
            }
            container
        })
        .collect();
    let mut spec = json!({
        "containers": containers,
        "restartPolicy": pod.restart_policy.as_str(),
    });
    if pod.node.is_some() {
        spec["nodeName"] = json!(node);
    }
    if let Some(context) = &pod.security_context {
        spec["securityContext"] = json!(context);
    }
    serde_json::from_value(json!({
        "metadata": {
            "name": pod.name,
            "namespace": pod.namespace,
            "labels": pod.labels,
            "annotations": pod.annotations,
        },
        "spec": spec,
    }))
    .expect("a pod from the demo")
}

/// Waits until the node has reported the pod's containers (running, or already ended).
async fn wait_reported(admin: &kube::Client, pod: &PodSpec) -> Result<(), Error> {
    let api: Api<Pod> = Api::namespaced(admin.clone(), &pod.namespace);
    let deadline = Instant::now() + READY;
    loop {
        let status = api
            .get_status(&pod.name)
            .await
            .map_err(|e| failed(&format!("reading pod {}/{}", pod.namespace, pod.name), e))?
            .status
            .unwrap_or_default();
        if status.container_statuses.is_some() && status.phase.as_deref() != Some("Pending") {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "pod {}/{} not reported within 30 s: {status:?}",
                pod.namespace, pod.name
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One ClusterRole per rule, bound cluster-wide or in each of its namespaces.
async fn create_rule(admin: &kube::Client, index: usize, rule: &PolicyRule) -> Result<(), Error> {
    let name = format!("podterm-test-policy-{index}");
    let labels = json!({POLICY_LABEL: "demo"});
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels},
        "rules": role_rules(rule),
    }))
    .expect("a role from the policy");
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &role)
        .await
        .map_err(|e| failed(&format!("creating {name}"), e))?;
    let subjects: Vec<Value> = rule.subjects.iter().map(|s| subject(s)).collect();
    let role_ref =
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name});
    let binding = json!({
        "metadata": {"name": name, "labels": labels},
        "roleRef": role_ref,
        "subjects": subjects,
    });
    if cluster_wide(rule) {
        let binding: ClusterRoleBinding = serde_json::from_value(binding).expect("a binding");
        Api::<ClusterRoleBinding>::all(admin.clone())
            .create(&PostParams::default(), &binding)
            .await
            .map_err(|e| failed(&format!("binding {name}"), e))?;
        return Ok(());
    }
    for namespace in &rule.namespaces {
        let binding: RoleBinding = serde_json::from_value(binding.clone()).expect("a binding");
        Api::<RoleBinding>::namespaced(admin.clone(), namespace)
            .create(&PostParams::default(), &binding)
            .await
            .map_err(|e| failed(&format!("binding {name} in {namespace}"), e))?;
    }
    Ok(())
}

fn cluster_wide(rule: &PolicyRule) -> bool {
    rule.namespaces.is_empty() || rule.namespaces.iter().any(|n| n == "*")
}

/// RBAC rules: the testcluster names resources without their API group.
fn role_rules(rule: &PolicyRule) -> Vec<Value> {
    let groups: BTreeSet<&str> = rule.resources.iter().map(|r| api_group(r)).collect();
    groups
        .into_iter()
        .map(|group| {
            let resources: Vec<&str> = rule
                .resources
                .iter()
                .filter(|r| api_group(r) == group)
                .map(String::as_str)
                .collect();
            let mut out =
                json!({"apiGroups": [group], "resources": resources, "verbs": rule.verbs});
            if !rule.names.is_empty() {
                out["resourceNames"] = json!(rule.names);
            }
            out
        })
        .collect()
}

fn api_group(resource: &str) -> &'static str {
    match resource {
        "*" => "*",
        "selfsubjectaccessreviews" | "subjectaccessreviews" => "authorization.k8s.io",
        "selfsubjectreviews" => "authentication.k8s.io",
        _ => "",
    }
}

fn subject(subject: &str) -> Value {
    let (kind, name) = match subject.split_once(':') {
        Some(("user", name)) => ("User", name),
        Some(("group", name)) => ("Group", name),
        _ => ("Group", "system:authenticated"),
    };
    json!({"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": name})
}

/// Waits until the authorizer allows the rule's first subject its first verb on its first
/// resource (RBAC objects reach the authorizer through a watch).
async fn wait_applied(admin: &kube::Client, rule: &PolicyRule) -> Result<(), Error> {
    let (Some(subject), Some(verb), Some(resource)) = (
        rule.subjects.first(),
        rule.verbs.first(),
        rule.resources.first(),
    ) else {
        return Ok(());
    };
    let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
    let mut spec = json!({
        "resourceAttributes": {
            "verb": if verb == "*" { "get" } else { verb },
            "group": api_group(resource),
            "resource": if resource == "*" { "pods" } else { resource },
            "subresource": subresource,
            "namespace": rule.namespaces.first().filter(|n| *n != "*").cloned().unwrap_or_default(),
            "name": rule.names.first().cloned().unwrap_or_default(),
        },
    });
    match subject.split_once(':') {
        Some(("user", name)) => spec["user"] = json!(name),
        Some(("group", name)) => {
            spec["user"] = json!("policy-check");
            spec["groups"] = json!([name]);
        }
        _ => {
            spec["user"] = json!("policy-check");
            spec["groups"] = json!(["system:authenticated"]);
        }
    }
    let review: SubjectAccessReview =
        serde_json::from_value(json!({"spec": spec})).expect("a review");
    let reviews: Api<SubjectAccessReview> = Api::all(admin.clone());
    let deadline = Instant::now() + READY;
    loop {
        let answer = reviews
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| failed("asking whether the policy applies", e))?;
        if answer.status.is_some_and(|s| s.allowed) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(Error::new(format!(
                "the policy rule {rule:?} did not apply within 30 s"
            )));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
