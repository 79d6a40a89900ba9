//! Cluster access, as the person calling: contexts and clients (`clusters`), access
//! reviews asked before acting (`access`), pod data (`pods`), the watches that keep pod
//! lists current (`watch`), and kube-rs errors in words (`kube_errors`).

pub mod access;
pub mod clusters;
pub mod kube_errors;
pub mod pods;
pub mod watch;
