//! The trail: the audit log (`audit`), session recordings (`recording`), and the
//! admission limits that decide whether a person may open another terminal (`admission`).

pub mod admission;
pub mod audit;
pub mod recording;
