//! The cluster a fixture's podterm talks to: a fresh testcluster (the default), or the
//! real kube-apiserver with the testcluster as its node, loaded with the same demo
//! (`PODTERM_TEST_CLUSTER=real`; `scripts/test` runs the suite both ways).

use std::time::Duration;

use testcluster::{ClusterSpec, Config, PodSpec, PolicyRule, ProcessInfo, TestCluster};
use testenv::ControlPlane;

pub enum Cluster {
    Test(TestCluster),
    Real {
        control_plane: &'static ControlPlane,
        kubeconfig: String,
        spec: ClusterSpec,
    },
}

/// Whether this run's fixtures use the real control plane.
pub fn real() -> bool {
    match std::env::var("PODTERM_TEST_CLUSTER").as_deref() {
        Ok("real") => true,
        Ok("test") | Err(_) => false,
        Ok(other) => panic!("PODTERM_TEST_CLUSTER={other:?}: use real or test"),
    }
}

impl Cluster {
    pub async fn start() -> Self {
        if !real() {
            return Cluster::Test(
                TestCluster::start(Config::demo())
                    .await
                    .expect("testcluster"),
            );
        }
        let control_plane = ControlPlane::shared()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        control_plane
            .load_demo()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        Cluster::Real {
            control_plane,
            kubeconfig: control_plane.demo_kubeconfig_yaml().unwrap(),
            spec: ClusterSpec::demo(),
        }
    }

    /// The testcluster itself, for what only it can do: a test that needs it is listed in
    /// `scripts/test` as testcluster-only.
    pub fn testcluster(&self, what: &str) -> &TestCluster {
        match self {
            Cluster::Test(cluster) => cluster,
            Cluster::Real { .. } => panic!(
                "{what} needs the testcluster's own API server; list this test as \
                 testcluster-only in scripts/test"
            ),
        }
    }

    pub fn kubeconfig_yaml(&self) -> &str {
        match self {
            Cluster::Test(cluster) => cluster.kubeconfig_yaml(),
            Cluster::Real { kubeconfig, .. } => kubeconfig,
        }
    }

    /// A user's bearer token, as the kubeconfig holds it (the testcluster's demo.yaml
    /// names them; the real control plane makes new ones each start).
    pub fn token(&self, user: &str) -> String {
        let config: serde_yaml::Value = serde_yaml::from_str(self.kubeconfig_yaml()).unwrap();
        config["users"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|u| u["name"].as_str() == Some(user))
            .and_then(|u| u["user"]["token"].as_str())
            .unwrap_or_else(|| panic!("{user} has no token"))
            .to_string()
    }

    /// The demo's state file (on the real cluster, the pods it runs are
    /// `ControlPlane::demo_pods`).
    pub fn spec(&self) -> &ClusterSpec {
        match self {
            Cluster::Test(cluster) => cluster.spec(),
            Cluster::Real { spec, .. } => spec,
        }
    }

