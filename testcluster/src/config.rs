//! The declarative state file: users, policy, images, namespaces and pods.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::names;

/// The whole cluster as a state file describes it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Cluster name, used for the kubeconfig's cluster and context names.
    #[serde(default = "default_cluster_name")]
    pub name: String,
    /// What happens to an exec's processes when its client goes away.
    #[serde(default)]
    pub disconnect: DisconnectMode,
    /// Image references and the root filesystem each one runs in.
    #[serde(default)]
    pub images: BTreeMap<String, ImageSpec>,
    #[serde(default)]
    pub users: Vec<UserSpec>,
    #[serde(default)]
    pub policy: Vec<PolicyRule>,
    #[serde(default)]
    pub namespaces: Vec<NamespaceSpec>,
    #[serde(default)]
    pub pods: Vec<PodSpec>,
}

fn default_cluster_name() -> String {
    "testcluster".into()
}

/// `linger` keeps an exec's processes running after its client disconnects, as real
/// container runtimes do; `hangup` closes the PTY, sends SIGHUP, then SIGKILL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DisconnectMode {
    #[default]
    Linger,
    Hangup,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImageSpec {
    pub rootfs: RootfsKind,
    /// What a container of this image runs when it names no command (the image's
    /// entrypoint); only ephemeral containers use it. By default the rootfs kind's.
    #[serde(default)]
    pub command: Vec<String>,
    /// Programs (busybox applets: `tar`, `sh`, ...) a `busybox` tree leaves out, as an
    /// image built without them; `/bin/busybox` itself stays.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub without: Vec<String>,
}

impl ImageSpec {
    /// Whether what it leaves out is plain program names of a busybox tree.
    pub fn validate(&self) -> Result<(), String> {
        if self.without.is_empty() {
            return Ok(());
        }
        if self.rootfs != RootfsKind::Busybox {
            return Err("without: only a busybox image leaves programs out".into());
        }
        for name in &self.without {
            let plain = !name.is_empty()
                && name != "."
                && name != ".."
                && !name.contains(['/', '\0'])
                && !name.chars().any(char::is_whitespace);
            if !plain {
                return Err(format!("without: {name:?} is not a program's plain name"));
            }
            if name == "busybox" {
                return Err("without: busybox itself is always there".into());
            }
        }
        Ok(())
    }
}

/// `host`: the machine's own tree, read-only (bash, coreutils, python...).
/// `busybox`: a tree holding only Debian's static busybox and its applets (sh, no bash).
/// `distroless`: no shell, no coreutils, no libc: only `/app/server`, a small static
/// program that logs, and the `nonroot` user (65532), as in a distroless image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RootfsKind {
    Host,
    Busybox,
    Distroless,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UserSpec {
    pub name: String,
    #[serde(default)]
    pub groups: Vec<String>,
    /// Bearer token; a user without one authenticates with a client certificate.
    #[serde(default)]
    pub token: Option<String>,
    /// Also issue a client certificate (CN = user, O = groups) for this user.
    #[serde(default)]
    pub client_certificate: bool,
    /// The namespace of this user's kubeconfig context.
    #[serde(default)]
    pub namespace: Option<String>,
}

/// Every rule names its subjects as `user:NAME`, `group:NAME` or `*`.
pub fn validate_policy(rules: &[PolicyRule]) -> Result<(), String> {
    for subject in rules.iter().flat_map(|rule| &rule.subjects) {
        if subject != "*" && !subject.starts_with("user:") && !subject.starts_with("group:") {
            return Err(format!(
                "policy subject {subject:?} must be user:NAME, group:NAME or *"
            ));
        }
    }
    Ok(())
}

/// One grant: these subjects may use these verbs on these resources.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyRule {
    /// `user:NAME`, `group:NAME`, or `*` for every authenticated caller.
    pub subjects: Vec<String>,
    /// Namespaces the rule applies in; empty or `*` means cluster-wide.
    #[serde(default)]
    pub namespaces: Vec<String>,
    /// `namespaces`, `pods`, `pods/exec`, `users`, `groups`, `selfsubjectaccessreviews` or `*`.
    pub resources: Vec<String>,
    /// `get`, `list`, `watch`, `create`, `impersonate`, ... or `*`.
    pub verbs: Vec<String>,
    /// Restrict to these object names (e.g. which users may be impersonated).
    #[serde(default)]
    pub names: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NamespaceSpec {
    pub name: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// How long ago the namespace was created.
    #[serde(default = "default_namespace_age", with = "duration_text")]
    pub age: Duration,
}

