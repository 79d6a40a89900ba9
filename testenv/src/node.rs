//! The testcluster as the control plane's one node, on a thread of its own.
//!
//! Each test has its own tokio runtime, and what is spawned on one ends with it; the
//! kubelet serves every test of the process, so it gets a runtime that lives as long.

use std::time::Duration;

use testcluster::pki::PemPair;
use testcluster::{Kubelet, KubeletConfig};

use crate::Error;
use crate::controlplane::ControlPlane;
use crate::files::NODE;

const READY: Duration = Duration::from_secs(30);

pub async fn start(control_plane: &ControlPlane, serving: PemPair) -> Result<Kubelet, Error> {
    let path = control_plane.dir.join("kubeconfig-node.yaml");
    let kubeconfig = kube::config::Kubeconfig::read_from(&path)
        .map_err(|e| Error::new(format!("reading {}: {e}", path.display())))?;
    let client = kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default())
        .await
        .map_err(|e| Error::new(format!("the node's kubeconfig: {e}")))?;
    let mut config = KubeletConfig::new(NODE, client, serving, &control_plane.ca_pem);
    config.version = format!("v{}", crate::kubernetes_version());
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::Builder::new()
        .name("kubelet".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => return drop(tx.send(Err(format!("kubelet runtime: {e}")))),
            };
            runtime.block_on(async move {
                match Kubelet::start(config).await {
                    Ok(kubelet) => {
                        // Its tasks run on this runtime, which now serves until the process ends.
                        let _ = tx.send(Ok(kubelet));
                        std::future::pending::<()>().await
                    }
                    Err(e) => drop(tx.send(Err(e.to_string()))),
                }
            })
        })
        .map_err(|e| Error::new(format!("kubelet thread: {e}")))?;
    match tokio::time::timeout(READY, rx).await {
        Ok(Ok(Ok(kubelet))) => Ok(kubelet),
        Ok(Ok(Err(e))) => Err(Error::new(format!(
            "the testcluster kubelet did not start: {e}"
        ))),
        Ok(Err(_)) => Err(Error::new("the testcluster kubelet's thread ended")),
        Err(_) => Err(Error::new(format!(
            "the testcluster kubelet did not register node {NODE} within {} s",
            READY.as_secs()
        ))),
    }
}
