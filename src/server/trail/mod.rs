//! The trail: the audit log (`audit`), session recordings (`recording`), and the
//! admission limits that decide whether a person may open another terminal (`live`).

pub mod audit;
pub mod live;
pub mod recording;
