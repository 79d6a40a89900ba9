//! The relay: a browser's terminal socket to a pod's exec stream and back. The exec route
//! (`exec`), one browser connection (`connection`), the session registry with its output
//! buffer and task (`session`), the upstream exec stream and its channels (`upstream`,
//! `channels`), the default shell (`shell`), and the cleanup of a session's processes
//! (`reaper`).

pub mod channels;
pub mod connection;
pub mod exec;
pub mod reaper;
pub mod session;
pub mod shell;
pub mod upstream;