fn default_namespace_age() -> Duration {
    Duration::from_secs(30 * 86400)
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PodSpec {
    pub name: String,
    pub namespace: String,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub annotations: BTreeMap<String, String>,
    /// The node the pod is scheduled on; `null` leaves it unscheduled.
    #[serde(default = "default_node")]
    pub node: Option<String>,
    #[serde(default = "default_phase")]
    pub phase: Phase,
    /// How long ago the pod was created, like `45s`, `3m`, `2h` or `5d`.
    #[serde(default, with = "duration_text")]
    pub age: Duration,
    /// When a container's main process (its `command`) is started again after it exits.
    #[serde(default)]
    pub restart_policy: RestartPolicy,
    /// The user and group its containers run as, unless a container says otherwise.
    #[serde(default)]
    pub security_context: Option<k8s_openapi::api::core::v1::PodSecurityContext>,
    pub containers: Vec<ContainerSpec>,
    /// Debug containers added to the running pod (`pods/ephemeralcontainers`); never
    /// removed or changed, never restarted.
    #[serde(default)]
    pub ephemeral_containers: Vec<ContainerSpec>,
}

impl PodSpec {
    /// The container a request names, or the only one, as the API server picks it; the
    /// error is its sentence.
    pub fn container_named(&self, requested: Option<&str>) -> Result<&ContainerSpec, String> {
        let pod = &self.name;
        match requested {
            Some(name) => self
                .all_containers()
                .find(|c| c.name == name)
                .ok_or_else(|| format!("container {name} is not valid for pod {pod}")),
            None if self.containers.len() == 1 => Ok(&self.containers[0]),
            None => {
                let names = |list: &[ContainerSpec]| {
                    list.iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                let mut text = format!(
                    "a container name must be specified for pod {pod}, choose one of: [{}]",
                    names(&self.containers)
                );
                if !self.ephemeral_containers.is_empty() {
                    text += &format!(
                        " or one of the ephemeral containers: [{}]",
                        names(&self.ephemeral_containers)
                    );
                }
                Err(text)
            }
        }
    }

    /// Its containers, then its ephemeral containers.
    pub fn all_containers(&self) -> impl Iterator<Item = &ContainerSpec> {
        self.containers.iter().chain(&self.ephemeral_containers)
    }

    pub fn all_containers_mut(&mut self) -> impl Iterator<Item = &mut ContainerSpec> {
        self.containers
            .iter_mut()
            .chain(self.ephemeral_containers.iter_mut())
    }

    /// The user, group and capabilities a container's processes run with, as a
    /// container runtime derives them from the security contexts.
    pub fn credentials(&self, container: &ContainerSpec) -> Credentials {
        let pod = self.security_context.as_ref();
        let own = container.security_context.as_ref();
        let pick = |c: Option<i64>, p: Option<i64>| c.or(p).and_then(|id| u32::try_from(id).ok());
        let uid = pick(
            own.and_then(|s| s.run_as_user),
            pod.and_then(|s| s.run_as_user),
        )
        .unwrap_or(0);
        let gid = pick(
            own.and_then(|s| s.run_as_group),
            pod.and_then(|s| s.run_as_group),
        )
        .unwrap_or(0);
        let caps = own.and_then(|s| s.capabilities.as_ref());
        let listed = |list: Option<&Vec<String>>| -> Vec<String> {
            list.into_iter()
                .flatten()
                .map(|c| c.trim_start_matches("CAP_").to_ascii_lowercase())
                .collect()
        };
        let (add, drop) = (
            listed(caps.and_then(|c| c.add.as_ref())),
            listed(caps.and_then(|c| c.drop.as_ref())),
        );
        let mut capabilities: Vec<String> = if drop.iter().any(|c| c == "all") {
            Vec::new()
        } else {
            DEFAULT_CAPABILITIES
                .iter()
                .map(|c| c.to_string())
                .filter(|c| !drop.contains(c))
                .collect()
        };
        for cap in add.into_iter().filter(|c| c != "all") {
            if !capabilities.contains(&cap) {
                capabilities.push(cap);
            }
        }
        Credentials {
            uid,
            gid,
            capabilities,
        }
    }
}

/// The capabilities a container runtime (containerd, CRI-O) gives a container by default.
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "chown",
    "dac_override",
    "fsetid",
    "fowner",
    "mknod",
    "net_raw",
    "setgid",
    "setuid",
    "setfcap",
    "setpcap",
    "net_bind_service",
    "sys_chroot",
    "kill",
    "audit_write",
];

/// Who a container's processes are: user, group, and capabilities (lower case, no
/// `cap_` prefix).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Credentials {
    pub uid: u32,
    pub gid: u32,
    pub capabilities: Vec<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
pub enum RestartPolicy {
    #[default]
    Always,
    OnFailure,
    Never,
}

impl RestartPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::Always => "Always",
            RestartPolicy::OnFailure => "OnFailure",
            RestartPolicy::Never => "Never",
        }
    }

    /// Whether a main process that exited with `code` is started again.
    pub fn restarts(self, code: i32) -> bool {
        match self {
            RestartPolicy::Always => true,
            RestartPolicy::OnFailure => code != 0,
            RestartPolicy::Never => false,
        }
    }
}