    /// Deletes a pod and waits until its processes have ended.
    pub async fn delete_pod(&self, namespace: &str, name: &str) -> Result<(), String> {
        match self {
            Cluster::Test(cluster) => cluster.delete_pod(namespace, name),
            Cluster::Real { control_plane, .. } => control_plane
                .delete_pod(namespace, name)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Creates a pod from a spec (on the testcluster, also replaces one, with any state;
    /// on the real cluster the kubelet decides a pod's state, so only running or
    /// unscheduled specs are created there).
    pub async fn put_pod(&self, pod: PodSpec) -> Result<(), String> {
        match self {
            Cluster::Test(cluster) => cluster.put_pod(pod),
            Cluster::Real { control_plane, .. } => control_plane
                .create_pod(&pod)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Waits until the cluster has finished changing the namespace's pods by itself (on the
    /// real cluster, the kubelet's status reports; the testcluster has none).
    pub async fn settled(&self, namespace: &str) {
        if let Cluster::Real { control_plane, .. } = self {
            control_plane
                .wait_settled(namespace)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }

    /// Waits up to 30 s until every container of the pod runs.
    pub async fn running(&self, namespace: &str, name: &str) {
        use k8s_openapi::api::core::v1::Pod;
        let pods: kube::Api<Pod> = kube::Api::namespaced(self.admin_client().await, namespace);
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let up = pods
                .get(name)
                .await
                .ok()
                .and_then(|p| p.status?.container_statuses)
                .is_some_and(|all| {
                    all.iter()
                        .all(|c| c.state.as_ref().is_some_and(|s| s.running.is_some()))
                });
            if up {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{namespace}/{name} did not run within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A kube-rs client as the demo's admin.
    pub async fn admin_client(&self) -> kube::Client {
        let kubeconfig = kube::config::Kubeconfig::from_yaml(self.kubeconfig_yaml()).unwrap();
        let options = kube::config::KubeConfigOptions {
            context: Some("admin@demo".into()),
            ..Default::default()
        };
        let config = kube::Config::from_custom_kubeconfig(kubeconfig, &options)
            .await
            .unwrap();
        kube::Client::try_from(config).unwrap()
    }

    /// Waits until the demo's crash-looping container is held back (CrashLoopBackOff), its
    /// job has run (Succeeded) and the web pods' logging sidecar runs: their main processes
    /// make these states, on both clusters, within a second of the start.
    pub async fn demo_states(&self) {
        use k8s_openapi::api::core::v1::Pod;
        let client = self.admin_client().await;
        let pods: kube::Api<Pod> = kube::Api::namespaced(client.clone(), "shop");
        let tools: kube::Api<Pod> = kube::Api::namespaced(client, "tools");
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        loop {
            let worker = pods.get("worker-0").await.unwrap();
            let held_back = worker
                .status
                .and_then(|s| s.container_statuses)
                .unwrap_or_default()
                .iter()
                .filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone())
                .any(|reason| reason == "CrashLoopBackOff");
            let job = pods.get("db-migrate-29xkq").await.unwrap();
            let done = job.status.and_then(|s| s.phase).as_deref() == Some("Succeeded");
            let web = pods.get("web-7d4b9c6f5-abcde").await.unwrap();
            let sidecar_runs = web
                .status
                .and_then(|s| s.container_statuses)
                .is_some_and(|all| all.iter().all(|c| c.ready));
            let repl = tools.get("repl").await.unwrap();
            let repl_runs = repl
                .status
                .and_then(|s| s.container_statuses)
                .is_some_and(|all| all.iter().all(|c| c.ready));
            if held_back && done && sidecar_runs && repl_runs {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the demo's crash loop, job, sidecar and REPL did not settle within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn set_policy(&self, rules: Vec<PolicyRule>) -> Result<(), String> {
        match self {
            Cluster::Test(cluster) => cluster.set_policy(rules),
            Cluster::Real { control_plane, .. } => control_plane
                .set_policy(&rules)
                .await
                .map_err(|e| e.to_string()),
        }
    }

    /// Drops every exec connection at the cluster's end (on the real cluster, the
    /// kubelet's, which ends the API server's proxied streams too).
    pub fn cut_exec_connections(&self) {
        match self {
            Cluster::Test(cluster) => cluster.cut_exec_connections(),
            Cluster::Real { control_plane, .. } => control_plane.kubelet().cut_exec_connections(),
        }
    }

    /// Takes the API server away for `down` (the testcluster's listener, or the real
    /// kube-apiserver's whole process, which then needs a few seconds to answer again).
    pub fn restart_listener(&self, down: Duration) -> Result<(), String> {
        match self {
            Cluster::Test(cluster) => cluster.restart_listener(down),
            Cluster::Real { control_plane, .. } => control_plane
                .restart_apiserver(down)
                .map_err(|e| e.to_string()),
        }
    }

    pub async fn processes(&self, namespace: &str, pod: &str, container: &str) -> Vec<ProcessInfo> {
        match self {
            Cluster::Test(cluster) => cluster.processes(namespace, pod, container).await,
            Cluster::Real { control_plane, .. } => {
                control_plane
                    .kubelet()
                    .processes(namespace, pod, container)
                    .await
            }
        }
    }
}
