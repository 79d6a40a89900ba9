//! The real control plane for the end-to-end suite: kube-apiserver and etcd with the
//! testcluster as their node, loaded with the demo. Writes a kubeconfig with every demo
//! user (mode 0600) and serves until stopped.
//!
//!     podterm-controlplane KUBECONFIG_OUT

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some(out) = std::env::args_os().nth(1) else {
        eprintln!("usage: podterm-controlplane KUBECONFIG_OUT");
        return std::process::ExitCode::from(2);
    };
    let started = async {
        let control_plane = testenv::ControlPlane::shared().await?;
        control_plane.load_demo().await?;
        Ok::<_, testenv::Error>(control_plane)
    };
    let control_plane = match started.await {
        Ok(control_plane) => control_plane,
        Err(e) => {
            eprintln!("podterm-controlplane: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let written = control_plane.demo_kubeconfig_yaml().and_then(|yaml| {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&out)
            .and_then(|mut file| file.write_all(yaml.as_bytes()))
            .map_err(|e| testenv::Error(format!("writing {}: {e}", out.to_string_lossy())))
    });
    if let Err(e) = written {
        eprintln!("podterm-controlplane: {e}");
        return std::process::ExitCode::FAILURE;
    }
    eprintln!(
        "podterm-controlplane: kube-apiserver {} at {} ready in {:.1} s",
        testenv::kubernetes_version(),
        control_plane.url(),
        control_plane.startup_time().as_secs_f64()
    );
    // Stopped by Ctrl-C or SIGTERM (what scripts send): a clean exit, and the servers
    // and their directory go with this process.
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(term) => term,
        Err(e) => {
            eprintln!("podterm-controlplane: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
    std::process::ExitCode::SUCCESS
}
