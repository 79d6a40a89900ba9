//! Test environments for podterm's tests and benchmark.
//!
//! [`ControlPlane`] is a real Kubernetes control plane: etcd and kube-apiserver, built from
//! the versions pinned in `controlplane/go.mod` (`scripts/lib.sh`'s `ensure_control_plane`),
//! started once per test process and gone when it ends.
//!
//! ```no_run
//! # async fn demo() -> Result<(), testenv::Error> {
//! let control_plane = testenv::ControlPlane::shared().await?;
//! control_plane.namespace("shop").await?;
//! let alice = control_plane.client(testenv::User::Alice).await?;
//! # Ok(()) }
//! ```

mod controlplane;
mod demo;
mod files;
mod node;
mod process;
mod start;
mod versions;

pub use controlplane::{ControlPlane, User};
pub use versions::{bin_dir, etcd_version, kubernetes_version};

/// Why the control plane could not start or answer; the message says what to do.
#[derive(Debug, Clone)]
pub struct Error(pub String);

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}
