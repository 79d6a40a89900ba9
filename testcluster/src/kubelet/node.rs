//! The Node object and its lease: registration, status and heartbeat.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node as K8sNode;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{Value, json};

use super::KubeletConfig;

/// Where real kubelets keep their leases.
const LEASE_NAMESPACE: &str = "kube-node-lease";
const LEASE_SECONDS: u64 = 40;
/// A real kubelet reports an unchanged status every 5 minutes; its lease says it is alive.
const STATUS_EVERY: Duration = Duration::from_secs(60);

/// What the node reports about itself.
#[derive(Debug, Clone)]
pub struct Node {
    pub name: String,
    /// The address the API server reaches the kubelet at.
    pub address: String,
    port: u16,
    version: String,
}

impl Node {
    pub fn new(config: &KubeletConfig, port: u16) -> Self {
        Self {
            name: config.node_name.clone(),
            address: config.listen.ip().to_string(),
            port,
            version: config.version.clone(),
        }
    }

    /// Creates the Node (or takes over one left by an earlier run), sets its status and
    /// takes its lease.
    pub async fn register(&self, client: &kube::Client) -> Result<(), kube::Error> {
        let nodes: Api<K8sNode> = Api::all(client.clone());
        let object: K8sNode = serde_json::from_value(json!({
            "metadata": {"name": self.name, "labels": self.labels()},
        }))
        .expect("literal node");
        match nodes.create(&PostParams::default(), &object).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e),
        }
        self.report_status(&nodes).await?;
        // The API server makes kube-node-lease shortly after it starts; the heartbeat
        // takes the lease then.
        if let Err(e) = self.renew_lease(client).await {
            tracing::info!(node = %self.name, "no lease yet: {e}");
        }
        Ok(())
    }

    /// Renews the lease every `every` and reports the status every minute, until aborted.
    pub async fn heartbeat(self, client: kube::Client, every: Duration) {
        let nodes: Api<K8sNode> = Api::all(client.clone());
        let mut lease = tokio::time::interval(every);
        let mut status = tokio::time::interval(STATUS_EVERY);
        loop {
            tokio::select! {
                _ = lease.tick() => {
                    if let Err(e) = self.renew_lease(&client).await {
                        tracing::warn!(node = %self.name, "renewing the lease: {e}");
                    }
                }
                _ = status.tick() => {
                    if let Err(e) = self.report_status(&nodes).await {
                        tracing::warn!(node = %self.name, "reporting the node's status: {e}");
                    }
                }
            }
        }
    }

    fn labels(&self) -> Value {
        json!({
            "kubernetes.io/hostname": self.name,
            "kubernetes.io/os": "linux",
            "kubernetes.io/arch": arch(),
        })
    }

    async fn report_status(&self, nodes: &Api<K8sNode>) -> Result<(), kube::Error> {
        nodes
            .patch_status(
                &self.name,
                &PatchParams::default(),
                &Patch::Merge(self.status()),
            )
            .await
            .map(|_| ())
    }

    fn status(&self) -> Value {
        let now = now();
        let condition = |kind: &str, ok: bool, reason: &str, message: &str| {
            json!({
                "type": kind,
                "status": if ok { "True" } else { "False" },
                "reason": reason,
                "message": message,
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            })
        };
        let resources =
            json!({"cpu": "2", "memory": "8Gi", "pods": "110", "ephemeral-storage": "20Gi"});
        json!({"status": {
            // Only the address the kubelet listens on: the API server is told to prefer it
            // (a Hostname address would have to resolve).
            "addresses": [
                {"type": "InternalIP", "address": self.address},
                {"type": "Hostname", "address": self.name},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.port}},
            "declaredFeatures": ["ExtendWebSocketsToKubelet"],
            "capacity": resources,
            "allocatable": resources,
            "conditions": [
                condition("MemoryPressure", false, "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
                condition("DiskPressure", false, "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
                condition("PIDPressure", false, "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
                condition("Ready", true, "KubeletReady", "kubelet is posting ready status"),
            ],
            "nodeInfo": {
                "machineID": "",
                "systemUUID": "",
                "bootID": "",
                "kernelVersion": kernel(),
                "osImage": "testcluster",
                "containerRuntimeVersion": concat!("testcluster://", env!("CARGO_PKG_VERSION")),
                "kubeletVersion": self.version,
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": arch(),
            },
        }})
    }

    async fn renew_lease(&self, client: &kube::Client) -> Result<(), kube::Error> {
        let leases: Api<Lease> = Api::namespaced(client.clone(), LEASE_NAMESPACE);
        let lease = json!({
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": self.name, "namespace": LEASE_NAMESPACE},
            "spec": {
                "holderIdentity": self.name,
                "leaseDurationSeconds": LEASE_SECONDS,
                "renewTime": now_micro(),
            },
        });
        let params = PatchParams::apply("testcluster-kubelet").force();
        leases
            .patch(&self.name, &params, &Patch::Apply(lease))
            .await
            .map(|_| ())
    }
}

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A `MicroTime`, as leases carry.
fn now_micro() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

fn arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|release| release.trim().to_string())
        .unwrap_or_default()
}