fn default_node() -> Option<String> {
    Some("node-1".into())
}

fn default_phase() -> Phase {
    Phase::Running
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
pub enum Phase {
    Pending,
    Running,
    Succeeded,
    Failed,
    Unknown,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "Pending",
            Phase::Running => "Running",
            Phase::Succeeded => "Succeeded",
            Phase::Failed => "Failed",
            Phase::Unknown => "Unknown",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ContainerSpec {
    pub name: String,
    pub image: String,
    /// The container's main process (PID 1). With one, the container runs from the start:
    /// its output is the container's log and the pod's restart policy applies; without
    /// one, an idle main process starts on the first exec.
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The main process reads its stdin from attached clients (`kubectl attach -i`).
    #[serde(default)]
    pub stdin: bool,
    /// The main process runs on a terminal (`kubectl attach -t`).
    #[serde(default)]
    pub tty: bool,
    /// Its user, group and capabilities.
    #[serde(default)]
    pub security_context: Option<k8s_openapi::api::core::v1::SecurityContext>,
    /// An ephemeral container's target: it shares that container's process namespace.
    #[serde(default)]
    pub target_container_name: Option<String>,
    #[serde(default)]
    pub state: ContainerState,
    /// Reason for a waiting or terminated container, e.g. `CrashLoopBackOff`.
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub exit_code: Option<i32>,
    #[serde(default = "default_true")]
    pub ready: bool,
    #[serde(default)]
    pub restarts: i32,
    /// The state its node reports, once its main process has been started; it overrides
    /// `state`, `reason`, `exitCode` and `restarts`.
    #[serde(skip)]
    pub live: Option<crate::runtime::Live>,
}

impl ContainerSpec {
    /// Whether it runs now (so an exec can reach it).
    pub fn running(&self) -> bool {
        match &self.live {
            Some(live) => live.running(),
            None => !self.supervised() && self.state == ContainerState::Running,
        }
    }

    /// Whether its main process is run, logged and restarted by the runtime.
    pub fn supervised(&self) -> bool {
        !self.command.is_empty() && self.state == ContainerState::Running
    }
}

fn default_true() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ContainerState {
    #[default]
    Running,
    Waiting,
    Terminated,
}

impl ClusterSpec {
    /// Reads a state file (YAML or JSON) and checks it.
    pub fn from_yaml(text: &str) -> Result<Self, String> {
        let spec: ClusterSpec =
            serde_yaml::from_str(text).map_err(|e| format!("state file: {e}"))?;
        spec.validate()?;
        Ok(spec)
    }

    /// The demo shipped with the crate: several namespaces, pods in every phase, two images.
    pub fn demo() -> Self {
        Self::from_yaml(include_str!("../demo.yaml")).expect("the shipped demo state is valid")
    }

    /// The same cluster with a new random bearer token (32 random bytes, hex) for every
    /// user that has one, so that no token written in a file (such as demo.yaml) is
    /// accepted: for a cluster others on the machine must not use. Client certificates need
    /// nothing: every start makes a new CA, and new keys for them.
    pub fn with_fresh_tokens(mut self) -> Self {
        for user in &mut self.users {
            if user.token.is_some() {
                user.token = Some(crate::random_hex(32));
            }
        }
        self
    }

    pub fn validate(&self) -> Result<(), String> {
        let mut seen_users = std::collections::BTreeSet::new();
        for user in &self.users {
            if user.name.is_empty() {
                return Err("a user has an empty name".into());
            }
            if !seen_users.insert(&user.name) {
                return Err(format!("user {:?} is declared twice", user.name));
            }
            if user.token.is_none() && !user.client_certificate {
                return Err(format!(
                    "user {:?} has neither a token nor clientCertificate: true",
                    user.name
                ));
            }
        }
        validate_policy(&self.policy)?;
        for (name, image) in &self.images {
            image
                .validate()
                .map_err(|e| format!("image {name:?}: {e}"))?;
        }
        let mut namespaces = std::collections::BTreeSet::new();
        for ns in &self.namespaces {
            names::validate_label(&ns.name).map_err(|e| format!("namespace {:?}: {e}", ns.name))?;
            if !namespaces.insert(ns.name.as_str()) {
                return Err(format!("namespace {:?} is declared twice", ns.name));
            }
        }
        let mut pods = std::collections::BTreeSet::new();
        for pod in &self.pods {
            if !namespaces.contains(pod.namespace.as_str()) {
                return Err(format!(
                    "pod {:?} is in namespace {:?}, which is not declared under namespaces",
                    pod.name, pod.namespace
                ));
            }
            if !pods.insert((pod.namespace.as_str(), pod.name.as_str())) {
                return Err(format!(
                    "pod {}/{} is declared twice",
                    pod.namespace, pod.name
                ));
            }
            self.validate_pod(pod)?;
        }
        Ok(())
    }

    /// Checks one pod against this cluster's images (used for pods added at run time too).
    pub fn validate_pod(&self, pod: &PodSpec) -> Result<(), String> {
        names::validate_subdomain(&pod.name).map_err(|e| format!("pod {:?}: {e}", pod.name))?;
        if pod.containers.is_empty() {
            return Err(format!("pod {:?} has no containers", pod.name));
        }
        let mut seen = std::collections::BTreeSet::new();
        for c in pod.all_containers() {
            names::validate_label(&c.name)
                .map_err(|e| format!("pod {:?}, container {:?}: {e}", pod.name, c.name))?;
            if !seen.insert(c.name.as_str()) {
                return Err(format!(
                    "pod {:?} has two containers named {:?}",
                    pod.name, c.name
                ));
            }
        }
        for c in &pod.ephemeral_containers {
            if let Some(target) = &c.target_container_name
                && !pod.containers.iter().any(|t| &t.name == target)
            {
                return Err(format!(
                    "pod {:?}, ephemeral container {:?}: target container {target:?} is not in the pod",
                    pod.name, c.name
                ));
            }
        }
        for c in &pod.containers {
            if c.target_container_name.is_some() {
                return Err(format!(
                    "pod {:?}, container {:?}: only ephemeral containers have a targetContainerName",
                    pod.name, c.name
                ));
            }
            if !self.images.contains_key(&c.image) {
                return Err(format!(
                    "pod {:?}, container {:?}: image {:?} is not declared under images",
                    pod.name, c.name, c.image
                ));
            }
        }
        Ok(())
    }

    /// The first pod of this name, in any namespace.
    pub fn pod(&self, name: &str) -> Option<&PodSpec> {
        self.pods.iter().find(|p| p.name == name)
    }

    /// The command of an image's containers that name none.
    pub fn default_command_of(&self, image: &str) -> Vec<String> {
        let image = self.images.get(image);
        if let Some(spec) = image.filter(|i| !i.command.is_empty()) {
            return spec.command.clone();
        }
        let command: &[&str] = match image.map(|i| i.rootfs) {
            Some(RootfsKind::Distroless) => &[crate::runtime::rootfs::DISTROLESS_PROGRAM],
            Some(RootfsKind::Host) => &["bash"],
            _ => &["sh"],
        };
        command.iter().map(|s| s.to_string()).collect()
    }

    /// The programs an image's tree leaves out.
    pub fn without_of(&self, image: &str) -> Vec<String> {
        self.images
            .get(image)
            .map(|i| i.without.clone())
            .unwrap_or_default()
    }

    pub fn rootfs_of(&self, image: &str) -> RootfsKind {
        self.images
            .get(image)
            .map(|i| i.rootfs)
            .unwrap_or(RootfsKind::Host)
    }
}

/// `45s`, `3m`, `2h`, `5d` (and `0`) as a duration.
pub mod duration_text {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn parse(text: &str) -> Result<Duration, String> {
        let text = text.trim();
        if text == "0" {
            return Ok(Duration::ZERO);
        }
        let (digits, unit) = text.split_at(
            text.find(|c: char| !c.is_ascii_digit())
                .unwrap_or(text.len()),
        );
        let n: u64 = digits
            .parse()
            .map_err(|_| format!("{text:?} is not a duration like 45s, 3m, 2h or 5d"))?;
        let secs = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86400,
            _ => return Err(format!("{text:?} is not a duration like 45s, 3m, 2h or 5d")),
        };
        Ok(Duration::from_secs(secs))
    }

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("{}s", d.as_secs()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_is_valid_and_covers_the_required_cases() {
        let demo = ClusterSpec::demo();
        assert!(demo.namespaces.len() >= 3);
        let phases: Vec<_> = demo.pods.iter().map(|p| p.phase).collect();
        for phase in [Phase::Running, Phase::Pending] {
            assert!(phases.contains(&phase), "demo lacks a {phase:?} pod");
        }
        // Main processes: one that runs once, one that crash-loops, one that logs.
        let commands = |policy: RestartPolicy| {
            demo.pods
                .iter()
                .filter(move |p| p.restart_policy == policy)
                .flat_map(|p| &p.containers)
                .filter(|c| c.supervised())
                .count()
        };
        assert!(commands(RestartPolicy::Never) >= 1);
        assert!(commands(RestartPolicy::Always) >= 2);
        assert!(demo.pods.iter().any(|p| p.containers.len() > 1));
        assert!(demo.pods.iter().any(|p| {
            p.annotations
                .contains_key("kubectl.kubernetes.io/default-container")
        }));
        let kinds: Vec<_> = demo.images.values().map(|i| i.rootfs).collect();
        assert!(kinds.contains(&RootfsKind::Host) && kinds.contains(&RootfsKind::Busybox));
        // Containers to reach files in: without tar, and without any shell.
        let lacks = |programs: &[&str]| {
            demo.images.values().any(|i| {
                i.without.len() == programs.len()
                    && programs.iter().all(|p| i.without.contains(&p.to_string()))
            })
        };
        assert!(lacks(&["tar"]));
        assert!(lacks(&["sh", "ash", "hush", "tar"]));
    }

    #[test]
    fn fresh_tokens_replace_every_written_token() {
        let demo = ClusterSpec::demo();
        let fresh = ClusterSpec::demo().with_fresh_tokens();
        let again = ClusterSpec::demo().with_fresh_tokens();
        for ((written, new), other) in demo.users.iter().zip(&fresh.users).zip(&again.users) {
            assert_eq!(written.name, new.name);
            assert_eq!(written.token.is_some(), new.token.is_some());
            assert_eq!(written.client_certificate, new.client_certificate);
            if let Some(token) = &new.token {
                assert_eq!(token.len(), 64, "{token}");
                assert_ne!(Some(token), written.token.as_ref());
                assert_ne!(Some(token), other.token.as_ref());
            }
        }
        assert!(fresh.validate().is_ok());
    }

    #[test]
    fn bad_files_get_clear_errors() {
        let err = ClusterSpec::from_yaml("namespaces: [{name: Bad_Name}]").unwrap_err();
        assert!(err.contains("Bad_Name"), "{err}");
        let err = ClusterSpec::from_yaml(
            "namespaces: [{name: a}]\npods: [{name: p, namespace: b, containers: [{name: c, image: x}]}]",
        )
        .unwrap_err();
        assert!(err.contains("not declared under namespaces"), "{err}");
        let err = ClusterSpec::from_yaml(
            "namespaces: [{name: a}]\npods: [{name: p, namespace: a, containers: [{name: c, image: x}]}]",
        )
        .unwrap_err();
        assert!(err.contains("image \"x\""), "{err}");
        let err = ClusterSpec::from_yaml("bogus: 1").unwrap_err();
        assert!(err.contains("bogus"), "{err}");
    }

    #[test]
    fn images_leave_out_only_plain_busybox_programs() {
        let image = |yaml: &str| {
            ClusterSpec::from_yaml(&format!("images: {{\"x:1\": {yaml}}}")).map(|_| ())
        };
        assert!(image("{rootfs: busybox, without: [tar, sh]}").is_ok());
        let err = image("{rootfs: host, without: [tar]}").unwrap_err();
        assert!(
            err.contains("\"x:1\"") && err.contains("only a busybox"),
            "{err}"
        );
        for bad in ["bin/tar", "..", "\"\"", "\"a b\"", "busybox"] {
            let err = image(&format!("{{rootfs: busybox, without: [{bad}]}}")).unwrap_err();
            assert!(err.contains("without"), "{bad}: {err}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(
            duration_text::parse("45s").unwrap(),
            Duration::from_secs(45)
        );
        assert_eq!(
            duration_text::parse("5d").unwrap(),
            Duration::from_secs(5 * 86400)
        );
        assert!(duration_text::parse("5y").is_err());
        assert!(duration_text::parse("h").is_err());
    }
}
