//! The relay: a browser's terminal socket to a pod's exec stream and back. The exec route
//! (`exec`) and its early start (`prestart`), one browser connection (`connection`), the live sessions (`registry`), one
//! session's task (`session`), how it ended (`end`) and the output it keeps for a resume
//! (`replay`), the writer to the upstream exec stream (`upstream`), the
//! default shell (`shell`), and the cleanup of a session's processes (`reaper`).

pub mod connection;
mod end;
pub mod exec;
pub mod prestart;
pub mod reaper;
pub mod registry;
pub mod replay;
pub mod session;
pub mod shell;
pub mod upstream;
