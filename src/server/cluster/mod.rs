//! Cluster access, as the person calling: contexts and clients (`clusters`), access
//! reviews asked before acting (`access`), pod data (`pods`), the watches that keep pod
//! lists current (`watch` with its caps, `pod_watch` for one of them) and the live feed
//! built on them (`pod_feed`), containers' logs streamed (`logs`), debug containers added
//! beside a container (`debug`), exec streams opened and their channels (`exec_stream`, `exec_channels`), what to show where a terminal cannot start (`insight`), and kube-rs errors in words (`kube_errors`).

pub mod access;
pub mod clusters;
pub mod debug;
pub mod exec_channels;
pub mod exec_stream;
pub mod insight;
pub mod kube_errors;
pub mod logs;
pub mod pod_feed;
pub mod pod_watch;
pub mod pods;
pub mod recent;
pub mod watch;
