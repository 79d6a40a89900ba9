//! The built-in demo cluster (`--demo`): an in-process testcluster with demo pods. Only in
//! builds with the `demo` feature (`scripts/run` and `scripts/test` turn it on; the release
//! image does not), so the product does not link a test API server.

#[cfg(feature = "demo")]
pub struct Demo(testcluster::TestCluster);

/// A build without the feature has no demo cluster to hold.
#[cfg(not(feature = "demo"))]
pub enum Demo {}

impl Demo {
    /// Starts the demo cluster with fresh tokens: its port is open to every local user, and
    /// demo.yaml's tokens are public.
    #[cfg(feature = "demo")]
    pub async fn start() -> Result<Self, String> {
        testcluster::TestCluster::start(testcluster::Config::demo_private())
            .await
            .map(Demo)
            .map_err(|e| format!("cannot start the demo cluster: {e}"))
    }

    #[cfg(not(feature = "demo"))]
    pub async fn start() -> Result<Self, String> {
        Err(
            "this podterm was built without the demo cluster: build it with \
             `--features demo` (scripts/run does), or serve a real cluster from your \
             kubeconfig"
                .into(),
        )
    }

    pub fn kubeconfig_yaml(&self) -> &str {
        #[cfg(feature = "demo")]
        return self.0.kubeconfig_yaml();
        #[cfg(not(feature = "demo"))]
        match *self {}
    }

    /// Where the demo cluster's API server listens.
    pub fn url(&self) -> &str {
        #[cfg(feature = "demo")]
        return self.0.url();
        #[cfg(not(feature = "demo"))]
        match *self {}
    }

    pub async fn shutdown(self) {
        #[cfg(feature = "demo")]
        self.0.shutdown().await;
        #[cfg(not(feature = "demo"))]
        match self {}
    }
}
